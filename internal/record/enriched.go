package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Enrichment is what the processor adds to an accepted event (design rule
// 4): the "enrichment" member of a record on the enriched and late topics.
// Player figures are the player's state after this event.
type Enrichment struct {
	PlatformNorm           string    `json:"platform_norm"`             // the platform, normalized (ios, android, web, …; "other" for unknown)
	CountryNorm            string    `json:"country_norm"`              // the country, normalized (ISO 3166 alpha-2; "ZZ" for unknown)
	RevenueUSDMicros       int64     `json:"revenue_usd_micros"`        // the event's revenue in micro-USD: purchases > 0, refunds < 0, ad impressions ≥ 0, else 0
	FirstSeen              time.Time `json:"first_seen"`                // the event time of the player's first accepted event
	DaysSinceInstall       int64     `json:"days_since_install"`        // whole days from first_seen to this event
	LifetimeSpendUSDMicros int64     `json:"lifetime_spend_usd_micros"` // the player's purchases minus refunds so far, micro-USD
	Payer                  bool      `json:"payer"`                     // the player has made a purchase
	SessionCount           int64     `json:"session_count"`             // the player's sessions so far
	NewPlayer              bool      `json:"new_player"`                // this is the player's first accepted event
}

// EnrichedKey is the record key of an enriched event: its player_id.
func EnrichedKey(e *event.Event) string { return e.GetPlayerId() }

// AppendEnriched appends the value of an enriched (or late) record: the
// event's JSON (as event.AppendJSON writes it, protojson names) with one
// more member, "enrichment", holding en's members in the order of the
// struct.
func AppendEnriched(b []byte, e *event.Event, en *Enrichment) ([]byte, error) {
	start := len(b)
	b, err := event.AppendJSON(b, e)
	if err != nil {
		return b[:start], err
	}
	body := bytes.TrimRight(b[start:], " \t\r\n")
	if len(body) < 2 || body[len(body)-1] != '}' {
		return b[:start], errors.New("record: event JSON is not an object")
	}
	b = b[:start+len(body)-1] // drop the closing brace
	if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
		b = append(b, ',')
	}
	b = append(b, `"enrichment":{"platform_norm":`...)
	b = strconv.AppendQuote(b, en.PlatformNorm)
	b = append(b, `,"country_norm":`...)
	b = strconv.AppendQuote(b, en.CountryNorm)
	b = append(b, `,"revenue_usd_micros":`...)
	b = strconv.AppendInt(b, en.RevenueUSDMicros, 10)
	b = append(b, `,"first_seen":"`...)
	b = en.FirstSeen.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","days_since_install":`...)
	b = strconv.AppendInt(b, en.DaysSinceInstall, 10)
	b = append(b, `,"lifetime_spend_usd_micros":`...)
	b = strconv.AppendInt(b, en.LifetimeSpendUSDMicros, 10)
	b = append(b, `,"payer":`...)
	b = strconv.AppendBool(b, en.Payer)
	b = append(b, `,"session_count":`...)
	b = strconv.AppendInt(b, en.SessionCount, 10)
	b = append(b, `,"new_player":`...)
	b = strconv.AppendBool(b, en.NewPlayer)
	return append(b, "}}"...), nil
}

// Enriched is a decoded enriched (or late) record: the event's envelope,
// its enrichment, its payload and the members that are neither. The
// event's platform and country as sent are left out (the normalized ones
// are in Enrichment).
type Enriched struct {
	SchemaVersion int32
	EventID       string
	EventType     string
	GameID        string
	PlayerID      string
	SessionID     string
	Seq           int64
	ClientTime    time.Time // UTC, truncated to the millisecond: the event time
	ReceivedAt    time.Time // UTC; zero when absent
	AppVersion    string
	AppBuild      string
	Enrichment    Enrichment
	// Payload is the compacted JSON of the member named by event_type, nil
	// when absent.
	Payload json.RawMessage
	// Extra holds the members that are neither envelope, enrichment nor
	// payload (device, members added later), nil when none.
	Extra map[string]json.RawMessage
}

// envelope are the enriched event's members that Enriched holds as fields.
var envelope = map[string]bool{
	"schema_version": true, "event_id": true, "event_type": true, "game_id": true,
	"player_id": true, "session_id": true, "seq": true, "client_time": true,
	"received_at": true, "platform": true, "app_version": true, "app_build": true,
	"country": true, "enrichment": true,
}

// DecodeEnriched decodes a value of the enriched or late topic. event_id,
// event_type, client_time and the enrichment member are required.
func DecodeEnriched(value []byte) (Enriched, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(value, &m); err != nil {
		return Enriched{}, fmt.Errorf("enriched event: %w", err)
	}
	if m == nil {
		return Enriched{}, errors.New("enriched event: not an object")
	}
	var r Enriched
	var err error
	str := func(name string, dst *string) {
		if raw, ok := m[name]; ok && err == nil {
			if e := json.Unmarshal(raw, dst); e != nil {
				err = fmt.Errorf("enriched event: %s: %w", name, e)
			}
		}
	}
	str("event_id", &r.EventID)
	str("event_type", &r.EventType)
	str("game_id", &r.GameID)
	str("player_id", &r.PlayerID)
	str("session_id", &r.SessionID)
	str("app_version", &r.AppVersion)
	str("app_build", &r.AppBuild)
	var clientTime, receivedAt string
	str("client_time", &clientTime)
	str("received_at", &receivedAt)
	if err != nil {
		return Enriched{}, err
	}
	if raw, ok := m["seq"]; ok { // protojson writes uint64 as a string; accept a number too
		seq, e := strconv.ParseUint(string(bytes.Trim(raw, `"`)), 10, 63)
		if e != nil {
			return Enriched{}, fmt.Errorf("enriched event: seq: %w", e)
		}
		r.Seq = int64(seq)
	}
	if raw, ok := m["schema_version"]; ok {
		v, e := strconv.ParseUint(string(raw), 10, 31)
		if e != nil {
			return Enriched{}, fmt.Errorf("enriched event: schema_version: %w", e)
		}
		r.SchemaVersion = int32(v)
	}
	if r.EventID == "" || r.EventType == "" {
		return Enriched{}, errors.New("enriched event: missing event_id or event_type")
	}
	t, e := time.Parse(time.RFC3339Nano, clientTime)
	if e != nil {
		return Enriched{}, fmt.Errorf("enriched event: client_time: %w", e)
	}
	r.ClientTime = t.UTC().Truncate(time.Millisecond)
	if receivedAt != "" {
		t, e := time.Parse(time.RFC3339Nano, receivedAt)
		if e != nil {
			return Enriched{}, fmt.Errorf("enriched event: received_at: %w", e)
		}
		r.ReceivedAt = t.UTC()
	}
	raw, ok := m["enrichment"]
	if !ok {
		return Enriched{}, errors.New("enriched event: no enrichment member")
	}
	if e := json.Unmarshal(raw, &r.Enrichment); e != nil {
		return Enriched{}, fmt.Errorf("enriched event: enrichment: %w", e)
	}
	if !r.Enrichment.FirstSeen.IsZero() {
		r.Enrichment.FirstSeen = r.Enrichment.FirstSeen.UTC()
	}
	if p, ok := m[r.EventType]; ok {
		r.Payload = compact(p)
	}
	for k, v := range m {
		if !envelope[k] && k != r.EventType {
			if r.Extra == nil {
				r.Extra = make(map[string]json.RawMessage)
			}
			r.Extra[k] = v
		}
	}
	return r, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}
