package event

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// RefusedForGood is a table of events that the processor is certain to
// dead-letter whatever its configuration, with the code and a part of the
// reason Validate gives. The gateway's and the processor's tests use it.
func refusedForGood() []struct {
	Name, Code, Reason string
	Event              *Event
} {
	base := func(mod func(*Event)) *Event {
		e := &Event{EventId: "e1", EventType: TypePurchase, PlayerId: "p1", SessionId: "s1", Seq: 1,
			ClientTime: timestamppb.New(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)),
			Payload:    &Event_Purchase{Purchase: &Purchase{Sku: "gems", Price: 4.99, Currency: "USD", StoreTransactionId: "T1"}}}
		mod(e)
		return e
	}
	refund := func(amount float64) func(*Event) {
		return func(e *Event) {
			e.EventType, e.Payload = TypeRefund, &Event_Refund{Refund: &Refund{StoreTransactionId: "T1", Amount: amount, Currency: "EUR"}}
		}
	}
	ad := func(revenue float64) func(*Event) {
		return func(e *Event) {
			e.EventType, e.Payload = TypeAdImpression, &Event_AdImpression{AdImpression: &AdImpression{Network: "admob", Revenue: revenue}}
		}
	}
	return []struct {
		Name, Code, Reason string
		Event              *Event
	}{
		{"price 1e15", CodeInvalidValue, "purchase.price", base(func(e *Event) { e.GetPurchase().Price = 1e15 })},
		{"price 1e300", CodeInvalidValue, "purchase.price", base(func(e *Event) { e.GetPurchase().Price = 1e300 })},
		{"price 1.7e308", CodeInvalidValue, "purchase.price", base(func(e *Event) { e.GetPurchase().Price = 1.7e308 })},
		{"refund 1e300", CodeInvalidValue, "refund.amount", base(refund(1e300))},
		{"ad revenue 1e300", CodeInvalidValue, "ad_impression.revenue", base(ad(1e300))},
		{"player NUL", CodeInvalidValue, "player_id contains a control character (U+0000)", base(func(e *Event) { e.PlayerId = "\x00" })},
		{"player NUL inside", CodeInvalidValue, "player_id contains a control character (U+0000)", base(func(e *Event) { e.PlayerId = "p\x00x" })},
		{"player DEL", CodeInvalidValue, "player_id contains a control character (U+007F)", base(func(e *Event) { e.PlayerId = "p\x7f" })},
		{"player C1", CodeInvalidValue, "player_id contains a control character (U+0085)", base(func(e *Event) { e.PlayerId = "p\u0085" })},
		{"player blank", CodeInvalidValue, "player_id is blank", base(func(e *Event) { e.PlayerId = " " })},
		{"player blank unicode", CodeInvalidValue, "player_id is blank", base(func(e *Event) { e.PlayerId = "\u3000\u00a0" })},
		{"player RLO", CodeInvalidValue, "player_id contains a bidirectional formatting character (U+202E)", base(func(e *Event) { e.PlayerId = "\u202egnp.exe" })},
		{"player isolate", CodeInvalidValue, "U+2066", base(func(e *Event) { e.PlayerId = "a\u2066b" })},
		{"event_id tab", CodeInvalidValue, "event_id contains a control character (U+0009)", base(func(e *Event) { e.EventId = "e\t1" })},
		{"event_id blank", CodeInvalidValue, "event_id is blank", base(func(e *Event) { e.EventId = "  " })},
		{"session_id newline", CodeInvalidValue, "session_id contains a control character (U+000A)", base(func(e *Event) { e.SessionId = "s\n" })},
		{"store transaction LRM", CodeInvalidValue, "purchase.store_transaction_id contains a bidirectional formatting character (U+200E)", base(func(e *Event) { e.GetPurchase().StoreTransactionId = "T\u200e1" })},
	}
}

// TestValidateRefusesWhatTheProcessorWouldDeadLetter: amounts beyond
// MaxAmount and ids with control or bidi characters, or blank, are refused
// by Validate (the gateway and the processor both call it), each naming its
// field; ordinary ids and amounts pass.
func TestValidateRefusesWhatTheProcessorWouldDeadLetter(t *testing.T) {
	for _, tc := range refusedForGood() {
		t.Run(tc.Name, func(t *testing.T) {
			r := Validate(tc.Event, Rules{})
			if r == nil || r.Code != tc.Code || !strings.Contains(r.Reason, tc.Reason) {
				t.Fatalf("got %+v, want %s containing %q", r, tc.Code, tc.Reason)
			}
		})
	}
	ok := refusedForGood()[0].Event
	for _, mod := range []func(*Event){
		func(e *Event) { e.GetPurchase().Price = MaxAmount },
		func(e *Event) { e.PlayerId = "Ünïcödé spieler 42" },
		func(e *Event) { e.PlayerId = "игрок-١٢٣" }, // right-to-left letters are no formatting characters
		func(e *Event) { e.EventId = "550e8400-e29b-41d4-a716-446655440000" },
	} {
		e := proto.Clone(ok).(*Event)
		e.GetPurchase().Price = 4.99
		mod(e)
		if r := Validate(e, Rules{}); r != nil {
			t.Errorf("%v refused: %s", e, r.Reason)
		}
	}
}
