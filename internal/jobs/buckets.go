package jobs

import (
	"slices"

	"github.com/gamepulse/gamepulse/internal/record"
)

const (
	minuteMs = record.MinuteMs
	hourMs   = record.HourMs
	dayMs    = record.DayMs
)

// windowOf is the start of the minute window of t (unix ms).
func windowOf(t int64) int64 { return record.FloorMs(t, record.MinuteMs) }

func hourOf(t int64) int64 { return record.FloorMs(t, hourMs) }

// buckets indexes keys by the hour of a time, so that expiry visits only
// the keys of hours that lie wholly before the cutoff: incremental and cheap.
// A key may sit in several buckets (its time moved); whoever calls expire
// checks the key's current time.
type buckets[K comparable] struct {
	order     []int64 // bucket starts, ascending
	m         map[int64]*[]K
	lastStart int64
	last      *[]K
}

func (b *buckets[K]) add(t int64, k K) {
	s := hourOf(t)
	if b.last != nil && s == b.lastStart {
		*b.last = append(*b.last, k)
		return
	}
	if b.m == nil {
		b.m = make(map[int64]*[]K)
	}
	p := b.m[s]
	if p == nil {
		p = new([]K)
		b.m[s] = p
		i, _ := slices.BinarySearch(b.order, s)
		b.order = slices.Insert(b.order, i, s)
	}
	*p = append(*p, k)
	b.lastStart, b.last = s, p
}

// due reports whether some bucket lies wholly before cutoff.
func (b *buckets[K]) due(cutoff int64) bool {
	return len(b.order) > 0 && b.order[0]+hourMs <= cutoff
}

// expire calls fn for every key of the buckets that lie wholly before
// cutoff, and forgets those buckets.
func (b *buckets[K]) expire(cutoff int64, fn func(K)) {
	for b.due(cutoff) {
		s := b.order[0]
		p := b.m[s]
		for _, k := range *p {
			fn(k)
		}
		delete(b.m, s)
		if b.last == p {
			b.last = nil
		}
		b.order = b.order[1:]
	}
}
