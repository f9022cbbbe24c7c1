package pipeline

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/jobs"
)

// Stats are live totals for status lines. They count work done, including
// work redone after an aborted transaction, so they may run ahead of what
// was committed; the topics are the truth.
type Stats struct {
	Accepted, DeadLetters, Duplicates, Late, Sessions atomic.Int64 // stage 1
	Results, Corrections                              atomic.Int64 // stage 2

	mu        sync.Mutex
	watermark map[int32]time.Time // stage 2's global watermark, by partials partition
}

// Watermark returns the global watermark stage 2 has reached (the minimum
// over the partials partitions this instance owns), and false before any.
func (s *Stats) Watermark() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var min time.Time
	for _, w := range s.watermark {
		if w.IsZero() {
			continue
		}
		if min.IsZero() || w.Before(min) {
			min = w
		}
	}
	return min, !min.IsZero()
}

// Metrics are the processor's job metrics (the engine's are
// processor.Metrics).
type Metrics struct {
	stats Stats

	accepted        prometheus.Counter
	deadLetters     *prometheus.CounterVec // by code
	duplicates      *prometheus.CounterVec // by kind
	late            prometheus.Counter
	sessions        prometheus.Counter
	alerts          *prometheus.CounterVec // by rule
	partials        prometheus.Counter
	results         *prometheus.CounterVec // by window
	corrections     prometheus.Counter
	droppedPartials prometheus.Counter
	corrupt         prometheus.Counter
	watermark       prometheus.Gauge
	completenessG   *prometheus.GaugeVec // by game, platform, kind
	resultLatency   prometheus.Histogram
	lag             *prometheus.GaugeVec // by group, topic, partition
	state           *stateSizes
	business        *business
}

// NewMetrics registers the job metrics with reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &Metrics{
		accepted: c("gamepulse_processor_events_accepted_total", "Events past validation and dedup, enriched."),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_processor_dead_letters_total",
			Help: "Records sent to the dead-letter topic, by code."}, []string{"code"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_processor_duplicates_dropped_total",
			Help: "Events dropped by dedup, by kind (event_id, store_transaction_id)."}, []string{"kind"}),
		late:     c("gamepulse_processor_late_events_total", "Events whose minute had closed under this instance's watermark when they arrived (sent to the late topic)."),
		sessions: c("gamepulse_processor_sessions_closed_total", "Sessions closed and emitted."),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_processor_alerts_total",
			Help: "Alerts raised, by rule."}, []string{"rule"}),
		partials: c("gamepulse_processor_kpi_partials_total", "Partial aggregates sent from stage 1 to stage 2."),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gamepulse_processor_kpi_results_total",
			Help: "KPI rows emitted final (first emissions and corrections), by window."}, []string{"window"}),
		corrections:     c("gamepulse_processor_kpi_corrections_total", "KPI rows re-emitted because late events changed them."),
		droppedPartials: c("gamepulse_processor_kpi_partials_dropped_total", "Partials for windows past retention, dropped."),
		corrupt:         c("gamepulse_processor_corrupt_partials_total", "Internal partials records that did not decode (a bug)."),
		watermark: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gamepulse_processor_watermark_seconds",
			Help: "Stage 2's global event-time watermark (Unix seconds), the lowest over this instance's partials partitions."}),
		completenessG: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gamepulse_processor_completeness_seqs",
			Help: "Completeness ledger since this instance started: sequence numbers lost (gaps), repeated (duplicates) and out of order, by game and platform."},
			[]string{"game", "platform", "kind"}),
		resultLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "gamepulse_processor_window_result_latency_seconds",
			Help:    "From stage 1 writing the watermark mark that closes a window to stage 2 emitting its final row (wall clock).",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14)}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gamepulse_processor_consumer_lag_records",
			Help: "Records between the processor groups' committed offsets and the partitions' end offsets (measured every 10 s with the admin API; every instance reports the whole group)."},
			[]string{"group", "topic", "partition"}),
		state:    newStateSizes(),
		business: newBusiness(),
	}
	m.stats.watermark = map[int32]time.Time{}
	// The codes stage 1 dead-letters start at 0, so that the dead-letter
	// ratio has data before the first one.
	for _, code := range []string{event.CodeMalformed, event.CodeMissingField, event.CodeUnknownType, event.CodePayloadMismatch,
		event.CodeInvalidValue, event.CodeUnsupportedVersion, event.CodeClockSkew, jobs.CodeUnknownCurrency} {
		m.deadLetters.WithLabelValues(code)
	}
	if reg != nil {
		reg.MustRegister(m.accepted, m.deadLetters, m.duplicates, m.late, m.sessions, m.alerts, m.partials, m.results,
			m.corrections, m.droppedPartials, m.corrupt, m.watermark, m.completenessG, m.resultLatency, m.lag, m.state)
		reg.MustRegister(m.business.collectors()...)
	}
	return m
}

func (m *Metrics) observeWatermark(part int32, wm time.Time) {
	m.stats.mu.Lock()
	m.stats.watermark[part] = wm
	m.stats.mu.Unlock()
	if w, ok := m.stats.Watermark(); ok {
		m.watermark.Set(float64(w.UnixMilli()) / 1000)
	}
}

func (m *Metrics) completeness(game, platform string, d completeness) {
	m.completenessG.WithLabelValues(game, platform, "gaps").Add(float64(d.Gaps))
	m.completenessG.WithLabelValues(game, platform, "duplicates").Add(float64(d.Duplicates))
	m.completenessG.WithLabelValues(game, platform, "out_of_order").Add(float64(d.OutOfOrder))
}
