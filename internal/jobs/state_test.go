package jobs

import (
	"bytes"
	"reflect"
	"testing"
)

// stateCodec is one state type as a value that can encode and decode itself.
type stateCodec interface {
	Encode([]byte) []byte
	Decode([]byte) error
}

func stateSamples() []stateCodec {
	return []stateCodec{
		&Clock{}, &Clock{MaxEventTime: 1764093600000}, &Clock{MaxEventTime: -5},
		&DedupEntry{}, &DedupEntry{Time: 1764093600123},
		&FraudCount{Count: 6},
		&LedgerSession{Highest: 1, Last: 1764093600000},
		&LedgerSession{Highest: 1 << 40, Last: -1, Missing: []MissingRange{
			{Lo: 1, Hi: 1, Window: 1764093600000, Platform: "ios", AppBuild: "1.0+7"},
			{Lo: 3, Hi: 1<<40 - 1, Window: 1764093660000, Platform: "other"},
		}},
		&PlayerState{FirstSeen: 1764093600000, Sessions: 1},
		&PlayerState{
			Events: 99, FirstSeen: 1764093600000, Purchases: 3, LifetimeSpendMicros: -7_807_000, Sessions: 12,
			LastClosedID: "s-11", LastClosedEnd: 1764093000000,
			Open: &OpenSession{ID: "s-12", Platform: "ios", Country: "BR", Start: 1764093600000, Last: 1764093900000,
				Events: 40, RevenueMicros: 1_990_000, Levels: []int32{-3, 0, 1, 2, 17}},
		},
		&PlayerState{Open: &OpenSession{ID: "s"}},
	}
}

func TestStateRoundTrip(t *testing.T) {
	for _, s := range stateSamples() {
		b := s.Encode(nil)
		got := reflect.New(reflect.TypeOf(s).Elem()).Interface().(stateCodec)
		if err := got.Decode(b); err != nil {
			t.Fatalf("%T %+v: %v", s, s, err)
		}
		if p, ok := s.(*PlayerState); ok { // the unexported hashes are derived on decode
			p.lastClosedSH = hash1('s', p.LastClosedID)
			if p.Open != nil {
				p.Open.sh = hash1('s', p.Open.ID)
			}
		}
		if !reflect.DeepEqual(got, s) {
			t.Errorf("%T round trip:\n got %+v\nwant %+v", s, got, s)
		}
		// Appending keeps the prefix.
		if c := s.Encode([]byte("xy")); !bytes.Equal(c[2:], b) || string(c[:2]) != "xy" {
			t.Errorf("%T: Encode does not append", s)
		}
		// Every truncation and a trailing byte are errors, never panics.
		for n := 0; n < len(b); n++ {
			if err := got.Decode(b[:n]); err == nil {
				t.Errorf("%T: truncated to %d bytes: no error", s, n)
			}
		}
		if err := got.Decode(append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%T: trailing byte: no error", s)
		}
		bad := bytes.Clone(b)
		bad[0] = 99
		if err := got.Decode(bad); err == nil {
			t.Errorf("%T: unknown version: no error", s)
		}
	}
}

func TestStoreKeys(t *testing.T) {
	pk := playerKey{game: "g\x00", player: "p|1"}
	if got, err := parsePlayerStoreKey(appendPlayerStoreKey(nil, pk)); err != nil || got != pk {
		t.Errorf("player key: %+v %v", got, err)
	}
	hk := hash1('e', "e-1")
	if got, err := parseHashStoreKey(StoreDedup, hk[:]); err != nil || got != hk {
		t.Errorf("hash key: %x %v", got, err)
	}
	sh := hash1('s', "s-1")
	if gk, gs, err := parseLedgerStoreKey(appendLedgerStoreKey(nil, pk, sh)); err != nil || gk != pk || gs != sh {
		t.Errorf("ledger key: %+v %x %v", gk, gs, err)
	}
	if _, _, err := parseLedgerStoreKey(append(appendLedgerStoreKey(nil, pk, sh), 0)); err == nil {
		t.Error("bad ledger key accepted")
	}
	if _, err := parseHashStoreKey(StoreDedup, []byte("x1")); err == nil {
		t.Error("bad dedup key accepted")
	}
	if _, err := parseFraudStoreKey([]byte{5, 'a'}); err == nil {
		t.Error("bad fraud key accepted")
	}
}

func TestRestoreErrors(t *testing.T) {
	s, err := NewStage(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		store      string
		key, value []byte
	}{
		{"nope", nil, nil},
		{StoreClock, []byte("other"), []byte{1, 0}},
		{StoreClock, []byte(clockKey), []byte{2, 0}},
		{StoreDedup, []byte("zz"), []byte{1, 0}},
		{StoreDedup, make([]byte, 16), []byte{1}},
		{StorePlayers, []byte{9}, []byte{1}},
		{StorePlayers, appendPlayerStoreKey(nil, playerKey{"g", "p"}), []byte{1, 0}},
		{StoreLedger, appendLedgerStoreKey(nil, playerKey{"g", "p"}, idHash{}), []byte{1}},
		{StoreLedger, []byte("short"), []byte{1, 0, 0, 0}},
		{StoreFraud, appendFraudStoreKey(nil, fraudKey{"g", "p", 0}), []byte{}},
	} {
		if err := s.Restore(tc.store, tc.key, tc.value); err == nil {
			t.Errorf("Restore(%s, %q, %v): no error", tc.store, tc.key, tc.value)
		}
	}
	for _, p := range s.players.m {
		if p.PlayerState != (PlayerState{}) || len(p.ledger) != 0 {
			t.Errorf("a bad value left state behind: %+v", p)
		}
	}
}

// FuzzDecodeState: no input makes a decoder panic, and whatever decodes
// re-encodes to something that decodes to the same value.
func FuzzDecodeState(f *testing.F) {
	for i, s := range stateSamples() {
		f.Add(uint8(i), s.Encode(nil))
	}
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		var s, again stateCodec
		switch kind % 5 {
		case 0:
			s, again = &Clock{}, &Clock{}
		case 1:
			s, again = &DedupEntry{}, &DedupEntry{}
		case 2:
			s, again = &FraudCount{}, &FraudCount{}
		case 3:
			s, again = &LedgerSession{}, &LedgerSession{}
		case 4:
			s, again = &PlayerState{}, &PlayerState{}
		}
		if s.Decode(b) != nil {
			return
		}
		if err := again.Decode(s.Encode(nil)); err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", s, err)
		}
		if !reflect.DeepEqual(s, again) {
			t.Fatalf("%T: %+v became %+v", s, s, again)
		}
	})
}
