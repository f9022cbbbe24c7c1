package event

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/protogen"
)

var testNow = time.Date(2026, 11, 25, 18, 5, 0, 0, time.UTC)

func testRules() Rules {
	return Rules{Now: testNow, MaxPast: 72 * time.Hour, MaxFuture: 10 * time.Minute, MaxDepth: 8}
}

func testLimits() Limits { return Limits{MaxEvents: 10, MaxEventBytes: 4096, MaxDepth: 8} }

func validPurchase() *Event {
	return &Event{
		EventId: "e-1", EventType: TypePurchase, PlayerId: "p-1", SessionId: "s-1", Seq: 3,
		ClientTime: timestamppb.New(testNow.Add(-time.Minute)), Platform: "ios", Country: "DE",
		Payload: &Event_Purchase{Purchase: &Purchase{Sku: "gems", Price: 4.99, Currency: "EUR", Store: "app_store", StoreTransactionId: "tx-1"}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(e *Event)
		code   string // "" means valid
	}{
		{"valid", func(e *Event) {}, ""},
		{"missing event_id", func(e *Event) { e.EventId = "" }, CodeMissingField},
		{"missing event_type", func(e *Event) { e.EventType = "" }, CodeMissingField},
		{"unknown type", func(e *Event) { e.EventType = "teleport" }, CodeUnknownType},
		{"missing player", func(e *Event) { e.PlayerId = "" }, CodeMissingField},
		{"missing session", func(e *Event) { e.SessionId = "" }, CodeMissingField},
		{"missing seq", func(e *Event) { e.Seq = 0 }, CodeMissingField},
		{"missing client_time", func(e *Event) { e.ClientTime = nil }, CodeMissingField},
		{"too far past", func(e *Event) { e.ClientTime = timestamppb.New(testNow.Add(-73 * time.Hour)) }, CodeClockSkew},
		{"too far future", func(e *Event) { e.ClientTime = timestamppb.New(testNow.Add(11 * time.Minute)) }, CodeClockSkew},
		{"newer schema", func(e *Event) { e.SchemaVersion = 2 }, CodeUnsupportedVersion},
		{"bad country", func(e *Event) { e.Country = "Germany" }, CodeInvalidValue},
		{"payload mismatch", func(e *Event) { e.EventType = TypeLogin }, CodePayloadMismatch},
		{"missing payload", func(e *Event) { e.Payload = nil }, CodeMissingField},
		{"zero price", func(e *Event) { e.GetPurchase().Price = 0 }, CodeInvalidValue},
		{"bad currency", func(e *Event) { e.GetPurchase().Currency = "EURO" }, CodeInvalidValue},
		{"no store tx", func(e *Event) { e.GetPurchase().StoreTransactionId = "" }, CodeMissingField},
		{"login without payload", func(e *Event) { e.EventType = TypeLogin; e.Payload = nil }, ""},
		{"refund outside session", func(e *Event) {
			e.EventType, e.SessionId, e.Seq = TypeRefund, "", 0
			e.Payload = &Event_Refund{Refund: &Refund{StoreTransactionId: "tx-1", Amount: 4.99, Currency: "EUR"}}
		}, ""},
		{"negative level", func(e *Event) {
			e.EventType = TypeLevelFail
			e.Payload = &Event_LevelFail{LevelFail: &Level{Level: -1}}
		}, CodeInvalidValue},
		{"spend zero", func(e *Event) {
			e.EventType = TypeCurrencySpend
			e.Payload = &Event_CurrencySpend{CurrencySpend: &VirtualCurrency{Currency: "gems"}}
		}, CodeInvalidValue},
		{"custom without name", func(e *Event) {
			e.EventType = TypeCustom
			e.Payload = &Event_Custom{Custom: &Custom{}}
		}, CodeMissingField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := validPurchase()
			tc.modify(e)
			r := Validate(e, testRules())
			switch {
			case tc.code == "" && r != nil:
				t.Fatalf("want valid, got %s: %s", r.Code, r.Reason)
			case tc.code != "" && r == nil:
				t.Fatalf("want %s, got valid", tc.code)
			case tc.code != "" && r.Code != tc.code:
				t.Fatalf("want %s, got %s: %s", tc.code, r.Code, r.Reason)
			case r != nil && r.Reason == "":
				t.Fatal("rejection without a reason")
			}
		})
	}
}

