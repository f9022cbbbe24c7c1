package event

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
)

// checkItems holds for any input: the batch limit is kept, every item is
// either an event or a rejection with a reason, and decoded events survive a
// round trip through both encodings.
func checkItems(t *testing.T, items []Item, err error, lim Limits) {
	if err != nil {
		if _, ok := err.(*BatchError); !ok {
			t.Fatalf("batch error of type %T", err)
		}
		if items != nil {
			t.Fatal("items returned with a batch error")
		}
		return
	}
	if len(items) > lim.MaxEvents {
		t.Fatalf("%d items over the limit of %d", len(items), lim.MaxEvents)
	}
	for i, it := range items {
		if (it.Event == nil) == (it.Rejection == nil) {
			t.Fatalf("item %d: want exactly one of event and rejection", i)
		}
		if it.Rejection != nil {
			if it.Rejection.Reason == "" || it.Rejection.Code == "" {
				t.Fatalf("item %d: rejection without code or reason", i)
			}
			continue
		}
		_ = Validate(it.Event, testRules()) // must not panic
		b, err := proto.Marshal(it.Event)
		if err != nil {
			t.Fatalf("item %d: marshal: %v", i, err)
		}
		var back Event
		if err := proto.Unmarshal(b, &back); err != nil || !proto.Equal(&back, it.Event) {
			t.Fatalf("item %d: binary round trip failed: %v", i, err)
		}
		if _, err := MarshalJSON(it.Event); err != nil {
			t.Fatalf("item %d: JSON marshal: %v", i, err)
		}
	}
}

func addTestdataSeeds(f *testing.F) {
	for _, name := range []string{"purchase.json", "batch.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	addTestdataSeeds(f)
	f.Add([]byte(`[{"event_id":"a"},1,"x",[],{}]`))
	f.Add([]byte(`[{"a":"\"]\\"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := testLimits()
		items, err := DecodeBatch(FormatJSON, body, lim)
		checkItems(t, items, err, lim)
	})
}

func FuzzDecodeNDJSON(f *testing.F) {
	addTestdataSeeds(f)
	f.Add([]byte("{\"event_id\":\"a\"}\n{\n\n[]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := testLimits()
		items, err := DecodeBatch(FormatNDJSON, body, lim)
		checkItems(t, items, err, lim)
	})
}

func FuzzDecodeProtobuf(f *testing.F) {
	b, _ := proto.Marshal(&EventBatch{Events: []*Event{validPurchase(), {EventId: "x"}}})
	f.Add(b)
	f.Add([]byte{0x0a, 0x03, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := testLimits()
		items, err := DecodeBatch(FormatProtobuf, body, lim)
		checkItems(t, items, err, lim)
	})
}

// FuzzDecodeJSONEvent: one raw value in the JSON encoding decodes or is
// refused, never both, and it is refused exactly when the NDJSON decoder
// refuses it as a one-line batch (the same decoder, the same codes).
func FuzzDecodeJSONEvent(f *testing.F) {
	addTestdataSeeds(f)
	b, _ := MarshalJSON(validPurchase())
	f.Add(b)
	f.Add([]byte(`{"event_id":"a"} {}`))
	f.Add([]byte(" null "))
	f.Fuzz(func(t *testing.T, value []byte) {
		lim := testLimits()
		it := DecodeJSONEvent(value, lim)
		checkItems(t, []Item{it}, nil, lim)
		if bytes.IndexByte(value, '\n') >= 0 || len(bytes.TrimSpace(value)) == 0 {
			return // NDJSON would split it into lines, or skip it
		}
		items, err := DecodeBatch(FormatNDJSON, value, lim)
		if err != nil || len(items) != 1 {
			t.Fatalf("NDJSON of one line: %v, %d items", err, len(items))
		}
		if (it.Rejection == nil) != (items[0].Rejection == nil) ||
			(it.Rejection != nil && it.Rejection.Code != items[0].Rejection.Code) ||
			(it.Event != nil && !proto.Equal(it.Event, items[0].Event)) {
			t.Fatalf("%q: DecodeJSONEvent %+v, NDJSON %+v", value, it.Rejection, items[0].Rejection)
		}
	})
}

func TestEveryPayloadHasAType(t *testing.T) {
	fields := (&Event{}).ProtoReflect().Descriptor().Oneofs().ByName("payload").Fields()
	mapped := map[string]bool{}
	for _, ti := range types {
		mapped[ti.field] = true
	}
	for i := 0; i < fields.Len(); i++ {
		name := string(fields.Get(i).Name())
		if !mapped[name] {
			t.Errorf("payload field %s has no event type", name)
		}
		e := &Event{}
		e.ProtoReflect().Set(fields.Get(i), e.ProtoReflect().NewField(fields.Get(i)))
		if PayloadField(e) != name {
			t.Errorf("PayloadField does not know %s", name)
		}
	}
	if len(Types()) != len(types) {
		t.Errorf("Types() lists %d types, the table has %d", len(Types()), len(types))
	}
}

// FuzzFastJSONMatchesProtojson: whenever the fast JSON path accepts an
// event, protojson accepts it too and decodes the same message. (When the
// fast path bails, protojson decides alone, so nothing else is needed.)
func FuzzFastJSONMatchesProtojson(f *testing.F) {
	addTestdataSeeds(f)
	for _, e := range []*Event{validPurchase(), {EventId: "a", Seq: 1}} {
		b, _ := MarshalJSON(e)
		f.Add(b)
	}
	for _, s := range []string{
		`{"eventId":"a","levelStart":{"level":3}}`,
		`{"event_id":"a","currencyEarn":{"currency":"gems","amount":5}}`,
		`{"event_id":"a","event_id":"b"}`,
		`{"event_id":"a","eventId":"b"}`,
		`{"purchase":{"sku":"","sku":"x"}}`,
		`{"client_time":"2026-11-25T18:00:00.123456789+05:30","seq":18446744073709551615}`,
		`{"level_fail":{"level":-0,"score":1e3}}`,
		`{"ad_impression":{"revenue":-0.0}}`,
		`{"device":{"model":"x","locale":"\u00e9"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var fast Event
		if decodeJSONFast(b, &fast) != nil {
			return
		}
		var ref Event
		if err := jsonIn.Unmarshal(b, &ref); err != nil {
			t.Fatalf("fast path accepted what protojson refuses (%v): %q", err, b)
		}
		if !proto.Equal(&fast, &ref) {
			t.Fatalf("fast path and protojson differ on %q:\nfast %v\nref  %v", b, &fast, &ref)
		}
	})
}

// TestFastJSONTakesTheCommonShape makes sure the fast path is not silently
// bailing on ordinary events (which would be correct but slow).
func TestFastJSONTakesTheCommonShape(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	spans := 0
	for _, e := range []*Event{validPurchase()} {
		b, _ := MarshalJSON(e)
		var got Event
		if err := decodeJSONFast(b, &got); err != nil {
			t.Fatalf("fast path bailed on %s", b)
		}
		spans++
	}
	// batch.json's first two events are plain; the third is custom (bails).
	items, _ := DecodeBatch(FormatJSON, body, Limits{MaxEvents: 10})
	for i, it := range items[:2] {
		raw, _ := MarshalJSON(it.Event)
		var got Event
		if err := decodeJSONFast(raw, &got); err != nil {
			t.Fatalf("fast path bailed on event %d: %s", i, raw)
		}
	}
	_ = spans
}
