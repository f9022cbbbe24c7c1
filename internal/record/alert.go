package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Alert is the value of a record on the alerts topic; its key is
// AlertKey: "rule|subject". Both the player rules (jobs: purchases per
// minute, Subject a player) and the game rules (kpi: drops and refund
// spikes, Subject a game) write this one shape.
//
// JSON: {"rule", "subject", "game_id", "window": "start/end" (RFC 3339,
// UTC), "observed", "baseline", "threshold", "message"}. DecodeAlert also
// reads a window that is a start alone (what the player rule wrote before
// this package existed) as one minute, and an empty game_id as the
// subject (what the game rules wrote).
type Alert struct {
	Rule      string
	Subject   string    // the player of a player rule, the game of a game rule
	GameID    string    // the game (the subject itself for a game rule)
	Start     time.Time // the window's start, UTC
	End       time.Time // the window's end (exclusive)
	Observed  float64
	Baseline  float64 // 0 when the rule has no baseline
	Threshold float64 // the value Observed was compared with
	Message   string
}

// alertJSON is Alert's JSON form.
type alertJSON struct {
	Rule      string  `json:"rule"`      // the rule's name, e.g. player_purchases_per_minute, revenue_drop
	Subject   string  `json:"subject"`   // the player of a player rule, the game of a game rule
	GameID    string  `json:"game_id"`   // the game (the subject itself for a game rule)
	Window    string  `json:"window"`    // "start/end", RFC 3339 in UTC, end exclusive
	Observed  float64 `json:"observed"`  // the figure that fired the rule
	Baseline  float64 `json:"baseline"`  // the mean it was compared with; 0 when the rule has none
	Threshold float64 `json:"threshold"` // the value Observed was compared with
	Message   string  `json:"message"`   // for a person
}

// AlertKey is the alerts topic's record key of an alert: "rule|subject".
func AlertKey(rule, subject string) string { return rule + "|" + subject }

// Key returns a's record key.
func (a *Alert) Key() string { return AlertKey(a.Rule, a.Subject) }

// WindowString formats the window as "start/end".
func (a *Alert) WindowString() string {
	return a.Start.UTC().Format(time.RFC3339Nano) + "/" + a.End.UTC().Format(time.RFC3339Nano)
}

// MarshalJSON encodes a as the alerts topic's value.
func (a Alert) MarshalJSON() ([]byte, error) {
	return json.Marshal(alertJSON{Rule: a.Rule, Subject: a.Subject, GameID: a.GameID, Window: a.WindowString(),
		Observed: a.Observed, Baseline: a.Baseline, Threshold: a.Threshold, Message: a.Message})
}

// AppendJSON appends the JSON form of a.
func (a *Alert) AppendJSON(b []byte) ([]byte, error) {
	j, err := a.MarshalJSON()
	return append(b, j...), err
}

// UnmarshalJSON decodes an alerts topic value; see DecodeAlert.
func (a *Alert) UnmarshalJSON(b []byte) error {
	var j alertJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	x := Alert{Rule: j.Rule, Subject: j.Subject, GameID: j.GameID, Observed: j.Observed,
		Baseline: j.Baseline, Threshold: j.Threshold, Message: j.Message}
	if x.GameID == "" {
		x.GameID = x.Subject
	}
	start, end, interval := strings.Cut(j.Window, "/")
	s, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return fmt.Errorf("window: %w", err)
	}
	x.Start, x.End = s.UTC(), s.UTC().Add(time.Minute)
	if interval {
		e, err := time.Parse(time.RFC3339Nano, end)
		if err != nil {
			return fmt.Errorf("window: %w", err)
		}
		x.End = e.UTC()
	}
	*a = x
	return nil
}

// DecodeAlert decodes a value of the alerts topic. A missing rule or an
// unparsable window is an error.
func DecodeAlert(value []byte) (Alert, error) {
	var a Alert
	if err := json.Unmarshal(value, &a); err != nil {
		return Alert{}, fmt.Errorf("alert: %w", err)
	}
	if a.Rule == "" {
		return Alert{}, errors.New("alert: missing rule")
	}
	return a, nil
}
