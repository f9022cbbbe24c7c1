package kpi

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/axiomhq/hyperloglog"

	"github.com/gamepulse/gamepulse/internal/event"
)

func TestEncodeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	cases := map[string]*Aggregate{"empty": {}}
	for _, n := range []int{1, 100, 5000, 60000} { // sparse and dense sketches
		a := &Aggregate{Gaps: -3, Duplicates: 2, OutOfOrder: 1}
		for _, in := range randomInputs(r, n, n) {
			a.Add(in)
		}
		cases[strconv.Itoa(n)] = a
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			b := a.Encode()
			d, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			sameFigures(t, d, a)
			if (d.active == nil) != (a.active == nil) || (d.payers == nil) != (a.payers == nil) {
				t.Fatal("sketch presence changed")
			}
			// Decoded state keeps working: adding to both keeps them equal.
			in := Input{Type: event.TypePurchase, Player: "late-comer", RevenueMicros: 7, Level: 1}
			a2, d2 := a.Clone(), d
			a2.Add(in)
			d2.Add(in)
			sameFigures(t, d2, a2)
			if got := append([]byte("prefix"), a.Encode()...); string(a.AppendEncode([]byte("prefix"))) != string(got) {
				t.Fatal("AppendEncode differs from Encode")
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	var a Aggregate
	a.Add(Input{Type: event.TypeLogin, Player: "p"})
	a.Add(Input{Type: event.TypeLevelStart, Player: "p", Level: 3})
	good := a.Encode() // ends with 0: no payers sketch
	p16 := hyperloglog.New16()
	p16.Insert([]byte("p"))
	raw16, err := p16.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	precision16 := binary.AppendUvarint(append([]byte{}, good[:len(good)-1]...), uint64(len(raw16)))
	precision16 = append(precision16, raw16...)
	levelsHeader := append([]byte{codecVersion}, make([]byte, 12)...)
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version":        append([]byte{9}, good[1:]...),
		"truncated":      good[:len(good)-1],
		"trailing":       append(append([]byte{}, good...), 0),
		"too many":       binary.AppendUvarint(append([]byte{}, levelsHeader...), 1<<40),
		"levels order":   append(append([]byte{}, levelsHeader...), 2, 4, 0, 0, 0, 2, 0, 0, 0, 0, 0),
		"sketch length":  append(append([]byte{}, good[:len(good)-1]...), 50, 1, 2),
		"sketch garbage": append(append([]byte{}, good[:len(good)-1]...), 9, 2, 14, 0, 0, 0, 0, 0, 0, 0),
		"precision 16":   precision16,
	} {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode = %v, want ErrCorrupt", name, err)
		}
	}
}

func TestWindowStateRoundTrip(t *testing.T) {
	var a Aggregate
	a.Add(Input{Type: event.TypeLogin, Player: "p"})
	s := WindowState{Agg: &a, Version: 3}
	d, err := DecodeWindowState(s.AppendEncode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 3 || !reflect.DeepEqual(d.Agg.Result(MinuteKey(testDay, "g", "*", "*")), a.Result(MinuteKey(testDay, "g", "*", "*"))) {
		t.Fatalf("round trip: %+v", d)
	}
	if _, err := DecodeWindowState([]byte{0x80}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("bad version: %v", err)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts encodes to bytes
// that decode to the same figures (and re-encode identically).
func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 3, 40} {
		a := &Aggregate{Gaps: int64(n)}
		for _, in := range randomInputs(r, n, n+1) {
			a.Add(in)
		}
		f.Add(a.Encode())
		s := WindowState{Agg: a, Version: int64(n)}
		f.Add(s.AppendEncode(nil))
	}
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = DecodeWindowState(b)
		a, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		enc := a.Encode()
		d, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		k := MinuteKey(testDay, "g", "*", "*")
		if !reflect.DeepEqual(d.Result(k), a.Result(k)) {
			t.Fatal("figures changed in a round trip")
		}
		if e1, e2 := d.Encode(), d.Encode(); string(e1) != string(e2) {
			t.Fatal("encoding is not stable")
		}
		a.Merge(d) // must not panic
	})
}
