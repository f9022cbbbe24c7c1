package oracle

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Report is everything the oracle computed, sorted so that two runs over
// the same records give equal reports.
type Report struct {
	Records            int64            `json:"records"`
	DeadLetters        map[string]int64 `json:"dead_letters"`        // by code
	DuplicateEvents    int64            `json:"duplicate_events"`    // rule 2: event_id seen
	DuplicatePurchases int64            `json:"duplicate_purchases"` // rule 2: store_transaction_id seen
	Processed          int64            `json:"processed"`           // past validation and dedup
	Late               int64            `json:"late"`                // rule 7
	Sessions           []Session        `json:"sessions"`            // closed during the input; see SortSessions
	OpenSessions       []Session        `json:"open_sessions"`       // still open at the end of the input (ClosedBy empty)
	KPIs               []KPI            `json:"kpis"`                // minutes, then hours; each by start, game, platform, country
	Completeness       []Completeness   `json:"completeness"`        // by game, platform, build, minute
}

// Session is one session of rule 5, with the JSON field names of the
// pipeline's sessions topic (so that its records decode into a Session).
type Session struct {
	ID            string    `json:"session_id"`
	Player        string    `json:"player_id"`
	Game          string    `json:"game_id"`
	Platform      string    `json:"platform"` // normalized, of the event that opened it
	Country       string    `json:"country"`  // normalized, of the event that opened it
	Start         time.Time `json:"start"`    // min event time of its events
	End           time.Time `json:"end"`      // max event time of its events
	DurationMs    int64     `json:"duration_ms"`
	Events        int64     `json:"events"`
	RevenueMicros int64     `json:"revenue_usd_micros"`
	LevelsPlayed  int64     `json:"levels_played"` // distinct levels of its level_start events
	ClosedBy      string    `json:"closed_by"`     // ClosedBy*; empty while open
}

// SortSessions sorts sessions by game, player, id, start, end, then the
// remaining fields: the order of Report's lists.
func SortSessions(ss []Session) {
	slices.SortFunc(ss, func(a, b Session) int {
		return cmp.Or(cmp.Compare(a.Game, b.Game), cmp.Compare(a.Player, b.Player), cmp.Compare(a.ID, b.ID),
			a.Start.Compare(b.Start), a.End.Compare(b.End), cmp.Compare(a.Events, b.Events),
			cmp.Compare(a.RevenueMicros, b.RevenueMicros), cmp.Compare(a.LevelsPlayed, b.LevelsPlayed),
			cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Country, b.Country), cmp.Compare(a.ClosedBy, b.ClosedBy))
	})
}

// Level is one level's counts in a KPI row.
type Level struct {
	Level       int32 `json:"level"`
	Starts      int64 `json:"starts"`
	Completions int64 `json:"completions"`
	Fails       int64 `json:"fails"`
}

// KPI is one KPI row with exact figures. Field names follow the kpi topic's
// JSON; ActivePlayers and Payers are the HyperLogLog estimates of the exact
// sets (precision 14, player ids inserted as bytes), which the pipeline's
// must equal.
type KPI struct {
	Key                   string    `json:"key"`
	Window                string    `json:"window"`
	Start                 time.Time `json:"start"`
	Game                  string    `json:"game"`
	Platform              string    `json:"platform"`
	Country               string    `json:"country"`
	ActivePlayers         uint64    `json:"active_players"`
	ActivePlayersExact    int64     `json:"active_players_exact"`
	NewPlayers            int64     `json:"new_players"`
	SessionsStarted       int64     `json:"sessions_started"`
	Purchases             int64     `json:"purchases"`
	Payers                uint64    `json:"payers"`
	PayersExact           int64     `json:"payers_exact"`
	RevenueMicros         int64     `json:"revenue_usd_micros"`
	PurchaseRevenueMicros int64     `json:"purchase_revenue_usd_micros"`
	Refunds               int64     `json:"refunds"`
	RefundMicros          int64     `json:"refund_usd_micros"`
	AdImpressions         int64     `json:"ad_impressions"`
	AdRevenueMicros       int64     `json:"ad_revenue_usd_micros"`
	Levels                []Level   `json:"levels"`
}

// Completeness is rule 3's counts for one (game, platform, app_build,
// minute).
type Completeness struct {
	Game       string    `json:"game_id"`
	Platform   string    `json:"platform"`
	AppBuild   string    `json:"app_build"`
	Minute     time.Time `json:"minute"`
	Gaps       int64     `json:"gaps"`
	Duplicates int64     `json:"duplicates"`
	OutOfOrder int64     `json:"out_of_order"`
}

// rowKey names a KPI row.
type rowKey struct {
	hour                    bool
	start                   int64 // Unix ms
	game, platform, country string
}

// rowKeys are the four KPI rows of an event at t (Unix ms).
func rowKeys(t int64, game, platform, country string) [4]rowKey {
	m, h := floorTo(t, minuteMs), floorTo(t, hourMs)
	return [4]rowKey{
		{false, m, game, platform, country}, {false, m, game, "*", "*"},
		{true, h, game, platform, country}, {true, h, game, "*", "*"},
	}
}

