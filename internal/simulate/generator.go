package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Kind says what an Item is, so that callers and tests can count the ground
// truth of a run.
type Kind uint8

// The kinds of item.
const (
	KindNormal    Kind = iota // an event of the model, emitted when it happens
	KindDuplicate             // an exact copy (same event_id) of an earlier item, re-emitted a little later
	KindLate                  // an event of the model held back 1–10 min: it arrives out of order, client_time unchanged
	KindMalformed             // a broken item a receiver must refuse
	numKinds
)

func (k Kind) String() string {
	switch k {
	case KindNormal:
		return "normal"
	case KindDuplicate:
		return "duplicate"
	case KindLate:
		return "late"
	case KindMalformed:
		return "malformed"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Item is one thing to send.
//
// Normal, late and duplicate items carry a valid Event and no Raw. Malformed
// items always carry Raw, the item's JSON form (one line, brackets and quotes
// balanced, so a receiver can refuse it alone); their Event is set only when
// the fault can be expressed in the schema (a missing field, an unknown
// event_type, a negative price, ...) and is nil when it cannot (invalid
// JSON, not an object). Events are shared with the Generator's bookkeeping
// and with other events of their session (Device): treat them as read-only.
type Item struct {
	Kind  Kind
	Event *event.Event
	Raw   []byte
	// Game is the game_id the item belongs to: the API key to send it with.
	Game string
	// Code is, for malformed items, the rejection code a receiver that
	// validates with event.Validate answers (event.Code*).
	Code string
}

// Generator produces the items of one simulated population. It is not safe
// for concurrent use.
type Generator struct {
	cfg   Config
	rng   *rand.Rand // the model's decisions and ids
	frng  *rand.Rand // fault decisions and malformed items
	start int64      // Config.Start, unix ns
	tick  float64    // ns of simulated time per item
	n     int64      // items returned by Next
	now   int64      // simulated clock, unix ns

	games   []*gameState
	gameCum []float64
	players map[uint64]*player
	tasks   taskHeap
	online  int
	act     activity

	held                heldHeap
	heldSeq             uint64
	pMal, pLate, pDup   float64
	lateMin, lateSpanNs float64
}

// New returns a Generator for cfg, after EnsureDefaults and Validate.
func New(cfg Config) (*Generator, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	seed := uint64(cfg.Seed)
	g := &Generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(seed, 0x6761_6d65_7075_6c73)), // "gamepuls"
		frng:    rand.New(rand.NewPCG(seed, 0x6661_756c_7473_2121)), // "faults!!"
		start:   cfg.Start.UnixNano(),
		tick:    1e9 / cfg.Rate,
		players: make(map[uint64]*player),
	}
	g.initGames()
	g.act.init()

	// Fault draws: Next first releases held items that are due, so in the
	// long run duplicates and late events take their shares D and L of
	// the output; the remaining draws must split M : L : N (N = normal),
	// and each normal item is copied with probability D/N.
	normal := 1 - cfg.Duplicates - cfg.Late - cfg.Malformed
	g.pMal = cfg.Malformed / (cfg.Malformed + cfg.Late + normal)
	g.pLate = cfg.Late / (cfg.Late + normal)
	g.pDup = math.Min(1, cfg.Duplicates/normal)
	g.lateMin = float64(cfg.LateDelay) / 10
	g.lateSpanNs = float64(cfg.LateDelay) - g.lateMin
	return g, nil
}

// Config returns the configuration in use, defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// Clock returns the simulated time of the last item returned by Next
// (Start before the first).
func (g *Generator) Clock() time.Time {
	if g.n == 0 {
		return time.Unix(0, g.start)
	}
	return time.Unix(0, g.now)
}

// Online returns the number of open sessions.
func (g *Generator) Online() int { return g.online }

// Next returns the next item. Each call advances the simulated clock by
// 1/Rate; normal events carry that clock as client_time.
func (g *Generator) Next() Item {
	g.n++
	g.now = g.start + int64(float64(g.n-1)*g.tick)
	if len(g.held) > 0 && g.held[0].release <= g.now {
		return g.held.pop().item
	}
	for {
		if g.pMal > 0 && g.frng.Float64() < g.pMal {
			return g.malformed()
		}
		ev, game := g.modelEvent()
		if g.pLate > 0 && g.frng.Float64() < g.pLate {
			hold := int64(g.lateMin + g.frng.Float64()*g.lateSpanNs)
			g.hold(g.now+hold, Item{Kind: KindLate, Event: ev, Game: game})
			continue // this tick still needs an item
		}
		if g.pDup > 0 && g.frng.Float64() < g.pDup {
			// A client retrying after a lost response: mostly within
			// seconds, sometimes half a minute later.
			hold := int64(math.Exp(math.Log(0.2e9) + g.frng.Float64()*math.Log(30/0.2)))
			dup := proto.Clone(ev).(*event.Event)
			g.hold(g.now+hold, Item{Kind: KindDuplicate, Event: dup, Game: game})
		}
		return Item{Kind: KindNormal, Event: ev, Game: game}
	}
}

// Drain returns the items still held back (late events and duplicates not
// yet due), in the order they would have been released, and forgets them.
// Call it at the end of a run so that no late event is lost: a held late
// event is the only copy of its seq.
func (g *Generator) Drain() []Item {
	out := make([]Item, 0, len(g.held))
	for len(g.held) > 0 {
		out = append(out, g.held.pop().item)
	}
	return out
}

func (g *Generator) hold(release int64, it Item) {
	g.heldSeq++
	g.held.push(heldItem{release: release, seq: g.heldSeq, item: it})
}

// heldHeap orders held items by release time, then by the order they were
// held (so equal release times keep a deterministic order).
type heldItem struct {
	release int64
	seq     uint64
	item    Item
}

type heldHeap []heldItem

func (h heldItem) less(o heldItem) bool {
	return h.release < o.release || h.release == o.release && h.seq < o.seq
}

func (h *heldHeap) push(x heldItem) {
	*h = append(*h, x)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *heldHeap) pop() heldItem {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = heldItem{}
	s = s[:last]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(s) && s[l].less(s[m]) {
			m = l
		}
		if r := l + 1; r < len(s) && s[r].less(s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
