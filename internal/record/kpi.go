package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Window is the length of a KPI window: a UTC-aligned minute or hour.
type Window string

// The two window lengths.
const (
	Minute Window = "minute"
	Hour   Window = "hour"
)

// AllDimensions is the Platform and Country of a game-level KPI row.
const AllDimensions = "*"

// Size returns the window's length, or 0 for an unknown window.
func (w Window) Size() time.Duration {
	switch w {
	case Minute:
		return time.Minute
	case Hour:
		return time.Hour
	}
	return 0
}

// KPIKey formats the kpi topic's record key of a KPI row,
// "minute|2026-11-25T18:04:00Z|game|platform|country".
func KPIKey(w Window, start time.Time, game, platform, country string) string {
	return string(w) + "|" + start.UTC().Format(time.RFC3339) + "|" + game + "|" + platform + "|" + country
}

// ParseKPIKey splits a KPI row's key into its fields. The game id may
// itself contain '|': platform and country are the last two fields. It
// checks the form only (kpi.ParseKey validates the values).
func ParseKPIKey(s string) (w Window, start time.Time, game, platform, country string, err error) {
	ws, rest, ok1 := strings.Cut(s, "|")
	st, rest, ok2 := strings.Cut(rest, "|")
	i := strings.LastIndexByte(rest, '|')
	if !ok1 || !ok2 || i < 0 {
		return "", time.Time{}, "", "", "", fmt.Errorf("key %q: want window|start|game|platform|country", s)
	}
	game, country = rest[:i], rest[i+1:]
	j := strings.LastIndexByte(game, '|')
	if j < 0 {
		return "", time.Time{}, "", "", "", fmt.Errorf("key %q: want window|start|game|platform|country", s)
	}
	game, platform = game[:j], game[j+1:]
	t, err := time.Parse(time.RFC3339, st)
	if err != nil {
		return "", time.Time{}, "", "", "", fmt.Errorf("key %q: %w", s, err)
	}
	return Window(ws), t.UTC(), game, platform, country, nil
}

// Level is one level's counts in a KPI row.
type Level struct {
	Level       int32 `json:"level"`       // the level number
	Starts      int64 `json:"starts"`      // level_start events
	Completions int64 `json:"completions"` // level_complete events
	Fails       int64 `json:"fails"`       // level_fail events
}

// KPI is a KPI row as written to the kpi topic (JSON; key Key, see KPIKey):
// the key's fields, every figure (distinct counts estimated), and the
// row's finality. Levels are sorted by level; money is in micro-USD.
type KPI struct {
	Key      string    `json:"key"`      // the record key
	Window   Window    `json:"window"`   // the key's first field
	Start    time.Time `json:"start"`    // the window's start
	End      time.Time `json:"end"`      // the window's end (exclusive)
	Game     string    `json:"game"`     // game_id
	Platform string    `json:"platform"` // normalized; "*" in a game-level row
	Country  string    `json:"country"`  // normalized; "*" in a game-level row

	ActivePlayers         uint64  `json:"active_players"`              // distinct players with an accepted event (HyperLogLog estimate)
	NewPlayers            int64   `json:"new_players"`                 // players whose first accepted event fell in the window
	SessionsStarted       int64   `json:"sessions_started"`            // session_start events
	Purchases             int64   `json:"purchases"`                   // purchase events
	Payers                uint64  `json:"payers"`                      // distinct purchasing players (HyperLogLog estimate)
	RevenueMicros         int64   `json:"revenue_usd_micros"`          // purchases + ad revenue - refunds, micro-USD
	PurchaseRevenueMicros int64   `json:"purchase_revenue_usd_micros"` // purchases alone, micro-USD
	Refunds               int64   `json:"refunds"`                     // refund events
	RefundMicros          int64   `json:"refund_usd_micros"`           // refunded, micro-USD (positive)
	AdImpressions         int64   `json:"ad_impressions"`              // ad_impression events
	AdRevenueMicros       int64   `json:"ad_revenue_usd_micros"`       // ad revenue, micro-USD
	Levels                []Level `json:"levels"`                      // per level, sorted by level; [] when none
	Gaps                  int64   `json:"gaps"`                        // the completeness figures of the row's events (detail rows)
	Duplicates            int64   `json:"duplicates"`                  // duplicates dropped
	OutOfOrder            int64   `json:"out_of_order"`                // events that arrived after a higher seq of their session

	// Final is true once the watermark passed the window's end; Version
	// counts the final emissions of the row (1 for the first, +1 for each
	// correction). A provisional row has Final false and Version 0.
	Final     bool      `json:"final"`              // the watermark passed the window's end
	Version   int64     `json:"version"`            // 0 provisional, 1 the first final emission, +1 per correction
	Watermark time.Time `json:"watermark,omitzero"` // the global watermark at emission
}

