package kpi

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/axiomhq/hyperloglog"

	"github.com/gamepulse/gamepulse/internal/event"
)

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Input
		want string // fmtResult of the minute row, without its key
	}{
		{"session start", []Input{{Type: event.TypeSessionStart, Player: "a", NewPlayer: true}}, "active=1 new=1 sessions=1"},
		{"login", []Input{{Type: event.TypeLogin, Player: "a"}}, "active=1"},
		{"same player twice", []Input{{Type: event.TypeLogin, Player: "a"}, {Type: event.TypeCustom, Player: "a"}}, "active=1"},
		{"purchase", []Input{{Type: event.TypePurchase, Player: "a", RevenueMicros: 4_990_000}},
			"active=1 purchases=1 payers=1 revenue=4990000 purchase_rev=4990000"},
		{"two purchases one payer", []Input{{Type: event.TypePurchase, Player: "a", RevenueMicros: 1}, {Type: event.TypePurchase, Player: "a", RevenueMicros: 2}},
			"active=1 purchases=2 payers=1 revenue=3 purchase_rev=3"},
		{"refund: not active", []Input{{Type: event.TypeRefund, Player: "a", RevenueMicros: -990_000}},
			"revenue=-990000 refunds=1 refund_rev=990000"},
		{"refund of a new player", []Input{{Type: event.TypeRefund, Player: "a", NewPlayer: true}}, "new=1 refunds=1"},
		{"ad", []Input{{Type: event.TypeAdImpression, Player: "a", RevenueMicros: 1500}}, "active=1 revenue=1500 ads=1 ad_rev=1500"},
		{"levels", []Input{
			{Type: event.TypeLevelStart, Player: "a", Level: 2}, {Type: event.TypeLevelFail, Player: "a", Level: 2},
			{Type: event.TypeLevelStart, Player: "a", Level: 2}, {Type: event.TypeLevelComplete, Player: "a", Level: 2},
			{Type: event.TypeLevelStart, Player: "b", Level: 0},
		}, "active=2 L0=1/0/0 L2=2/1/1"},
		{"others only count the player", []Input{
			{Type: event.TypeSessionEnd, Player: "a"}, {Type: event.TypeCurrencyEarn, Player: "b"},
			{Type: event.TypeCurrencySpend, Player: "c"}, {Type: event.TypeCustom, Player: "d"},
		}, "active=4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Aggregate
			for _, in := range tc.in {
				a.Add(in)
			}
			k := MinuteKey(testDay, "g", "ios", "US")
			got := strings.TrimPrefix(fmtResult(a.Result(k)), "final v0 "+fmtKey(k)+" ")
			if got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	var a Aggregate
	a.Add(Input{Type: event.TypeLevelStart, Player: "p", Level: 7})
	k := MinuteKey(time.Date(2026, 11, 25, 18, 4, 30, 0, time.UTC), "g", "ios", "US")
	r := a.Result(k)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"key":"minute|2026-11-25T18:04:00Z|g|ios|US"`, `"window":"minute"`, `"start":"2026-11-25T18:04:00Z"`,
		`"end":"2026-11-25T18:05:00Z"`, `"active_players":1`, `"levels":[{"level":7,"starts":1,"completions":0,"fails":0}]`,
		`"final":false`, `"version":0`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	if strings.Contains(string(b), "watermark") {
		t.Errorf("a provisional result has a watermark: %s", b)
	}
	var empty Aggregate
	if b, _ := json.Marshal(empty.Result(k)); !strings.Contains(string(b), `"levels":[]`) {
		t.Errorf("levels of an empty row should be [] for the warehouse: %s", b)
	}
}

// randomInputs returns n inputs over players distinct players.
func randomInputs(r *rand.Rand, n, players int) []Input {
	ins := make([]Input, n)
	types := event.Types()
	for i := range ins {
		ins[i] = Input{Player: fmt.Sprintf("player-%d", r.IntN(players)), Type: types[r.IntN(len(types))],
			RevenueMicros: r.Int64N(100e6), NewPlayer: r.IntN(20) == 0, Level: int32(r.IntN(30))}
		if ins[i].Type == event.TypeRefund {
			ins[i].RevenueMicros = -ins[i].RevenueMicros
		}
	}
	return ins
}

// sameFigures compares two aggregates: exact counters, and equal HLL
// estimates.
func sameFigures(t *testing.T, got, want *Aggregate) {
	t.Helper()
	k := MinuteKey(testDay, "g", "*", "*")
	g, w := got.Result(k), want.Result(k)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("figures differ:\ngot  %+v\nwant %+v", g, w)
	}
}

// TestMergeProperty splits the same events at random over several
// "partitions" and merges the parts in random groupings and orders: the
// counters must be exact and the distinct-count estimates equal to those of
// one sketch fed every event. It runs across the sparse and the dense
// representations of the sketches (up to 40k players).
func TestMergeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for trial := range 40 {
		players := 1 + r.IntN(40_000)
		if trial%4 == 0 {
			players = 1 + r.IntN(50)
		}
		ins := randomInputs(r, 1+r.IntN(3*players+100), players)
		var whole Aggregate
		for _, in := range ins {
			whole.Add(in)
		}
		parts := make([]*Aggregate, 1+r.IntN(8))
		for i := range parts {
			parts[i] = &Aggregate{}
		}
		for _, in := range ins {
			parts[r.IntN(len(parts))].Add(in)
		}
		if trial%3 == 0 { // through the codec, as partials travel
			for i, p := range parts {
				d, err := Decode(p.Encode())
				if err != nil {
					t.Fatal(err)
				}
				parts[i] = d
			}
		}
		// Merge in a random tree: repeatedly merge two random parts.
		for len(parts) > 1 {
			i, j := r.IntN(len(parts)), r.IntN(len(parts)-1)
			if j >= i {
				j++
			}
			parts[i].Merge(parts[j])
			parts = append(parts[:j], parts[j+1:]...)
		}
		sameFigures(t, parts[0], &whole)
	}
}

// TestMergeLaws checks commutativity and associativity directly on three
// aggregates, and that Merge leaves its argument alone.
func TestMergeLaws(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	mk := func() *Aggregate {
		a := &Aggregate{}
		for _, in := range randomInputs(r, 3000, 2000) {
			a.Add(in)
		}
		return a
	}
	a, b, c := mk(), mk(), mk()
	bBefore := b.Encode()

	ab := a.Clone()
	ab.Merge(b)
	ba := b.Clone()
	ba.Merge(a)
	sameFigures(t, ab, ba)

	abc1 := ab.Clone()
	abc1.Merge(c)
	bc := b.Clone()
	bc.Merge(c)
	abc2 := a.Clone()
	abc2.Merge(bc)
	sameFigures(t, abc1, abc2)

	if string(b.Encode()) != string(bBefore) {
		t.Fatal("Merge changed its argument")
	}
	var empty Aggregate
	e := a.Clone()
	e.Merge(&empty)
	sameFigures(t, e, a)
	empty.Merge(a)
	sameFigures(t, &empty, a)
}

func TestCloneIsDeep(t *testing.T) {
	var a Aggregate
	a.Add(Input{Type: event.TypePurchase, Player: "p", Level: 1, RevenueMicros: 5})
	a.Add(Input{Type: event.TypeLevelStart, Player: "p", Level: 1})
	c := a.Clone()
	c.Add(Input{Type: event.TypePurchase, Player: "q", RevenueMicros: 5})
	c.Add(Input{Type: event.TypeLevelStart, Player: "q", Level: 1})
	if a.ActivePlayers() != 1 || a.Payers() != 1 || a.Levels[1].Starts != 1 || a.Purchases != 1 {
		t.Fatalf("changing the clone changed the original: %+v", a.Result(MinuteKey(testDay, "g", "*", "*")))
	}
}

// TestHLLError checks the distinct-count error on 100k distinct players
// against 3 standard errors of precision 14 (3 × 1.04/√16384 = 2.44 %,
// rounded down to 3 × 0.81 % = 2.43 %), for several independent player sets,
// and that a sketch built from parts estimates exactly as one sketch.
func TestHLLError(t *testing.T) {
	const n = 100_000
	const bound = 3 * 0.0081
	worst := 0.0
	for set := range 5 {
		var a Aggregate
		parts := [4]Aggregate{}
		for i := range n {
			in := Input{Type: event.TypePurchase, Player: fmt.Sprintf("set%d-player-%d", set, i)}
			a.Add(in)
			parts[i%4].Add(in)
		}
		est := a.ActivePlayers()
		rel := math.Abs(float64(est)-n) / n
		worst = max(worst, rel)
		t.Logf("set %d: %d distinct players, estimate %d, error %.3f%%", set, n, est, 100*rel)
		if rel > bound {
			t.Errorf("set %d: estimate %d of %d is off by %.3f%%, over %.2f%%", set, est, n, 100*rel, 100*bound)
		}
		for i := 1; i < 4; i++ {
			parts[0].Merge(&parts[i])
		}
		if got := parts[0].ActivePlayers(); got != est {
			t.Errorf("set %d: merged estimate %d, single sketch %d", set, got, est)
		}
		if a.Payers() != est {
			t.Errorf("set %d: payers %d, active %d: same players", set, a.Payers(), est)
		}
	}
	t.Logf("worst error %.3f%% (bound %.2f%%)", 100*worst, 100*bound)
}

// TestSketchParameters pins what the processor and the oracle must agree
// on: precision 14, sparse start, and the player id inserted as its bytes.
func TestSketchParameters(t *testing.T) {
	var a Aggregate
	sk, _ := hyperloglog.NewSketch(14, true)
	for i := range 5000 {
		p := fmt.Sprintf("p%d", i)
		a.Add(Input{Type: event.TypeLogin, Player: p})
		sk.Insert([]byte(p))
	}
	if a.ActivePlayers() != sk.Estimate() {
		t.Fatalf("estimate %d, a plain sketch says %d", a.ActivePlayers(), sk.Estimate())
	}
}
