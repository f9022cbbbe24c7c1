package pipeline

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

func samplePartial() partial {
	a := &kpi.Aggregate{}
	a.Add(kpi.Input{Time: time.Date(2026, 11, 25, 18, 4, 5, 0, time.UTC), Player: "p1", Game: "g", Platform: "ios",
		Country: "DE", Type: "purchase", RevenueMicros: 4990000, NewPlayer: true})
	return partial{Source: 3, Key: kpi.MinuteKey(time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC), "g", "ios", "DE"), Agg: a}
}

func TestWireRoundTrip(t *testing.T) {
	p := samplePartial()
	m := mark{Source: 7, Watermark: time.Date(2026, 11, 25, 18, 2, 0, 0, time.UTC), Idle: true}
	l := ledgerDelta{Source: 1, Row: completenessKey{Game: "g", Platform: "ios", Build: "1.2+3", Minute: 1764093840000},
		Counts: completeness{Gaps: -1, Duplicates: 2, OutOfOrder: 3}}
	for name, tc := range map[string]struct {
		enc   []byte
		check func(decodedRecord) bool
	}{
		"partial": {p.appendEncode(nil), func(d decodedRecord) bool {
			return d.partial != nil && d.partial.Source == 3 && d.partial.Key == p.Key && d.partial.Agg.Purchases == 1 &&
				bytes.Equal(d.partial.Agg.Encode(), p.Agg.Encode())
		}},
		"mark":   {m.appendEncode(nil), func(d decodedRecord) bool { return d.mark != nil && *d.mark == m }},
		"ledger": {l.appendEncode(nil), func(d decodedRecord) bool { return d.ledger != nil && *d.ledger == l }},
		"zero mark": {mark{Source: 0}.appendEncode(nil), func(d decodedRecord) bool {
			return d.mark != nil && d.mark.Watermark.IsZero()
		}},
	} {
		d, err := decodeRecord(tc.enc)
		if err != nil || !tc.check(d) {
			t.Errorf("%s: decoded %+v, %v", name, d, err)
		}
		for i := 0; i < len(tc.enc); i++ { // every truncation is refused, never a panic
			if _, err := decodeRecord(tc.enc[:i]); err == nil && name != "partial" {
				t.Errorf("%s: truncated to %d bytes was accepted", name, i)
			}
		}
	}
}

func TestWireRefuses(t *testing.T) {
	for name, v := range map[string][]byte{
		"empty":         nil,
		"unknown kind":  {9, record.PartialsVersion, 0},
		"other version": {byte(record.KindMark), 2, 0, 0, 0},
		"hour partial":  (&record.Partial{Source: 1, Key: "hour|2026-11-25T18:00:00Z|g|*|*", Aggregate: samplePartial().Agg.Encode()}).AppendEncode(nil),
		"bad idle byte": {byte(record.KindMark), record.PartialsVersion, 2, 0, 7},
		"negative src":  {byte(record.KindMark), record.PartialsVersion, 1, 0, 0},
		"bad aggregate": (&record.Partial{Source: 1, Key: "minute|2026-11-25T18:04:00Z|g|ios|DE", Aggregate: []byte{9}}).AppendEncode(nil),
	} {
		if _, err := decodeRecord(v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err %v, want ErrCorrupt", name, err)
		}
	}
}

// FuzzDecodeRecord: the partials decoder never panics, and what it accepts
// encodes back to a record that decodes the same.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(samplePartial().appendEncode(nil))
	f.Add(mark{Source: 2, Watermark: time.UnixMilli(1764093840000)}.appendEncode(nil))
	f.Add(ledgerDelta{Source: 1, Row: completenessKey{Game: "g", Platform: "web", Build: "b", Minute: 60000}, Counts: completeness{1, 2, 3}}.appendEncode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		var again []byte
		switch {
		case d.partial != nil:
			again = d.partial.appendEncode(nil)
		case d.mark != nil:
			again = d.mark.appendEncode(nil)
		case d.ledger != nil:
			again = d.ledger.appendEncode(nil)
		default:
			t.Fatal("decoded nothing without an error")
		}
		d2, err := decodeRecord(again)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if (d.mark != nil && *d.mark != *d2.mark) || (d.ledger != nil && *d.ledger != *d2.ledger) ||
			(d.partial != nil && (d.partial.Key != d2.partial.Key || !bytes.Equal(d.partial.Agg.Encode(), d2.partial.Agg.Encode()))) {
			t.Fatalf("round trip changed the record: %+v vs %+v", d, d2)
		}
	})
}
