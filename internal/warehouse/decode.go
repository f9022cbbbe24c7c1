package warehouse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gamepulse/gamepulse/internal/record"
)

// ErrDecode is wrapped by every decoding error: the record is not what its
// topic should hold. The loader sends such a record to dead_letters.
var ErrDecode = errors.New("warehouse: bad record")

// The decoders below turn the topics' records, as package record defines
// and decodes them, into rows; they add only what the tables need (JSON
// columns, size limits).

func decodeErr(err error) error { return fmt.Errorf("%w: %v", ErrDecode, err) }

// DecodeEnriched decodes a value of the enriched events topic
// (record.DecodeEnriched). The payload member named by event_type becomes
// Payload ("{}" when absent); members that are neither envelope nor
// payload (device, fields added later) go to Extra as one JSON object with
// sorted keys. Pos is left zero.
func DecodeEnriched(value []byte) (EventRow, error) {
	e, err := record.DecodeEnriched(value)
	if err != nil {
		return EventRow{}, decodeErr(err)
	}
	en := &e.Enrichment
	r := EventRow{EventID: e.EventID, EventType: e.EventType, GameID: e.GameID, PlayerID: e.PlayerID,
		SessionID: e.SessionID, Seq: e.Seq, EventTime: e.ClientTime, ReceivedAt: e.ReceivedAt,
		Platform: en.PlatformNorm, Country: en.CountryNorm, AppVersion: e.AppVersion, AppBuild: e.AppBuild,
		SchemaVersion: e.SchemaVersion, RevenueUSDMicros: en.RevenueUSDMicros, FirstSeen: en.FirstSeen,
		DaysSinceInstall: en.DaysSinceInstall, LifetimeSpendUSDMicros: en.LifetimeSpendUSDMicros,
		Payer: en.Payer, SessionCount: en.SessionCount, NewPlayer: en.NewPlayer, Payload: "{}"}
	if e.Payload != nil {
		r.Payload = string(e.Payload)
	}
	if len(e.Extra) > 0 {
		b, err := json.Marshal(e.Extra) // sorted keys: a stable form
		if err != nil {
			return EventRow{}, decodeErr(fmt.Errorf("enriched event: %w", err))
		}
		r.Extra = string(b)
	}
	if len(r.Payload) > MaxValueBytes || len(r.Extra) > MaxValueBytes {
		return EventRow{}, decodeErr(fmt.Errorf("enriched event: payload or extra members of %d and %d bytes: too large for the warehouse (%d bytes at most)",
			len(r.Payload), len(r.Extra), MaxValueBytes))
	}
	return r, nil
}

// MaxValueBytes is the largest JSON value (payload, extra) a row may carry:
// Snowflake's VARIANT and VARCHAR limit of 16 MB. A larger one is a decoding
// error, so the loader sends the record to dead_letters instead of failing
// its batch over and over.
const MaxValueBytes = 16 << 20

// DecodeSession decodes a value of the sessions topic
// (record.DecodeSession). Pos is left zero.
func DecodeSession(value []byte) (SessionRow, error) {
	s, err := record.DecodeSession(value)
	if err != nil {
		return SessionRow{}, decodeErr(err)
	}
	return SessionRow{
		SessionID: s.SessionID, PlayerID: s.PlayerID, GameID: s.GameID, Platform: s.Platform, Country: s.Country,
		Start: s.Start, End: s.End, DurationMs: s.DurationMs, Events: s.Events,
		RevenueUSDMicros: s.RevenueUSDMicros, LevelsPlayed: s.LevelsPlayed, ClosedBy: s.ClosedBy,
	}, nil
}

// DecodeKPI decodes a record of the KPI topic (record.DecodeKPI). Keys
// "minute|…" and "hour|…" give a KPI row, keys "completeness|…" a
// completeness row: exactly one of the two results is non-nil when err is
// nil. The key's window must match the value's. Pos is left zero.
func DecodeKPI(key, value []byte) (*KPIRow, *CompletenessRow, error) {
	v, c, err := record.DecodeKPI(key, value)
	if err != nil {
		return nil, nil, decodeErr(err)
	}
	if c != nil {
		return nil, &CompletenessRow{
			Start: c.Start, Game: c.Game, Platform: c.Platform, AppBuild: c.AppBuild,
			Gaps: c.Gaps, Duplicates: c.Duplicates, OutOfOrder: c.OutOfOrder, Watermark: c.Watermark,
		}, nil
	}
	if v.ActivePlayers > 1<<63-1 || v.Payers > 1<<63-1 {
		return nil, nil, decodeErr(errors.New("kpi: distinct count out of range"))
	}
	levels := make([]Level, len(v.Levels))
	for i, l := range v.Levels {
		levels[i] = Level(l)
	}
	return &KPIRow{
		Window: Window(v.Window), Start: v.Start, End: v.End, Game: v.Game, Platform: v.Platform, Country: v.Country,
		ActivePlayers: int64(v.ActivePlayers), NewPlayers: v.NewPlayers, SessionsStarted: v.SessionsStarted,
		Purchases: v.Purchases, Payers: int64(v.Payers), RevenueUSDMicros: v.RevenueMicros,
		PurchaseRevenueUSDMicros: v.PurchaseRevenueMicros, Refunds: v.Refunds, RefundUSDMicros: v.RefundMicros,
		AdImpressions: v.AdImpressions, AdRevenueUSDMicros: v.AdRevenueMicros, Levels: levels,
		Gaps: v.Gaps, Duplicates: v.Duplicates, OutOfOrder: v.OutOfOrder,
		Final: v.Final, Version: v.Version, Watermark: v.Watermark,
	}, nil, nil
}

// DecodeAlert decodes a value of the alerts topic (record.DecodeAlert: one
// shape for the player and the game rules; it also reads the older forms,
// a window that is a start alone and an alert without game_id). Pos is
// left zero.
func DecodeAlert(value []byte) (AlertRow, error) {
	a, err := record.DecodeAlert(value)
	if err != nil {
		return AlertRow{}, decodeErr(err)
	}
	return AlertRow{Rule: a.Rule, Subject: a.Subject, GameID: a.GameID, WindowStart: a.Start, WindowEnd: a.End,
		Observed: a.Observed, Baseline: a.Baseline, Threshold: a.Threshold, Message: a.Message}, nil
}

// Header is a Kafka record header.
type Header = record.Header

// DecodeDeadLetter decodes a record of the dead-letter topic: the value is
// the original bytes, the headers (record.DecodeDeadLetter) say why and
// where from. Missing headers leave empty strings and -1; a malformed
// number is an error. Pos is left zero.
func DecodeDeadLetter(value []byte, headers []Header) (DeadLetterRow, error) {
	d, err := record.DecodeDeadLetter(headers)
	if err != nil {
		return DeadLetterRow{}, decodeErr(err)
	}
	r := DeadLetterRow{Original: bytes.Clone(value), Code: d.Code, Reason: d.Reason, SourceTopic: d.SourceTopic,
		SourcePartition: d.SourcePartition, SourceOffset: d.SourceOffset}
	if r.Original == nil {
		r.Original = []byte{}
	}
	return r, nil
}