func (k rowKey) window() string {
	if k.hour {
		return "hour"
	}
	return "minute"
}

// String is the kpi topic's key format.
func (k rowKey) String() string {
	return k.window() + "|" + time.UnixMilli(k.start).UTC().Format(time.RFC3339) + "|" + k.game + "|" + k.platform + "|" + k.country
}

// contribution is what one processed event brings to its rows.
type contribution struct {
	player    string
	typ       string
	revenue   int64
	newPlayer bool
	level     int32
}

// row is a KPI row's exact state.
type row struct {
	active, payers  map[string]bool
	newPlayers      int64
	sessions        int64
	purchases       int64
	purchaseRevenue int64
	refunds         int64
	refundMicros    int64
	ads             int64
	adRevenue       int64
	levels          map[int32]*Level
}

func newRow() *row {
	return &row{active: make(map[string]bool), payers: make(map[string]bool), levels: make(map[int32]*Level)}
}

func (r *row) add(c contribution) {
	if c.newPlayer {
		r.newPlayers++
	}
	if c.typ != event.TypeRefund {
		r.active[c.player] = true
	}
	level := func() *Level {
		l := r.levels[c.level]
		if l == nil {
			l = &Level{Level: c.level}
			r.levels[c.level] = l
		}
		return l
	}
	switch c.typ {
	case event.TypeSessionStart:
		r.sessions++
	case event.TypePurchase:
		r.purchases++
		r.purchaseRevenue += c.revenue
		r.payers[c.player] = true
	case event.TypeRefund:
		r.refunds++
		r.refundMicros -= c.revenue
	case event.TypeAdImpression:
		r.ads++
		r.adRevenue += c.revenue
	case event.TypeLevelStart:
		level().Starts++
	case event.TypeLevelComplete:
		level().Completions++
	case event.TypeLevelFail:
		level().Fails++
	}
}

// hll returns the HyperLogLog estimate of a set of players.
func hll(set map[string]bool) uint64 {
	if len(set) == 0 {
		return 0
	}
	sk, err := hyperloglog.NewSketch(14, true)
	if err != nil {
		panic(err) // unreachable: a valid constant precision
	}
	for p := range set {
		sk.Insert([]byte(p))
	}
	return sk.Estimate()
}

func (r *row) kpi(k rowKey) KPI {
	out := KPI{
		Key: k.String(), Window: k.window(), Start: time.UnixMilli(k.start).UTC(),
		Game: k.game, Platform: k.platform, Country: k.country,
		ActivePlayers: hll(r.active), ActivePlayersExact: int64(len(r.active)),
		NewPlayers: r.newPlayers, SessionsStarted: r.sessions, Purchases: r.purchases,
		Payers: hll(r.payers), PayersExact: int64(len(r.payers)),
		RevenueMicros:         r.purchaseRevenue + r.adRevenue - r.refundMicros,
		PurchaseRevenueMicros: r.purchaseRevenue,
		Refunds:               r.refunds, RefundMicros: r.refundMicros,
		AdImpressions: r.ads, AdRevenueMicros: r.adRevenue,
		Levels: []Level{},
	}
	for _, l := range slices.Sorted(maps.Keys(r.levels)) {
		out.Levels = append(out.Levels, *r.levels[l])
	}
	return out
}

// Report returns what the records added so far give. Sessions still open
// are reported apart, as the pipeline leaves them open too.
func (o *Oracle) Report() *Report {
	rep := &Report{
		Records: o.records, DeadLetters: maps.Clone(o.deadLetters),
		DuplicateEvents: o.dupEvents, DuplicatePurchases: o.dupPurch,
		Processed: o.processed, Late: o.late,
		Sessions: slices.Clone(o.closed), OpenSessions: []Session{}, KPIs: []KPI{}, Completeness: []Completeness{},
	}
	if rep.Sessions == nil {
		rep.Sessions = []Session{}
	}
	SortSessions(rep.Sessions)
	for i := range o.parts {
		for pk, s := range o.parts[i].open {
			rep.OpenSessions = append(rep.OpenSessions, s.report(pk, ""))
		}
	}
	SortSessions(rep.OpenSessions)

	keys := slices.Collect(maps.Keys(o.rows))
	slices.SortFunc(keys, func(a, b rowKey) int {
		if a.hour != b.hour {
			if a.hour {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.game, b.game), cmp.Compare(a.platform, b.platform), cmp.Compare(a.country, b.country))
	})
	for _, k := range keys {
		rep.KPIs = append(rep.KPIs, o.rows[k].kpi(k))
	}

	for _, c := range o.completeness {
		rep.Completeness = append(rep.Completeness, *c)
	}
	slices.SortFunc(rep.Completeness, func(a, b Completeness) int {
		return cmp.Or(cmp.Compare(a.Game, b.Game), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.AppBuild, b.AppBuild), a.Minute.Compare(b.Minute))
	})
	return rep
}
