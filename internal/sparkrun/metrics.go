package sparkrun

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gamepulse/gamepulse/internal/sparkconnect"
)

// Metrics are the Runner's Prometheus series, labelled by query name.
type Metrics struct {
	up             prometheus.Gauge
	active         *prometheus.GaugeVec
	starts         *prometheus.CounterVec
	failures       *prometheus.CounterVec
	batches        *prometheus.CounterVec
	inputRows      *prometheus.CounterVec
	droppedRows    *prometheus.CounterVec
	inputRate      *prometheus.GaugeVec
	processedRate  *prometheus.GaugeVec
	batchDuration  *prometheus.GaugeVec
	stateRows      *prometheus.GaugeVec
	stateMemory    *prometheus.GaugeVec
	watermark      *prometheus.GaugeVec
	behind         *prometheus.GaugeVec
	lastProgressAt *prometheus.GaugeVec
}

// NewMetrics registers the series on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	q := []string{"query"}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, q)
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, q)
	}
	m := &Metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gamepulse_spark_session_up",
			Help: "1 while the Spark Connect session answers, else 0."}),
		active:         gauge("gamepulse_spark_query_active", "1 while the streaming query runs, 0 when it stopped or failed (it is then restarted from its checkpoint)."),
		starts:         counter("gamepulse_spark_query_starts_total", "Starts of the query (from its checkpoint), by gamepulse; reattaching to a running query is not a start."),
		failures:       counter("gamepulse_spark_query_failures_total", "Times the query was found stopped or failed."),
		batches:        counter("gamepulse_spark_query_batches_total", "Micro-batches the query completed (from its progress reports)."),
		inputRows:      counter("gamepulse_spark_query_input_rows_total", "Input rows of the query's micro-batches."),
		droppedRows:    counter("gamepulse_spark_query_rows_dropped_by_watermark_total", "Input rows later than the watermark, dropped by a stateful operator instead of counted (Spark does not correct a closed window)."),
		inputRate:      gauge("gamepulse_spark_query_input_rows_per_second", "Input rows per second of the last micro-batch."),
		processedRate:  gauge("gamepulse_spark_query_processed_rows_per_second", "Processed rows per second of the last micro-batch."),
		batchDuration:  gauge("gamepulse_spark_query_batch_duration_seconds", "Wall time of the last micro-batch."),
		stateRows:      gauge("gamepulse_spark_query_state_rows", "Rows held in the query's state stores."),
		stateMemory:    gauge("gamepulse_spark_query_state_memory_bytes", "Memory used by the query's state stores."),
		watermark:      gauge("gamepulse_spark_query_watermark_timestamp_seconds", "The query's event-time watermark (Unix seconds); 0 before it has one."),
		behind:         gauge("gamepulse_spark_query_offsets_behind_latest", "Kafka records between the query's last batch and the partitions' ends (the largest over its sources' partitions)."),
		lastProgressAt: gauge("gamepulse_spark_query_last_progress_timestamp_seconds", "When the query's last micro-batch started (Unix seconds)."),
	}
	if reg != nil {
		reg.MustRegister(m.up, m.active, m.starts, m.failures, m.batches, m.inputRows, m.droppedRows, m.inputRate,
			m.processedRate, m.batchDuration, m.stateRows, m.stateMemory, m.watermark, m.behind, m.lastProgressAt)
	}
	return m
}

// observe records one progress report of query q (each report once); a
// seen report (counted by an earlier gamepulse) sets the gauges only.
func (m *Metrics) observe(q string, p *sparkconnect.Progress, seen bool) {
	if !seen {
		m.batches.WithLabelValues(q).Inc()
		m.inputRows.WithLabelValues(q).Add(float64(p.NumInputRows))
		m.droppedRows.WithLabelValues(q).Add(float64(p.RowsDroppedByWatermark()))
	}
	m.inputRate.WithLabelValues(q).Set(p.InputRowsPerSecond)
	m.processedRate.WithLabelValues(q).Set(p.ProcessedRowsPerSecond)
	m.batchDuration.WithLabelValues(q).Set(p.BatchDuration.Seconds())
	m.stateRows.WithLabelValues(q).Set(float64(p.StateRows()))
	m.stateMemory.WithLabelValues(q).Set(float64(p.StateMemoryBytes()))
	if !p.Watermark.IsZero() && p.Watermark.Unix() > 0 {
		m.watermark.WithLabelValues(q).Set(float64(p.Watermark.UnixMilli()) / 1000)
	}
	m.behind.WithLabelValues(q).Set(maxBehind(p))
	if !p.Timestamp.IsZero() {
		m.lastProgressAt.WithLabelValues(q).Set(float64(p.Timestamp.UnixMilli()) / 1000)
	}
}

// maxBehind is the largest number of records any source of p's query is
// behind the end of its Kafka partitions (0 when none says).
func maxBehind(p *sparkconnect.Progress) float64 {
	var behind float64
	for _, s := range p.Sources {
		if _, mx, ok := s.OffsetsBehindLatest(); ok {
			behind = max(behind, mx)
		}
	}
	return behind
}
