package recordjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

func line(t *testing.T, r *kgo.Record, k Kind) Line {
	t.Helper()
	b := AppendLine(nil, r, k)
	if bytes.IndexByte(b, '\n') != len(b)-1 {
		t.Fatalf("not exactly one line: %q", b)
	}
	var l Line
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return l
}

// A binary event holding newline bytes is one line, decoded into the
// event's JSON form.
func TestAnEventWithNewlineBytesIsOneDecodedLine(t *testing.T) {
	e := &event.Event{SchemaVersion: 1, EventId: "0123456789", EventType: event.TypeLogin, GameId: "g\n1",
		PlayerId: "p-1", SessionId: "s-1", Seq: 10, ClientTime: timestamppb.New(time.Unix(1764000000, 0)),
		Payload: &event.Event_Login{Login: &event.Login{Method: "guest"}}}
	v, err := event.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(v, []byte{'\n'}) < 2 {
		t.Fatalf("fixture: want newline bytes in %q", v)
	}
	l := line(t, &kgo.Record{Topic: "raw", Key: []byte("p-1"), Value: v, Timestamp: time.UnixMilli(1)}, Event)
	want, _ := event.MarshalJSON(e)
	var got, exp any
	json.Unmarshal(l.Value, &got)
	json.Unmarshal(want, &exp)
	if l.DecodeError != "" || *l.Key != "p-1" || l.Timestamp != "1970-01-01T00:00:00.001Z" || !jsonEqual(got, exp) {
		t.Fatalf("got %+v, value %s; want value %s", l, l.Value, want)
	}
}

