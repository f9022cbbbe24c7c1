package kpi

import (
	"maps"
	"slices"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Precision is the HyperLogLog precision of the distinct counts: 2^14
// registers, a standard error of 1.04/√16384 ≈ 0.81 %.
const Precision = 14

// Input is what one enriched event contributes to a KPI row. It carries
// only what Add needs, so that this package does not depend on the jobs
// that compute it.
type Input struct {
	Time     time.Time // event time (client_time); chooses the window
	Player   string    // player_id, inserted as its bytes into the sketches
	Game     string    // game_id (server side)
	Platform string    // normalized platform
	Country  string    // normalized country
	Type     string    // event.Type*
	// RevenueMicros is enrichment's revenue_usd_micros: > 0 for purchases
	// and ad impressions, ≤ 0 for refunds (−amount × rate), 0 otherwise.
	RevenueMicros int64
	// NewPlayer is set on the one event that is the player's first ever.
	NewPlayer bool
	// Level is the level of a level_start, level_complete or level_fail.
	Level int32
}

// LevelCounts are the attempts at one level within a window.
type LevelCounts struct {
	Starts      int64
	Completions int64
	Fails       int64
}

func (c *LevelCounts) add(o LevelCounts) {
	c.Starts += o.Starts
	c.Completions += o.Completions
	c.Fails += o.Fails
}

// Aggregate is the KPI state of one row (a window × dimensions), or a part
// of it: the contribution of some events. Aggregates merge exactly (counters
// add, sketches unite), so a row can be built from parts in any grouping
// and order. The zero value is an empty aggregate.
//
// An Aggregate is not safe for concurrent use, not even for concurrent
// reads: estimating a distinct count may compact its sketch.
type Aggregate struct {
	NewPlayers      int64
	SessionsStarted int64
	Purchases       int64
	// RevenueMicros is PurchaseRevenueMicros + AdRevenueMicros − RefundMicros.
	RevenueMicros         int64
	PurchaseRevenueMicros int64
	Refunds               int64
	RefundMicros          int64 // amount refunded, ≥ 0 for well-formed input
	AdImpressions         int64
	AdRevenueMicros       int64
	Levels                map[int32]LevelCounts // nil when no level event was seen

	// Completeness counters (design rule 3), filled by the caller; Add does
	// not touch them. Gaps may go negative in a window where a missing seq
	// arrives late.
	Gaps, Duplicates, OutOfOrder int64

	active *hyperloglog.Sketch // players with any event but a refund; nil when empty
	payers *hyperloglog.Sketch // players with a purchase; nil when empty
}

// newSketch returns an empty sketch of this package's precision.
func newSketch() *hyperloglog.Sketch {
	sk, err := hyperloglog.NewSketch(Precision, true)
	if err != nil {
		panic(err) // unreachable: the precision is a valid constant
	}
	return sk
}

func insert(sk **hyperloglog.Sketch, player string) {
	if *sk == nil {
		*sk = newSketch()
	}
	(*sk).Insert([]byte(player))
}

// Add adds one event's contribution (see the package documentation for what
// each event type counts).
func (a *Aggregate) Add(in Input) {
	if in.NewPlayer {
		a.NewPlayers++
	}
	if in.Type != event.TypeRefund {
		insert(&a.active, in.Player)
	}
	switch in.Type {
	case event.TypeSessionStart:
		a.SessionsStarted++
	case event.TypePurchase:
		a.Purchases++
		a.PurchaseRevenueMicros += in.RevenueMicros
		a.RevenueMicros += in.RevenueMicros
		insert(&a.payers, in.Player)
	case event.TypeRefund:
		a.Refunds++
		a.RefundMicros -= in.RevenueMicros
		a.RevenueMicros += in.RevenueMicros
	case event.TypeAdImpression:
		a.AdImpressions++
		a.AdRevenueMicros += in.RevenueMicros
		a.RevenueMicros += in.RevenueMicros
	case event.TypeLevelStart:
		a.addLevel(in.Level, LevelCounts{Starts: 1})
	case event.TypeLevelComplete:
		a.addLevel(in.Level, LevelCounts{Completions: 1})
	case event.TypeLevelFail:
		a.addLevel(in.Level, LevelCounts{Fails: 1})
	}
}

func (a *Aggregate) addLevel(level int32, c LevelCounts) {
	if a.Levels == nil {
		a.Levels = make(map[int32]LevelCounts)
	}
	l := a.Levels[level]
	l.add(c)
	a.Levels[level] = l
}

// Merge adds o into a: counters add, sketches unite. o is not modified (but
// see the note on concurrency in Aggregate).
func (a *Aggregate) Merge(o *Aggregate) {
	a.NewPlayers += o.NewPlayers
	a.SessionsStarted += o.SessionsStarted
	a.Purchases += o.Purchases
	a.RevenueMicros += o.RevenueMicros
	a.PurchaseRevenueMicros += o.PurchaseRevenueMicros
	a.Refunds += o.Refunds
	a.RefundMicros += o.RefundMicros
	a.AdImpressions += o.AdImpressions
	a.AdRevenueMicros += o.AdRevenueMicros
	for l, c := range o.Levels {
		a.addLevel(l, c)
	}
	a.Gaps += o.Gaps
	a.Duplicates += o.Duplicates
	a.OutOfOrder += o.OutOfOrder
	mergeSketch(&a.active, o.active)
	mergeSketch(&a.payers, o.payers)
}

func mergeSketch(dst **hyperloglog.Sketch, src *hyperloglog.Sketch) {
	switch {
	case src == nil:
	case *dst == nil:
		*dst = src.Clone()
	default:
		if err := (*dst).Merge(src); err != nil {
			// Unreachable: every sketch here is made by newSketch or
			// decoded with its precision checked.
			panic(err)
		}
	}
}

// Clone returns a deep copy of a.
func (a *Aggregate) Clone() *Aggregate {
	c := *a
	c.Levels = maps.Clone(a.Levels)
	if a.active != nil {
		c.active = a.active.Clone()
	}
	if a.payers != nil {
		c.payers = a.payers.Clone()
	}
	return &c
}

// ActivePlayers returns the estimated number of distinct active players.
func (a *Aggregate) ActivePlayers() uint64 { return estimate(a.active) }

// Payers returns the estimated number of distinct purchasing players.
func (a *Aggregate) Payers() uint64 { return estimate(a.payers) }

func estimate(sk *hyperloglog.Sketch) uint64 {
	if sk == nil {
		return 0
	}
	return sk.Estimate()
}

// LevelResult is one level's counts in a Result.
type LevelResult = record.Level

// Result is a KPI row as written to the kpi topic (JSON): package record
// defines it.
type Result = record.KPI

// Result returns a as the row k, provisional (Final false, Version 0).
func (a *Aggregate) Result(k Key) Result {
	r := Result{
		Key: k.String(), Window: k.Window, Start: k.Start.UTC(), End: k.End().UTC(),
		Game: k.Game, Platform: k.Platform, Country: k.Country,
		ActivePlayers:         a.ActivePlayers(),
		NewPlayers:            a.NewPlayers,
		SessionsStarted:       a.SessionsStarted,
		Purchases:             a.Purchases,
		Payers:                a.Payers(),
		RevenueMicros:         a.RevenueMicros,
		PurchaseRevenueMicros: a.PurchaseRevenueMicros,
		Refunds:               a.Refunds,
		RefundMicros:          a.RefundMicros,
		AdImpressions:         a.AdImpressions,
		AdRevenueMicros:       a.AdRevenueMicros,
		Levels:                make([]LevelResult, 0, len(a.Levels)),
		Gaps:                  a.Gaps,
		Duplicates:            a.Duplicates,
		OutOfOrder:            a.OutOfOrder,
	}
	for _, l := range slices.Sorted(maps.Keys(a.Levels)) {
		c := a.Levels[l]
		r.Levels = append(r.Levels, LevelResult{Level: l, Starts: c.Starts, Completions: c.Completions, Fails: c.Fails})
	}
	return r
}
