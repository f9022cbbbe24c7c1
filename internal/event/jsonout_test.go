package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// decodeJSONValue decodes exactly one JSON value, numbers as json.Number so
// that they compare by their text (protojson's number formatting is part of
// what AppendJSON must match).
func decodeJSONValue(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// checkAppendJSON compares AppendJSON with protojson on e: the same
// error/no-error outcome, semantically equal JSON, and a prefix in b left
// alone. It returns both outputs (without the prefix) for further checks.
func checkAppendJSON(t *testing.T, e *Event) (got, want []byte) {
	t.Helper()
	const prefix = "prefix:"
	out, err := AppendJSON([]byte(prefix), e)
	want, wantErr := jsonOut.Marshal(e)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("AppendJSON error %v, protojson error %v\nevent: %v", err, wantErr, e)
	}
	if !bytes.HasPrefix(out, []byte(prefix)) {
		t.Fatalf("AppendJSON lost the prefix: %q", out)
	}
	if err != nil {
		if len(out) != len(prefix) {
			t.Fatalf("AppendJSON failed (%v) but extended b: %q", err, out)
		}
		if err.Error() != wantErr.Error() {
			t.Errorf("error %q, protojson says %q", err, wantErr)
		}
		return nil, nil
	}
	got = out[len(prefix):]
	gv, err := decodeJSONValue(got)
	if err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON (%v): %s", err, got)
	}
	wv, err := decodeJSONValue(want)
	if err != nil {
		t.Fatalf("protojson wrote invalid JSON (%v): %s", err, want)
	}
	if !reflect.DeepEqual(gv, wv) {
		t.Fatalf("AppendJSON and protojson differ\ngot  %s\nwant %s", got, want)
	}
	m, err := MarshalJSON(e)
	if err != nil || !bytes.Equal(m, got) {
		t.Fatalf("MarshalJSON = %s, %v; AppendJSON wrote %s", m, err, got)
	}
	return got, want
}

