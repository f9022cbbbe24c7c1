package engine

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
