package jobs

import (
	"sort"
	"time"

	"github.com/gamepulse/gamepulse/internal/engine"
	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kpi"
)

// This file holds the two stage-1 rules that look past one partition's
// state: the late rule (7), judged against the combined watermark of every
// raw partition the process owns, and the KPI partials (6), which stage 2
// merges across partitions (kpi.Merger).

// minute is the windowing the late rule judges by: the KPI minute.
var minute = engine.Windowing{Size: time.Minute}

// SetWatermark sets the combined watermark in force, against which the
// events processed from now on are judged late (rule 7). The zero time (the
// default) judges nothing late. The caller (the pipeline) reads it from the
// process-wide tracker before each record.
func (s *Stage) SetWatermark(wm time.Time) { s.watermark = wm }

// judgeLate applies rule 7 to an accepted event: it is late when its
// minute's end is at or before the watermark in force. A late event is
// still enriched and counted in the partials (stage 2 turns it into a
// correction); it is also written to the late topic.
func (s *Stage) judgeLate(r *Result) {
	if engine.IsLate(r.Enriched.EventTime, s.watermark, minute) {
		r.Late = true
		r.LateWatermark = s.watermark
		s.stats.Late++
	}
}

// Partial is one KPI row's partial aggregate of one transaction of one
// partition: what stage 2 merges.
type Partial struct {
	Key kpi.Key
	Agg *kpi.Aggregate
}

// addPartials applies rule 6 to an accepted event: it adds to its minute's
// detail row (game, platform, country) and game row.
func (s *Stage) addPartials(x *Enriched) {
	e := x.Event
	in := kpi.Input{Time: x.EventTime, Player: e.GetPlayerId(), Game: e.GetGameId(), Platform: x.PlatformNorm,
		Country: x.CountryNorm, Type: e.GetEventType(), RevenueMicros: x.RevenueUSDMicros, NewPlayer: x.NewPlayer, Level: level(e)}
	detail, game := kpi.Keys(in)
	s.addPartial(detail, in)
	s.addPartial(game, in)
}

func (s *Stage) addPartial(k kpi.Key, in kpi.Input) {
	a := s.partials[k]
	if a == nil {
		a = &kpi.Aggregate{}
		s.partials[k] = a
	}
	a.Add(in)
}

// DrainPartials appends to dst the partials of the events accepted since
// the last drain, by key (kpi.Key.String order), and forgets them. The
// caller drains once per transaction. Partials are not state: they are
// emitted in the transaction of the events they count.
func (s *Stage) DrainPartials(dst []Partial) []Partial {
	n := len(dst)
	for k, a := range s.partials {
		dst = append(dst, Partial{Key: k, Agg: a})
	}
	added := dst[n:]
	sort.Slice(added, func(i, j int) bool { return added[i].Key.String() < added[j].Key.String() })
	clear(s.partials)
	return dst
}

func level(e *event.Event) int32 {
	switch p := e.GetPayload().(type) {
	case *event.Event_LevelStart:
		return p.LevelStart.GetLevel()
	case *event.Event_LevelComplete:
		return p.LevelComplete.GetLevel()
	case *event.Event_LevelFail:
		return p.LevelFail.GetLevel()
	}
	return 0
}
