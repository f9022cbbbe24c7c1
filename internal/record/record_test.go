package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

var minute = time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)

func TestFloorIsTheWindowStartOnBothSidesOfTheEpoch(t *testing.T) {
	for _, tc := range []struct{ t, size, want int64 }{
		{0, record.MinuteMs, 0}, {59_999, record.MinuteMs, 0}, {60_000, record.MinuteMs, 60_000},
		{-1, record.MinuteMs, -60_000}, {-60_000, record.MinuteMs, -60_000}, {-60_001, record.MinuteMs, -120_000},
		{record.HourMs + 5, record.HourMs, record.HourMs},
	} {
		if got := record.FloorMs(tc.t, tc.size); got != tc.want {
			t.Errorf("FloorMs(%d, %d) = %d, want %d", tc.t, tc.size, got, tc.want)
		}
	}
	in := time.Date(2026, 11, 25, 19, 4, 59, 999_999_999, time.FixedZone("x", 3600))
	if got := record.FloorMinute(in); !got.Equal(minute) || got.Location() != time.UTC {
		t.Errorf("FloorMinute(%v) = %v, want %v in UTC", in, got, minute)
	}
	if got := record.FloorMinute(in).UnixMilli(); got != record.FloorMs(in.UnixMilli(), record.MinuteMs) {
		t.Errorf("FloorMinute and FloorMs disagree: %d", got)
	}
}

func TestReaderReadsWhatWasAppendedAndFailsOnceOnTruncation(t *testing.T) {
	b := []byte{7}
	b = append(b, 0x80|1, 0) // uvarint 1 in two bytes
	b = record.AppendString(b, "héllo")
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01) // varint min int64
	r := record.NewReader(b)
	if c, u, s, v := r.Byte(), r.Uvarint(), r.Str(), r.Varint(); c != 7 || u != 1 || s != "héllo" || v != math.MinInt64 {
		t.Fatalf("read %d %d %q %d", c, u, s, v)
	}
	if err := r.Done(); err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		r := record.NewReader(b[:i])
		r.Byte()
		r.Uvarint()
		r.Str()
		r.Varint()
		if !errors.Is(r.Done(), record.ErrTruncated) {
			t.Errorf("prefix of %d bytes: err %v", i, r.Err())
		}
	}
	if err := record.NewReader([]byte{1, 2}).Done(); !errors.Is(err, record.ErrTrailing) {
		t.Errorf("trailing: %v", err)
	}
	if r := record.NewReader([]byte{100, 1, 2}); r.Count(1) != 0 || r.Err() == nil {
		t.Error("a count the input cannot hold is not an error")
	}
}

