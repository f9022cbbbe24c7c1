package loader

import (
	"testing"
	"time"
)

func TestActiveTime(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type apply struct{ start, end float64 }
	tests := []struct {
		name    string
		applies []apply
		now     float64
		want    time.Duration
	}{
		{"nothing yet", nil, 100, 0},
		{"one apply and the auto-suspend after it", []apply{{0, 1}}, 1000, 61 * time.Second},
		{"the minimum while it runs", []apply{{0, 1}}, 0.5, 60 * time.Second},
		{"auto-suspend after the last apply", []apply{{0, 1}, {30, 31}, {80, 81}}, 1000, 141 * time.Second},
		{"every second: never suspends", func() []apply {
			var a []apply
			for i := range 600 {
				a = append(a, apply{float64(i), float64(i) + 0.2})
			}
			return a
		}(), 600, 600 * time.Second},
		{"every ten minutes: a minimum each", []apply{{0, 2}, {600, 602}, {1200, 1202}}, 5000, 3 * 62 * time.Second},
		{"an open stretch counts up to now", []apply{{0, 2}, {600, 602}}, 630, 62*time.Second + 60*time.Second},
	}
	for _, tt := range tests {
		a := newActiveTime(60*time.Second, 60*time.Second)
		for _, ap := range tt.applies {
			a.observe(at(ap.start), at(ap.end))
		}
		if got := a.total(at(tt.now)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
