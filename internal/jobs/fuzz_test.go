package jobs

import (
	"testing"

	"github.com/gamepulse/gamepulse/internal/event"
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
			s.Process(value, &r)
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
