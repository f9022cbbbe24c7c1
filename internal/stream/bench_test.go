package stream

import (
	"fmt"
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

// BenchmarkStorePut updates existing keys, the common case (player state,
// open windows): a map write and a pending mark; encoding waits for Drain.
func BenchmarkStorePut(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			s := NewStore[int64]("bench", Int64Codec{})
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprintf("player-%08d", i)
				s.Put(keys[i], int64(i))
			}
			s.Drain()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Put(keys[i%n], int64(i)) // Pending stays at most n: one mark per key
				i++
			}
		})
	}
}

// BenchmarkStorePutDrain includes the changelog: 1,000 puts over 100 hot keys
// and the Drain that encodes them, per iteration.
func BenchmarkStorePutDrain(b *testing.B) {
	s := NewStore[int64]("bench", Int64Codec{})
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = fmt.Sprintf("minute|2026-11-25T18:04:00Z|game-%d|ios|DE", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range 1000 {
			s.Put(keys[i%len(keys)], int64(i))
		}
		s.Drain()
	}
}

// BenchmarkStoreRestore is the cost per changelog entry of a restore.
func BenchmarkStoreRestore(b *testing.B) {
	log := make([]ChangelogEntry, 10_000)
	for i := range log {
		log[i] = ChangelogEntry{Key: fmt.Sprintf("player-%08d", i%5000), Value: Int64Codec{}.Encode(int64(i))}
	}
	s := NewStore[int64]("bench", Int64Codec{})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Restore(log); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(log)), "ns/entry")
}
