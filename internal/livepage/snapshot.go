package livepage

import (
	"math"
	"sort"
	"strings"
	"time"
)

// A Snapshot is what the page shows at one moment: rates over the last
// window, gauges as they are, and the alerts firing. A nil number is a
// series that is absent (or a rate without a previous sample): the page
// shows it as "—".
type Snapshot struct {
	Time          time.Time      `json:"time"`
	WindowSeconds float64        `json:"window_s"` // span the rates and quantiles cover; 0 on the first sample
	Gateway       GatewayStats   `json:"gateway"`
	Processor     ProcessorStats `json:"processor"`
	Loader        LoaderStats    `json:"loader"`
	Business      BusinessStats  `json:"business"`
	Games         []Game         `json:"games"`  // by name
	Levels        []Level        `json:"levels"` // the TopLevels highest fail rates
	Alerts        []Condition    `json:"alerts"` // firing, pages first
}

// GatewayStats is the ingest stage.
type GatewayStats struct {
	Present             bool     `json:"present"` // this process runs a gateway
	AcceptedPerSecond   *float64 `json:"accepted_per_s"`
	RejectedPerSecond   *float64 `json:"rejected_per_s"`
	RequestsPerSecond   *float64 `json:"requests_per_s"`
	ServerErrorFraction *float64 `json:"server_error_fraction"` // 5xx answers among requests
}

// ProcessorStats is the stream-processing stage.
type ProcessorStats struct {
	Present               bool     `json:"present"`
	ConsumedPerSecond     *float64 `json:"consumed_per_s"`
	DeadLettersPerSecond  *float64 `json:"dead_letters_per_s"`
	DeadLetterFraction    *float64 `json:"dead_letter_fraction"` // among records judged: accepted + dead letters + duplicates
	LatePerSecond         *float64 `json:"late_per_s"`
	WatermarkDelaySeconds *float64 `json:"watermark_delay_s"` // now − the global event-time watermark
	LagRecords            *float64 `json:"lag_records"`       // summed over groups, topics and partitions
}

// LoaderStats is the warehouse-loading stage.
type LoaderStats struct {
	Present             bool     `json:"present"`
	RowsPerSecond       *float64 `json:"rows_per_s"` // all tables
	LagRecords          *float64 `json:"lag_records"`
	FreshnessP50Seconds *float64 `json:"freshness_p50_s"` // event accepted → row committed, over the window
	FreshnessP99Seconds *float64 `json:"freshness_p99_s"`
}

// BusinessStats are the games' totals.
type BusinessStats struct {
	ActivePlayers       *float64 `json:"active_players"`
	RevenueUSDPerMinute *float64 `json:"revenue_usd_per_minute"`
}

// Game is one game's live KPIs.
type Game struct {
	Game                string   `json:"game"`
	ActivePlayers       *float64 `json:"active_players"`
	RevenueUSDPerMinute *float64 `json:"revenue_usd_per_minute"`
}

// Level is one level of a game with its fail rate.
type Level struct {
	Game            string  `json:"game"`
	Level           string  `json:"level"`
	StartsPerMinute float64 `json:"starts_per_minute"`
	FailsPerMinute  float64 `json:"fails_per_minute"`
	FailRate        float64 `json:"fail_rate"` // fails / starts
}

const (
	// TopLevels is how many levels the page lists.
	TopLevels = 5
	// MinLevelStarts is the starts per minute below which a level is not
	// ranked: 1 fail of 1 start is not a hard level.
	MinLevelStarts = 5
)