func TestAppendJSON(t *testing.T) {
	ts := func(sec int64, nsec int32) *timestamppb.Timestamp {
		return &timestamppb.Timestamp{Seconds: sec, Nanos: nsec}
	}
	full := func() *Event {
		e := validPurchase()
		e.SchemaVersion, e.GameId = 1, "g-1"
		e.ReceivedAt = timestamppb.New(testNow)
		e.AppVersion, e.AppBuild = "1.12.0", "1.12.0+4411"
		e.Device = &Device{Model: "iPhone15,2", OsVersion: "18.1", Locale: "de_DE"}
		return e
	}
	with := func(p isEvent_Payload) *Event { e := full(); e.Payload = p; return e }
	purchase := func(price float64) *Event { return with(&Event_Purchase{Purchase: &Purchase{Sku: "x", Price: price}}) }
	tests := []struct {
		name     string
		e        *Event
		fallback bool // protojson writes it (or fails), not the fast path
	}{
		{"nil event", nil, false},
		{"empty event", &Event{}, false},
		{"valid purchase", validPurchase(), false},
		{"every envelope field", full(), false},
		{"empty device", &Event{Device: &Device{}}, false},

		{"session_start", with(&Event_SessionStart{SessionStart: &SessionStart{EntryPoint: "push"}}), false},
		{"session_end", with(&Event_SessionEnd{SessionEnd: &SessionEnd{DurationMs: 61_000}}), false},
		{"login", with(&Event_Login{Login: &Login{Method: "apple"}}), false},
		{"refund", with(&Event_Refund{Refund: &Refund{StoreTransactionId: "tx-1", Sku: "gems", Amount: 4.99, Currency: "EUR"}}), false},
		{"level_start", with(&Event_LevelStart{LevelStart: &Level{Level: 3}}), false},
		{"level_complete", with(&Event_LevelComplete{LevelComplete: &Level{Level: 3, DurationMs: 90_000, Score: 1200}}), false},
		{"level_fail", with(&Event_LevelFail{LevelFail: &Level{Level: -1, DurationMs: -5, Score: math.MinInt64}}), false},
		{"ad_impression", with(&Event_AdImpression{AdImpression: &AdImpression{Network: "admob", Placement: "x", Revenue: 0.0015, Currency: "USD"}}), false},
		{"currency_earn", with(&Event_CurrencyEarn{CurrencyEarn: &VirtualCurrency{Currency: "gems", Amount: 5, Reason: "level_reward", Item: "i"}}), false},
		{"currency_spend", with(&Event_CurrencySpend{CurrencySpend: &VirtualCurrency{Currency: "coins", Amount: math.MaxInt64, Reason: "shop"}}), false},
		{"custom without properties", with(&Event_Custom{Custom: &Custom{Name: "tutorial_step"}}), false},
		{"custom with properties", with(&Event_Custom{Custom: &Custom{Name: "x", Properties: &structpb.Struct{Fields: map[string]*structpb.Value{
			"b": structpb.NewNumberValue(1e21), "a": structpb.NewStringValue("s"), "n": structpb.NewNullValue(),
			"l": structpb.NewListValue(&structpb.ListValue{Values: []*structpb.Value{structpb.NewBoolValue(true)}}),
		}}}}), true},
		{"custom with empty properties", with(&Event_Custom{Custom: &Custom{Properties: &structpb.Struct{}}}), true},
		{"custom property NaN", with(&Event_Custom{Custom: &Custom{Properties: &structpb.Struct{Fields: map[string]*structpb.Value{
			"x": structpb.NewNumberValue(math.NaN())}}}}), true},
		{"custom property unset", with(&Event_Custom{Custom: &Custom{Properties: &structpb.Struct{Fields: map[string]*structpb.Value{
			"x": {}}}}}), true},

		// The set member of the oneof is written even when empty or nil.
		{"empty session_start", with(&Event_SessionStart{SessionStart: &SessionStart{}}), false},
		{"nil session_end", with(&Event_SessionEnd{}), false},
		{"nil login", with(&Event_Login{}), false},
		{"nil purchase", with(&Event_Purchase{}), false},
		{"empty refund", with(&Event_Refund{Refund: &Refund{}}), false},
		{"nil level_start", with(&Event_LevelStart{}), false},
		{"empty level_complete", with(&Event_LevelComplete{LevelComplete: &Level{}}), false},
		{"nil level_fail", with(&Event_LevelFail{}), false},
		{"nil ad_impression", with(&Event_AdImpression{}), false},
		{"nil currency_earn", with(&Event_CurrencyEarn{}), false},
		{"empty currency_spend", with(&Event_CurrencySpend{CurrencySpend: &VirtualCurrency{}}), false},
		{"nil custom", with(&Event_Custom{}), false},
		{"empty custom", with(&Event_Custom{Custom: &Custom{}}), false},
		{"nil oneof wrapper", with((*Event_Purchase)(nil)), false},
		{"no payload", with(nil), false},

		{"price NaN", purchase(math.NaN()), false},
		{"price +Inf", purchase(math.Inf(1)), false},
		{"price -Inf", purchase(math.Inf(-1)), false},
		{"price -0", purchase(math.Copysign(0, -1)), false},
		{"price +0", purchase(0), false},
		{"price 1e21", purchase(1e21), false},
		{"price just under 1e21", purchase(math.Nextafter(1e21, 0)), false},
		{"price 1e-6", purchase(1e-6), false},
		{"price just under 1e-6", purchase(math.Nextafter(1e-6, 0)), false},
		{"price 1e-7", purchase(-1e-7), false},
		{"price 1.5e-300", purchase(1.5e-300), false},
		{"price smallest", purchase(math.SmallestNonzeroFloat64), false},
		{"price largest", purchase(math.MaxFloat64), false},
		{"price 0.1", purchase(0.1), false},
		{"price big integer", purchase(123456789012345678), false},

		{"seq max uint64", &Event{Seq: math.MaxUint64}, false},
		{"seq 1", &Event{Seq: 1}, false},
		{"schema_version max", &Event{SchemaVersion: math.MaxUint32}, false},

		{"time without nanos", &Event{ClientTime: ts(1_700_000_000, 0)}, false},
		{"time millis", &Event{ClientTime: ts(1_700_000_000, 123_000_000)}, false},
		{"time micros", &Event{ClientTime: ts(1_700_000_000, 123_456_000)}, false},
		{"time nanos", &Event{ClientTime: ts(1_700_000_000, 123_456_789)}, false},
		{"time 1 ns", &Event{ClientTime: ts(0, 1)}, false},
		{"time 1 µs", &Event{ClientTime: ts(0, 1000)}, false},
		{"time epoch", &Event{ClientTime: ts(0, 0)}, false},
		{"time before epoch", &Event{ClientTime: ts(-1, 999_999_999)}, false},
		{"time leap day", &Event{ClientTime: timestamppb.New(time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC))}, false},
		{"time 2000-02-29", &Event{ClientTime: timestamppb.New(time.Date(2000, 2, 29, 12, 0, 0, 0, time.UTC))}, false},
		{"time 1900-03-01", &Event{ClientTime: timestamppb.New(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC))}, false},
		{"time year 1", &Event{ClientTime: ts(minTimestampSeconds, 0)}, false},
		{"time year 9999", &Event{ReceivedAt: ts(maxTimestampSeconds, 999_999_999)}, false},
		{"time before year 1", &Event{ClientTime: ts(minTimestampSeconds-1, 0)}, true},
		{"time after year 9999", &Event{ReceivedAt: ts(maxTimestampSeconds+1, 0)}, true},
		{"time negative nanos", &Event{ClientTime: ts(0, -1)}, true},
		{"time nanos one second", &Event{ClientTime: ts(0, 1_000_000_000)}, true},
		{"time empty message", &Event{ClientTime: &timestamppb.Timestamp{}}, false},
		{"nil client_time", &Event{ClientTime: nil, ReceivedAt: timestamppb.New(testNow)}, false},

		{"unicode", &Event{EventId: "ünïcødé-日本語-🎮", Country: "\u00e9", Platform: "\ufffd", Device: &Device{Locale: "\u2028\u2029"}}, false},
		{"control characters", &Event{EventId: "\x00\x01\b\f\n\r\t\x1f\x7f", PlayerId: `"quoted" \back\slash/ <html>&`}, false},
		{"every ASCII character", &Event{EventId: func() string {
			var s strings.Builder
			for c := 0; c < 128; c++ {
				s.WriteByte(byte(c))
			}
			return s.String()
		}()}, false},
		{"invalid UTF-8", &Event{EventId: "ok\xffno"}, true},
		{"truncated UTF-8", &Event{Device: &Device{Model: "\xe6\x97"}}, true},
		{"invalid UTF-8 in payload", with(&Event_Login{Login: &Login{Method: "\xc0\x80"}}), true},
		{"surrogate half", &Event{EventId: "\xed\xa0\x80"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := checkAppendJSON(t, tc.e)
			if _, ok := appendEventJSON(nil, tc.e); ok == tc.fallback {
				t.Errorf("fast path ok = %v, want %v", ok, !tc.fallback)
			}
			if got == nil || tc.fallback {
				return
			}
			// Stronger than the semantic check: byte for byte what protojson
			// writes once its random whitespace is removed (same field order,
			// escapes and number formats). This may be relaxed if a protobuf
			// release changes its formatting; the semantic check is the
			// contract.
			var compact bytes.Buffer
			if err := json.Compact(&compact, want); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, compact.Bytes()) {
				t.Errorf("not byte-identical to protojson\ngot  %s\nwant %s", got, compact.Bytes())
			}
		})
	}
}

