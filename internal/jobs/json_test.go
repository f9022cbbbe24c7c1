package jobs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func TestEnrichedJSON(t *testing.T) {
	ts := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	e := &event.Event{
		EventId: "e-1", EventType: event.TypePurchase, GameId: "g1", PlayerId: "p-1", SessionId: "s-1", Seq: 3,
		ClientTime: timestamppb.New(ts), ReceivedAt: timestamppb.New(ts.Add(time.Second)), Platform: "iPhone",
		Payload: &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems", Price: 1.99, Currency: "USD", StoreTransactionId: "T1"}},
	}
	s, err := NewStage(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	s.ProcessEvent(e, &r)
	if !r.Accepted() {
		t.Fatalf("not accepted: %+v", r)
	}
	b, err := r.Enriched.AppendJSON([]byte("prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatal("AppendJSON does not append")
	}
	var got map[string]any
	if err := json.Unmarshal(b[6:], &got); err != nil {
		t.Fatalf("%s: %v", b[6:], err)
	}
	if got["event_id"] != "e-1" || got["platform"] != "iPhone" || got["purchase"] == nil {
		t.Errorf("event fields missing: %s", b[6:])
	}
	want := map[string]any{
		"platform_norm": "ios", "country_norm": "ZZ", "revenue_usd_micros": 1990000.0,
		"first_seen": "2026-11-25T18:00:00Z", "days_since_install": 0.0, "lifetime_spend_usd_micros": 1990000.0,
		"payer": true, "session_count": 1.0, "new_player": true,
	}
	enr, _ := got["enrichment"].(map[string]any)
	if len(enr) != len(want) {
		t.Errorf("enrichment %v, want %v", enr, want)
	}
	for k, v := range want {
		if enr[k] != v {
			t.Errorf("enrichment.%s = %v, want %v", k, enr[k], v)
		}
	}
	if r.Enriched.Key() != "p-1" {
		t.Errorf("key %q", r.Enriched.Key())
	}

	// A session and an alert encode with the documented names.
	sess := Session{SessionID: "s-1", PlayerID: "p-1", GameID: "g1", Start: ts, End: ts.Add(time.Minute), DurationMs: 60000}
	b, err = sess.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var sm map[string]any
	if err := json.Unmarshal(b, &sm); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"session_id", "player_id", "game_id", "platform", "country", "start", "end", "duration_ms", "events", "revenue_usd_micros", "levels_played", "closed_by"} {
		if _, ok := sm[k]; !ok {
			t.Errorf("session JSON lacks %s: %s", k, b)
		}
	}
	a := purchaseAlert("g1", "p-1", ts.UnixMilli(), 6, 5)
	if a.Key() != RulePlayerPurchases+"|p-1" {
		t.Errorf("alert key %q", a.Key())
	}
	b, err = a.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var am map[string]any
	if err := json.Unmarshal(b, &am); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rule", "subject", "window", "observed", "baseline", "threshold", "message"} {
		if _, ok := am[k]; !ok {
			t.Errorf("alert JSON lacks %s: %s", k, b)
		}
	}
}
