package loader

import (
	"sync"
	"time"
)

// activeTime estimates how long a Snowflake virtual warehouse runs for the
// loader, which is what it bills: the warehouse resumes for an apply and
// suspends AutoSuspend after the last one; each resume bills at least
// MinimumBill. So the estimate is the union of [apply start, apply end +
// AutoSuspend] intervals, each contiguous stretch counted as at least
// MinimumBill. Applies closer together than AutoSuspend keep it running
// all the time; that is the trade --batch-interval makes.
type activeTime struct {
	autoSuspend, minimum time.Duration

	mu               sync.Mutex
	segStart, segEnd time.Time     // the current stretch (zero: none yet)
	closed           time.Duration // billed time of the stretches before it
}

func newActiveTime(autoSuspend, minimum time.Duration) *activeTime {
	return &activeTime{autoSuspend: autoSuspend, minimum: minimum}
}

// observe records an apply that ran from start to end.
func (a *activeTime) observe(start, end time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	until := end.Add(a.autoSuspend)
	switch {
	case a.segStart.IsZero():
		a.segStart, a.segEnd = start, until
	case start.After(a.segEnd):
		a.closed += max(a.minimum, a.segEnd.Sub(a.segStart))
		a.segStart, a.segEnd = start, until
	case until.After(a.segEnd):
		a.segEnd = until
	}
}

// total returns the estimated billed time up to now.
func (a *activeTime) total(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.segStart.IsZero() {
		return a.closed
	}
	end := a.segEnd
	if now.Before(end) {
		end = now
	}
	return a.closed + max(a.minimum, end.Sub(a.segStart))
}
