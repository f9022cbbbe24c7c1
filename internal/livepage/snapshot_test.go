package livepage

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(+1)
	b := func(pairs ...float64) []bucket {
		var out []bucket
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, bucket{le: pairs[i], count: pairs[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		q       float64
		buckets []bucket
		want    float64
		ok      bool
	}{
		{"no buckets", 0.5, nil, 0, false},
		{"nothing counted", 0.5, b(1, 0, 2, 0, inf, 0), 0, false},
		{"first bucket interpolates from 0", 0.5, b(1, 10, 2, 10, inf, 10), 0.5, true},
		{"middle bucket", 0.5, b(1, 0, 2, 10, 4, 20, inf, 20), 2, true},
		{"inside a bucket", 0.75, b(1, 0, 2, 10, 4, 20, inf, 20), 3, true},
		{"p99 of a tail", 0.99, b(1, 90, 2, 99, 3, 100, inf, 100), 2, true},
		{"p99 just past a bound", 0.99, b(1, 90, 2, 98, 3, 100, inf, 100), 2.5, true},
		{"in the +Inf bucket: highest bound", 0.99, b(1, 10, 2, 50, inf, 100), 2, true},
		{"only +Inf", 0.5, b(inf, 3), 0, false},
		{"q=0", 0, b(1, 5, 2, 10, inf, 10), 0, true},
		{"q=1", 1, b(1, 5, 2, 10, inf, 10), 2, true},
		{"q out of range", 1.5, b(1, 5, inf, 5), 0, false},
		{"negative first bound", 0.1, b(-1, 5, 1, 10, inf, 10), -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := quantile(tc.q, tc.buckets)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
				t.Fatalf("quantile(%v) = %v, %v; want %v, %v", tc.q, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// gatherAt is a sample of reg at at.
func gatherAt(t *testing.T, reg prometheus.Gatherer, at time.Time) *sample {
	t.Helper()
	s, err := gather(reg, at)
	if err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestIncrease(t *testing.T) {
	reg := prometheus.NewRegistry()
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mGatewayRequests, Help: "x"}, []string{"code"})
	reg.MustRegister(cv)
	t0 := time.Unix(1000, 0)
	empty := gatherAt(t, reg, t0) // a CounterVec with no series is not gathered
	if empty.has(mGatewayRequests) {
		t.Fatal("an unused CounterVec was gathered")
	}
	cv.WithLabelValues("200").Add(10)
	s1 := gatherAt(t, reg, t0.Add(time.Second))
	if d, ok := increase(empty, s1, mGatewayRequests, nil); !ok || d != 10 {
		t.Fatalf("new series: %v, %v; want 10 (from 0)", d, ok)
	}
	cv.WithLabelValues("200").Add(5)
	cv.WithLabelValues("503").Add(2)
	s2 := gatherAt(t, reg, t0.Add(2*time.Second))
	five := func(l map[string]string) bool { return l["code"][0] == '5' }
	for _, tc := range []struct {
		name     string
		old, cur *sample
		match    func(map[string]string) bool
		want     float64
		ok       bool
	}{
		{"all", s1, s2, nil, 7, true},
		{"5xx", s1, s2, five, 2, true},
		{"absent now", s1, empty, nil, 0, false},
		{"reset counts from 0", s2, s1, nil, 10, true}, // 200: 15 → 10; 503 gone
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := increase(tc.old, tc.cur, mGatewayRequests, tc.match)
			if d != tc.want || ok != tc.ok {
				t.Fatalf("increase = %v, %v; want %v, %v", d, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHistIncrease(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: mLoaderFreshness, Help: "x", Buckets: []float64{1, 2, 3}})
	reg.MustRegister(h)
	t0 := time.Unix(1000, 0)
	for range 100 {
		h.Observe(0.5) // before the window: must not count
	}
	s1 := gatherAt(t, reg, t0)
	for range 90 {
		h.Observe(0.5)
	}
	for range 10 {
		h.Observe(2.5)
	}
	s2 := gatherAt(t, reg, t0.Add(5*time.Second))
	b := histIncrease(s1, s2, mLoaderFreshness)
	want := []bucket{{1, 90}, {2, 90}, {3, 100}, {math.Inf(+1), 100}}
	if len(b) != len(want) {
		t.Fatalf("buckets %v, want %v", b, want)
	}
	for i := range want {
		if b[i] != want[i] {
			t.Fatalf("buckets %v, want %v", b, want)
		}
	}
	if p99, _ := quantile(0.99, b); math.Abs(p99-2.9) > 1e-9 {
		t.Fatalf("p99 %v, want 2.9", p99)
	}
	if got := histIncrease(s2, s1, mLoaderFreshness); got[len(got)-1].count != 100 {
		t.Fatalf("after a reset the increase counts from 0: %v", got)
	}
}

// val shows an optional number.
func val(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprint(*p)
}

func ptr(v float64) *float64 { return &v }

func TestComputeRatesAndGauges(t *testing.T) {
	f := newFakePipeline(true)
	t0 := time.Unix(1_700_000_000, 0)
	first := gatherAt(t, f.reg, t0)
	if s := compute(nil, first); s.Gateway.AcceptedPerSecond != nil || s.WindowSeconds != 0 || !s.Gateway.Present {
		t.Fatalf("first sample: rates must be absent, stages present: %+v", s.Gateway)
	}

	// Set exact values: 5 s apart.
	f.accepted.WithLabelValues("a").Add(100)
	f.accepted.WithLabelValues("b").Add(50)
	s1 := gatherAt(t, f.reg, t0)
	f.accepted.WithLabelValues("a").Add(400)
	f.accepted.WithLabelValues("b").Add(100)
	f.requests.WithLabelValues("200").Add(95)
	f.requests.WithLabelValues("503").Add(5)
	f.consumed.Add(1000)
	f.procAcc.Add(980)
	f.dead.WithLabelValues("unknown_currency").Add(20)
	f.late.Add(10)
	f.watermark.Set(float64(t0.Unix()) + 5 - 1.5) // 1.5 s behind at t0+5s
	f.procLag.WithLabelValues("g", "raw", "0").Set(100)
	f.procLag.WithLabelValues("g", "raw", "1").Set(50)
	f.loaderLag.WithLabelValues("enriched", "0").Set(7)
	f.batches.Add(10)
	f.rows.WithLabelValues("events").Add(450)
	f.rows.WithLabelValues("kpi").Add(50)
	for range 99 {
		f.freshness.Observe(0.3) // in (0.25, 0.5]
	}
	f.freshness.Observe(4) // in (3, 5]
	f.players.WithLabelValues("b").Set(20)
	f.players.WithLabelValues("a").Set(100)
	f.revenue.WithLabelValues("a").Set(12.5)
	s2 := gatherAt(t, f.reg, t0.Add(5*time.Second))

	s := compute(s1, s2)
	for _, tc := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"gateway accepted/s", s.Gateway.AcceptedPerSecond, 100},
		{"gateway requests/s", s.Gateway.RequestsPerSecond, 20},
		{"gateway rejected/s (present stage, unused vec)", s.Gateway.RejectedPerSecond, 0},
		{"gateway 5xx fraction", s.Gateway.ServerErrorFraction, 0.05},
		{"processor consumed/s", s.Processor.ConsumedPerSecond, 200},
		{"processor dead letters/s", s.Processor.DeadLettersPerSecond, 4},
		{"processor dead-letter fraction", s.Processor.DeadLetterFraction, 0.02},
		{"processor late/s", s.Processor.LatePerSecond, 2},
		{"processor watermark delay", s.Processor.WatermarkDelaySeconds, 1.5},
		{"processor lag", s.Processor.LagRecords, 150},
		{"loader rows/s", s.Loader.RowsPerSecond, 100},
		{"loader lag", s.Loader.LagRecords, 7},
		{"loader freshness p50", s.Loader.FreshnessP50Seconds, 0.25 + 0.25*(50.0/99)},
		{"loader freshness p99", s.Loader.FreshnessP99Seconds, 0.5}, // rank 99 of 100: the top of (0.25, 0.5]
		{"business players", s.Business.ActivePlayers, 120},
		{"business revenue", s.Business.RevenueUSDPerMinute, 12.5},
	} {
		if tc.got == nil || math.Abs(*tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %s, want %v", tc.name, val(tc.got), tc.want)
		}
	}
	if s.WindowSeconds != 5 {
		t.Errorf("window %v, want 5", s.WindowSeconds)
	}
	if len(s.Games) != 2 || s.Games[0].Game != "a" || s.Games[1].Game != "b" ||
		*s.Games[0].ActivePlayers != 100 || *s.Games[0].RevenueUSDPerMinute != 12.5 || s.Games[1].RevenueUSDPerMinute != nil {
		t.Errorf("games %+v", s.Games)
	}
}

func TestComputeAbsentSeries(t *testing.T) {
	// A gateway alone: no processor, loader or business series at all.
	reg := prometheus.NewRegistry()
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: mGatewayInFlight, Help: "x"})
	acc := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mGatewayAccepted, Help: "x"}, []string{"game"})
	reg.MustRegister(inFlight, acc)
	t0 := time.Unix(1000, 0)
	s1 := gatherAt(t, reg, t0)
	acc.WithLabelValues("a").Add(10)
	s := compute(s1, gatherAt(t, reg, t0.Add(time.Second)))
	if !s.Gateway.Present || s.Processor.Present || s.Loader.Present {
		t.Fatalf("presence: %v %v %v", s.Gateway.Present, s.Processor.Present, s.Loader.Present)
	}
	if got := val(s.Gateway.AcceptedPerSecond); got != val(ptr(10)) {
		t.Errorf("accepted/s %s", got)
	}
	for name, p := range map[string]*float64{
		"gateway 5xx":  s.Gateway.ServerErrorFraction,
		"consumed":     s.Processor.ConsumedPerSecond,
		"dead letters": s.Processor.DeadLettersPerSecond,
		"dl fraction":  s.Processor.DeadLetterFraction,
		"late":         s.Processor.LatePerSecond,
		"watermark":    s.Processor.WatermarkDelaySeconds,
		"proc lag":     s.Processor.LagRecords,
		"rows":         s.Loader.RowsPerSecond,
		"loader lag":   s.Loader.LagRecords,
		"p50":          s.Loader.FreshnessP50Seconds,
		"p99":          s.Loader.FreshnessP99Seconds,
		"players":      s.Business.ActivePlayers,
		"revenue":      s.Business.RevenueUSDPerMinute,
	} {
		if p != nil {
			t.Errorf("%s = %v, want absent", name, *p)
		}
	}
	if len(s.Games) != 0 || len(s.Levels) != 0 || s.Games == nil || s.Levels == nil {
		t.Errorf("games %v levels %v: want empty, non-nil (JSON [])", s.Games, s.Levels)
	}
}

