package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
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
		"ios": "ios", "iOS": "ios", "IOS": "ios", "iPhone": "ios", "iPad": "ios", "iPadOS": "ios",
		"android": "android", "Android": "android", "web": "web", "Windows": "windows", "macOS": "macos",
		"linux": "linux", "Switch": "switch", "PlayStation": "playstation", "XBOX": "xbox",
		"": "other", "tvOS": "other", "ios ": "other", "mac": "other",
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
	rates := map[string]float64{"USD": 1, "EUR": 1.1, "JPY": 0.0067, "HALF": 0.5}
	for _, tc := range []struct {
		amount   float64
		currency string
		want     int64
		ok       bool
	}{
		{4.99, "USD", 4_990_000, true},
		{4.99, "EUR", 5_489_000, true},
		{4.99, "eur", 5_489_000, true},
		{160, "JPY", 1_072_000, true},
		{0.0025, "", 2500, true},
		{1, "GBP", 0, false},
		{0.000005, "HALF", 3, true},   // 2.5 micros: halves round away from zero
		{-0.000005, "HALF", -3, true}, // so a refund is exactly minus its purchase
		{0.000003, "HALF", 2, true},   // 1.5
		{1e300, "USD", 0, false},      // does not fit in int64
		{math.NaN(), "USD", 0, false},
	} {
		got, ok := USDMicros(tc.amount, tc.currency, rates)
		if got != tc.want || ok != tc.ok {
			t.Errorf("USDMicros(%v, %q) = %d, %v; want %d, %v", tc.amount, tc.currency, got, ok, tc.want, tc.ok)
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
