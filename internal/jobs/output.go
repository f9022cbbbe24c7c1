package jobs

import (
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Enriched is an accepted event with what rule 4 adds. Player figures are
// the player's state after this event.
type Enriched struct {
	Event                  *event.Event
	EventTime              time.Time // client_time truncated to the millisecond, UTC
	PlatformNorm           string
	CountryNorm            string
	RevenueUSDMicros       int64 // purchases > 0, refunds < 0, ad impressions ≥ 0, else 0
	FirstSeen              time.Time
	DaysSinceInstall       int64
	LifetimeSpendUSDMicros int64
	Payer                  bool
	SessionCount           int64
	NewPlayer              bool // this is the player's first accepted event
}

// Key is the record key of an enriched event: player_id.
func (x *Enriched) Key() string { return record.EnrichedKey(x.Event) }

// AppendJSON appends the output record of x on the enriched topic, in the
// form record.AppendEnriched defines.
func (x *Enriched) AppendJSON(b []byte) ([]byte, error) {
	return record.AppendEnriched(b, x.Event, &record.Enrichment{
		PlatformNorm: x.PlatformNorm, CountryNorm: x.CountryNorm, RevenueUSDMicros: x.RevenueUSDMicros,
		FirstSeen: x.FirstSeen, DaysSinceInstall: x.DaysSinceInstall, LifetimeSpendUSDMicros: x.LifetimeSpendUSDMicros,
		Payer: x.Payer, SessionCount: x.SessionCount, NewPlayer: x.NewPlayer})
}

// Why a session closed (Session.ClosedBy); record defines them.
const (
	ClosedByEnd       = record.ClosedByEnd
	ClosedByNext      = record.ClosedByNext
	ClosedByGap       = record.ClosedByGap
	ClosedByWatermark = record.ClosedByWatermark
)

// Session is a closed session (rule 5): the sessions topic's record, which
// package record defines.
type Session = record.Session

// Alert rules raised by this package.
const (
	// RulePlayerPurchases: more than N purchases by one player in one minute
	// window (rule 8).
	RulePlayerPurchases = "player_purchases_per_minute"
)

// Alert is the alerts topic's record (key: rule|subject), which package
// record defines; this package's alerts have a player as Subject.
type Alert = record.Alert

// LedgerCount is one row of the completeness ledger (rule 3): changes to
// the counts of (game, platform, app_build, minute window) since the last
// drain. Gaps may be negative: a missing seq that arrived later takes its gap
// back from the row that counted it.
type LedgerCount struct {
	GameID     string    `json:"game_id"`
	Platform   string    `json:"platform"` // normalized
	AppBuild   string    `json:"app_build"`
	Window     time.Time `json:"window"`
	Gaps       int64     `json:"gaps"`
	Duplicates int64     `json:"duplicates"`
	OutOfOrder int64     `json:"out_of_order"`
}
