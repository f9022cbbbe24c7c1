package oracle

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/record"
)

// TestPartitionMatchesFranzGo checks the oracle's murmur2 partitioner
// against franz-go's key partitioner (the gateway's default hashes keys the
// same way) on random keys of every length up to 64 bytes.
func TestPartitionMatchesFranzGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	kp := kgo.StickyKeyPartitioner(nil).ForTopic("raw")
	for i := range 20_000 {
		key := make([]byte, i%65)
		for j := range key {
			key[j] = byte(r.Uint32())
		}
		if i%3 == 0 {
			key = fmt.Appendf(nil, "player-%d", i)
		}
		for _, n := range []int{1, 2, 3, 12, 64, 1000} {
			want := kp.Partition(&kgo.Record{Key: key}, n)
			if got := Partition(string(key), n); got != want {
				t.Fatalf("key %q over %d partitions: %d, franz-go says %d", key, n, got, want)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"ios": "ios", "iOS": "ios", "IOS": "ios", "iPhone": "ios", "iPad": "ios", "iPadOS": "ios", "iPod": "ios",
		"android": "android", "Android": "android", " android\t": "android",
		"web": "web", "WebGL": "web", "HTML5": "web", "browser": "web",
		"Windows": "windows", "win": "windows", "PC": "windows", "Win32": "windows", "win64": "windows",
		"macOS": "macos", "Mac": "macos", "OSX": "macos", "MacOSX": "macos", "Mac OS": "macos", "Mac OS X": "macos",
		"linux": "linux", "Switch": "switch", "Nintendo Switch": "switch", "nintendo_switch": "switch", "NintendoSwitch": "switch",
		"PlayStation": "playstation", "PS": "playstation", "PS4": "playstation", "ps5": "playstation",
		"XBOX": "xbox", "XboxOne": "xbox", "Xbox One": "xbox", "xbox_one": "xbox", "XboxSeries": "xbox", "Xbox Series": "xbox", "xbox_series": "xbox",
		"": "other", " ": "other", "tvOS": "other", "ios ": "ios", "\r\nmac\n": "macos", "mac  os": "other", "\u00a0ios": "other",
		"İOS": "other", // not ASCII: no Unicode case folding
	} {
		if got := NormalizePlatform(in); got != want {
			t.Errorf("NormalizePlatform(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"": "ZZ", "de": "DE", "De": "DE", "US": "US"} {
		if got := NormalizeCountry(in); got != want {
			t.Errorf("NormalizeCountry(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUSDMicros(t *testing.T) {
	rates := map[string]float64{"EUR": 1.1, "JPY": 0.0067, "HLF": 0.5}
	for _, tc := range []struct {
		amount         float64
		currency       string
		want           int64
		known, inRange bool
	}{
		{4.99, "USD", 4_990_000, true, true}, // USD is 1 without being listed
		{4.99, "EUR", 5_489_000, true, true},
		{4.99, "eur", 5_489_000, true, true},
		{160, "JPY", 1_072_000, true, true},
		{0.0025, "", 2500, true, true},
		{1, "GBP", 0, false, false},
		{0.000005, "HLF", 3, true, true},   // 2.5 micros: halves round away from zero
		{-0.000005, "HLF", -3, true, true}, // so a refund is exactly minus its purchase
		{0.000003, "HLF", 2, true, true},   // 1.5
		{1e10, "USD", 0, true, false},      // more than 2^53 micro-USD
		{9e9, "USD", 9e15, true, true},
		{1e300, "USD", 0, true, false},
		{math.NaN(), "USD", 0, true, false},
	} {
		got, known, inRange := USDMicros(tc.amount, tc.currency, rates)
		if got != tc.want || known != tc.known || inRange != tc.inRange {
			t.Errorf("USDMicros(%v, %q) = %d, %v, %v; want %d, %v, %v", tc.amount, tc.currency, got, known, inRange, tc.want, tc.known, tc.inRange)
		}
	}
}

// TestRecordServerFields: the record's game and received_at stand in for
// the event's, and are required.
func TestRecordServerFields(t *testing.T) {
	login := func(game string, received *timestamppb.Timestamp) *event.Event {
		return &event.Event{EventId: fmt.Sprint("e", game, received != nil), EventType: event.TypeLogin, PlayerId: "p",
			SessionId: "s", Seq: 1, GameId: game, ReceivedAt: received,
			ClientTime: timestamppb.New(testDay.Add(18 * time.Hour)), Payload: &event.Event_Login{Login: &event.Login{}}}
	}
	now := timestamppb.New(received)
	rep, err := Run([]Record{
		{Event: login("", now)},                                   // no game anywhere
		{Event: login("spoofed", nil)},                            // no received_at anywhere
		{Event: login("spoofed", now), Game: "real"},              // the server's game wins
		{Event: login("", nil), Game: "g2", ReceivedAt: received}, // both from the record
		{Code: event.CodeNotObject},
		{},
	}, Params{Rates: map[string]float64{"USD": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DeadLetters[event.CodeMissingField] != 2 || rep.DeadLetters[event.CodeNotObject] != 1 || rep.DeadLetters[event.CodeMalformed] != 1 {
		t.Fatalf("dead letters %v", rep.DeadLetters)
	}
	if rep.Processed != 2 {
		t.Fatalf("processed %d", rep.Processed)
	}
	games := map[string]bool{}
	for _, k := range rep.KPIs {
		games[k.Game] = true
	}
	if !games["real"] || !games["g2"] || games["spoofed"] || len(games) != 2 {
		t.Fatalf("games %v", games)
	}
}

// TestRecordPartition: a record's own partition wins over the key's, and a
// partition out of range is a programming error.
func TestRecordPartition(t *testing.T) {
	login := func(id string, sec int) *event.Event {
		return &event.Event{EventId: id, EventType: event.TypeLogin, GameId: "g", PlayerId: "p", SessionId: "s", Seq: 1,
			ClientTime: timestamppb.New(testDay.Add(18*time.Hour + time.Duration(sec)*time.Second)),
			ReceivedAt: timestamppb.New(received), Payload: &event.Event_Login{Login: &event.Login{}}}
	}
	key := Partition("p", 2)
	run := func(recs ...Record) *Report {
		t.Helper()
		rep, err := Run(recs, Params{Rates: map[string]float64{"USD": 1}, Partitions: 2})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	// The copy on the key's partition is a duplicate; on the other one it
	// is not (dedup is per partition).
	if rep := run(Record{Event: login("e1", 0)}, Record{Event: login("e1", 0), Partition: key, HasPartition: true}); rep.DuplicateEvents != 1 {
		t.Errorf("same partition: %d duplicates", rep.DuplicateEvents)
	}
	if rep := run(Record{Event: login("e1", 0)}, Record{Event: login("e1", 0), Partition: 1 - key, HasPartition: true}); rep.DuplicateEvents != 0 || len(rep.OpenSessions) != 2 {
		t.Errorf("other partition: %d duplicates, %d open sessions", rep.DuplicateEvents, len(rep.OpenSessions))
	}
	// A malformed record may carry any partition in range.
	if rep := run(Record{Code: event.CodeMalformed, Partition: 1, HasPartition: true}); rep.DeadLetters[event.CodeMalformed] != 1 {
		t.Errorf("dead letters %v", rep.DeadLetters)
	}
	defer func() {
		if recover() == nil {
			t.Error("partition 2 of 2: no panic")
		}
	}()
	run(Record{Event: login("e1", 0), Partition: 2, HasPartition: true})
}

// TestSessionJSON: Session has exactly the fields of the sessions topic's
// JSON (jobs.Session), so a record decodes into it without loss.
func TestSessionJSON(t *testing.T) {
	fields := func(v any) []string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return slices.Sorted(maps.Keys(m))
	}
	if o, j := fields(Session{}), fields(jobs.Session{}); !slices.Equal(o, j) {
		t.Errorf("oracle.Session fields %v, jobs.Session fields %v", o, j)
	}
}

// TestClockSkew: client_time (truncated to the millisecond) after
// received_at + MaxFuture is a dead letter; the record's received_at stands
// in for the event's; an invalid received_at is invalid_value.
func TestClockSkew(t *testing.T) {
	at := testDay.Add(18 * time.Hour)
	login := func(id string, client time.Time, received *timestamppb.Timestamp) *event.Event {
		return &event.Event{EventId: id, EventType: event.TypeLogin, GameId: "g", PlayerId: "p", SessionId: "s", Seq: 1,
			ClientTime: timestamppb.New(client), ReceivedAt: received, Payload: &event.Event_Login{Login: &event.Login{}}}
	}
	for _, tc := range []struct {
		name string
		rec  Record
		want string // dead-letter code, "" when accepted
	}{
		{"1 ms past", Record{Event: login("a", at.Add(10*time.Minute+time.Millisecond), timestamppb.New(at))}, event.CodeClockSkew},
		{"0.999 ms past: truncated", Record{Event: login("b", at.Add(10*time.Minute+999*time.Microsecond), timestamppb.New(at))}, ""},
		{"the record's received_at", Record{Event: login("c", at.Add(time.Hour), timestamppb.New(at)), ReceivedAt: at.Add(55 * time.Minute)}, ""},
		{"the record's received_at, skew", Record{Event: login("d", at.Add(time.Hour), timestamppb.New(at.Add(time.Hour))), ReceivedAt: at}, event.CodeClockSkew},
		{"far in the past", Record{Event: login("e", at.Add(-48*time.Hour), timestamppb.New(at))}, ""},
		{"invalid received_at", Record{Event: login("f", at, &timestamppb.Timestamp{Nanos: -1})}, event.CodeInvalidValue},
	} {
		rep, err := Run([]Record{tc.rec}, Params{Rates: map[string]float64{"USD": 1}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		if tc.want != "" {
			want[tc.want] = 1
		}
		if !maps.Equal(rep.DeadLetters, want) {
			t.Errorf("%s: dead letters %v, want %v", tc.name, rep.DeadLetters, want)
		}
	}
	// A shorter MaxFuture.
	rep, err := Run([]Record{{Event: login("g", at.Add(2*time.Minute+time.Millisecond), timestamppb.New(at))}},
		Params{Rates: map[string]float64{"USD": 1}, MaxFuture: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if rep.DeadLetters[event.CodeClockSkew] != 1 {
		t.Errorf("MaxFuture 2m: dead letters %v", rep.DeadLetters)
	}
}

// TestDecodeRawReadsBothEncodings: the same event decodes from its
// Protobuf and its JSON raw record; what does not decode in the record's
// encoding, or comes with a content type naming neither, is malformed.
func TestDecodeRawReadsBothEncodings(t *testing.T) {
	e := &event.Event{SchemaVersion: 1, EventId: "e1", EventType: event.TypePurchase, GameId: "g", PlayerId: "p",
		SessionId: "s", Seq: 2, ClientTime: timestamppb.New(time.Unix(1764000000, 123456789)),
		ReceivedAt: timestamppb.New(time.Unix(1764000001, 0)), Platform: "ios", Country: "DE",
		Payload: &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems", Price: 1.99, Currency: "EUR", StoreTransactionId: "T"}}}
	pb, _ := event.Marshal(e)
	js, _ := event.MarshalJSON(e)
	for _, tc := range []struct {
		name  string
		value []byte
		enc   record.Encoding
		ok    bool
	}{
		{"protobuf", pb, record.EncodingProtobuf, true},
		{"json", js, record.EncodingJSON, true},
		{"json read as protobuf", []byte(`{"event_id":"e1"}`), record.EncodingProtobuf, false},
		{"protobuf read as json", pb, record.EncodingJSON, false},
		{"broken json", []byte(`{"event_id":"e1",}`), record.EncodingJSON, false},
		{"json not an object", []byte(`["e1"]`), record.EncodingJSON, false},
		{"unknown content type", js, record.EncodingUnknown, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := DecodeRaw(tc.value, tc.enc)
			if !tc.ok {
				if r.Event != nil || r.Code != event.CodeMalformed {
					t.Fatalf("got %+v, want malformed", r)
				}
				return
			}
			if r.Code != "" || !proto.Equal(r.Event, e) {
				t.Fatalf("got %v (code %q), want %v", r.Event, r.Code, e)
			}
		})
	}
}
