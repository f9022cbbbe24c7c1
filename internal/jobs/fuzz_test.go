package jobs

import (
	"testing"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// FuzzProcess: any record value is either a dead letter or processed,
// never a panic, and an accepted event's output JSON encodes.
func FuzzProcess(f *testing.F) {
	g := newGen(9, 5, 1000)
	for range 20 {
		b, err := event.Marshal(g.next())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("not protobuf"))
	f.Fuzz(func(t *testing.T, value []byte) {
		s, err := NewStage(Config{})
		if err != nil {
			t.Fatal(err)
		}
		var r Result
		for range 2 { // the second time, a duplicate
			s.Process(value, record.EncodingProtobuf, &r)
			if r.DeadLetter == nil && r.Event == nil {
				t.Fatal("no event and no dead letter")
			}
			if r.Accepted() {
				if _, err := r.Enriched.AppendJSON(nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		s.Changes(func(string, []byte, []byte) {})
	})
}

// FuzzProcessJSON is FuzzProcess for raw records in the JSON encoding:
// any value is either a dead letter or processed, never a panic; a value
// that the event package's JSON decoder refuses is a malformed dead letter,
// and one it decodes is processed as that event (the same result as the
// event given decoded).
func FuzzProcessJSON(f *testing.F) {
	g := newGen(9, 5, 1000)
	for range 20 {
		b, err := event.AppendJSON(nil, g.next())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", `"login"`, "[1,2]", `{"event_id":}`, `{"seq":"three"}`, `{} {}`, "not json"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		s, err := NewStage(Config{})
		if err != nil {
			t.Fatal(err)
		}
		var r Result
		s.Process(value, record.EncodingJSON, &r)
		it := event.DecodeJSONEvent(value, event.Limits{})
		if it.Rejection != nil {
			if r.DeadLetter == nil || r.DeadLetter.Code != event.CodeMalformed || r.Event != nil {
				t.Fatalf("undecodable JSON %q: got %+v, want a malformed dead letter", value, r.DeadLetter)
			}
			return
		}
		want, _ := NewStage(Config{})
		var wr Result
		want.ProcessEvent(it.Event, &wr)
		if (r.DeadLetter == nil) != (wr.DeadLetter == nil) || r.Accepted() != wr.Accepted() {
			t.Fatalf("%q: Process gave dead letter %v accepted %v; ProcessEvent %v %v", value, r.DeadLetter, r.Accepted(), wr.DeadLetter, wr.Accepted())
		}
		if r.DeadLetter != nil && *r.DeadLetter != *wr.DeadLetter {
			t.Fatalf("%q: dead letter %v, want %v", value, r.DeadLetter, wr.DeadLetter)
		}
		if r.Accepted() {
			got, err1 := r.Enriched.AppendJSON(nil)
			exp, err2 := wr.Enriched.AppendJSON(nil)
			if err1 != nil || err2 != nil || string(got) != string(exp) {
				t.Fatalf("%q: enriched %s (%v), want %s (%v)", value, got, err1, exp, err2)
			}
		}
	})
}

// FuzzRestore: any changelog record is applied or refused with an error,
// never a panic, and the stage stays usable.
func FuzzRestore(f *testing.F) {
	s, _ := NewStage(Config{})
	g := newGen(9, 5, 1000)
	var r Result
	for range 200 {
		s.ProcessEvent(g.next(), &r)
	}
	names := Stores()
	s.Changes(func(store string, key, value []byte) {
		for i, n := range names {
			if n == store {
				f.Add(uint8(i), key, value)
			}
		}
	})
	f.Fuzz(func(t *testing.T, store uint8, key, value []byte) {
		s, _ := NewStage(Config{})
		_ = s.Restore(names[int(store)%len(names)], key, value)
		g := newGen(3, 5, 1000)
		var r Result
		for range 50 {
			s.ProcessEvent(g.next(), &r)
		}
		s.Changes(func(string, []byte, []byte) {})
	})
}
