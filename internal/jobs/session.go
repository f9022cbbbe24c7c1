package jobs

import (
	"container/heap"
	"slices"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

type playerKey struct{ game, player string }

type player struct {
	PlayerState
	key    playerKey
	dirty  bool
	hi     int   // index in the session heap; -1 when not in it
	hkey   int64 // the player's key in the heap: ≤ Open.Last while a session is open
	ledger []ledgerSess
}

// sessionHeap orders players by when their open session's inactivity runs
// out (Open.Last + gap; the gap is the same for all, so by Open.Last), ties
// by game then player, so that watermark closes come out in a deterministic
// order. It is lazy, to keep the per-event cost O(1): an event that moves
// Open.Last forward leaves the player's key behind (keys only ever lag), and
// a closed session leaves its entry; advance fixes an entry when it reaches
// the top, and closes a session only from an entry whose key is current.
type sessionHeap []*player

func (h sessionHeap) Len() int { return len(h) }
func (h sessionHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.hkey != b.hkey {
		return a.hkey < b.hkey
	}
	if a.key.game != b.key.game {
		return a.key.game < b.key.game
	}
	return a.key.player < b.key.player
}
func (h sessionHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hi, h[j].hi = i, j
}
func (h *sessionHeap) Push(x any) {
	p := x.(*player)
	p.hi = len(*h)
	*h = append(*h, p)
}
func (h *sessionHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	p.hi = -1
	return p
}

// playerTable holds every player of the partition (players are never
// forgotten: first_seen and lifetime spend are lifetime figures), keyed by
// hash2('p', game_id, player_id): fixed-size keys compare without reading
// the ids' memory.
type playerTable struct {
	m     map[idHash]*player
	dirty []*player
	open  sessionHeap
}

// get returns the player, making an empty one (Events == 0) if needed.
func (t *playerTable) get(game, id string) *player {
	h := hash2('p', game, id)
	p := t.m[h]
	if p == nil {
		// Long-lived state never shares an event's memory: a JSON-decoded
		// event's strings may point into a whole request body.
		p = &player{key: playerKey{strings.Clone(game), strings.Clone(id)}, hi: -1}
		t.m[h] = p
	}
	return p
}

func (t *playerTable) markDirty(p *player) {
	if !p.dirty {
		p.dirty = true
		t.dirty = append(t.dirty, p)
	}
}

// sessionize applies rule 5 to one accepted event of player p (see the
// package documentation for the exact procedure). It returns false when the
// event has a session_id but belongs to no session (a straggler).
// sh is hash1('s', session_id).
func (s *Stage) sessionize(p *player, e *event.Event, sh idHash, t, revenue int64, platform, country string, closed *[]Session) bool {
	sid := e.GetSessionId()
	if sid == "" {
		return true
	}
	o := p.Open
	if o != nil && o.Last+s.gap <= t {
		s.closeSession(p, ClosedByGap, closed)
		o = nil
	}
	if o != nil && o.sh != sh {
		if t < o.Start {
			return false // an event of an earlier session, arriving late
		}
		s.closeSession(p, ClosedByNext, closed)
		o = nil
	}
	typ := e.GetEventType()
	if o == nil {
		if typ == event.TypeSessionEnd || (sh == p.lastClosedSH && t < p.LastClosedEnd+s.gap && sid == p.LastClosedID) {
			return false
		}
		o = &OpenSession{ID: strings.Clone(sid), Platform: platform, Country: strings.Clone(country), Start: t, Last: t, sh: sh}
		p.Open = o
		p.Sessions++
		s.schedule(p)
	}
	o.Events++
	o.RevenueMicros += revenue
	if t < o.Start {
		o.Start = t
	}
	if t > o.Last {
		o.Last = t // the heap key lags: see sessionHeap
	}
	if typ == event.TypeLevelStart {
		lv := e.GetLevelStart().GetLevel()
		if i, found := slices.BinarySearch(o.Levels, lv); !found {
			o.Levels = slices.Insert(o.Levels, i, lv)
		}
	}
	if typ == event.TypeSessionEnd {
		s.closeSession(p, ClosedByEnd, closed)
	}
	return true
}

func (s *Stage) closeSession(p *player, by string, closed *[]Session) {
	o := p.Open
	*closed = append(*closed, Session{
		SessionID:        o.ID,
		PlayerID:         p.key.player,
		GameID:           p.key.game,
		Platform:         o.Platform,
		Country:          o.Country,
		Start:            time.UnixMilli(o.Start).UTC(),
		End:              time.UnixMilli(o.Last).UTC(),
		DurationMs:       o.Last - o.Start,
		Events:           o.Events,
		RevenueUSDMicros: o.RevenueMicros,
		LevelsPlayed:     int64(len(o.Levels)),
		ClosedBy:         by,
	})
	p.Open = nil // its heap entry, if any, is dropped when it reaches the top
	p.LastClosedID, p.lastClosedSH = o.ID, o.sh
	p.LastClosedEnd = o.Last
	s.players.markDirty(p)
	s.stats.SessionsClosed++
}

// schedule gives p, which has just opened a session, a heap entry with a
// key ≤ its Open.Last.
func (s *Stage) schedule(p *player) {
	switch {
	case p.hi < 0:
		p.hkey = p.Open.Last
		heap.Push(&s.players.open, p)
	case p.hkey > p.Open.Last: // an entry left by a closed session, too late
		p.hkey = p.Open.Last
		heap.Fix(&s.players.open, p.hi)
	}
}

// advance closes every open session whose last event + gap ≤ wm, in order
// of last event (ties: game, then player).
func (s *Stage) advance(wm int64, closed *[]Session) {
	h := &s.players.open
	for h.Len() > 0 {
		p := (*h)[0]
		if p.hkey+s.gap > wm {
			return
		}
		switch {
		case p.Open == nil: // closed by its own events
			heap.Pop(h)
		case p.hkey != p.Open.Last: // stale: move it to its current key
			p.hkey = p.Open.Last
			heap.Fix(h, 0)
		default:
			heap.Pop(h)
			s.closeSession(p, ClosedByWatermark, closed)
		}
	}
}

func (s *Stage) removeOpen(p *player) { heap.Remove(&s.players.open, p.hi) }