// fillMessage sets every field of m that is not in a oneof to a non-zero
// value, recursively.
func fillMessage(m protoreflect.Message) {
	switch m.Descriptor().FullName() {
	case "google.protobuf.Timestamp":
		m.Set(m.Descriptor().Fields().ByName("seconds"), protoreflect.ValueOfInt64(1_700_000_000))
		m.Set(m.Descriptor().Fields().ByName("nanos"), protoreflect.ValueOfInt32(5_000))
		return
	}
	fields := m.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if fd.ContainingOneof() != nil {
			continue
		}
		setField(m, fd)
	}
}

func setField(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
	if fd.IsList() || fd.IsMap() {
		panic("fillMessage: no repeated or map fields in Event yet: teach appendEventJSON and this test " + string(fd.FullName()))
	}
	var v protoreflect.Value
	switch fd.Kind() {
	case protoreflect.StringKind:
		v = protoreflect.ValueOfString("v-" + string(fd.Name()))
	case protoreflect.BoolKind:
		v = protoreflect.ValueOfBool(true)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		v = protoreflect.ValueOfInt32(-7)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		v = protoreflect.ValueOfUint32(7)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		v = protoreflect.ValueOfInt64(-1 << 60)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		v = protoreflect.ValueOfUint64(1 << 63)
	case protoreflect.DoubleKind:
		v = protoreflect.ValueOfFloat64(2.5)
	case protoreflect.FloatKind:
		v = protoreflect.ValueOfFloat32(2.5)
	case protoreflect.BytesKind:
		v = protoreflect.ValueOfBytes([]byte{1})
	case protoreflect.EnumKind:
		v = protoreflect.ValueOfEnum(1)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if fd.Message().FullName() == "google.protobuf.Struct" {
			return // custom properties are left to protojson
		}
		sub := m.NewField(fd)
		fillMessage(sub.Message())
		v = sub
	}
	m.Set(fd, v)
}

