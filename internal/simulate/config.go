package simulate

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config configures a Generator. Zero fields take the defaults of Defaults,
// except the fault shares, whose zero value means "none".
type Config struct {
	// Seed makes the run reproducible: the same Config (Start included)
	// yields the same items, byte for byte, in the same order.
	Seed int64
	// Start is the simulated clock at the first item. Zero means now,
	// truncated to the millisecond (which makes the run irreproducible).
	Start time.Time
	// Rate is the nominal number of items per second of simulated time:
	// the clock advances 1/Rate per item. Pace the output at the same real
	// rate with Start = now and client_time tracks the wall clock.
	Rate float64

	// Games is the catalog the population plays.
	Games []Game
	// Players is the population installed before Start, over all games
	// (split by Game.Weight). It costs no memory until a player plays.
	Players int
	// NewPlayers is the share of session starts made by players who install
	// the game there and then; installs follow the diurnal curve.
	NewPlayers float64
	// RefundShare is the share of purchases that are refunded later by the
	// store (a refund event outside any session).
	RefundShare float64
	// MaxOnline bounds concurrent sessions, and so memory. When reached,
	// the generator takes the next event from an open session early
	// instead of starting a new one.
	MaxOnline int

	// Duplicates, Late and Malformed are the shares (0..1) of emitted
	// items that are faults: an exact copy of an earlier item, a normal
	// event held back so it arrives out of order, and a broken item.
	// Duplicates may not exceed the share of normal items.
	Duplicates, Late, Malformed float64
	// LateDelay is the longest hold of a late event, in simulated time;
	// holds are uniform in [LateDelay/10, LateDelay].
	LateDelay time.Duration
}

// Game is one title of the catalog.
type Game struct {
	ID   string // game_id, also the prefix of SKUs
	Name string
	// Weight is the game's relative share of the population and of
	// sessions.
	Weight float64
	// Platforms the game ships on; known: ios, android, web, windows,
	// macos.
	Platforms []string
	// Versions are the app versions in the field, oldest first. New
	// installs get the newest; players upgrade over their sessions.
	Versions []string
	// SessionMedian is the median session length (lognormal).
	SessionMedian time.Duration
	// LevelMedian is the median length of one level attempt (lognormal).
	LevelMedian time.Duration
	// Difficulty scales level fail rates (1 is the reference curve).
	Difficulty float64
	// PayerShare is the share of players who ever buy.
	PayerShare float64
	// Ads says whether non-paying players see ads.
	Ads bool
}

// Defaults returns the documented defaults.
func Defaults() Config {
	return Config{
		Rate:        100,
		Games:       DefaultGames(),
		NewPlayers:  0.05,
		RefundShare: 0.03,
		MaxOnline:   100_000,
		LateDelay:   10 * time.Minute,
		// Players depends on Rate: see EnsureDefaults.
	}
}

// DefaultGames returns the three-title catalog: a casual puzzle game, a
// mid-core racing game and a strategy game, which differ in session and level
// length, difficulty, platforms, payer share and ads.
func DefaultGames() []Game {
	return []Game{
		{
			ID: "gem-garden", Name: "Gem Garden", Weight: 0.5,
			Platforms:     []string{"ios", "android", "web"},
			Versions:      []string{"3.11.0", "3.12.0", "3.12.1"},
			SessionMedian: 5 * time.Minute, LevelMedian: 70 * time.Second,
			Difficulty: 1, PayerShare: 0.025, Ads: true,
		},
		{
			ID: "turbo-drift", Name: "Turbo Drift", Weight: 0.3,
			Platforms:     []string{"ios", "android", "windows"},
			Versions:      []string{"1.7.3", "1.8.0"},
			SessionMedian: 8 * time.Minute, LevelMedian: 110 * time.Second,
			Difficulty: 0.8, PayerShare: 0.035, Ads: true,
		},
		{
			ID: "realm-siege", Name: "Realm Siege", Weight: 0.2,
			Platforms:     []string{"windows", "macos", "ios", "android", "web"},
			Versions:      []string{"2.3.0", "2.4.0", "2.4.1"},
			SessionMedian: 14 * time.Minute, LevelMedian: 4 * time.Minute,
			Difficulty: 1.3, PayerShare: 0.05, Ads: false,
		},
	}
}

