package warehouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrDecode is wrapped by every decoding error: the record is not what its
// topic should hold. The loader sends such a record to dead_letters.
var ErrDecode = errors.New("warehouse: bad record")

func decodeErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrDecode, what, err)
}

// envelope are the enriched event's members that become columns.
var envelope = map[string]bool{
	"schema_version": true, "event_id": true, "event_type": true, "game_id": true,
	"player_id": true, "session_id": true, "seq": true, "client_time": true,
	"received_at": true, "platform": true, "app_version": true, "app_build": true,
	"country": true, "enrichment": true,
}

type enrichment struct {
	PlatformNorm           string    `json:"platform_norm"`
	CountryNorm            string    `json:"country_norm"`
	RevenueUSDMicros       int64     `json:"revenue_usd_micros"`
	FirstSeen              time.Time `json:"first_seen"`
	DaysSinceInstall       int64     `json:"days_since_install"`
	LifetimeSpendUSDMicros int64     `json:"lifetime_spend_usd_micros"`
	Payer                  bool      `json:"payer"`
	SessionCount           int64     `json:"session_count"`
	NewPlayer              bool      `json:"new_player"`
}

// DecodeEnriched decodes a value of the enriched events topic: the event's
// JSON (protojson names) plus its "enrichment" member. The payload member
// named by event_type becomes Payload; members that are neither envelope
// nor payload (device, fields added later) go to Extra. Pos is left zero.
func DecodeEnriched(value []byte) (EventRow, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(value, &m); err != nil {
		return EventRow{}, decodeErr("enriched event", err)
	}
	if m == nil {
		return EventRow{}, decodeErr("enriched event", errors.New("not an object"))
	}
	var r EventRow
	var err error
	str := func(name string, dst *string) {
		if raw, ok := m[name]; ok && err == nil {
			if e := json.Unmarshal(raw, dst); e != nil {
				err = decodeErr("enriched event: "+name, e)
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
		return EventRow{}, err
	}
	if raw, ok := m["seq"]; ok { // protojson writes uint64 as a string; accept a number too
		s := string(bytes.Trim(raw, `"`))
		seq, e := strconv.ParseUint(s, 10, 63)
		if e != nil {
			return EventRow{}, decodeErr("enriched event: seq", e)
		}
		r.Seq = int64(seq)
	}
	if raw, ok := m["schema_version"]; ok {
		v, e := strconv.ParseUint(string(raw), 10, 31)
		if e != nil {
			return EventRow{}, decodeErr("enriched event: schema_version", e)
		}
		r.SchemaVersion = int32(v)
	}
	if r.EventID == "" || r.EventType == "" {
		return EventRow{}, decodeErr("enriched event", errors.New("missing event_id or event_type"))
	}
	t, e := time.Parse(time.RFC3339Nano, clientTime)
	if e != nil {
		return EventRow{}, decodeErr("enriched event: client_time", e)
	}
	r.EventTime = t.UTC().Truncate(time.Millisecond)
	if receivedAt != "" {
		t, e := time.Parse(time.RFC3339Nano, receivedAt)
		if e != nil {
			return EventRow{}, decodeErr("enriched event: received_at", e)
		}
		r.ReceivedAt = t.UTC()
	}
	raw, ok := m["enrichment"]
	if !ok {
		return EventRow{}, decodeErr("enriched event", errors.New("no enrichment member"))
	}
	var en enrichment
	if e := json.Unmarshal(raw, &en); e != nil {
		return EventRow{}, decodeErr("enriched event: enrichment", e)
	}
	r.Platform, r.Country = en.PlatformNorm, en.CountryNorm
	r.RevenueUSDMicros = en.RevenueUSDMicros
	if !en.FirstSeen.IsZero() {
		r.FirstSeen = en.FirstSeen.UTC()
	}
	r.DaysSinceInstall, r.LifetimeSpendUSDMicros = en.DaysSinceInstall, en.LifetimeSpendUSDMicros
	r.Payer, r.SessionCount, r.NewPlayer = en.Payer, en.SessionCount, en.NewPlayer
	r.Payload = "{}"
	if p, ok := m[r.EventType]; ok {
		r.Payload = string(compact(p))
	}
	extra := make(map[string]json.RawMessage)
	for k, v := range m {
		if !envelope[k] && k != r.EventType {
			extra[k] = v
		}
	}
	if len(extra) > 0 {
		b, e := json.Marshal(extra) // sorted keys: a stable form
		if e != nil {
			return EventRow{}, decodeErr("enriched event", e)
		}
		r.Extra = string(b)
	}
	if len(r.Payload) > MaxValueBytes || len(r.Extra) > MaxValueBytes {
		return EventRow{}, decodeErr("enriched event", fmt.Errorf("payload or extra members of %d and %d bytes: too large for the warehouse (%d bytes at most)",
			len(r.Payload), len(r.Extra), MaxValueBytes))
	}
	return r, nil
}

// MaxValueBytes is the largest JSON value (payload, extra) a row may carry:
// Snowflake's VARIANT and VARCHAR limit of 16 MB. A larger one is a decoding
// error, so the loader sends the record to dead_letters instead of failing
// its batch over and over.
const MaxValueBytes = 16 << 20

func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

type sessionJSON struct {
	SessionID        string    `json:"session_id"`
	PlayerID         string    `json:"player_id"`
	GameID           string    `json:"game_id"`
	Platform         string    `json:"platform"`
	Country          string    `json:"country"`
	Start            time.Time `json:"start"`
	End              time.Time `json:"end"`
	DurationMs       int64     `json:"duration_ms"`
	Events           int64     `json:"events"`
	RevenueUSDMicros int64     `json:"revenue_usd_micros"`
	LevelsPlayed     int64     `json:"levels_played"`
	ClosedBy         string    `json:"closed_by"`
}

// DecodeSession decodes a value of the sessions topic. Pos is left zero.
func DecodeSession(value []byte) (SessionRow, error) {
	var s sessionJSON
	if err := json.Unmarshal(value, &s); err != nil {
		return SessionRow{}, decodeErr("session", err)
	}
	if s.SessionID == "" || s.Start.IsZero() {
		return SessionRow{}, decodeErr("session", errors.New("missing session_id or start"))
	}
	return SessionRow{
		SessionID: s.SessionID, PlayerID: s.PlayerID, GameID: s.GameID, Platform: s.Platform, Country: s.Country,
		Start: s.Start.UTC(), End: s.End.UTC(), DurationMs: s.DurationMs, Events: s.Events,
		RevenueUSDMicros: s.RevenueUSDMicros, LevelsPlayed: s.LevelsPlayed, ClosedBy: s.ClosedBy,
	}, nil
}

type kpiJSON struct {
	Window                   Window    `json:"window"`
	Start                    time.Time `json:"start"`
	End                      time.Time `json:"end"`
	Game                     string    `json:"game"`
	Platform                 string    `json:"platform"`
	Country                  string    `json:"country"`
	AppBuild                 string    `json:"app_build"`
	ActivePlayers            uint64    `json:"active_players"`
	NewPlayers               int64     `json:"new_players"`
	SessionsStarted          int64     `json:"sessions_started"`
	Purchases                int64     `json:"purchases"`
	Payers                   uint64    `json:"payers"`
	RevenueUSDMicros         int64     `json:"revenue_usd_micros"`
	PurchaseRevenueUSDMicros int64     `json:"purchase_revenue_usd_micros"`
	Refunds                  int64     `json:"refunds"`
	RefundUSDMicros          int64     `json:"refund_usd_micros"`
	AdImpressions            int64     `json:"ad_impressions"`
	AdRevenueUSDMicros       int64     `json:"ad_revenue_usd_micros"`
	Levels                   []Level   `json:"levels"`
	Gaps                     int64     `json:"gaps"`
	Duplicates               int64     `json:"duplicates"`
	OutOfOrder               int64     `json:"out_of_order"`
	Final                    bool      `json:"final"`
	Version                  int64     `json:"version"`
	Watermark                time.Time `json:"watermark"`
}

// DecodeKPI decodes a record of the KPI topic. Keys "minute|…" and "hour|…"
// give a KPI row, keys "completeness|…" a completeness row: exactly one of
// the two results is non-nil when err is nil. The key's window must match
// the value's. Pos is left zero.
func DecodeKPI(key, value []byte) (*KPIRow, *CompletenessRow, error) {
	prefix, _, ok := strings.Cut(string(key), "|")
	if !ok {
		return nil, nil, decodeErr("kpi", fmt.Errorf("key %q has no window prefix", key))
	}
	var v kpiJSON
	if err := json.Unmarshal(value, &v); err != nil {
		return nil, nil, decodeErr("kpi", err)
	}
	if v.Start.IsZero() || v.Game == "" {
		return nil, nil, decodeErr("kpi", errors.New("missing start or game"))
	}
	var wm time.Time
	if !v.Watermark.IsZero() {
		wm = v.Watermark.UTC()
	}
	switch prefix {
	case "completeness":
		return nil, &CompletenessRow{
			Start: v.Start.UTC(), Game: v.Game, Platform: v.Platform, AppBuild: v.AppBuild,
			Gaps: v.Gaps, Duplicates: v.Duplicates, OutOfOrder: v.OutOfOrder, Watermark: wm,
		}, nil
	case string(Minute), string(Hour):
	default:
		return nil, nil, decodeErr("kpi", fmt.Errorf("unknown key prefix %q", prefix))
	}
	if string(v.Window) != prefix {
		return nil, nil, decodeErr("kpi", fmt.Errorf("key window %q, value window %q", prefix, v.Window))
	}
	if v.ActivePlayers > 1<<63-1 || v.Payers > 1<<63-1 {
		return nil, nil, decodeErr("kpi", errors.New("distinct count out of range"))
	}
	if v.Levels == nil {
		v.Levels = []Level{}
	}
	return &KPIRow{
		Window: v.Window, Start: v.Start.UTC(), End: v.End.UTC(), Game: v.Game, Platform: v.Platform, Country: v.Country,
		ActivePlayers: int64(v.ActivePlayers), NewPlayers: v.NewPlayers, SessionsStarted: v.SessionsStarted,
		Purchases: v.Purchases, Payers: int64(v.Payers), RevenueUSDMicros: v.RevenueUSDMicros,
		PurchaseRevenueUSDMicros: v.PurchaseRevenueUSDMicros, Refunds: v.Refunds, RefundUSDMicros: v.RefundUSDMicros,
		AdImpressions: v.AdImpressions, AdRevenueUSDMicros: v.AdRevenueUSDMicros, Levels: v.Levels,
		Gaps: v.Gaps, Duplicates: v.Duplicates, OutOfOrder: v.OutOfOrder,
		Final: v.Final, Version: v.Version, Watermark: wm,
	}, nil, nil
}

type alertJSON struct {
	Rule      string  `json:"rule"`
	Subject   string  `json:"subject"`
	GameID    string  `json:"game_id"`
	Window    string  `json:"window"`
	Observed  float64 `json:"observed"`
	Baseline  float64 `json:"baseline"`
	Threshold float64 `json:"threshold"`
	Message   string  `json:"message"`
}

// DecodeAlert decodes a value of the alerts topic. Its window is either a
// minute's start (player rules: "2026-11-25T18:04:00Z") or an interval
// ("start/end", game rules); a start alone means a one-minute window. A
// game rule's subject is its game: GameID falls back to Subject. Pos is
// left zero.
func DecodeAlert(value []byte) (AlertRow, error) {
	var a alertJSON
	if err := json.Unmarshal(value, &a); err != nil {
		return AlertRow{}, decodeErr("alert", err)
	}
	if a.Rule == "" {
		return AlertRow{}, decodeErr("alert", errors.New("missing rule"))
	}
	r := AlertRow{Rule: a.Rule, Subject: a.Subject, GameID: a.GameID, Observed: a.Observed,
		Baseline: a.Baseline, Threshold: a.Threshold, Message: a.Message}
	if r.GameID == "" {
		r.GameID = a.Subject
	}
	start, end, interval := strings.Cut(a.Window, "/")
	s, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return AlertRow{}, decodeErr("alert: window", err)
	}
	r.WindowStart, r.WindowEnd = s.UTC(), s.UTC().Add(time.Minute)
	if interval {
		e, err := time.Parse(time.RFC3339Nano, end)
		if err != nil {
			return AlertRow{}, decodeErr("alert: window", err)
		}
		r.WindowEnd = e.UTC()
	}
	return r, nil
}

// Header is a Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// DecodeDeadLetter decodes a record of the dead-letter topic: the value is
// the original bytes, the headers code, reason, source_topic,
// source_partition and source_offset say why and where from. Missing
// headers leave empty strings and -1; a malformed number is an error. Pos
// is left zero.
func DecodeDeadLetter(value []byte, headers []Header) (DeadLetterRow, error) {
	r := DeadLetterRow{Original: bytes.Clone(value), SourcePartition: -1, SourceOffset: -1}
	if r.Original == nil {
		r.Original = []byte{}
	}
	for _, h := range headers {
		switch h.Key {
		case "code":
			r.Code = string(h.Value)
		case "reason":
			r.Reason = string(h.Value)
		case "source_topic":
			r.SourceTopic = string(h.Value)
		case "source_partition":
			p, err := strconv.ParseInt(string(h.Value), 10, 32)
			if err != nil || p < 0 {
				return DeadLetterRow{}, decodeErr("dead letter: source_partition", fmt.Errorf("%q", h.Value))
			}
			r.SourcePartition = int32(p)
		case "source_offset":
			o, err := strconv.ParseInt(string(h.Value), 10, 64)
			if err != nil || o < 0 {
				return DeadLetterRow{}, decodeErr("dead letter: source_offset", fmt.Errorf("%q", h.Value))
			}
			r.SourceOffset = o
		}
	}
	return r, nil
}
