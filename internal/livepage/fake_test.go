package livepage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakePipeline registers the series the page reads, with the names and
// labels of internal/gateway, internal/engine, internal/pipeline and
// internal/loader (and the lag and business gauges), and moves them as a
// running pipeline would.
type fakePipeline struct {
	reg *prometheus.Registry

	inFlight  prometheus.Gauge
	accepted  *prometheus.CounterVec // game
	rejected  *prometheus.CounterVec // reason
	requests  *prometheus.CounterVec // code
	consumed  prometheus.Counter
	procAcc   prometheus.Counter
	dead      *prometheus.CounterVec // code
	dups      *prometheus.CounterVec // kind
	late      prometheus.Counter     // nil: not registered
	watermark prometheus.Gauge
	procLag   *prometheus.GaugeVec // group, topic, partition
	batches   prometheus.Counter
	rows      *prometheus.CounterVec // table
	freshness prometheus.Histogram
	loaderLag *prometheus.GaugeVec // topic, partition
	players   *prometheus.GaugeVec // game
	revenue   *prometheus.GaugeVec // game
	starts    *prometheus.GaugeVec // game, level
	fails     *prometheus.GaugeVec // game, level

	rng      *rand.Rand
	carry    map[string]float64 // fractional counts not yet added
	players0 map[string]float64
}

var fakeGames = []string{"gem-garden", "sky-raiders", "tower-tactics"}

func newFakePipeline(withLate bool) *fakePipeline {
	c := func(name string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: name})
	}
	cv := func(name string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: name}, labels)
	}
	gv := func(name string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: name}, labels)
	}
	f := &fakePipeline{
		reg:       prometheus.NewRegistry(),
		inFlight:  prometheus.NewGauge(prometheus.GaugeOpts{Name: mGatewayInFlight, Help: "x"}),
		accepted:  cv(mGatewayAccepted, "game"),
		rejected:  cv(mGatewayRejected, "reason"),
		requests:  cv(mGatewayRequests, "code"),
		consumed:  c(mProcConsumed),
		procAcc:   c(mProcAccepted),
		dead:      cv(mProcDeadLetters, "code"),
		dups:      cv(mProcDuplicates, "kind"),
		watermark: prometheus.NewGauge(prometheus.GaugeOpts{Name: mProcWatermark, Help: "x"}),
		procLag:   gv(mProcLag, "group", "topic", "partition"),
		batches:   c(mLoaderBatches),
		rows:      cv(mLoaderRows, "table"),
		freshness: prometheus.NewHistogram(prometheus.HistogramOpts{Name: mLoaderFreshness, Help: "x",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300, 1800}}),
		loaderLag: gv(mLoaderLag, "topic", "partition"),
		players:   gv(mActivePlayers, "game"),
		revenue:   gv(mRevenue, "game"),
		starts:    gv(mLevelStarts, "game", "level"),
		fails:     gv(mLevelFails, "game", "level"),
		rng:       rand.New(rand.NewPCG(1, 2)),
		carry:     map[string]float64{},
		players0:  map[string]float64{"gem-garden": 1200, "sky-raiders": 800, "tower-tactics": 450},
	}
	f.reg.MustRegister(f.inFlight, f.accepted, f.rejected, f.requests, f.consumed, f.procAcc, f.dead, f.dups,
		f.watermark, f.procLag, f.batches, f.rows, f.freshness, f.loaderLag, f.players, f.revenue, f.starts, f.fails)
	if withLate {
		f.late = c(mProcLate)
		f.reg.MustRegister(f.late)
	}
	return f
}

// add adds about perSec*dt (whole counts, the fractions carried over) to c.
func (f *fakePipeline) add(key string, c prometheus.Counter, perSec, dt float64) {
	v := f.carry[key] + perSec*dt*(0.8+0.4*f.rng.Float64())
	n := math.Floor(v)
	f.carry[key] = v - n
	c.Add(n)
}

// step moves the pipeline by dt of traffic ending at now: about 500 events/s.
func (f *fakePipeline) step(now time.Time, dt time.Duration) {
	s := dt.Seconds()
	var total float64
	for i, g := range fakeGames {
		rate := 250 / float64(i+1)
		total += rate
		f.add("acc/"+g, f.accepted.WithLabelValues(g), rate, s)
	}
	f.add("rej", f.rejected.WithLabelValues("invalid_field"), 2, s)
	f.add("req200", f.requests.WithLabelValues("200"), 50, s)
	f.add("req503", f.requests.WithLabelValues("503"), 0.2, s)
	f.add("consumed", f.consumed, total*1.02, s)
	f.add("procacc", f.procAcc, total, s)
	f.add("dead", f.dead.WithLabelValues("unknown_currency"), total*0.002, s)
	f.add("dups", f.dups.WithLabelValues("event_id"), 1, s)
	if f.late != nil {
		f.add("late", f.late, 1, s)
	}
	f.watermark.Set(float64(now.UnixMilli())/1000 - 1 - f.rng.Float64())
	for p := 0; p < 3; p++ {
		f.procLag.WithLabelValues("gamepulse-processor", "gamepulse.raw", fmt.Sprint(p)).Set(float64(20 + f.rng.IntN(120)))
		f.loaderLag.WithLabelValues("gamepulse.enriched", fmt.Sprint(p)).Set(float64(50 + f.rng.IntN(300)))
	}
	f.add("batches", f.batches, 2, s)
	f.add("rows/events", f.rows.WithLabelValues("events"), total, s)
	f.add("rows/kpi", f.rows.WithLabelValues("kpi"), 20, s)
	f.add("rows/sessions", f.rows.WithLabelValues("sessions"), 15, s)
	for i := 0; i < int(40*s)+1; i++ {
		v := 0.2 + 0.5*f.rng.Float64()
		if f.rng.IntN(50) == 0 {
			v = 1.2 + f.rng.Float64()
		}
		f.freshness.Observe(v)
	}
	for i, g := range fakeGames {
		p := f.players0[g] * (1 + 0.05*math.Sin(float64(now.Unix())/20+float64(i)) + 0.01*f.rng.Float64())
		f.players.WithLabelValues(g).Set(math.Round(p))
		f.revenue.WithLabelValues(g).Set(p * 0.03 * (0.9 + 0.2*f.rng.Float64()))
		for l := 1; l <= 6; l++ {
			st := 10 + 40*f.rng.Float64()/float64(l)
			failRate := 0.1 + 0.08*float64((l*7+i*3)%6)
			f.starts.WithLabelValues(g, fmt.Sprint(l)).Set(st)
			f.fails.WithLabelValues(g, fmt.Sprint(l)).Set(st * failRate)
		}
	}
}
