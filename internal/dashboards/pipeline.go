package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// The freshness SLO: 99 % of events committed in the warehouse within 2 s
// of the gateway accepting them. The loader's freshness histogram has a
// bucket boundary at 2 s for it.
const (
	freshWithin = `gamepulse_loader_freshness_seconds_bucket{le="2"}`
	freshAll    = `gamepulse_loader_freshness_seconds_count`
	sloRatio    = `sum(increase(` + freshWithin + `[$__range])) / sum(increase(` + freshAll + `[$__range]))`
)

// PipelineHealth is the on-call view: is every stage moving, how fast, how
// late, and what fails.
func PipelineHealth() (dashboard.Dashboard, error) {
	b := newDashboard("gamepulse-pipeline", "gamepulse / Pipeline health",
		"Throughput, latency, errors and lag of each stage (gateway → Kafka → processor → Kafka → loader → warehouse), and the freshness SLO: 99 % of events in the warehouse within 2 s.")

	b.WithRow(dashboard.NewRowBuilder("Freshness SLO: 99 % of events in the warehouse within 2 s of the gateway accepting them")).
		WithPanel(singleStat("SLO attainment (time range)", units.PercentUnit,
			"Share of events committed in the warehouse within 2 s of the gateway accepting them, over the dashboard's time range. The objective is 99 %.",
			q(sloRatio, "")).
			Span(4).Decimals(2).
			Thresholds(thresholds("red", step(0.99, "green")))).
		WithPanel(singleStat("Error budget left (time range)", units.PercentUnit,
			"The 1 % of events allowed to take longer than 2 s, minus those that did, over the time range. Below 0: the SLO is missed for this range.",
			q(`1 - (1 - `+sloRatio+`) / 0.01`, "")).
			Span(4).Decimals(0).
			Thresholds(thresholds("red", step(0, "orange"), step(0.5, "green")))).
		WithPanel(singleStat("Freshness p99 (last 5 m)", units.Seconds,
			"99th percentile of the time from the gateway accepting an event to its row committed in the warehouse.",
			q(`histogram_quantile(0.99, sum by (le) (rate(gamepulse_loader_freshness_seconds_bucket[5m])))`, "")).
			Span(4).Decimals(2).
			Thresholds(thresholds("green", step(1, "orange"), step(2, "red")))).
		WithPanel(kafkaUpStat().Span(4)).
		WithPanel(singleStat("Processor lag", units.Short,
			"Records the processor's consumer groups have yet to read, summed over partitions (end offset − committed offset, measured by the processor every 10 s).",
			q(`sum(max by (group, topic, partition) (gamepulse_processor_consumer_lag_records))`, "")).
			Span(4).
			Thresholds(thresholds("green", step(10000, "orange"), step(100000, "red")))).
		WithPanel(singleStat("Loader lag", units.Short,
			"Records the loader has yet to read, summed over partitions.",
			q(`sum(max by (topic, partition) (gamepulse_loader_consumer_lag_records))`, "")).
			Span(4).
			Thresholds(thresholds("green", step(10000, "orange"), step(100000, "red")))).
		WithPanel(timeSeries("Freshness SLI: share of events within 2 s", units.PercentUnit,
			"Per step, the share of events committed within 2 s. The line is the 99 % objective.",
			q(`sum(rate(`+freshWithin+`[$__rate_interval])) / sum(rate(`+freshAll+`[$__rate_interval]))`, "within 2 s")).
			Max(1).Decimals(2).
			Thresholds(thresholds("red", step(0.99, "green"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))).
		WithPanel(timeSeries("Freshness: gateway accepted → row committed", units.Seconds,
			"Quantiles of the time from the gateway accepting an event to its row committed in the warehouse. The dashed line is the SLO's 2 s.",
			quantiles("gamepulse_loader_freshness_seconds", "", "")...).
			Min(0).
			Thresholds(thresholds("green", step(2, "red"))).
			ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)))

	b.WithRow(dashboard.NewRowBuilder("Throughput")).
		WithPanel(timeSeries("Events through each stage", units.EventsPerSecond,
			"The same events at each stage: accepted by the gateway (acknowledged by Kafka), read by the processor, past validation and dedup, and committed as rows of the warehouse's events table.",
			q(`sum(rate(gamepulse_gateway_events_accepted_total[$__rate_interval]))`, "gateway: accepted"),
			q(`sum(rate(gamepulse_processor_consumed_records_total[$__rate_interval]))`, "processor: records consumed"),
			q(`sum(rate(gamepulse_processor_events_accepted_total[$__rate_interval]))`, "processor: past validation and dedup"),
			q(`sum(rate(gamepulse_loader_rows_total{table="events"}[$__rate_interval]))`, "loader: event rows")).
			Min(0)).
		WithPanel(timeSeries("Gateway requests by status code", units.RequestsPerSecond,
			"Ingest requests answered, by HTTP status code.",
			q(`sum by (code) (rate(gamepulse_gateway_requests_total[$__rate_interval]))`, "{{code}}")).
			Min(0)).
		WithPanel(timeSeries("Processor outputs", units.RecordsPerSecond,
			"Records the processor produces: every output and changelog record, stage 1's KPI partials and closed sessions, stage 2's final KPI results by window.",
			q(`sum(rate(gamepulse_processor_produced_records_total[$__rate_interval]))`, "produced (outputs + changelogs)"),
			q(`sum(rate(gamepulse_processor_kpi_partials_total[$__rate_interval]))`, "stage 1: KPI partials"),
			q(`sum(rate(gamepulse_processor_sessions_closed_total[$__rate_interval]))`, "stage 1: sessions closed"),
			q(`sum by (window) (rate(gamepulse_processor_kpi_results_total[$__rate_interval]))`, "stage 2: KPI results ({{window}})")).
			Min(0)).
		WithPanel(timeSeries("Loader rows by table", units.RowsPerSecond,
			"Rows applied to the warehouse, by table (redelivered rows the warehouse skipped included).",
			q(`sum by (table) (rate(gamepulse_loader_rows_total[$__rate_interval]))`, "{{table}}")).
			Min(0)).
		WithPanel(timeSeries("Loader batches", units.OpsPerSecond,
			"Batches applied, each in one warehouse transaction.",
			q(`sum(rate(gamepulse_loader_batches_total[$__rate_interval]))`, "batches")).
			Min(0)).
		WithPanel(timeSeries("Warehouse running (estimate)", units.PercentUnit,
			"Share of time the warehouse runs for the loader: each apply keeps it on until the auto-suspend delay after it, at least 60 s per resume (what Snowflake bills).",
			q(`sum(rate(gamepulse_loader_warehouse_active_seconds_total[$__rate_interval]))`, "running")).
			Min(0))

	b.WithRow(dashboard.NewRowBuilder("Latency")).
		WithPanel(timeSeries("Gateway request latency", units.Seconds,
			"Ingest request latency, all status codes.",
			quantiles("gamepulse_gateway_request_duration_seconds", "", "")...).
			Span(8).Min(0)).
		WithPanel(timeSeries("Gateway produce latency", units.Seconds,
			"From handing a batch to Kafka until every record is acknowledged.",
			quantiles("gamepulse_gateway_produce_duration_seconds", "", "")...).
			Span(8).Min(0)).
		WithPanel(timeSeries("Processor transaction commit latency", units.Seconds,
			"Time to flush outputs and commit one transaction (outputs and input offsets together).",
			quantiles("gamepulse_processor_transaction_commit_duration_seconds", "", "")...).
			Span(8).Min(0)).
		WithPanel(timeSeries("KPI window result latency", units.Seconds,
			"From stage 1 writing the watermark mark that closes a window to stage 2 emitting its final row (wall clock).",
			quantiles("gamepulse_processor_window_result_latency_seconds", "", "")...).
			Min(0)).
		WithPanel(timeSeries("Loader apply latency", units.Seconds,
			"Time to apply one batch in one warehouse transaction.",
			quantiles("gamepulse_loader_apply_duration_seconds", "", "")...).
			Min(0))

	b.WithRow(dashboard.NewRowBuilder("Errors")).
		WithPanel(timeSeries("Gateway error ratio", units.PercentUnit,
			"Share of ingest requests answered 5xx (the gateway's fault or Kafka's), 4xx (the client's, 429 included) and 429 (rate-limited).",
			q(`sum(rate(gamepulse_gateway_requests_total{code=~"5.."}[$__rate_interval])) / sum(rate(gamepulse_gateway_requests_total[$__rate_interval]))`, "5xx"),
			q(`sum(rate(gamepulse_gateway_requests_total{code=~"4.."}[$__rate_interval])) / sum(rate(gamepulse_gateway_requests_total[$__rate_interval]))`, "4xx"),
			q(`sum(rate(gamepulse_gateway_rate_limited_requests_total[$__rate_interval])) / sum(rate(gamepulse_gateway_requests_total[$__rate_interval]))`, "429 rate-limited")).
			Span(8).Min(0).NoValue("0")).
		WithPanel(timeSeries("Gateway rejected events by reason", units.EventsPerSecond,
			"Events refused by the gateway (validation), by reason code.",
			q(`sum by (reason) (rate(gamepulse_gateway_events_rejected_total[$__rate_interval]))`, "{{reason}}")).
			Span(8).Min(0).NoValue("0")).
		WithPanel(timeSeries("Dead letters", units.RecordsPerSecond,
			"Records sent to the dead-letter topic by the processor (by code), and records the loader could not turn into a row (stored in dead_letters, by topic).",
			q(`sum by (code) (rate(gamepulse_processor_dead_letters_total[$__rate_interval]))`, "processor: {{code}}"),
			q(`sum by (topic) (rate(gamepulse_loader_rejected_records_total[$__rate_interval]))`, "loader: {{topic}}")).
			Span(8).Min(0).NoValue("0")).
		WithPanel(timeSeries("Processor transactions", units.OpsPerSecond,
			"Transactions committed, and aborted by reason. An abort redoes its records: output stays exactly-once, throughput drops.",
			q(`sum(rate(gamepulse_processor_transactions_committed_total[$__rate_interval]))`, "committed"),
			q(`sum by (reason) (rate(gamepulse_processor_transactions_aborted_total[$__rate_interval]))`, "aborted: {{reason}}")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Loader apply failures", units.OpsPerSecond,
			"Failed warehouse applies; the loader retries them.",
			q(`sum(rate(gamepulse_loader_apply_failures_total[$__rate_interval]))`, "failures")).
			Span(8).Min(0).NoValue("0")).
		WithPanel(timeSeries("Processor drops", units.EventsPerSecond,
			"Events dropped on purpose (duplicates by kind; late events, sent to the late topic), KPI partials past retention, and partials that did not decode (a bug).",
			q(`sum by (kind) (rate(gamepulse_processor_duplicates_dropped_total[$__rate_interval]))`, "duplicate: {{kind}}"),
			q(`sum(rate(gamepulse_processor_late_events_total[$__rate_interval]))`, "late"),
			q(`sum(rate(gamepulse_processor_kpi_partials_dropped_total[$__rate_interval]))`, "partials past retention"),
			q(`sum(rate(gamepulse_processor_corrupt_partials_total[$__rate_interval]))`, "corrupt partials")).
			Span(8).Min(0).NoValue("0"))

	b.WithRow(dashboard.NewRowBuilder("Lag, watermark and state")).
		WithPanel(timeSeries("Consumer lag by group", units.Short,
			"Records each consumer group has yet to read (end offset − committed offset), summed over partitions. Per partition: the Kafka dashboard.",
			q(`sum by (group) (max by (group, topic, partition) (gamepulse_processor_consumer_lag_records))`, "processor: {{group}}"),
			q(`sum(max by (topic, partition) (gamepulse_loader_consumer_lag_records))`, "loader")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Event-time watermark delay", units.Seconds,
			"Wall clock minus stage 2's global event-time watermark (the lowest over its partials partitions): how far behind real time KPI windows close.",
			q(`time() - min(gamepulse_processor_watermark_seconds > 0)`, "watermark delay")).
			Span(8).Min(0)).
		WithPanel(timeSeries("State entries by store", units.Short,
			"Entries in the processor's state stores (event ids for dedup, players, sessions, fraud windows, KPI rows, marks, completeness), summed over instances; restored from their changelogs on a restart.",
			q(`sum by (store) (gamepulse_processor_state_entries)`, "{{store}}")).
			Span(8).Min(0)).
		WithPanel(singleStat("Processor partitions", units.Short,
			"Input partitions the processor instances process (tasks).",
			q(`sum(gamepulse_processor_tasks)`, ""))).
		WithPanel(singleStat("State restores since start", units.Short,
			"Partitions whose state was restored from its changelogs since the processor instances started.",
			q(`sum(gamepulse_processor_restore_duration_seconds_count)`, ""))).
		WithPanel(singleStat("Restore time, mean per partition", units.Seconds,
			"Mean time to restore one partition's state from its changelogs, since the processor instances started.",
			q(`sum(gamepulse_processor_restore_duration_seconds_sum) / sum(gamepulse_processor_restore_duration_seconds_count)`, "")).
			Decimals(3)).
		WithPanel(singleStat("Restore time p99", units.Seconds,
			"99th percentile of the time to restore one partition's state, since the processor instances started.",
			q(`histogram_quantile(0.99, sum by (le) (gamepulse_processor_restore_duration_seconds_bucket))`, "")).
			Decimals(3)).
		WithPanel(timeSeries("Gateway in flight", units.Short,
			"Ingest requests being served, and events handed to Kafka and not yet acknowledged.",
			q(`sum(gamepulse_gateway_in_flight_requests)`, "requests in flight"),
			q(`sum(gamepulse_gateway_pending_events)`, "events awaiting Kafka ack")).
			Span(24).Height(6).Min(0))

	b.WithRow(dashboard.NewRowBuilder("Spark engine (process --engine spark)")).
		WithPanel(timeSeries("Spark queries: rows per second", units.RowsPerSecond,
			"Input and processed rows per second of each Spark Structured Streaming query's last micro-batch. Empty unless the Spark engine runs.",
			q(`sum by (query) (gamepulse_spark_query_input_rows_per_second)`, "in: {{query}}"),
			q(`sum by (query) (gamepulse_spark_query_processed_rows_per_second)`, "processed: {{query}}")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Spark queries: records behind", units.Short,
			"Kafka records between each query's last micro-batch and the end of its topic (the largest over partitions); and whether each query runs (1) or is stopped or restarting (0).",
			q(`max by (query) (gamepulse_spark_query_offsets_behind_latest)`, "behind: {{query}}"),
			q(`max by (query) (gamepulse_spark_query_active)`, "running: {{query}}")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Spark: rows dropped by the watermark", units.RowsPerSecond,
			"Input rows later than a query's watermark: Spark drops them instead of correcting a closed window (the Go engine sends a correction). See docs/engines.md.",
			q(`sum by (query) (rate(gamepulse_spark_query_rows_dropped_by_watermark_total[$__rate_interval]))`, "{{query}}")).
			Span(8).Min(0).NoValue("0")).
		WithPanel(timeSeries("Spark: micro-batch duration", units.Seconds,
			"Wall time of each query's last micro-batch; above the trigger interval (--spark-trigger) the query falls behind.",
			q(`max by (query) (gamepulse_spark_query_batch_duration_seconds)`, "{{query}}")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Spark: state", units.Short,
			"Rows in each query's state stores (dedup keys, open windows and sessions), and their memory.",
			q(`sum by (query) (gamepulse_spark_query_state_rows)`, "rows: {{query}}")).
			Span(8).Min(0)).
		WithPanel(timeSeries("Spark: watermark delay", units.Seconds,
			"Wall clock minus each query's event-time watermark: how far behind real time its windows close.",
			q(`time() - max by (query) (gamepulse_spark_query_watermark_timestamp_seconds > 0)`, "{{query}}")).
			Span(8).Min(0))

	return build(b)
}

// kafkaUpStat shows whether the gateways can produce to Kafka.
func kafkaUpStat() *stat.PanelBuilder {
	return singleStat("Gateway → Kafka", units.NoUnit,
		"1 while every gateway can produce to Kafka; 0 while one answers 503 (Kafka unreachable or too slow).",
		q(`min(gamepulse_gateway_kafka_up)`, "")).
		ColorMode(common.BigValueColorModeBackground).
		Mappings([]dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
			Type: dashboard.MappingTypeValueToText,
			Options: map[string]dashboard.ValueMappingResult{
				"0": {Text: cog.ToPtr("down"), Color: cog.ToPtr("red")},
				"1": {Text: cog.ToPtr("up"), Color: cog.ToPtr("green")},
			},
		}}})
}

// build builds b and numbers its panels.
func build(b *dashboard.DashboardBuilder) (dashboard.Dashboard, error) {
	d, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	numberPanels(&d)
	return d, nil
}
