package engine

import (
	"math/bits"
	"time"
)

// Window is the half-open event-time interval [Start, End).
type Window struct {
	Start, End time.Time
}

// Contains reports whether t falls in w: Start ≤ t < End.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// String formats w as an ISO 8601 interval, "2026-11-25T18:04:00Z/2026-11-25T18:05:00Z".
func (w Window) String() string {
	return w.Start.UTC().Format(time.RFC3339Nano) + "/" + w.End.UTC().Format(time.RFC3339Nano)
}

// Windowing assigns event times to tumbling windows of Size, aligned to the
// Unix epoch (so a minute starts at second 0 and an hour at minute 0, UTC).
// Size must be positive; Assign panics otherwise.
type Windowing struct {
	Size time.Duration
}

// Assign returns the window [floor(t/Size)·Size, +Size) holding t. The
// window's times are in UTC and carry no monotonic clock reading, so two
// windows of the same instants compare equal with ==.
func (w Windowing) Assign(t time.Time) Window {
	if w.Size <= 0 {
		panic("engine: Windowing.Size must be positive")
	}
	size := uint64(w.Size)
	// t − epoch = sec·1e9 + nsec nanoseconds. Its remainder modulo size is
	// computed in 128 bits so that any time.Time works, not only the ±292
	// years that UnixNano can hold.
	sec := t.Unix()
	secMod := sec % int64(size)
	if secMod < 0 {
		secMod += int64(size)
	}
	hi, lo := bits.Mul64(uint64(secMod), 1e9)
	lo, carry := bits.Add64(lo, uint64(t.Nanosecond()), 0)
	rem := bits.Rem64(hi+carry, lo, size)
	start := t.Add(-time.Duration(rem)).UTC()
	return Window{Start: start, End: start.Add(w.Size)}
}

// Minute returns the one-minute window holding t.
func Minute(t time.Time) Window { return Windowing{Size: time.Minute}.Assign(t) }

// Hour returns the one-hour window holding t.
func Hour(t time.Time) Window { return Windowing{Size: time.Hour}.Assign(t) }

// IsLate reports whether an event at eventTime is late (rule 7 of the
// processor design): its window's end is at or before the watermark in force
// when the event arrives. With the zero watermark nothing is late.
func IsLate(eventTime, watermark time.Time, w Windowing) bool {
	return !w.Assign(eventTime).End.After(watermark)
}
