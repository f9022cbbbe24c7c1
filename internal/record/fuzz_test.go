package record_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/record"
)

// Every decoder of this package is fuzzed: it never panics, and what it
// accepts re-encodes to something it decodes to the same record.

func FuzzDecodeAlert(f *testing.F) {
	a := record.Alert{Rule: "r", Subject: "s", GameID: "g", Start: minute, End: minute.Add(time.Minute), Observed: 1, Message: "m"}
	v, _ := a.AppendJSON(nil)
	f.Add(v)
	f.Add([]byte(`{"rule":"x","subject":"p","window":"2026-11-25T18:04:00Z"}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		a, err := record.DecodeAlert(v)
		if err != nil {
			return
		}
		again, err := a.AppendJSON(nil)
		if err != nil {
			return // a NaN or infinity cannot be JSON; the decoder never makes one
		}
		b, err := record.DecodeAlert(again)
		if err != nil || !a.Start.Equal(b.Start) || !a.End.Equal(b.End) || a.Rule != b.Rule || a.GameID != b.GameID {
			t.Fatalf("%s → %s: %+v, %+v, %v", v, again, a, b, err)
		}
	})
}

func FuzzDecodeSession(f *testing.F) {
	s := record.Session{SessionID: "s", Start: minute, End: minute, ClosedBy: record.ClosedByEnd}
	v, _ := s.AppendJSON(nil)
	f.Add(v)
	f.Fuzz(func(t *testing.T, v []byte) {
		s, err := record.DecodeSession(v)
		if err != nil {
			return
		}
		if s.SessionID == "" || s.Start.IsZero() {
			t.Fatalf("%s decoded without session_id or start", v)
		}
		again, err := s.AppendJSON(nil)
		if err != nil {
			return // a year past 9999 does not marshal
		}
		if s2, err := record.DecodeSession(again); err != nil || s2.SessionID != s.SessionID || !s2.Start.Equal(s.Start) {
			t.Fatalf("%s → %s: %+v %v", v, again, s2, err)
		}
	})
}

func FuzzDecodeKPI(f *testing.F) {
	k := record.KPI{Key: record.KPIKey(record.Minute, minute, "g", "ios", "DE"), Window: record.Minute, Start: minute,
		End: minute.Add(time.Minute), Game: "g", Platform: "ios", Country: "DE", Levels: []record.Level{{Level: 1}}}
	v, _ := json.Marshal(k)
	f.Add([]byte(k.Key), v)
	ck := record.CompletenessKey{Game: "g", Platform: "ios", Build: "b", Minute: minute.UnixMilli()}
	v, _ = json.Marshal(ck.Row(record.CompletenessCounts{Gaps: 1}, minute))
	f.Add([]byte(ck.String()), v)
	f.Fuzz(func(t *testing.T, key, v []byte) {
		r, c, err := record.DecodeKPI(key, v)
		if err != nil {
			return
		}
		if (r == nil) == (c == nil) {
			t.Fatalf("%q: KPI %v, completeness %v", key, r, c)
		}
		var again []byte
		if r != nil {
			again, err = json.Marshal(r)
		} else {
			again, err = json.Marshal(c)
		}
		if err != nil {
			return
		}
		r2, c2, err := record.DecodeKPI(key, again)
		if err != nil || (r != nil && r2.Game != r.Game) || (c != nil && c2.Game != c.Game) {
			t.Fatalf("%q %s → %s: %v", key, v, again, err)
		}
	})
}

func FuzzDecodeEnriched(f *testing.F) {
	v, err := record.AppendEnriched(nil, sampleEvent(f), &record.Enrichment{PlatformNorm: "ios", FirstSeen: minute})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v)
	f.Add([]byte(`{"event_id":"e","event_type":"x","client_time":"2026-11-25T18:04:00Z","enrichment":{},"device":{"os":"x"}}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		e, err := record.DecodeEnriched(v)
		if err != nil {
			return
		}
		if e.EventID == "" || e.EventType == "" || e.ClientTime.IsZero() && e.ClientTime.Location() != time.UTC {
			t.Fatalf("%s: %+v", v, e)
		}
		if e.Payload != nil && !json.Valid(e.Payload) {
			t.Fatalf("%s: payload %s is not JSON", v, e.Payload)
		}
	})
}

