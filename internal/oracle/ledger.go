package oracle

import (
	"sort"
	"time"
)

// ledgerSession is rule 3's state of one session: the highest seq seen, and
// every jump past missing seqs as a hole with the row that counted it. A
// seq ≤ highest is missing when a hole holds it and it has not arrived
// since (filled); every other seq ≤ highest has been seen.
type ledgerSession struct {
	highest uint64
	last    int64  // max event time (ms) of its ledgered events
	holes   []hole // by lo: each starts above the highest seq before it
	filled  map[uint64]bool
}

type hole struct {
	lo, hi uint64
	row    completenessKey
}

// ledgerAdd counts one ledgered event (session_id set, 1 ≤ seq ≤ 2^40,
// t ≥ cutoff) in row, its own row.
func (o *Oracle) ledgerAdd(part *partition, sk sessionKey, seq uint64, t, cutoff int64, row completenessKey) {
	s := part.ledger[sk]
	switch {
	case s == nil || s.last < cutoff: // new, or forgotten: start afresh
		s = &ledgerSession{last: t}
		part.ledger[sk] = s
	case t > s.last:
		s.last = t
	}
	c := o.completenessRow(row)
	if seq > s.highest {
		if seq > s.highest+1 {
			c.Gaps += int64(seq - s.highest - 1)
			s.holes = append(s.holes, hole{lo: s.highest + 1, hi: seq - 1, row: row})
		}
		s.highest = seq
		return
	}
	i := sort.Search(len(s.holes), func(i int) bool { return s.holes[i].hi >= seq })
	if i == len(s.holes) || s.holes[i].lo > seq || s.filled[seq] {
		c.Duplicates++
		return
	}
	if s.filled == nil {
		s.filled = make(map[uint64]bool)
	}
	s.filled[seq] = true
	c.OutOfOrder++
	o.completenessRow(s.holes[i].row).Gaps-- // the row that counted it missing
}

func (o *Oracle) completenessRow(k completenessKey) *Completeness {
	c := o.completeness[k]
	if c == nil {
		c = &Completeness{Game: k.game, Platform: k.platform, AppBuild: k.build, Minute: time.UnixMilli(k.minute).UTC()}
		o.completeness[k] = c
	}
	return c
}
