package jobs

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// maxLedgerSeq bounds the seqs the ledger tracks: an event with a larger seq
// is not ledgered (no real session gets there; a bogus one must not add
// 2^63 gaps).
const maxLedgerSeq = 1 << 40

// ledgerSess is the ledger state of one session (rule 3). It lives in its
// player's record, which the stage looks up for every event anyway: one
// random memory access instead of two.
type ledgerSess struct {
	sh      idHash // hash1('s', session_id)
	highest uint64
	last    int64 // max event time of the session's ledgered events
	dirty   bool
	missing []MissingRange // see LedgerSession.Missing
}

func (s *ledgerSess) state() LedgerSession {
	return LedgerSession{Highest: s.highest, Last: s.last, Missing: s.missing}
}

// ledgerIndex finds p's ledger session sh (the newest are at the end).
func (p *player) ledgerIndex(sh idHash) int {
	for i := len(p.ledger) - 1; i >= 0; i-- {
		if p.ledger[i].sh == sh {
			return i
		}
	}
	return -1
}

type ledgerRef struct {
	p  *player
	sh idHash
}

// rowKey is a ledger row: (game, platform, app_build, minute window).
type rowKey struct {
	game, platform, build string
	window                int64
}

type rowCounts struct{ gaps, dups, ooo int64 }

type ledgerTable struct {
	exp   buckets[ledgerRef]
	dirty []ledgerRef
	rows  map[rowKey]*rowCounts // not state: drained into outputs each transaction
}

func (l *ledgerTable) row(k rowKey) *rowCounts {
	c := l.rows[k]
	if c == nil {
		c = &rowCounts{}
		l.rows[k] = c
	}
	return c
}

// set installs a decoded session (restore).
func (l *ledgerTable) set(p *player, sh idHash, ls *LedgerSession) {
	e := ledgerSess{sh: sh, highest: ls.Highest, last: ls.Last, missing: ls.Missing}
	if i := p.ledgerIndex(sh); i >= 0 {
		p.ledger[i] = e
	} else {
		p.ledger = append(p.ledger, e)
	}
	l.exp.add(ls.Last, ledgerRef{p, sh})
}

// observe applies rule 3 to one event of player p: sh is hash1('s',
// session_id), t the event time, platform the normalized platform. The
// caller has checked session_id != "", 1 ≤ seq ≤ maxLedgerSeq and
// t ≥ cutoff.
func (l *ledgerTable) observe(p *player, sh idHash, seq uint64, t, cutoff int64, platform, build string) {
	game := p.key.game
	var s *ledgerSess
	switch i := p.ledgerIndex(sh); {
	case i < 0:
		p.ledger = append(p.ledger, ledgerSess{sh: sh, last: t})
		s = &p.ledger[len(p.ledger)-1]
		l.exp.add(t, ledgerRef{p, sh})
	default:
		s = &p.ledger[i]
		switch {
		case s.last < cutoff: // expired: forget it
			if hourOf(t) != hourOf(s.last) {
				l.exp.add(t, ledgerRef{p, sh})
			}
			*s = ledgerSess{sh: sh, last: t, dirty: s.dirty}
		case t > s.last:
			if hourOf(t) != hourOf(s.last) {
				l.exp.add(t, ledgerRef{p, sh})
			}
			s.last = t
		}
	}
	if !s.dirty {
		s.dirty = true
		l.dirty = append(l.dirty, ledgerRef{p, sh})
	}

	w := windowOf(t)
	if seq > s.highest {
		if seq > s.highest+1 {
			l.row(rowKey{game, platform, build, w}).gaps += int64(seq - s.highest - 1)
			s.missing = append(s.missing, MissingRange{Lo: s.highest + 1, Hi: seq - 1, Window: w, Platform: platform, AppBuild: strings.Clone(build)})
		}
		s.highest = seq
		return
	}
	i := sort.Search(len(s.missing), func(i int) bool { return s.missing[i].Hi >= seq })
	if i == len(s.missing) || s.missing[i].Lo > seq {
		l.row(rowKey{game, platform, build, w}).dups++
		return
	}
	m := &s.missing[i]
	l.row(rowKey{game, m.Platform, m.AppBuild, m.Window}).gaps--
	l.row(rowKey{game, platform, build, w}).ooo++
	switch {
	case m.Lo == m.Hi:
		s.missing = slices.Delete(s.missing, i, i+1)
		if len(s.missing) == 0 {
			s.missing = nil
		}
	case seq == m.Lo:
		m.Lo++
	case seq == m.Hi:
		m.Hi--
	default:
		right := *m
		right.Lo = seq + 1
		m.Hi = seq - 1
		s.missing = slices.Insert(s.missing, i+1, right)
	}
}

func (l *ledgerTable) expire(cutoff int64) {
	l.exp.expire(cutoff, func(r ledgerRef) {
		i := r.p.ledgerIndex(r.sh)
		if i < 0 || r.p.ledger[i].last >= cutoff {
			return
		}
		if !r.p.ledger[i].dirty {
			l.dirty = append(l.dirty, r)
		}
		r.p.ledger = slices.Delete(r.p.ledger, i, i+1)
	})
}

// drain appends the non-zero rows to dst, sorted by game, platform,
// app_build, window, and forgets them.
func (l *ledgerTable) drain(dst []LedgerCount) []LedgerCount {
	n := len(dst)
	for k, c := range l.rows {
		if *c == (rowCounts{}) {
			continue
		}
		dst = append(dst, LedgerCount{
			GameID: k.game, Platform: k.platform, AppBuild: k.build,
			Window: time.UnixMilli(k.window).UTC(),
			Gaps:   c.gaps, Duplicates: c.dups, OutOfOrder: c.ooo,
		})
	}
	clear(l.rows)
	slices.SortFunc(dst[n:], func(a, b LedgerCount) int {
		if c := strings.Compare(a.GameID, b.GameID); c != 0 {
			return c
		}
		if c := strings.Compare(a.Platform, b.Platform); c != 0 {
			return c
		}
		if c := strings.Compare(a.AppBuild, b.AppBuild); c != 0 {
			return c
		}
		return a.Window.Compare(b.Window)
	})
	return dst
}
