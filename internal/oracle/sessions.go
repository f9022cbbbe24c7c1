package oracle

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Why a session closed (Session.ClosedBy).
const (
	ClosedByEnd       = "session_end" // its session_end event
	ClosedByNext      = "next"        // an event of the player with another session_id
	ClosedByGap       = "gap"         // an event of the player SessionGap or more after its last event
	ClosedByWatermark = "watermark"   // its partition's watermark reached its last event + SessionGap
)

// playerState is what rules 4 and 5 keep per (game, player) of a partition.
type playerState struct {
	events        int64 // accepted events
	lastClosedID  string
	lastClosedEnd int64 // ms; with lastClosedID, the last session closed
}

// openSession is a player's open session (at most one).
type openSession struct {
	id, platform, country string
	start, last           int64 // ms: min and max event time of its events
	events, revenue       int64
	levels                map[int32]bool // of its level_start events
}

// sessionize applies rule 5 to an accepted event with a session_id, of
// player pk, at event time t.
func (o *Oracle) sessionize(part *partition, pk playerKey, ps *playerState, ev *event.Event, t, revenue int64, platform, country string) {
	sid, typ := ev.GetSessionId(), ev.GetEventType()
	s := part.open[pk]
	if s != nil && s.last+o.gap <= t {
		o.closeSession(part, pk, ps, ClosedByGap)
		s = nil
	}
	if s != nil && s.id != sid {
		if t < s.start {
			return // a stray: an event of an earlier session, arriving late
		}
		o.closeSession(part, pk, ps, ClosedByNext)
		s = nil
	}
	if s == nil {
		if typ == event.TypeSessionEnd || (sid == ps.lastClosedID && t < ps.lastClosedEnd+o.gap) {
			return // a stray: an end of nothing open, or a straggler of the session just closed
		}
		s = &openSession{id: sid, platform: platform, country: country, start: t, last: t, levels: map[int32]bool{}}
		part.open[pk] = s
		if len(part.open) == 1 || t+o.gap < part.nextDue {
			part.nextDue = t + o.gap
		}
	}
	s.events++
	s.revenue += revenue
	s.start, s.last = min(s.start, t), max(s.last, t)
	if typ == event.TypeLevelStart {
		s.levels[ev.GetLevelStart().GetLevel()] = true
	}
	if typ == event.TypeSessionEnd {
		o.closeSession(part, pk, ps, ClosedByEnd)
	}
}

func (o *Oracle) closeSession(part *partition, pk playerKey, ps *playerState, by string) {
	s := part.open[pk]
	o.closed = append(o.closed, s.report(pk, by))
	ps.lastClosedID, ps.lastClosedEnd = s.id, s.last
	delete(part.open, pk)
}

// closeIdle closes, after a record that passed validation, every open
// session of the partition whose last event + SessionGap ≤ the partition's
// watermark (max event time − Lateness), in order of last event, ties by
// game then player.
func (o *Oracle) closeIdle(part *partition) {
	wm := part.max - o.lateness
	if len(part.open) == 0 || part.nextDue > wm {
		return
	}
	var due []playerKey
	next := int64(math.MaxInt64)
	for pk, s := range part.open {
		if s.last+o.gap <= wm {
			due = append(due, pk)
		} else {
			next = min(next, s.last+o.gap)
		}
	}
	slices.SortFunc(due, func(a, b playerKey) int {
		return cmp.Or(cmp.Compare(part.open[a].last, part.open[b].last), cmp.Compare(a.game, b.game), cmp.Compare(a.player, b.player))
	})
	for _, pk := range due {
		o.closeSession(part, pk, part.players[pk], ClosedByWatermark)
	}
	part.nextDue = next
}

func (s *openSession) report(pk playerKey, by string) Session {
	return Session{
		ID: s.id, Player: pk.player, Game: pk.game, Platform: s.platform, Country: s.country,
		Start: time.UnixMilli(s.start).UTC(), End: time.UnixMilli(s.last).UTC(), DurationMs: s.last - s.start,
		Events: s.events, RevenueMicros: s.revenue, LevelsPlayed: int64(len(s.levels)), ClosedBy: by,
	}
}