func TestDecodeBatchJSON(t *testing.T) {
	good := string(mustJSON(t, validPurchase()))
	deep := `{"event_id":"x","a":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`
	tests := []struct {
		name  string
		f     Format
		body  string
		batch string   // batch error code, or ""
		codes []string // per item: "" for decoded, else rejection code
	}{
		{"array", FormatJSON, "[" + good + "," + good + "]", "", []string{"", ""}},
		{"single object", FormatJSON, good, "", []string{""}},
		{"empty array", FormatJSON, " [ ] ", "", []string{}},
		{"not json", FormatJSON, "hello", BatchMalformed, nil},
		{"empty body", FormatJSON, "", BatchMalformed, nil},
		{"unterminated", FormatJSON, "[" + good, BatchMalformed, nil},
		{"trailing data", FormatJSON, "[" + good + "] x", BatchMalformed, nil},
		{"too many", FormatJSON, "[" + strings.Repeat(good+",", 10) + good + "]", BatchTooMany, nil},
		{"bad neighbour", FormatJSON, "[" + good + `,{"event_id": 12},` + good + "]", "", []string{"", CodeMalformed, ""}},
		{"unknown field", FormatJSON, `[{"bogus": 1}]`, "", []string{CodeMalformed}},
		{"scalar element", FormatJSON, `[1, "x", ` + good + `]`, "", []string{CodeNotObject, CodeNotObject, ""}},
		{"deep", FormatJSON, "[" + deep + "," + good + "]", "", []string{CodeTooDeep, ""}},
		{"too large", FormatJSON, `[{"event_id":"` + strings.Repeat("x", 5000) + `"},` + good + "]", "", []string{CodeTooLarge, ""}},
		{"invalid utf8", FormatJSON, "[{\"event_id\":\"\xff\xfe\"}," + good + "]", "", []string{CodeMalformed, ""}},
		{"ndjson", FormatNDJSON, good + "\n\n" + good + "\r\n", "", []string{"", ""}},
		{"ndjson bad line", FormatNDJSON, good + "\n{oops\n" + good, "", []string{"", CodeMalformed, ""}},
		{"ndjson two values", FormatNDJSON, good + " {}\n", "", []string{CodeMalformed}},
		{"ndjson too many", FormatNDJSON, strings.Repeat(good+"\n", 11), BatchTooMany, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := DecodeBatch(tc.f, []byte(tc.body), testLimits())
			if tc.batch != "" {
				be, ok := err.(*BatchError)
				if !ok || be.Code != tc.batch {
					t.Fatalf("want batch error %s, got %v", tc.batch, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected batch error: %v", err)
			}
			if len(items) != len(tc.codes) {
				t.Fatalf("got %d items, want %d", len(items), len(tc.codes))
			}
			for i, it := range items {
				got := ""
				if it.Rejection != nil {
					got = it.Rejection.Code
				} else if it.Event == nil {
					t.Fatalf("item %d: neither event nor rejection", i)
				}
				if got != tc.codes[i] {
					t.Errorf("item %d: got %q (%v), want %q", i, got, it.Rejection, tc.codes[i])
				}
			}
		})
	}
}

func TestDecodeBatchProtobuf(t *testing.T) {
	good := validPurchase()
	b, err := proto.Marshal(&EventBatch{Events: []*Event{good, good}})
	if err != nil {
		t.Fatal(err)
	}
	// Splice a malformed element between the two good ones.
	bad := []byte{0x0a, 0x03, 0xff, 0xff, 0xff}
	half := len(b) / 2
	body := append(append(append([]byte{}, b[:half]...), bad...), b[half:]...)
	items, err := DecodeBatch(FormatProtobuf, body, testLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0].Event == nil || items[1].Rejection == nil || items[2].Event == nil {
		t.Fatalf("unexpected items: %+v", items)
	}
	if !proto.Equal(items[2].Event, good) {
		t.Fatal("round trip changed the event")
	}
	if _, err := DecodeBatch(FormatProtobuf, []byte{0x0a, 0x7f, 0x01}, testLimits()); err == nil {
		t.Fatal("truncated batch accepted")
	}
}

func TestJSONRoundTripTestdata(t *testing.T) {
	for _, name := range []string{"purchase.json", "batch.json"} {
		body, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		items, err := DecodeBatch(FormatJSON, body, Limits{MaxEvents: 100, MaxEventBytes: 64 << 10, MaxDepth: 16})
		if err != nil {
			t.Fatal(err)
		}
		for i, it := range items {
			if it.Rejection != nil {
				t.Fatalf("%s[%d]: %v", name, i, it.Rejection)
			}
			r := Rules{Now: it.Event.GetClientTime().AsTime(), MaxPast: time.Hour, MaxFuture: time.Hour}
			if rej := Validate(it.Event, r); rej != nil {
				t.Fatalf("%s[%d]: %v", name, i, rej)
			}
			out, err := MarshalJSON(it.Event)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeBatch(FormatJSON, out, testLimits())
			if err != nil || again[0].Event == nil || !proto.Equal(again[0].Event, it.Event) {
				t.Fatalf("%s[%d]: JSON round trip differs: %v", name, i, err)
			}
		}
	}
}

func TestGeneratedCodeIsFresh(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := protogen.Generate(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	stale, err := protogen.Stale(root, gen)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("generated code is stale: %v; run: go run ./cmd/protogen", stale)
	}
}

func mustJSON(t testing.TB, e *Event) []byte {
	t.Helper()
	b, err := MarshalJSON(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
