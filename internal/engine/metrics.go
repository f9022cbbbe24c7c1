package engine

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the engine's metrics (jobs add their own).
type Metrics struct {
	consumed       prometheus.Counter
	produced       prometheus.Counter
	commits        prometheus.Counter
	aborts         *prometheus.CounterVec // by reason
	commitSeconds  prometheus.Histogram
	restoreSeconds prometheus.Histogram
	tasks          prometheus.Gauge
}

// NewMetrics registers the engine's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		consumed: prometheus.NewCounter(prometheus.CounterOpts{Name: "gamepulse_processor_consumed_records_total", Help: "Input records processed (in committed or aborted transactions)."}),
		produced: prometheus.NewCounter(prometheus.CounterOpts{Name: "gamepulse_processor_produced_records_total", Help: "Output and changelog records produced."}),
		commits:  prometheus.NewCounter(prometheus.CounterOpts{Name: "gamepulse_processor_transactions_committed_total", Help: "Transactions committed."}),
		aborts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_processor_transactions_aborted_total", Help: "Transactions aborted, by reason."},
			[]string{"reason"}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gamepulse_processor_transaction_commit_duration_seconds",
			Help: "Time to flush outputs and commit one transaction.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		restoreSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gamepulse_processor_restore_duration_seconds",
			Help: "Time to restore one partition's state from its changelogs.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		tasks: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gamepulse_processor_tasks", Help: "Input partitions this instance processes."}),
	}
	if reg != nil {
		reg.MustRegister(m.consumed, m.produced, m.commits, m.aborts, m.commitSeconds, m.restoreSeconds, m.tasks)
	}
	return m
}
