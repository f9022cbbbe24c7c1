package jobs

import (
	"math/rand/v2"
	"strconv"

	"github.com/gamepulse/gamepulse/internal/event"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// gen makes a deterministic stream of events with the faults the stage must
// handle: duplicates (exact copies), replayed purchases (new event_id, same
// store transaction), events held back (out of order, late), lost events
// (seq gaps), refunds outside sessions, sessions that end by session_end or
// just stop.
type gen struct {
	rng      *rand.Rand
	t        int64 // ms, advances by step ± jitter
	step     int64
	players  []genPlayer
	n        int
	recent   []*event.Event // ring of recent events, for duplicates
	held     []*event.Event // held back, released later
	platform []string
}

type genPlayer struct {
	id, session string
	seq         uint64
	sessions    int
	open        bool
	lastTx      string
}

func newGen(seed uint64, players int, step int64) *gen {
	g := &gen{
		rng:      rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		t:        1795629600000, // 2026-11-25T18:00:00Z
		step:     step,
		players:  make([]genPlayer, players),
		platform: []string{"ios", "iPhone", "android", "web", "WebGL", "PS5", "tizen"},
	}
	for i := range g.players {
		g.players[i].id = "p" + strconv.Itoa(i)
	}
	return g
}

func (g *gen) next() *event.Event {
	r := g.rng.Float64()
	switch {
	case r < 0.02 && len(g.recent) > 0: // a retry
		return g.recent[g.rng.IntN(len(g.recent))]
	case r < 0.04 && len(g.held) > 0: // a held-back event arrives
		i := g.rng.IntN(len(g.held))
		e := g.held[i]
		g.held[i] = g.held[len(g.held)-1]
		g.held = g.held[:len(g.held)-1]
		return e
	}
	for {
		e := g.make()
		if e == nil {
			continue // lost
		}
		if len(g.recent) < 64 {
			g.recent = append(g.recent, e)
		} else {
			g.recent[g.n%64] = e
		}
		if g.rng.Float64() < 0.02 && len(g.held) < 256 {
			g.held = append(g.held, e)
			continue
		}
		return e
	}
}

func (g *gen) make() *event.Event {
	g.n++
	g.t += g.step + g.rng.Int64N(g.step+1) - g.step/2
	pi := g.rng.IntN(len(g.players))
	p := &g.players[pi]
	e := &event.Event{
		EventId:    "e" + strconv.Itoa(g.n),
		GameId:     "g" + strconv.Itoa(pi%3),
		PlayerId:   p.id,
		ClientTime: &timestamppb.Timestamp{Seconds: g.t / 1000, Nanos: int32(g.t%1000) * 1e6},
		ReceivedAt: &timestamppb.Timestamp{Seconds: g.t/1000 + 1},
		Platform:   g.platform[pi%len(g.platform)],
		AppBuild:   "1.0+" + strconv.Itoa(pi%2),
		Country:    []string{"", "de", "BR", "JP"}[pi%4],
	}
	if !p.open {
		p.open = true
		p.sessions++
		p.session = p.id + "-s" + strconv.Itoa(p.sessions)
		p.seq = 0
		e.EventType = event.TypeSessionStart
		e.Payload = &event.Event_SessionStart{SessionStart: &event.SessionStart{EntryPoint: "icon"}}
	} else {
		r := g.rng.Float64()
		switch {
		case r < 0.01:
			// a refund, outside the session
			e.EventType = event.TypeRefund
			e.Payload = &event.Event_Refund{Refund: &event.Refund{StoreTransactionId: "T" + e.EventId, Amount: 0.99, Currency: "EUR"}}
			return e
		case r < 0.04:
			e.EventType = event.TypeSessionEnd
			e.Payload = &event.Event_SessionEnd{SessionEnd: &event.SessionEnd{}}
			p.open = false
		case r < 0.06:
			p.open = g.rng.Float64() < 0.5 // the session just stops: the next event opens another
			e.EventType = event.TypeLogin
		case r < 0.16:
			e.EventType = event.TypeLevelStart
			e.Payload = &event.Event_LevelStart{LevelStart: &event.Level{Level: int32(g.rng.IntN(20))}}
		case r < 0.19:
			e.EventType = event.TypePurchase
			tx := "T" + e.EventId
			if p.lastTx != "" && g.rng.Float64() < 0.2 {
				tx = p.lastTx // a replayed purchase
			}
			p.lastTx = tx
			e.Payload = &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems", Price: 1.99, Currency: []string{"USD", "EUR", "JPY"}[g.rng.IntN(3)], StoreTransactionId: tx}}
		case r < 0.25:
			e.EventType = event.TypeAdImpression
			e.Payload = &event.Event_AdImpression{AdImpression: &event.AdImpression{Network: "admob", Revenue: 0.004}}
		default:
			e.EventType = event.TypeLevelComplete
			e.Payload = &event.Event_LevelComplete{LevelComplete: &event.Level{Level: int32(g.rng.IntN(20)), DurationMs: 5000}}
		}
	}
	p.seq++
	e.SessionId, e.Seq = p.session, p.seq
	if g.rng.Float64() < 0.01 {
		return nil // lost on the way: a seq gap
	}
	return e
}