func TestAlertRoundTripsBothRulesAndReadsTheOlderForms(t *testing.T) {
	for _, a := range []record.Alert{
		{Rule: "player_purchases_per_minute", Subject: "p-1", GameID: "g-1", Start: minute, End: minute.Add(time.Minute),
			Observed: 7, Threshold: 5, Message: "player p-1 …"},
		{Rule: "revenue_drop", Subject: "g|1", GameID: "g|1", Start: minute, End: minute.Add(time.Minute),
			Observed: 0, Baseline: 1.5e6, Threshold: 7.5e5, Message: `"quoted" <&>`},
		{Rule: "r", Start: minute.Add(time.Millisecond), End: minute.Add(time.Hour), Observed: math.MaxFloat64, Baseline: -1},
	} {
		v, err := a.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if j, err := json.Marshal(&a); err != nil || !bytes.Equal(j, v) { // stage 2 marshals with encoding/json
			t.Errorf("json.Marshal: %s, %v; AppendJSON: %s", j, err, v)
		}
		got, err := record.DecodeAlert(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		want := a
		if want.GameID == "" {
			want.GameID = want.Subject
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got %+v\nwant %+v", v, got, want)
		}
		if a.Key() != a.Rule+"|"+a.Subject {
			t.Errorf("key %q", a.Key())
		}
	}
	// The player rule wrote the window's start alone; the game rules no game_id.
	old, err := record.DecodeAlert([]byte(`{"rule":"x","subject":"p","game_id":"g","window":"2026-11-25T18:04:00Z"}`))
	if err != nil || !old.Start.Equal(minute) || !old.End.Equal(minute.Add(time.Minute)) || old.GameID != "g" {
		t.Errorf("start-only window: %+v %v", old, err)
	}
	old, err = record.DecodeAlert([]byte(`{"rule":"x","subject":"g","window":"2026-11-25T18:04:00Z/2026-11-25T18:05:00Z"}`))
	if err != nil || old.GameID != "g" {
		t.Errorf("no game_id: %+v %v", old, err)
	}
	for _, bad := range []string{`{}`, `{"rule":"x","window":""}`, `{"rule":"x","window":"2026-11-25T18:04:00Z/x"}`, `[]`, `null`} {
		if _, err := record.DecodeAlert([]byte(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestSessionRoundTrips(t *testing.T) {
	s := record.Session{SessionID: "s-1", PlayerID: "p", GameID: "g", Platform: "ios", Country: "DE", Start: minute,
		End: minute.Add(90 * time.Second), DurationMs: 90_000, Events: 1 << 40, RevenueUSDMicros: -5, LevelsPlayed: 3, ClosedBy: record.ClosedByGap}
	v, err := s.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := record.DecodeSession(v)
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("got %+v, %v; want %+v", got, err, s)
	}
	if _, err := record.DecodeSession([]byte(`{"session_id":"s"}`)); err == nil {
		t.Error("a session without start decoded")
	}
}

func TestKPIAndCompletenessRowsRoundTrip(t *testing.T) {
	k := record.KPI{Key: record.KPIKey(record.Hour, minute.Truncate(time.Hour), "g|x", "*", "*"), Window: record.Hour,
		Start: minute.Truncate(time.Hour), End: minute.Truncate(time.Hour).Add(time.Hour), Game: "g|x", Platform: "*", Country: "*",
		ActivePlayers: 1<<63 - 1, NewPlayers: 2, SessionsStarted: 3, Purchases: 4, Payers: 5, RevenueMicros: -6,
		PurchaseRevenueMicros: 7, Refunds: 8, RefundMicros: 9, AdImpressions: 10, AdRevenueMicros: 11,
		Levels: []record.Level{{Level: -1, Starts: 1}, {Level: 1 << 30, Fails: 2}}, Gaps: -12, Duplicates: 13, OutOfOrder: 14,
		Final: true, Version: 2, Watermark: minute.Add(3 * time.Hour)}
	v, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	got, comp, err := record.DecodeKPI([]byte(k.Key), v)
	if err != nil || comp != nil || !reflect.DeepEqual(*got, k) {
		t.Fatalf("got %+v %v %v; want %+v", got, comp, err, k)
	}
	w, start, game, platform, country, err := record.ParseKPIKey(k.Key)
	if err != nil || w != record.Hour || !start.Equal(k.Start) || game != "g|x" || platform != "*" || country != "*" {
		t.Errorf("ParseKPIKey(%q) = %v %v %q %q %q %v", k.Key, w, start, game, platform, country, err)
	}
	k.Levels, k.Watermark, k.Final, k.Version = nil, time.Time{}, false, 0 // a provisional row with no levels
	v, _ = json.Marshal(k)
	got, _, err = record.DecodeKPI([]byte(k.Key), v)
	if err != nil || got.Levels == nil || len(got.Levels) != 0 || !got.Watermark.IsZero() {
		t.Errorf("provisional row: %+v %v", got, err)
	}
	if _, _, err := record.DecodeKPI([]byte("minute|x"), v); err == nil {
		t.Error("a key window that is not the value's decoded")
	}

	ck := record.CompletenessKey{Game: "g", Platform: "web", Build: "1.2+3", Minute: minute.UnixMilli()}
	c := ck.Row(record.CompletenessCounts{Gaps: -1, Duplicates: 2, OutOfOrder: 3}, minute.Add(time.Hour))
	v, _ = json.Marshal(c)
	_, gotc, err := record.DecodeKPI([]byte(ck.String()), v)
	if err != nil || !reflect.DeepEqual(*gotc, c) {
		t.Errorf("completeness: got %+v %v; want %+v", gotc, err, c)
	}
	if ck.String() != "completeness|minute|2026-11-25T18:04:00Z|g|web|1.2+3" || ck.PartitionKey() != "g|web|1.2+3" {
		t.Errorf("keys %q %q", ck.String(), ck.PartitionKey())
	}
}

func TestDeadLetterAndLateHeadersRoundTrip(t *testing.T) {
	d := record.DeadLetter{Code: "invalid_value", Reason: "amount: too large", SourceTopic: "raw", SourcePartition: 1<<31 - 1, SourceOffset: 1<<63 - 1}
	got, err := record.DecodeDeadLetter(d.Headers())
	if err != nil || got != d {
		t.Errorf("got %+v %v; want %+v", got, err, d)
	}
	got, err = record.DecodeDeadLetter(nil)
	if err != nil || got.SourcePartition != -1 || got.SourceOffset != -1 {
		t.Errorf("no headers: %+v %v", got, err)
	}
	if _, err := record.DecodeDeadLetter([]record.Header{{Key: "source_offset", Value: []byte("-1")}}); err == nil {
		t.Error("a negative offset decoded")
	}
	wm := minute.Add(123 * time.Millisecond)
	if got, err := record.DecodeLate(record.LateHeaders(wm)); err != nil || !got.Equal(wm) {
		t.Errorf("late: %v %v", got, err)
	}
}

func sampleEvent(t testing.TB) *event.Event {
	e := &event.Event{}
	err := protojson.Unmarshal([]byte(`{"schema_version":1,"event_id":"e-1","event_type":"purchase","game_id":"g","player_id":"p",
		"session_id":"s","seq":"42","client_time":"2026-11-25T18:04:05.123456Z","platform":"ios","app_version":"1.0","app_build":"7",
		"country":"DE","purchase":{"sku":"gems","price":0.99,"currency":"EUR","store_transaction_id":"t-1"}}`), e)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEnrichedRoundTrips(t *testing.T) {
	e := sampleEvent(t)
	en := record.Enrichment{PlatformNorm: "ios", CountryNorm: "DE", RevenueUSDMicros: 1_070_000, FirstSeen: minute.Add(-48 * time.Hour),
		DaysSinceInstall: 2, LifetimeSpendUSDMicros: 5_000_000, Payer: true, SessionCount: 3, NewPlayer: false}
	v, err := record.AppendEnriched([]byte("prefix"), e, &en)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(v, []byte("prefix")) || !json.Valid(v[6:]) {
		t.Fatalf("not appended JSON: %s", v)
	}
	got, err := record.DecodeEnriched(v[6:])
	if err != nil {
		t.Fatal(err)
	}
	if got.Enrichment != en || got.EventID != "e-1" || got.EventType != "purchase" || got.Seq != 42 || got.SchemaVersion != 1 ||
		got.GameID != "g" || got.PlayerID != "p" || got.SessionID != "s" || got.AppBuild != "7" || got.AppVersion != "1.0" ||
		!got.ClientTime.Equal(time.Date(2026, 11, 25, 18, 4, 5, 123_000_000, time.UTC)) || got.Extra != nil {
		t.Errorf("got %+v", got)
	}
	var p map[string]any
	if err := json.Unmarshal(got.Payload, &p); err != nil || p["sku"] != "gems" {
		t.Errorf("payload %s", got.Payload)
	}
	if record.EnrichedKey(e) != "p" {
		t.Errorf("key %q", record.EnrichedKey(e))
	}
}

func TestPartialsRoundTripEveryKind(t *testing.T) {
	for name, tc := range map[string]record.Partials{
		"partial":   {Partial: &record.Partial{Source: 3, Key: record.KPIKey(record.Minute, minute, "g", "ios", "DE"), Aggregate: []byte{1, 2, 3}}},
		"empty agg": {Partial: &record.Partial{Source: 0, Key: "", Aggregate: []byte{}}},
		"mark":      {Mark: &record.Mark{Source: 1<<31 - 1, Watermark: minute.Add(time.Millisecond), Idle: true}},
		"zero mark": {Mark: &record.Mark{}},
		"ledger": {Ledger: &record.LedgerDelta{Source: 1, Row: record.CompletenessKey{Game: "g", Platform: "ios", Build: "", Minute: -60_000},
			Counts: record.CompletenessCounts{Gaps: math.MinInt64, Duplicates: math.MaxInt64, OutOfOrder: 0}}},
	} {
		var v []byte
		switch {
		case tc.Partial != nil:
			v = tc.Partial.AppendEncode(nil)
		case tc.Mark != nil:
			v = tc.Mark.AppendEncode(nil)
		default:
			v = tc.Ledger.AppendEncode(nil)
		}
		got, err := record.DecodePartials(v)
		if err != nil || !reflect.DeepEqual(got, tc) {
			t.Errorf("%s: got %+v %v, want %+v", name, got, err, tc)
		}
		for i := range len(v) - 1 {
			if _, err := record.DecodePartials(v[:i]); err == nil && tc.Partial == nil {
				t.Errorf("%s: prefix of %d bytes decoded", name, i)
			} else if err != nil && !errors.Is(err, record.ErrCorruptPartial) {
				t.Errorf("%s: %v does not wrap ErrCorruptPartial", name, err)
			}
		}
	}
	for name, v := range map[string][]byte{"version": {1, 9, 0}, "kind": {9, 1, 0}, "source": {2, 1, 1, 0, 0}, "idle": {2, 1, 0, 0, 2}} {
		if _, err := record.DecodePartials(v); !errors.Is(err, record.ErrCorruptPartial) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// TestRawEncodingRoundTrip: the headers of each encoding read back as it;
// no header is Protobuf; the last content-type header counts; a content
// type naming neither is record.EncodingUnknown; the setting's names parse.
func TestRawEncodingRoundTrip(t *testing.T) {
	for _, enc := range []record.Encoding{record.EncodingProtobuf, record.EncodingJSON} {
		if got := record.RawEncoding(record.RawHeaders(enc)); got != enc {
			t.Errorf("record.RawEncoding(record.RawHeaders(%s)) = %s", enc, got)
		}
		if got, ok := record.ParseEncoding(enc.String()); !ok || got != enc {
			t.Errorf("record.ParseEncoding(%q) = %s, %v", enc.String(), got, ok)
		}
	}
	for _, tc := range []struct {
		name    string
		headers []record.Header
		want    record.Encoding
	}{
		{"none", nil, record.EncodingProtobuf},
		{"other headers", []record.Header{{Key: "trace", Value: []byte("x")}}, record.EncodingProtobuf},
		{"json", []record.Header{{Key: "trace"}, {Key: record.HeaderContentType, Value: []byte(record.ContentTypeJSON)}}, record.EncodingJSON},
		{"last wins", []record.Header{{Key: record.HeaderContentType, Value: []byte(record.ContentTypeJSON)}, {Key: record.HeaderContentType, Value: []byte(record.ContentTypeProtobuf)}}, record.EncodingProtobuf},
		{"unknown", []record.Header{{Key: record.HeaderContentType, Value: []byte("text/csv")}}, record.EncodingUnknown},
		{"empty", []record.Header{{Key: record.HeaderContentType}}, record.EncodingUnknown},
	} {
		if got := record.RawEncoding(tc.headers); got != tc.want {
			t.Errorf("%s: RawEncoding = %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, ok := record.ParseEncoding("avro"); ok {
		t.Error("ParseEncoding accepted avro")
	}
}