func FuzzDecodeDeadLetter(f *testing.F) {
	f.Add("invalid_value", "r", "raw", "3", "42")
	f.Fuzz(func(t *testing.T, code, reason, topic, part, off string) {
		h := []record.Header{{Key: record.HeaderCode, Value: []byte(code)}, {Key: record.HeaderReason, Value: []byte(reason)},
			{Key: record.HeaderSourceTopic, Value: []byte(topic)}, {Key: record.HeaderSourcePartition, Value: []byte(part)},
			{Key: record.HeaderSourceOffset, Value: []byte(off)}}
		d, err := record.DecodeDeadLetter(h)
		if err != nil {
			return
		}
		if d2, err := record.DecodeDeadLetter(d.Headers()); err != nil || d2 != d {
			t.Fatalf("%+v → %+v, %v", d, d2, err)
		}
	})
}

func FuzzDecodeLate(f *testing.F) {
	f.Add([]byte("2026-11-25T18:04:00.123Z"))
	f.Fuzz(func(t *testing.T, v []byte) {
		wm, err := record.DecodeLate([]record.Header{{Key: record.LateHeader, Value: v}})
		if err != nil || wm.Year() < 0 || wm.Year() > 9999 {
			return
		}
		if wm2, err := record.DecodeLate(record.LateHeaders(wm)); err != nil || !wm2.Equal(wm) {
			t.Fatalf("%q: %v → %v %v", v, wm, wm2, err)
		}
	})
}

func FuzzDecodePartials(f *testing.F) {
	f.Add((&record.Partial{Source: 3, Key: "minute|2026-11-25T18:04:00Z|g|ios|DE", Aggregate: []byte{1, 0}}).AppendEncode(nil))
	f.Add((&record.Mark{Source: 2, Watermark: minute}).AppendEncode(nil))
	f.Add((&record.LedgerDelta{Source: 1, Row: record.CompletenessKey{Game: "g", Minute: 60000}, Counts: record.CompletenessCounts{Gaps: 1}}).AppendEncode(nil))
	f.Fuzz(func(t *testing.T, v []byte) {
		d, err := record.DecodePartials(v)
		if err != nil {
			if !errors.Is(err, record.ErrCorruptPartial) {
				t.Fatalf("error %v does not wrap ErrCorruptPartial", err)
			}
			return
		}
		var again []byte
		switch {
		case d.Partial != nil:
			again = d.Partial.AppendEncode(nil)
		case d.Mark != nil:
			again = d.Mark.AppendEncode(nil)
		case d.Ledger != nil:
			again = d.Ledger.AppendEncode(nil)
		default:
			t.Fatal("decoded to nothing")
		}
		d2, err := record.DecodePartials(again)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("%x → %x: %+v, %+v, %v", v, again, d, d2, err)
		}
	})
}

// FuzzRawEncoding: any headers read as one of the three encodings, never a
// panic, and a known encoding's content type is the value that named it.
func FuzzRawEncoding(f *testing.F) {
	f.Add("content-type", []byte(record.ContentTypeJSON), "content-type", []byte(record.ContentTypeProtobuf))
	f.Add("x", []byte{0xff}, "content-type", []byte("text/csv"))
	f.Fuzz(func(t *testing.T, k1 string, v1 []byte, k2 string, v2 []byte) {
		hs := []record.Header{{Key: k1, Value: v1}, {Key: k2, Value: v2}}
		enc := record.RawEncoding(hs)
		last := ""
		seen := false
		for _, h := range hs {
			if h.Key == record.HeaderContentType {
				last, seen = string(h.Value), true
			}
		}
		switch {
		case !seen && enc != record.EncodingProtobuf:
			t.Fatalf("no content-type, got %s", enc)
		case seen && enc != record.EncodingUnknown && enc.ContentType() != last:
			t.Fatalf("content-type %q read as %s", last, enc)
		case seen && enc == record.EncodingUnknown && (last == record.ContentTypeJSON || last == record.ContentTypeProtobuf):
			t.Fatalf("content-type %q read as unknown", last)
		}
	})
}