// TestAppendJSONCoversEverySchemaField sets every field of the schema, one
// payload at a time, and compares with protojson: a field added to
// event.proto and not to jsonout.go fails here.
func TestAppendJSONCoversEverySchemaField(t *testing.T) {
	payloads := (&Event{}).ProtoReflect().Descriptor().Oneofs().ByName("payload").Fields()
	for i := 0; i < payloads.Len(); i++ {
		fd := payloads.Get(i)
		t.Run(string(fd.Name()), func(t *testing.T) {
			e := &Event{}
			fillMessage(e.ProtoReflect())
			setField(e.ProtoReflect(), fd)
			if _, ok := appendEventJSON(nil, e); !ok {
				t.Fatalf("fast path bailed on %v", e)
			}
			got, want := checkAppendJSON(t, e)
			if !bytes.Contains(got, []byte(`"`+fd.Name()+`":{"`)) {
				t.Errorf("payload %s missing or empty: %s\nprotojson: %s", fd.Name(), got, want)
			}
		})
	}
	if n := (&Event{}).ProtoReflect().Descriptor().Oneofs().Len(); n != 1 {
		t.Errorf("Event has %d oneofs; appendEventJSON knows one", n)
	}
}

// FuzzAppendJSONMatchesProtojson compares AppendJSON with protojson on
// events from two sources: raw decoded as a binary Event (any field, any
// value the wire can carry), and that event with its times, one double and
// its strings overwritten from the other inputs (reaching valid timestamps
// and odd strings more often than random bytes would).
func FuzzAppendJSONMatchesProtojson(f *testing.F) {
	for _, e := range []*Event{validPurchase(), {}, {Seq: math.MaxUint64, Payload: &Event_LevelFail{}}} {
		b, _ := proto.Marshal(e)
		f.Add(b, int64(1_700_000_000), int32(0), 4.99, "e-1")
	}
	f.Add([]byte{}, int64(-62135596801), int32(-1), math.NaN(), "\x7f\xff")
	f.Fuzz(func(t *testing.T, raw []byte, secs int64, nanos int32, x float64, s string) {
		e := &Event{}
		if proto.Unmarshal(raw, e) != nil {
			e = &Event{}
		}
		checkAppendJSON(t, e)

		// secs and nanos as given (mostly out of range) and folded into
		// protojson's range.
		e.ReceivedAt = &timestamppb.Timestamp{Seconds: secs, Nanos: nanos}
		span := int64(maxTimestampSeconds - minTimestampSeconds + 1)
		folded := (secs%span+span)%span + minTimestampSeconds
		e.ClientTime = &timestamppb.Timestamp{Seconds: folded, Nanos: int32(uint32(nanos) % 1_000_000_000)}
		checkAppendJSON(t, e)
		e.ReceivedAt = nil
		checkAppendJSON(t, e)

		e.EventId, e.Device = s, &Device{Locale: s}
		switch p := e.Payload.(type) {
		case *Event_Purchase:
			if p.Purchase != nil {
				p.Purchase.Price = x
			}
		case *Event_Refund:
			if p.Refund != nil {
				p.Refund.Amount = x
			}
		case *Event_AdImpression:
			if p.AdImpression != nil {
				p.AdImpression.Revenue = x
			}
		default:
			e.Payload = &Event_AdImpression{AdImpression: &AdImpression{Revenue: x, Network: s}}
		}
		checkAppendJSON(t, e)
	})
}

// TestCivilDate checks the date arithmetic of appendTimestamp against the
// time package on every day protojson can write, 0001-01-01 to 9999-12-31.
func TestCivilDate(t *testing.T) {
	for days := int64(minTimestampSeconds / 86400); days <= maxTimestampSeconds/86400; days++ {
		y, m, d := civilDate(days)
		wy, wm, wd := time.Unix(days*86400, 0).UTC().Date()
		if y != wy || m != int(wm) || d != wd {
			t.Fatalf("day %d: %04d-%02d-%02d, want %04d-%02d-%02d", days, y, m, d, wy, wm, wd)
		}
	}
}