func TestTopLevels(t *testing.T) {
	reg := prometheus.NewRegistry()
	starts := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mLevelStarts, Help: "x"}, []string{"game", "level"})
	fails := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: mLevelFails, Help: "x"}, []string{"game", "level"})
	reg.MustRegister(starts, fails)
	set := func(game, level string, st, f float64) {
		starts.WithLabelValues(game, level).Set(st)
		fails.WithLabelValues(game, level).Set(f)
	}
	set("a", "1", 100, 10)                    // 10 %
	set("a", "2", 100, 50)                    // 50 %
	set("a", "3", 2, 2)                       // 100 %, under the floor
	set("b", "1", 20, 10)                     // 50 %, fewer fails than a/2
	set("b", "2", 10, 0)                      // 0 %
	set("b", "3", 50, 20)                     // 40 %
	set("c", "9", 60, 30)                     // 50 %, between a/2 and b/1 in fails
	starts.WithLabelValues("c", "10").Set(40) // no fails series: 0 %
	got := topLevels(gatherAt(t, reg, time.Unix(1, 0)), 5)
	want := []string{"a/2", "c/9", "b/1", "b/3", "a/1"}
	if len(got) != len(want) {
		t.Fatalf("got %d levels %+v, want %v", len(got), got, want)
	}
	for i, l := range got {
		if l.Game+"/"+l.Level != want[i] {
			t.Fatalf("rank %d: %s/%s, want %s (all: %+v)", i, l.Game, l.Level, want[i], got)
		}
	}
	if got[1].FailRate != 0.5 || got[1].StartsPerMinute != 60 || got[1].FailsPerMinute != 30 {
		t.Errorf("c/9: %+v", got[1])
	}
}