// A raw record is decoded by its content-type header: the same event in
// either encoding prints the same value, and JSON that is no event, or a
// header naming neither encoding, is a decode error.
func TestRawRecordsOfBothEncodingsPrintTheSameEvent(t *testing.T) {
	e := &event.Event{SchemaVersion: 1, EventId: "e-1", EventType: event.TypeLogin, GameId: "g1",
		PlayerId: "p-1", SessionId: "s-1", Seq: 3, ClientTime: timestamppb.New(time.Unix(1764000000, 5)),
		ReceivedAt: timestamppb.New(time.Unix(1764000001, 0)), Payload: &event.Event_Login{Login: &event.Login{Method: "guest"}}}
	pb, _ := event.Marshal(e)
	js, _ := event.MarshalJSON(e)
	hdr := func(enc record.Encoding) []kgo.RecordHeader {
		return []kgo.RecordHeader{{Key: record.HeaderContentType, Value: []byte(enc.ContentType())}}
	}
	for _, tc := range []struct {
		name    string
		value   []byte
		headers []kgo.RecordHeader
		wantErr bool
	}{
		{"protobuf without header", pb, nil, false},
		{"protobuf", pb, hdr(record.EncodingProtobuf), false},
		{"json", js, hdr(record.EncodingJSON), false},
		{"json without header", js, nil, true},
		{"broken json", []byte(`{"event_id":}`), hdr(record.EncodingJSON), true},
		{"unknown content type", js, []kgo.RecordHeader{{Key: record.HeaderContentType, Value: []byte("text/csv")}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := line(t, &kgo.Record{Topic: "raw", Value: tc.value, Headers: tc.headers}, Event)
			if tc.wantErr {
				if l.DecodeError == "" || l.ValueBase64 == "" {
					t.Fatalf("want a decode error and the bytes in base64, got %+v", l)
				}
				return
			}
			if l.DecodeError != "" || string(l.Value) != string(js) {
				t.Fatalf("got %s (%s), want %s", l.Value, l.DecodeError, js)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestUndecodableValuesAreBase64WithTheReason(t *testing.T) {
	for _, c := range []struct {
		k    Kind
		v    []byte
		want string
	}{
		{Event, []byte("{not protobuf\n"), "not a Protobuf event"},
		{JSON, []byte{0x0a, 0xff}, "not JSON"},
		{Internal, []byte{1, 2}, "not a partials record"},
		{Unknown, []byte("plain\ntext"), "not JSON"},
	} {
		l := line(t, &kgo.Record{Value: c.v}, c.k)
		if string(l.Value) != "null" || l.ValueBase64 != base64.StdEncoding.EncodeToString(c.v) || !strings.Contains(l.DecodeError, c.want) {
			t.Errorf("kind %d, %q: %+v", c.k, c.v, l)
		}
	}
	// JSON over several lines is passed through, on one line.
	l := line(t, &kgo.Record{Value: []byte("{\n  \"a\": \"<b>\"\n}"), Key: []byte{0xff}}, JSON)
	if string(l.Value) != `{"a":"<b>"}` || l.Key != nil || l.KeyBase64 != "/w==" {
		t.Fatalf("%+v", l)
	}
	// A tombstone is null, and no error.
	if l := line(t, &kgo.Record{}, JSON); string(l.Value) != "null" || l.DecodeError != "" {
		t.Fatalf("tombstone: %+v", l)
	}
}

func TestKindOfThePipelinesTopics(t *testing.T) {
	top := kafka.DefaultTopicConfig()
	for topic, want := range map[string]Kind{top.Raw: Event, top.DeadLetter: Event, top.Enriched: JSON, top.Late: JSON,
		top.Sessions: JSON, top.KPI: JSON, top.Alerts: JSON, "gamepulse.kpi.partials": Internal, "other": Unknown} {
		if got := KindOf(top, "gamepulse.kpi.partials", topic); got != want {
			t.Errorf("KindOf(%s) = %d, want %d", topic, got, want)
		}
	}
}

// FuzzAppendLine: whatever a record holds, it is printed as exactly one line
// of valid JSON, with the value decoded or in base64 with a reason.
func FuzzAppendLine(f *testing.F) {
	f.Add(uint8(Event), []byte("p-1"), []byte{0x0a, 0x03, 'a', '\n', 'c'})
	f.Add(uint8(JSON), []byte{0xff}, []byte("{\n  \"a\": \"<b>\"\n}"))
	f.Add(uint8(Unknown), []byte(nil), []byte(nil))
	f.Add(uint8(Internal), []byte("mark"), []byte{1, 2, 3})
	f.Add(uint8(Event), []byte("k"), []byte("\x12\x02\xff\xfe"))
	f.Fuzz(func(t *testing.T, kind uint8, key, value []byte) {
		r := &kgo.Record{Topic: "t", Partition: 1, Offset: 42, Key: key, Value: value,
			Headers: []kgo.RecordHeader{{Key: string(key), Value: value}}, Timestamp: time.UnixMilli(1)}
		l := line(t, r, Kind(kind%4))
		switch {
		case l.Offset != 42 || l.Topic != "t" || len(l.Headers) != 1:
			t.Fatalf("record position lost: %+v", l)
		case l.DecodeError != "" && (string(l.Value) != "null" || l.ValueBase64 != base64.StdEncoding.EncodeToString(value)):
			t.Fatalf("undecoded value without its base64: %+v", l)
		case l.DecodeError == "" && !json.Valid(l.Value):
			t.Fatalf("decoded value is not JSON: %+v", l)
		}
	})
}

func TestPartialsAreDecodedThroughRecord(t *testing.T) {
	wm := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	a := &kpi.Aggregate{}
	a.Add(kpi.Input{Time: wm, Player: "p1", Game: "g", Platform: "ios", Country: "DE", Type: "purchase", RevenueMicros: 5})
	k := kpi.MinuteKey(wm, "g", "ios", "DE")
	for _, c := range []struct {
		v    []byte
		want string
	}{
		{a.AppendEncode((&record.Partial{Source: 3, Key: k.String()}).AppendEncode(nil)), `"kind":"partial","source":3,"row":{"key":"minute|2026-11-25T18:04:00Z|g|ios|DE"`},
		{(&record.Mark{Source: 1, Watermark: wm, Idle: true}).AppendEncode(nil), `{"kind":"mark","source":1,"watermark":"2026-11-25T18:04:00Z","idle":true}`},
		{(&record.LedgerDelta{Source: 2, Row: record.CompletenessKey{Game: "g", Platform: "web", Build: "7", Minute: wm.UnixMilli()},
			Counts: record.CompletenessCounts{Gaps: -1}}).AppendEncode(nil),
			`{"kind":"ledger","source":2,"ledger":{"start":"2026-11-25T18:04:00Z","game":"g","platform":"web","app_build":"7","gaps":-1,"duplicates":0,"out_of_order":0}}`},
	} {
		l := line(t, &kgo.Record{Value: c.v}, Internal)
		if l.DecodeError != "" || !strings.Contains(string(l.Value), c.want) {
			t.Errorf("%x: got %s %q, want %s", c.v, l.Value, l.DecodeError, c.want)
		}
	}
}
