package stream

import (
	"math/bits"
	"slices"
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

// compare orders windows by End, then by Start descending: of two windows
// ending together the shorter one comes first, so a minute closes before the
// hour that rolls it up.
func (w Window) compare(o Window) int {
	if c := w.End.Compare(o.End); c != 0 {
		return c
	}
	return o.Start.Compare(w.Start)
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
		panic("stream: Windowing.Size must be positive")
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

// Timers holds the windows a task has open and tells, as the watermark
// advances, which of them close. The zero value is ready to use. Timers are
// not changelogged: after a restore the task registers the windows of its
// restored state again.
//
// Timers keeps a sorted slice: a task has a handful of windows open at a time
// (the minutes within the allowed lateness, the current hours), so insertion
// in order costs less than a heap and gives the closing order for free.
type Timers struct {
	open []Window // sorted by Window.compare, no duplicates
}

// Add registers w and reports whether it was new. A window already due (its
// end at or before the current watermark) is closed by the next Advance.
func (t *Timers) Add(w Window) bool {
	w = Window{Start: w.Start.UTC(), End: w.End.UTC()}
	i, found := slices.BinarySearchFunc(t.open, w, Window.compare)
	if found {
		return false
	}
	t.open = slices.Insert(t.open, i, w)
	return true
}

// Advance removes and returns, in closing order, the windows whose end is at
// or before watermark: by end time, and of windows ending together the
// shorter first. It returns nil when none closes.
func (t *Timers) Advance(watermark time.Time) []Window {
	n := 0
	for n < len(t.open) && !t.open[n].End.After(watermark) {
		n++
	}
	if n == 0 {
		return nil
	}
	closed := slices.Clone(t.open[:n])
	t.open = slices.Delete(t.open, 0, n)
	return closed
}

// Next returns the window that closes first, if any.
func (t *Timers) Next() (Window, bool) {
	if len(t.open) == 0 {
		return Window{}, false
	}
	return t.open[0], true
}

// Len returns the number of open windows.
func (t *Timers) Len() int { return len(t.open) }

// Reset forgets every window, as before a restore.
func (t *Timers) Reset() { t.open = t.open[:0] }
