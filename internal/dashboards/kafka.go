package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Kafka shows the pipeline's traffic through Kafka as its own components see
// it: what they produce and consume, how long the gateway waits for acks, and
// how far behind each consumer group is, per partition. Broker-side metrics
// (end offsets, disk) are not exported; the lag gauges are end offset minus
// committed offset, measured by the applications with kadm.
func Kafka() (dashboard.Dashboard, error) {
	b := newDashboard("gamepulse-kafka", "gamepulse / Kafka",
		"Records produced and consumed by the gamepulse components, produce latency, exactly-once transactions, and consumer lag per partition.")

	b.WithRow(dashboard.NewRowBuilder("Produce")).
		WithPanel(timeSeries("Records produced", units.RecordsPerSecond,
			"Records written to Kafka: raw events by the gateway (acknowledged), outputs and changelog records by the processor.",
			q(`sum(rate(gamepulse_gateway_events_accepted_total[$__rate_interval]))`, "gateway → raw events"),
			q(`sum(rate(gamepulse_processor_produced_records_total[$__rate_interval]))`, "processor → outputs and changelogs")).
			Min(0)).
		WithPanel(timeSeries("Gateway bytes produced by topic", units.BytesPerSecondSI,
			"Uncompressed bytes the gateway's Kafka client produced, by topic (franz-go's kprom metrics; only the gateway's client exports them).",
			q(`sum by (topic) (rate(gamepulse_kafka_produce_bytes_total[$__rate_interval]))`, "{{topic}}")).
			Min(0)).
		WithPanel(timeSeries("Gateway produce latency", units.Seconds,
			"From handing a batch to Kafka until every record is acknowledged.",
			append(quantiles("gamepulse_gateway_produce_duration_seconds", "", ""),
				q(`sum(rate(gamepulse_gateway_produce_duration_seconds_sum[$__rate_interval])) / sum(rate(gamepulse_gateway_produce_duration_seconds_count[$__rate_interval]))`, "mean"))...).
			Span(16).Min(0)).
		WithPanel(kafkaUpStat().Span(8).Height(8)).
		WithPanel(timeSeries("Waiting to be produced", units.Short,
			"Events the gateway handed to Kafka and that are not yet acknowledged, and records buffered in its Kafka client before they are sent.",
			q(`sum(gamepulse_gateway_pending_events)`, "gateway: events awaiting ack"),
			q(`sum by (client) (gamepulse_kafka_buffered_produce_records_total)`, "buffered: {{client}}")).
			Span(24).Height(6).Min(0))

	b.WithRow(dashboard.NewRowBuilder("Consume")).
		WithPanel(timeSeries("Records consumed", units.RecordsPerSecond,
			"Input records the processor processed (committed or aborted transactions), and rows the loader applied to the warehouse.",
			q(`sum(rate(gamepulse_processor_consumed_records_total[$__rate_interval]))`, "processor: records"),
			q(`sum(rate(gamepulse_loader_rows_total[$__rate_interval]))`, "loader: rows")).
			Min(0)).
		WithPanel(timeSeries("Processor records per transaction", units.Short,
			"Input records per committed transaction. Exactly-once costs a commit per transaction, so small transactions cap throughput.",
			q(`sum(rate(gamepulse_processor_consumed_records_total[$__rate_interval])) / sum(rate(gamepulse_processor_transactions_committed_total[$__rate_interval]))`, "records per transaction")).
			Min(0))

	b.WithRow(dashboard.NewRowBuilder("Consumer lag")).
		WithPanel(timeSeries("Processor lag per partition", units.Short,
			"Records each processor consumer group has yet to read, per topic partition (end offset − committed offset).",
			q(`max by (group, topic, partition) (gamepulse_processor_consumer_lag_records)`, "{{group}} {{topic}}/{{partition}}")).
			Min(0)).
		WithPanel(timeSeries("Loader lag per partition", units.Short,
			"Records the loader has yet to read, per topic partition.",
			q(`max by (topic, partition) (gamepulse_loader_consumer_lag_records)`, "{{topic}}/{{partition}}")).
			Min(0)).
		WithPanel(timeSeries("Lag trend", units.RecordsPerSecond,
			"How fast lag grows (above 0: the consumers fall behind) or shrinks (below 0: they catch up), over 5 minutes.",
			q(`sum by (group) (max by (group, topic, partition) (deriv(gamepulse_processor_consumer_lag_records[5m])))`, "processor: {{group}}"),
			q(`sum(max by (topic, partition) (deriv(gamepulse_loader_consumer_lag_records[5m])))`, "loader"))).
		WithPanel(bars("Lag now", units.Short,
			"Records each consumer group has yet to read, summed over partitions.",
			q(`sum by (group) (max by (group, topic, partition) (gamepulse_processor_consumer_lag_records))`, "processor: {{group}}"),
			q(`sum(max by (topic, partition) (gamepulse_loader_consumer_lag_records))`, "loader")).
			Thresholds(thresholds("green", step(10000, "orange"), step(100000, "red"))))

	b.WithRow(dashboard.NewRowBuilder("Transactions (exactly-once)")).
		WithPanel(timeSeries("Processor transactions", units.OpsPerSecond,
			"Transactions committed (outputs and input offsets together), and aborted by reason.",
			q(`sum(rate(gamepulse_processor_transactions_committed_total[$__rate_interval]))`, "committed"),
			q(`sum by (reason) (rate(gamepulse_processor_transactions_aborted_total[$__rate_interval]))`, "aborted: {{reason}}")).
			Min(0)).
		WithPanel(timeSeries("Transaction commit latency", units.Seconds,
			"Time to flush outputs and commit one transaction.",
			quantiles("gamepulse_processor_transaction_commit_duration_seconds", "", "")...).
			Min(0))

	return build(b)
}