// Completeness is a completeness row (design rule 3) as written to the kpi
// topic (JSON; key CompletenessKey.String, "completeness|minute|…"): the
// counts of one (game, platform, app build, minute) so far.
type Completeness struct {
	Key        string    `json:"key"`                // the record key
	Window     string    `json:"window"`             // always "minute"
	Start      time.Time `json:"start"`              // the minute's start
	Game       string    `json:"game"`               // game_id
	Platform   string    `json:"platform"`           // normalized
	AppBuild   string    `json:"app_build"`          // as sent
	Gaps       int64     `json:"gaps"`               // seqs missing so far (a late seq takes its gap back)
	Duplicates int64     `json:"duplicates"`         // duplicates dropped
	OutOfOrder int64     `json:"out_of_order"`       // events that arrived after a higher seq of their session
	Watermark  time.Time `json:"watermark,omitzero"` // the global watermark at emission
}

// CompletenessPrefix is the first field of a completeness row's key.
const CompletenessPrefix = "completeness"

// CompletenessKey names a completeness row: (game, platform, app build,
// minute).
type CompletenessKey struct {
	Game, Platform, Build string
	Minute                int64 // Unix milliseconds of the window start
}

// String is the kpi topic's record key of a completeness row:
// "completeness|minute|2026-11-25T18:04:00Z|game|platform|build".
func (k CompletenessKey) String() string {
	return CompletenessPrefix + "|minute|" + time.UnixMilli(k.Minute).UTC().Format(time.RFC3339) + "|" + k.Game + "|" + k.Platform + "|" + k.Build
}

// PartitionKey is the partials topic's record key of a ledger delta for
// the row: "game|platform|build" (all minutes of a row go to one stage-2
// task).
func (k CompletenessKey) PartitionKey() string { return k.Game + "|" + k.Platform + "|" + k.Build }

// CompletenessCounts are a completeness row's counts.
type CompletenessCounts struct {
	Gaps, Duplicates, OutOfOrder int64
}

// Add returns c + d.
func (c CompletenessCounts) Add(d CompletenessCounts) CompletenessCounts {
	return CompletenessCounts{c.Gaps + d.Gaps, c.Duplicates + d.Duplicates, c.OutOfOrder + d.OutOfOrder}
}

// Row returns the kpi topic's value of the row k with counts c, at the
// global watermark wm.
func (k CompletenessKey) Row(c CompletenessCounts, wm time.Time) Completeness {
	return Completeness{Key: k.String(), Window: string(Minute), Start: time.UnixMilli(k.Minute).UTC(),
		Game: k.Game, Platform: k.Platform, AppBuild: k.Build, Gaps: c.Gaps, Duplicates: c.Duplicates,
		OutOfOrder: c.OutOfOrder, Watermark: wm}
}

// DecodeKPI decodes a record of the kpi topic. Keys "minute|…" and
// "hour|…" give a KPI row, keys "completeness|…" a completeness row:
// exactly one of the two results is non-nil when err is nil. The key's
// window must match the value's; times are UTC; Levels is never nil.
func DecodeKPI(key, value []byte) (*KPI, *Completeness, error) {
	prefix, _, ok := strings.Cut(string(key), "|")
	if !ok {
		return nil, nil, fmt.Errorf("kpi: key %q has no window prefix", key)
	}
	switch prefix {
	case CompletenessPrefix:
		var c Completeness
		if err := json.Unmarshal(value, &c); err != nil {
			return nil, nil, fmt.Errorf("kpi: %w", err)
		}
		if c.Start.IsZero() || c.Game == "" {
			return nil, nil, errors.New("kpi: missing start or game")
		}
		c.Start, c.Watermark = c.Start.UTC(), utcOrZero(c.Watermark)
		return nil, &c, nil
	case string(Minute), string(Hour):
	default:
		return nil, nil, fmt.Errorf("kpi: unknown key prefix %q", prefix)
	}
	var r KPI
	if err := json.Unmarshal(value, &r); err != nil {
		return nil, nil, fmt.Errorf("kpi: %w", err)
	}
	if r.Start.IsZero() || r.Game == "" {
		return nil, nil, errors.New("kpi: missing start or game")
	}
	if string(r.Window) != prefix {
		return nil, nil, fmt.Errorf("kpi: key window %q, value window %q", prefix, r.Window)
	}
	if r.Levels == nil {
		r.Levels = []Level{}
	}
	r.Start, r.End, r.Watermark = r.Start.UTC(), r.End.UTC(), utcOrZero(r.Watermark)
	return &r, nil, nil
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