// EnsureDefaults fills zero fields from Defaults. Players defaults to 1,000
// per item per second (at least 10,000), which keeps the population well
// above the number of players online at once. Games with zero fields get
// the defaults of a game: weight 1, ios and android, version 1.0.0, 6 min
// sessions, 75 s levels, difficulty 1, payer share 0.03.
func (c *Config) EnsureDefaults() {
	d := Defaults()
	if c.Start.IsZero() {
		c.Start = time.Now().Truncate(time.Millisecond)
	}
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if len(c.Games) == 0 {
		c.Games = d.Games
	} else {
		c.Games = append([]Game(nil), c.Games...)
		for i := range c.Games {
			c.Games[i].ensureDefaults()
		}
	}
	if c.Players == 0 {
		c.Players = max(10_000, int(math.Min(c.Rate*1000, 1<<30)))
	}
	if c.NewPlayers == 0 {
		c.NewPlayers = d.NewPlayers
	}
	if c.RefundShare == 0 {
		c.RefundShare = d.RefundShare
	}
	if c.MaxOnline == 0 {
		c.MaxOnline = d.MaxOnline
	}
	if c.LateDelay == 0 {
		c.LateDelay = d.LateDelay
	}
}

func (g *Game) ensureDefaults() {
	if g.Weight == 0 {
		g.Weight = 1
	}
	if len(g.Platforms) == 0 {
		g.Platforms = []string{"ios", "android"}
	}
	if len(g.Versions) == 0 {
		g.Versions = []string{"1.0.0"}
	}
	if g.SessionMedian == 0 {
		g.SessionMedian = 6 * time.Minute
	}
	if g.LevelMedian == 0 {
		g.LevelMedian = 75 * time.Second
	}
	if g.Difficulty == 0 {
		g.Difficulty = 1
	}
	if g.PayerShare == 0 {
		g.PayerShare = 0.03
	}
}

// Validate reports every problem of c (after EnsureDefaults) at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(c.Rate > 0) || math.IsInf(c.Rate, 0) {
		bad("rate %v: must be a finite number > 0", c.Rate)
	}
	if len(c.Games) == 0 {
		bad("games: need at least one")
	}
	if len(c.Games) > 255 {
		bad("games: at most 255")
	}
	seen := map[string]bool{}
	for i, g := range c.Games {
		name := fmt.Sprintf("games[%d] %q", i, g.ID)
		switch {
		case g.ID == "":
			bad("games[%d]: id is empty", i)
		case seen[g.ID]:
			bad("%s: duplicate id", name)
		}
		seen[g.ID] = true
		if !(g.Weight > 0) || math.IsInf(g.Weight, 0) {
			bad("%s: weight %v must be > 0", name, g.Weight)
		}
		if len(g.Platforms) == 0 {
			bad("%s: no platforms", name)
		}
		for _, p := range g.Platforms {
			if platformIndex(p) < 0 {
				bad("%s: unknown platform %q (known: %s)", name, p, knownPlatforms())
			}
		}
		if len(g.Versions) == 0 || len(g.Versions) > 255 {
			bad("%s: need 1 to 255 versions", name)
		}
		for _, v := range g.Versions {
			if v == "" {
				bad("%s: empty version", name)
			}
		}
		if g.SessionMedian < time.Second || g.LevelMedian < time.Second {
			bad("%s: session and level medians must be at least 1s", name)
		}
		if !(g.Difficulty > 0) || g.Difficulty > 10 {
			bad("%s: difficulty %v must be in (0, 10]", name, g.Difficulty)
		}
		if !share(g.PayerShare) {
			bad("%s: payer share %v must be in [0, 1]", name, g.PayerShare)
		}
	}
	if c.Players < 1 || c.Players > 1<<30 {
		bad("players %d: must be in [1, 2^30]", c.Players)
	}
	if !share(c.NewPlayers) || c.NewPlayers == 0 {
		bad("new players %v: must be in (0, 1]", c.NewPlayers)
	}
	if !share(c.RefundShare) {
		bad("refund share %v: must be in [0, 1]", c.RefundShare)
	}
	if c.MaxOnline < 1 {
		bad("max online %d: must be >= 1", c.MaxOnline)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"duplicates", c.Duplicates}, {"late", c.Late}, {"malformed", c.Malformed}} {
		if !share(f.v) {
			bad("%s %v: must be a share in [0, 1]", f.name, f.v)
		}
	}
	normal := 1 - c.Duplicates - c.Late - c.Malformed
	if normal <= 0 {
		bad("duplicates + late + malformed = %v: must stay below 1", c.Duplicates+c.Late+c.Malformed)
	} else if c.Duplicates > normal+1e-9 {
		bad("duplicates %v: must not exceed the share of normal items (%v): each normal item is copied at most once", c.Duplicates, normal)
	}
	if c.LateDelay < time.Second {
		bad("late delay %s: must be at least 1s", c.LateDelay)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("simulate: invalid config: %w", err)
	}
	return nil
}

func share(f float64) bool { return f >= 0 && f <= 1 }
