package pipeline

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gamepulse/gamepulse/internal/kpi"
)

// stateSizes is the collector of gamepulse_processor_state_entries: each
// task reports its stores' sizes (at most every stateEvery, from its own
// goroutine) and the gauge is their sum per store.
type stateSizes struct {
	desc   *prometheus.Desc
	mu     sync.Mutex
	byTask map[string]map[string]int // task ("stage1/3") → store → entries
}

// stateEvery bounds how often a task counts its state.
const stateEvery = 5 * time.Second

func newStateSizes() *stateSizes {
	return &stateSizes{
		desc: prometheus.NewDesc("gamepulse_processor_state_entries",
			"Entries in the processor's state stores on this instance (event ids for dedup, players, ledger sessions, fraud windows, KPI rows, marks, completeness rows), by store.",
			[]string{"store"}, nil),
		byTask: map[string]map[string]int{},
	}
}

func (s *stateSizes) set(task string, sizes map[string]int) {
	s.mu.Lock()
	s.byTask[task] = sizes
	s.mu.Unlock()
}

func (s *stateSizes) remove(task string) {
	s.mu.Lock()
	delete(s.byTask, task)
	s.mu.Unlock()
}

func (s *stateSizes) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s *stateSizes) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	sum := map[string]int{}
	for _, sizes := range s.byTask {
		for store, n := range sizes {
			sum[store] += n
		}
	}
	s.mu.Unlock()
	for store, n := range sum {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), store)
	}
}

// business are the live game gauges, from each game's latest final
// game-level minute.
type business struct {
	active, revenue, sessions *prometheus.GaugeVec // by game
	levelStarts, levelFails   *prometheus.GaugeVec // by game, level
	mu                        sync.Mutex
	latest                    map[string]time.Time // game → start of the minute shown
}

// businessLevels is how many levels per game the level gauges show: those
// with the most fails in the minute (bounded label cardinality).
const businessLevels = 10

func newBusiness() *business {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	return &business{
		active:      g("gamepulse_business_active_players", "Distinct active players of the game's latest final minute (HyperLogLog estimate).", "game"),
		revenue:     g("gamepulse_business_revenue_usd_per_minute", "Net revenue in USD (purchases + ads − refunds) of the game's latest final minute.", "game"),
		sessions:    g("gamepulse_business_sessions_started_per_minute", "Sessions started in the game's latest final minute.", "game"),
		levelStarts: g("gamepulse_business_level_starts_per_minute", "Level starts in the game's latest final minute, for its levels with the most fails.", "game", "level"),
		levelFails:  g("gamepulse_business_level_fails_per_minute", "Level fails in the game's latest final minute, for its levels with the most fails.", "game", "level"),
		latest:      map[string]time.Time{},
	}
}

func (b *business) collectors() []prometheus.Collector {
	return []prometheus.Collector{b.active, b.revenue, b.sessions, b.levelStarts, b.levelFails}
}

// observe shows r when it is the first final emission of a game-level
// minute at least as recent as the one shown. Corrections do not move the
// gauges: they describe the minute as it closed.
func (b *business) observe(r *kpi.Result) {
	if r.Window != kpi.Minute || r.Platform != kpi.All || r.Version != 1 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if last, ok := b.latest[r.Game]; ok && r.Start.Before(last) {
		return
	}
	b.latest[r.Game] = r.Start
	b.active.WithLabelValues(r.Game).Set(float64(r.ActivePlayers))
	b.revenue.WithLabelValues(r.Game).Set(float64(r.RevenueMicros) / 1e6)
	b.sessions.WithLabelValues(r.Game).Set(float64(r.SessionsStarted))
	levels := slices.Clone(r.Levels)
	slices.SortFunc(levels, func(x, y kpi.LevelResult) int {
		return cmp.Or(cmp.Compare(y.Fails, x.Fails), cmp.Compare(y.Starts, x.Starts), cmp.Compare(x.Level, y.Level))
	})
	levels = levels[:min(len(levels), businessLevels)]
	b.levelStarts.DeletePartialMatch(prometheus.Labels{"game": r.Game})
	b.levelFails.DeletePartialMatch(prometheus.Labels{"game": r.Game})
	for _, l := range levels {
		lv := strconv.Itoa(int(l.Level))
		b.levelStarts.WithLabelValues(r.Game, lv).Set(float64(l.Starts))
		b.levelFails.WithLabelValues(r.Game, lv).Set(float64(l.Fails))
	}
}
