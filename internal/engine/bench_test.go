package engine

import (
	"testing"
	"time"
)

// BenchmarkWatermarksObserve is the per-record cost of watermark tracking.
func BenchmarkWatermarksObserve(b *testing.B) {
	w, err := NewWatermarks(WatermarkConfig{})
	if err != nil {
		b.Fatal(err)
	}
	const parts = 16
	for p := range int32(parts) {
		w.Assign(p, wallEpoch)
	}
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	times := make([]time.Time, 1024) // mostly rising, some out of order
	for i := range times {
		times[i] = base.Add(time.Duration(i)*time.Millisecond - time.Duration(i%7)*50*time.Millisecond)
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		w.Observe(int32(i%parts), times[i%len(times)], now)
		i++
	}
}

// BenchmarkWatermarksCombined is the per-flush cost, over 64 partitions.
func BenchmarkWatermarksCombined(b *testing.B) {
	w, _ := NewWatermarks(WatermarkConfig{})
	base := time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)
	now := time.Now()
	for p := range int32(64) {
		w.Assign(p, now)
		w.Observe(p, base.Add(time.Duration(p)*time.Second), now)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.Combined(now)
	}
}

// BenchmarkMinute is the cost of assigning an event to its window.
func BenchmarkMinute(b *testing.B) {
	t := time.Date(2026, 11, 25, 18, 4, 33, 123, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		Minute(t)
	}
}
