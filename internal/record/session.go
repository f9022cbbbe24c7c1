package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Why a session closed (Session.ClosedBy).
const (
	ClosedByEnd       = "session_end" // its session_end event
	ClosedByNext      = "next"        // an event of another session of the player (a session_start or not)
	ClosedByGap       = "gap"         // an event of the player at least the session gap after its last event
	ClosedByWatermark = "watermark"   // the watermark passed its last event + the session gap
)

// Session is a closed session (design rule 5), the value of a record on
// the sessions topic, as JSON; its key is SessionID. A session id split by
// an inactivity gap yields two sessions with the same key and different
// Start.
type Session struct {
	SessionID        string    `json:"session_id"` // the record key
	PlayerID         string    `json:"player_id"`
	GameID           string    `json:"game_id"`
	Platform         string    `json:"platform"`           // normalized, of the event that opened it
	Country          string    `json:"country"`            // normalized, of the event that opened it
	Start            time.Time `json:"start"`              // min event time of its events
	End              time.Time `json:"end"`                // max event time of its events
	DurationMs       int64     `json:"duration_ms"`        // end - start
	Events           int64     `json:"events"`             // accepted events in the session
	RevenueUSDMicros int64     `json:"revenue_usd_micros"` // the sum of its events' revenue_usd_micros
	LevelsPlayed     int64     `json:"levels_played"`      // distinct levels of its level_start events
	ClosedBy         string    `json:"closed_by"`          // one of the ClosedBy constants
}

// Key is the record key of a session: session_id.
func (s *Session) Key() string { return s.SessionID }

// AppendJSON appends the JSON form of s.
func (s *Session) AppendJSON(b []byte) ([]byte, error) {
	j, err := json.Marshal(s)
	return append(b, j...), err
}

// DecodeSession decodes a value of the sessions topic; times are UTC. A
// missing session_id or start is an error.
func DecodeSession(value []byte) (Session, error) {
	var s Session
	if err := json.Unmarshal(value, &s); err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	if s.SessionID == "" || s.Start.IsZero() {
		return Session{}, errors.New("session: missing session_id or start")
	}
	s.Start, s.End = s.Start.UTC(), s.End.UTC()
	return s, nil
}
