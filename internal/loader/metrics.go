package loader

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// freshnessBuckets has a boundary at 2 s, the freshness SLO's threshold
// that the alerting rules read (le="2" in deploy/prometheus/rules).
var freshnessBuckets = []float64{0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800}

// Metrics are the loader's metrics.
type Metrics struct {
	rows      *prometheus.CounterVec // by table
	batches   prometheus.Counter
	failures  prometheus.Counter
	rejected  *prometheus.CounterVec // by topic
	latency   prometheus.Histogram
	freshness prometheus.Histogram
	lag       *prometheus.GaugeVec // by topic, partition

	reg    prometheus.Registerer
	active *activeTime

	mu    sync.Mutex
	stats Stats
}

// NewMetrics registers the loader's metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_loader_rows_total",
			Help: "Rows applied to the warehouse, by table (redelivered rows the warehouse skipped included)."}, []string{"table"}),
		batches:  prometheus.NewCounter(prometheus.CounterOpts{Name: "gamepulse_loader_batches_total", Help: "Batches applied."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "gamepulse_loader_apply_failures_total", Help: "Failed warehouse applies (retried)."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_loader_rejected_records_total",
			Help: "Records that did not decode into a row, stored in dead_letters instead, by topic."}, []string{"topic"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gamepulse_loader_apply_duration_seconds",
			Help: "Time to apply one batch in one warehouse transaction.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}),
		freshness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gamepulse_loader_freshness_seconds",
			Help: "From the gateway accepting an event (received_at) to its row committed in the warehouse.", Buckets: freshnessBuckets}),
	}
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gamepulse_loader_consumer_lag_records",
		Help: "Records between the loader group's committed offsets and the partitions' end offsets (measured every 10 s; the loader commits after each applied batch)."},
		[]string{"topic", "partition"})
	if reg != nil {
		reg.MustRegister(m.rows, m.batches, m.failures, m.rejected, m.latency, m.freshness, m.lag)
	}
	m.reg = reg
	return m
}

// watch registers the cost metrics of a loader: the sink's usage when it
// counts one (Snowflake) and the estimated warehouse running time.
func (m *Metrics) watch(sink warehouse.Sink, autoSuspend time.Duration) {
	m.active = newActiveTime(autoSuspend, time.Minute)
	if m.reg == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gamepulse_loader_warehouse_active_seconds_total",
		Help: "Estimated time the warehouse runs for the loader: each apply keeps it on until --warehouse-auto-suspend after it, at least 60 s per resume (what Snowflake bills)."},
		func() float64 { return m.active.total(time.Now()).Seconds() }))
	u, ok := sink.(interface{ Usage() warehouse.Usage })
	if !ok {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gamepulse_loader_warehouse_statements_total",
			Help: "SQL statements sent to the warehouse (reads, BEGIN and COMMIT included)."},
			func() float64 { return float64(u.Usage().Statements) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gamepulse_loader_warehouse_transactions_total",
			Help: "Warehouse transactions committed."},
			func() float64 { return float64(u.Usage().Transactions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gamepulse_loader_warehouse_sent_bytes_total",
			Help: "Bytes of SQL text and bound values sent to the warehouse."},
			func() float64 { return float64(u.Usage().SentBytes) }),
	)
}

func (m *Metrics) observe(b *warehouse.Batch, start time.Time, took time.Duration, accepted []time.Time) {
	if m.active != nil {
		m.active.observe(start, start.Add(took))
	}
	k := &b.AtLeastOnce // rows applied, copies among them: the sink does not say which it skipped
	byTable := [len(Tables)]int{len(b.Events) + len(k.Events), len(b.Sessions) + len(k.Sessions), len(b.KPIs), len(b.Completeness),
		len(b.Alerts) + len(k.Alerts), len(b.DeadLetters) + len(k.DeadLetters)}
	for i, t := range Tables {
		m.rows.WithLabelValues(t).Add(float64(byTable[i]))
	}
	m.batches.Inc()
	m.latency.Observe(took.Seconds())
	now := time.Now()
	var newest time.Duration = -1
	for _, t := range accepted {
		d := now.Sub(t)
		m.freshness.Observe(d.Seconds())
		if newest < 0 || d < newest {
			newest = d
		}
	}
	m.mu.Lock()
	m.stats.Rows += int64(b.Rows())
	for i := range Tables {
		m.stats.ByTable[i] += int64(byTable[i])
	}
	m.stats.Batches++
	m.stats.LastApplied = now
	if newest >= 0 {
		m.stats.Freshness = newest
	}
	m.mu.Unlock()
}

func (m *Metrics) snapshot() Stats {
	m.mu.Lock()
	st := m.stats
	m.mu.Unlock()
	st.Lag = -1
	if n, ok := sumGauge(m.lag); ok {
		st.Lag = int64(n)
	}
	return st
}

// sumGauge adds up the series of g, and false when it has none.
func sumGauge(g *prometheus.GaugeVec) (float64, bool) {
	ch := make(chan prometheus.Metric, 16)
	go func() { g.Collect(ch); close(ch) }()
	sum, found := 0.0, false
	for pm := range ch {
		var d dto.Metric
		if pm.Write(&d) == nil {
			sum += d.GetGauge().GetValue()
			found = true
		}
	}
	return sum, found
}
