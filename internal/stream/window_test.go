package stream

import (
	"testing"
	"time"
)

func TestWindowBasics(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	et := time.Date(2026, 11, 25, 19, 4, 30, 0, berlin) // 18:04:30 UTC
	w := Minute(et)
	want := Window{Start: time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC), End: time.Date(2026, 11, 25, 18, 5, 0, 0, time.UTC)}
	if w != want { // == holds: Assign returns UTC times without monotonic readings
		t.Errorf("Minute = %v, want %v", w, want)
	}
	if now := time.Now(); Minute(now) != Minute(now.Round(0)) { // Round(0) strips the monotonic reading
		t.Error("a monotonic clock reading leaks into windows")
	}
	if s := w.String(); s != "2026-11-25T18:04:00Z/2026-11-25T18:05:00Z" {
		t.Errorf("String = %s", s)
	}
	if !w.Contains(w.Start) || w.Contains(w.End) || !w.Contains(et) {
		t.Error("Contains is not [Start, End)")
	}
	if h := Hour(et); !h.Start.Equal(time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)) || h.End.Sub(h.Start) != time.Hour {
		t.Errorf("Hour = %v", h)
	}
	defer func() {
		if recover() == nil {
			t.Error("Assign with a zero size did not panic")
		}
	}()
	Windowing{}.Assign(et)
}

func TestTimersAccessors(t *testing.T) {
	var tm Timers
	if _, ok := tm.Next(); ok || tm.Len() != 0 || tm.Advance(time.Now()) != nil {
		t.Fatal("zero Timers not empty")
	}
	et := time.Date(2026, 11, 25, 18, 4, 30, 0, time.UTC)
	tm.Add(Hour(et))
	tm.Add(Minute(et))
	// The same window in another zone is the same window.
	cet := time.FixedZone("CET", 3600)
	if tm.Add(Window{Start: Minute(et).Start.In(cet), End: Minute(et).End.In(cet)}) {
		t.Error("the same window in another zone added twice")
	}
	if n, ok := tm.Next(); !ok || n != Minute(et) || tm.Len() != 2 {
		t.Errorf("Next = %v, %v; Len %d", n, ok, tm.Len())
	}
	tm.Reset()
	if tm.Len() != 0 {
		t.Error("Reset left windows")
	}
}
