package jobs

import (
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func levelEvent(id string, at time.Time) *event.Event {
	return &event.Event{
		EventId: id, EventType: event.TypeLevelStart, GameId: "g1", PlayerId: "p-1", SessionId: "s-1", Seq: 1,
		ClientTime: timestamppb.New(at), ReceivedAt: timestamppb.New(at), Platform: "iPhone", Country: "de",
		Payload: &event.Event_LevelStart{LevelStart: &event.Level{Level: 7}},
	}
}

// Rule 7: an accepted event is late when its minute's end is at or before
// the watermark in force; the zero watermark judges nothing late; dead
// letters and duplicates are never late.
func TestLateRule(t *testing.T) {
	s, err := NewStage(Config{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 18, 4, 30, 0, time.UTC)
	var r Result
	s.ProcessEvent(levelEvent("e-0", at), &r)
	if r.Late {
		t.Error("late under the zero watermark")
	}
	for i, c := range []struct {
		wm   time.Time
		late bool
	}{
		{at.Add(29*time.Second - time.Millisecond), false}, // 18:04:59.999: the minute is open
		{at.Add(30 * time.Second), true},                   // 18:05:00: its end
	} {
		s.SetWatermark(c.wm)
		s.ProcessEvent(levelEvent("e-"+string(rune('1'+i)), at), &r)
		if !r.Accepted() || r.Late != c.late || (c.late && !r.LateWatermark.Equal(c.wm)) {
			t.Errorf("watermark %v: accepted %v, late %v at %v; want late %v", c.wm, r.Accepted(), r.Late, r.LateWatermark, c.late)
		}
	}
	s.ProcessEvent(levelEvent("e-2", at), &r) // a duplicate
	if r.Accepted() || r.Late {
		t.Errorf("duplicate: accepted %v, late %v", r.Accepted(), r.Late)
	}
	if got := s.Stats().Late; got != 1 {
		t.Errorf("Stats.Late = %d, want 1", got)
	}
}

// Rule 6: each accepted event adds to its minute's detail and game rows;
// DrainPartials returns them by key, once.
func TestPartialsDrainOncePerTransaction(t *testing.T) {
	s, err := NewStage(Config{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 18, 4, 30, 0, time.UTC)
	var r Result
	s.ProcessEvent(levelEvent("e-1", at), &r)
	s.ProcessEvent(levelEvent("e-1", at), &r) // a duplicate adds nothing
	s.ProcessEvent(levelEvent("e-2", at.Add(time.Second)), &r)
	got := s.DrainPartials(nil)
	if len(got) != 2 {
		t.Fatalf("%d partials, want the detail and the game row", len(got))
	}
	if got[0].Key.String() >= got[1].Key.String() {
		t.Errorf("not in key order: %v, %v", got[0].Key, got[1].Key)
	}
	detail, game := kpi.Keys(kpi.Input{Time: at, Game: "g1", Platform: "ios", Country: "DE"})
	for _, p := range got {
		if p.Key != detail && p.Key != game {
			t.Errorf("unexpected key %v (want %v or %v)", p.Key, detail, game)
		}
	}
	if again := s.DrainPartials(nil); len(again) != 0 {
		t.Errorf("drained twice: %d", len(again))
	}
}
