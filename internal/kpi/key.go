package kpi

import (
	"fmt"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/record"
)

// Window is the length of a KPI window: a UTC-aligned minute or hour
// (record.Window, with its Size).
type Window = record.Window

// The two window lengths.
const (
	Minute = record.Minute
	Hour   = record.Hour
)

// All is the Platform and Country of a game-level row.
const All = record.AllDimensions

// Key names one KPI row: a window and its dimensions. Game-level rows have
// Platform and Country All. Start is the window's start, aligned to its size
// in UTC.
type Key struct {
	Window   Window
	Start    time.Time
	Game     string
	Platform string
	Country  string
}

// MinuteKey returns the key of the minute holding t for the given dimensions.
func MinuteKey(t time.Time, game, platform, country string) Key {
	return Key{Window: Minute, Start: floor(t, time.Minute), Game: game, Platform: platform, Country: country}
}

// floor returns the start of the size-aligned window holding t, in UTC with
// no monotonic reading.
func floor(t time.Time, size time.Duration) time.Time { return record.Floor(t, size) }

// Keys returns the two minute rows one enriched event contributes to: the
// (game, platform, country) row and the game-level row. Both must be fed
// the same Input (stage 1 does so), since the game-level row cannot be
// rebuilt from the detail rows once they are spread over stage-2 tasks.
func Keys(in Input) (detail, game Key) {
	detail = MinuteKey(in.Time, in.Game, in.Platform, in.Country)
	game = detail
	game.Platform, game.Country = All, All
	return detail, game
}

// End returns the end of the window (exclusive).
func (k Key) End() time.Time { return k.Start.Add(k.Window.Size()) }

// Hour returns the key of the hour that rolls k up (k itself for an hour).
func (k Key) Hour() Key {
	h := k
	h.Window = Hour
	h.Start = floor(k.Start, time.Hour)
	return h
}

// GameLevel reports whether k is a game-level row.
func (k Key) GameLevel() bool { return k.Platform == All && k.Country == All }

// String formats k as the kpi topic's record key,
// "minute|2026-11-25T18:04:00Z|game|platform|country".
func (k Key) String() string {
	return record.KPIKey(k.Window, k.Start, k.Game, k.Platform, k.Country)
}

// Validate reports whether k is well formed: a known window, a start aligned
// to it, non-empty dimensions without '|' in platform and country.
func (k Key) Validate() error {
	size := k.Window.Size()
	switch {
	case size == 0:
		return fmt.Errorf("kpi: key %q: unknown window %q", k, k.Window)
	case !k.Start.Equal(floor(k.Start, size)):
		return fmt.Errorf("kpi: key %q: start is not aligned to the %s", k, k.Window)
	case k.Game == "" || k.Platform == "" || k.Country == "":
		return fmt.Errorf("kpi: key %q: empty dimension", k)
	case strings.Contains(k.Platform, "|") || strings.Contains(k.Country, "|"):
		return fmt.Errorf("kpi: key %q: '|' in platform or country", k)
	}
	return nil
}

// ParseKey parses the String form of a key. The game id may itself contain
// '|': platform and country are the last two fields.
func ParseKey(s string) (Key, error) {
	w, start, game, platform, country, err := record.ParseKPIKey(s)
	if err != nil {
		return Key{}, fmt.Errorf("kpi: %w", err)
	}
	k := Key{Window: w, Start: start, Game: game, Platform: platform, Country: country}
	if err := k.Validate(); err != nil {
		return Key{}, err
	}
	return k, nil
}

// id is Key as a map key: time.Time values with equal instants may differ
// in ==, seconds since the epoch do not.
type id struct {
	window                  Window
	start                   int64 // Unix seconds
	game, platform, country string
}

func (k Key) id() id { return id{k.Window, k.Start.Unix(), k.Game, k.Platform, k.Country} }

func (i id) key() Key {
	return Key{Window: i.window, Start: time.Unix(i.start, 0).UTC(), Game: i.game, Platform: i.platform, Country: i.country}
}
