package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
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
func (x *Enriched) Key() string { return x.Event.GetPlayerId() }

// AppendJSON appends the output record of x: the event's JSON (as
// event.MarshalJSON writes it) with one more member, "enrichment":
// {platform_norm, country_norm, revenue_usd_micros, first_seen,
// days_since_install, lifetime_spend_usd_micros, payer, session_count,
// new_player}. first_seen is RFC 3339 in UTC.
func (x *Enriched) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b, err := event.AppendJSON(b, x.Event)
	if err != nil {
		return b[:start], err
	}
	body := bytes.TrimRight(b[start:], " \t\r\n")
	if len(body) < 2 || body[len(body)-1] != '}' {
		return b[:start], errors.New("jobs: event JSON is not an object")
	}
	b = b[:start+len(body)-1] // drop the closing brace
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		b = append(b, ',')
	}
	b = append(b, `"enrichment":{"platform_norm":`...)
	b = strconv.AppendQuote(b, x.PlatformNorm)
	b = append(b, `,"country_norm":`...)
	b = strconv.AppendQuote(b, x.CountryNorm)
	b = append(b, `,"revenue_usd_micros":`...)
	b = strconv.AppendInt(b, x.RevenueUSDMicros, 10)
	b = append(b, `,"first_seen":"`...)
	b = x.FirstSeen.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","days_since_install":`...)
	b = strconv.AppendInt(b, x.DaysSinceInstall, 10)
	b = append(b, `,"lifetime_spend_usd_micros":`...)
	b = strconv.AppendInt(b, x.LifetimeSpendUSDMicros, 10)
	b = append(b, `,"payer":`...)
	b = strconv.AppendBool(b, x.Payer)
	b = append(b, `,"session_count":`...)
	b = strconv.AppendInt(b, x.SessionCount, 10)
	b = append(b, `,"new_player":`...)
	b = strconv.AppendBool(b, x.NewPlayer)
	return append(b, "}}"...), nil
}

// Why a session closed (Session.ClosedBy).
const (
	ClosedByEnd       = "session_end" // its session_end event
	ClosedByNext      = "next"        // an event of another session of the player (a session_start or not)
	ClosedByGap       = "gap"         // an event of the player at least SessionGap after its last event
	ClosedByWatermark = "watermark"   // the watermark passed its last event + SessionGap
)

// Session is a closed session (rule 5), the value of a record on the
// sessions topic (key: session_id).
type Session struct {
	SessionID        string    `json:"session_id"`
	PlayerID         string    `json:"player_id"`
	GameID           string    `json:"game_id"`
	Platform         string    `json:"platform"` // normalized, of the event that opened it
	Country          string    `json:"country"`  // normalized, of the event that opened it
	Start            time.Time `json:"start"`    // min event time of its events
	End              time.Time `json:"end"`      // max event time of its events
	DurationMs       int64     `json:"duration_ms"`
	Events           int64     `json:"events"`
	RevenueUSDMicros int64     `json:"revenue_usd_micros"`
	LevelsPlayed     int64     `json:"levels_played"` // distinct levels of its level_start events
	ClosedBy         string    `json:"closed_by"`
}

// Key is the record key of a session: session_id. A session id split by an
// inactivity gap yields two sessions with the same key and different Start.
func (s *Session) Key() string { return s.SessionID }

// AppendJSON appends the JSON form of s.
func (s *Session) AppendJSON(b []byte) ([]byte, error) {
	j, err := json.Marshal(s)
	return append(b, j...), err
}

// Alert rules raised by this package.
const (
	// RulePlayerPurchases: more than N purchases by one player in one minute
	// window (rule 8).
	RulePlayerPurchases = "player_purchases_per_minute"
)

// Alert is the value of a record on the alerts topic (key: rule|subject).
type Alert struct {
	Rule      string    `json:"rule"`
	Subject   string    `json:"subject"` // the player_id
	GameID    string    `json:"game_id"`
	Window    time.Time `json:"window"` // start of the minute window
	Observed  float64   `json:"observed"`
	Baseline  float64   `json:"baseline"` // 0: the rule has no baseline
	Threshold float64   `json:"threshold"`
	Message   string    `json:"message"`
}

// Key is the record key of an alert: rule|subject.
func (a *Alert) Key() string { return a.Rule + "|" + a.Subject }

// AppendJSON appends the JSON form of a.
func (a *Alert) AppendJSON(b []byte) ([]byte, error) {
	j, err := json.Marshal(a)
	return append(b, j...), err
}

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