// compute builds the snapshot of cur, with rates over the span since old (nil:
// the first sample, no rates). Alerts are left to the caller.
func compute(old, cur *sample) Snapshot {
	s := Snapshot{Time: cur.at, Games: []Game{}, Levels: []Level{}, Alerts: []Condition{}}
	var dt float64
	if old != nil {
		dt = cur.at.Sub(old.at).Seconds()
		if dt <= 0 {
			old = nil
		}
	}
	if old != nil {
		s.WindowSeconds = dt
	}
	// rate of a counter family; stage: whether its stage runs here, which makes
	// an absent family 0 (a CounterVec before its first use) rather than unknown.
	rate := func(name string, stage bool, match func(map[string]string) bool) *float64 {
		if old == nil {
			return nil
		}
		d, ok := increase(old, cur, name, match)
		if !ok && !stage {
			return nil
		}
		return num(d / dt)
	}
	inc := func(name string, match func(map[string]string) bool) (float64, bool) {
		if old == nil {
			return 0, false
		}
		return increase(old, cur, name, match)
	}
	gauge := func(name string) *float64 {
		v, ok := cur.sum(name, nil)
		if !ok {
			return nil
		}
		return num(v)
	}

	// gateway
	gw := &s.Gateway
	gw.Present = cur.has(mGatewayInFlight)
	gw.AcceptedPerSecond = rate(mGatewayAccepted, gw.Present, nil)
	gw.RejectedPerSecond = rate(mGatewayRejected, gw.Present, nil)
	gw.RequestsPerSecond = rate(mGatewayRequests, gw.Present, nil)
	if all, ok := inc(mGatewayRequests, nil); ok && all > 0 {
		errs, _ := inc(mGatewayRequests, func(l map[string]string) bool { return strings.HasPrefix(l["code"], "5") })
		gw.ServerErrorFraction = num(errs / all)
	}

	// processor
	pr := &s.Processor
	pr.Present = cur.has(mProcConsumed)
	pr.ConsumedPerSecond = rate(mProcConsumed, pr.Present, nil)
	pr.DeadLettersPerSecond = rate(mProcDeadLetters, pr.Present, nil)
	pr.LatePerSecond = rate(mProcLate, false, nil) // not every processor counts late events
	if pr.Present && old != nil {                  // absent counters: nothing counted yet
		dl, _ := inc(mProcDeadLetters, nil)
		acc, _ := inc(mProcAccepted, nil)
		dup, _ := inc(mProcDuplicates, nil)
		if judged := acc + dl + dup; judged > 0 {
			pr.DeadLetterFraction = num(dl / judged)
		}
	}
	if wm, ok := cur.sum(mProcWatermark, nil); ok && wm > 0 {
		delay := float64(cur.at.UnixMilli())/1000 - wm
		pr.WatermarkDelaySeconds = num(math.Max(delay, 0))
	}
	pr.LagRecords = gauge(mProcLag)

	// loader
	ld := &s.Loader
	ld.Present = cur.has(mLoaderBatches)
	ld.RowsPerSecond = rate(mLoaderRows, ld.Present, nil)
	ld.LagRecords = gauge(mLoaderLag)
	if old != nil {
		b := histIncrease(old, cur, mLoaderFreshness)
		if v, ok := quantile(0.5, b); ok {
			ld.FreshnessP50Seconds = num(v)
		}
		if v, ok := quantile(0.99, b); ok {
			ld.FreshnessP99Seconds = num(v)
		}
	}

	// business
	s.Business.ActivePlayers = gauge(mActivePlayers)
	s.Business.RevenueUSDPerMinute = gauge(mRevenue)
	s.Games = games(cur)
	s.Levels = topLevels(cur, TopLevels)
	return s
}

// games joins the per-game gauges by the game label.
func games(cur *sample) []Game {
	byGame := map[string]*Game{}
	add := func(name string, set func(*Game, float64)) {
		for _, sr := range cur.families[name] {
			g, ok := byGame[sr.labels["game"]]
			if !ok {
				g = &Game{Game: sr.labels["game"]}
				byGame[g.Game] = g
			}
			set(g, sr.value)
		}
	}
	addTo := func(p **float64, v float64) {
		if *p != nil {
			v += **p
		}
		*p = num(v)
	}
	add(mActivePlayers, func(g *Game, v float64) { addTo(&g.ActivePlayers, v) })
	add(mRevenue, func(g *Game, v float64) { addTo(&g.RevenueUSDPerMinute, v) })
	out := make([]Game, 0, len(byGame))
	for _, g := range byGame {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Game < out[j].Game })
	return out
}

// topLevels ranks the levels with at least MinLevelStarts starts per minute
// by fail rate (then by fails, game, level), highest first.
func topLevels(cur *sample, n int) []Level {
	type key struct{ game, level string }
	starts, fails := map[key]float64{}, map[key]float64{}
	for _, sr := range cur.families[mLevelStarts] {
		starts[key{sr.labels["game"], sr.labels["level"]}] += sr.value
	}
	for _, sr := range cur.families[mLevelFails] {
		fails[key{sr.labels["game"], sr.labels["level"]}] += sr.value
	}
	out := []Level{}
	for k, st := range starts {
		if st < MinLevelStarts || math.IsNaN(st) || math.IsInf(st, 0) {
			continue
		}
		f := fails[k]
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		out = append(out, Level{Game: k.game, Level: k.level, StartsPerMinute: st, FailsPerMinute: f, FailRate: f / st})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.FailRate != b.FailRate {
			return a.FailRate > b.FailRate
		}
		if a.FailsPerMinute != b.FailsPerMinute {
			return a.FailsPerMinute > b.FailsPerMinute
		}
		if a.Game != b.Game {
			return a.Game < b.Game
		}
		return a.Level < b.Level
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// num is v, or nil when JSON cannot carry it (NaN, ±Inf).
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
