package simulate

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gamepulse/gamepulse/internal/event"
)

var testStart = time.Date(2026, 11, 25, 18, 5, 0, 0, time.UTC)

// gatewayRules are the gateway's default checks, with now = the simulated
// clock at emission.
func gatewayRules(now time.Time) event.Rules {
	return event.Rules{Now: now, MaxPast: 72 * time.Hour, MaxFuture: 10 * time.Minute, MaxDepth: 16}
}

func newGen(t testing.TB, cfg Config) *Generator {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// emitted is an item with the simulated time it was emitted at.
type emitted struct {
	Item
	at time.Time
}

// generate returns n items from Next, then the drained ones.
func generate(t testing.TB, cfg Config, n int) []emitted {
	g := newGen(t, cfg)
	out := make([]emitted, 0, n+n/10)
	for range n {
		it := g.Next()
		out = append(out, emitted{it, g.Clock()})
	}
	for _, it := range g.Drain() {
		out = append(out, emitted{it, g.Clock()})
	}
	return out
}

func faultyConfig(seed int64, rate float64) Config {
	return Config{Seed: seed, Start: testStart, Rate: rate, Duplicates: 0.05, Late: 0.03, Malformed: 0.02}
}

func TestDeterminism(t *testing.T) {
	for _, cfg := range []Config{
		{Seed: 1, Start: testStart},
		faultyConfig(7, 1),
		faultyConfig(7, 5000),
		{Seed: -3, Start: testStart, Rate: 300, Games: DefaultGames()[:1], Players: 50, Malformed: 0.3},
	} {
		a := generate(t, cfg, 6000)
		b := generate(t, cfg, 6000)
		if len(a) != len(b) {
			t.Fatalf("seed %d: %d items, then %d", cfg.Seed, len(a), len(b))
		}
		for i := range a {
			x, y := a[i], b[i]
			if x.Kind != y.Kind || x.Code != y.Code || x.Game != y.Game || !bytes.Equal(x.Raw, y.Raw) ||
				!proto.Equal(x.Event, y.Event) || !x.at.Equal(y.at) {
				t.Fatalf("seed %d: item %d differs:\n%v %s %s\n%v %s %s", cfg.Seed, i, x.Kind, x.Raw, x.Event, y.Kind, y.Raw, y.Event)
			}
		}
	}
	// Another seed, another run.
	a := generate(t, Config{Seed: 1, Start: testStart}, 100)
	b := generate(t, Config{Seed: 2, Start: testStart}, 100)
	same := 0
	for i := range a {
		if a[i].Event.GetEventId() == b[i].Event.GetEventId() {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 1 and 2 share %d event ids", same)
	}
}

func TestSeqContinuity(t *testing.T) {
	items := generate(t, faultyConfig(11, 20), 40000)
	type sess struct {
		seqs      []uint64
		lastSeen  uint64 // last seq among normal items, in emission order
		ended     uint64 // seq of session_end
		firstType string
	}
	sessions := map[string]*sess{}
	byID := map[string]*event.Event{}
	for i, it := range items {
		ev := it.Event
		switch it.Kind {
		case KindMalformed:
			continue
		case KindDuplicate:
			orig, ok := byID[ev.EventId]
			if !ok {
				t.Fatalf("item %d: duplicate of an event not emitted before: %s", i, ev.EventId)
			}
			if !proto.Equal(orig, ev) {
				t.Fatalf("item %d: duplicate differs from its original", i)
			}
			continue
		}
		if _, ok := byID[ev.EventId]; ok {
			t.Fatalf("item %d: event_id %s reused by a %s item", i, ev.EventId, it.Kind)
		}
		byID[ev.EventId] = ev
		if ev.EventType == event.TypeRefund {
			if ev.SessionId != "" || ev.Seq != 0 {
				t.Fatalf("refund in a session: %v", ev)
			}
			continue
		}
		s := sessions[ev.SessionId]
		if s == nil {
			s = &sess{}
			sessions[ev.SessionId] = s
		}
		s.seqs = append(s.seqs, ev.Seq)
		if ev.Seq == 1 {
			s.firstType = ev.EventType
		}
		if ev.EventType == event.TypeSessionEnd {
			s.ended = ev.Seq
		}
		if it.Kind == KindNormal {
			if ev.Seq <= s.lastSeen {
				t.Fatalf("session %s: normal seq %d after %d", ev.SessionId, ev.Seq, s.lastSeen)
			}
			s.lastSeen = ev.Seq
		}
	}
	ended := 0
	for id, s := range sessions {
		sort.Slice(s.seqs, func(i, j int) bool { return s.seqs[i] < s.seqs[j] })
		for i, q := range s.seqs {
			if q != uint64(i+1) {
				t.Fatalf("session %s: seqs %v are not 1..%d", id, s.seqs, len(s.seqs))
			}
		}
		if s.firstType != event.TypeSessionStart {
			t.Fatalf("session %s: seq 1 is %q", id, s.firstType)
		}
		if s.ended > 0 {
			ended++
			if s.ended != uint64(len(s.seqs)) {
				t.Fatalf("session %s: session_end has seq %d of %d", id, s.ended, len(s.seqs))
			}
		}
	}
	if len(sessions) < 50 || ended < 20 {
		t.Fatalf("only %d sessions, %d ended", len(sessions), ended)
	}
}

func TestEventsValid(t *testing.T) {
	for _, rate := range []float64{0.5, 50, 20000} {
		items := generate(t, faultyConfig(3, rate), 20000)
		types := map[string]int{}
		for i, it := range items {
			if it.Kind == KindMalformed {
				continue
			}
			ev := it.Event
			if r := event.Validate(ev, gatewayRules(it.at)); r != nil {
				t.Fatalf("rate %v item %d (%s): %s: %s\n%v", rate, i, it.Kind, r.Code, r.Reason, ev)
			}
			if it.Game == "" || it.Game != ev.GameId {
				t.Fatalf("item %d: game %q, event game_id %q", i, it.Game, ev.GameId)
			}
			age := it.at.Sub(ev.ClientTime.AsTime())
			switch it.Kind {
			case KindNormal:
				if age < 0 || age > time.Millisecond {
					t.Fatalf("item %d: normal event %s from its emission", i, age)
				}
			case KindLate:
				if i < 20000 && (age < 59*time.Second || age > 10*time.Minute+time.Second) {
					t.Fatalf("item %d: late by %s, want 1–10 min", i, age)
				}
			case KindDuplicate:
				if i < 20000 && age > 31*time.Second {
					t.Fatalf("item %d: duplicate %s after its original", i, age)
				}
			}
			types[ev.EventType]++
		}
		if rate == 50 {
			for _, typ := range event.Types() {
				if types[typ] == 0 && typ != event.TypeRefund {
					t.Errorf("rate %v: no %s event in 20k", rate, typ)
				}
			}
		}
	}
}

// TestMalformed checks that every malformed item is refused alone, with the
// code it announces, in every form it can be sent in.
func TestMalformed(t *testing.T) {
	items := generate(t, Config{Seed: 5, Start: testStart, Malformed: 0.5}, 4000)
	lim := event.Limits{MaxEvents: 10000, MaxEventBytes: 32 << 10, MaxDepth: 16}
	codes := map[string]int{}
	var array [][]byte
	for i, it := range items {
		raw := it.Raw
		if it.Kind != KindMalformed {
			raw = jsonOf(it.Event)
		}
		array = append(array, raw)
		if it.Kind != KindMalformed {
			continue
		}
		if bytes.ContainsAny(raw, "\n\r") {
			t.Fatalf("item %d: raw spans lines: %s", i, raw)
		}
		got := decodeCode(t, event.FormatNDJSON, raw, lim, it.at)
		if got != it.Code {
			t.Fatalf("item %d: NDJSON answer %q, item says %q: %s", i, got, it.Code, raw)
		}
		if it.Event != nil {
			if r := event.Validate(it.Event, gatewayRules(it.at)); r == nil || r.Code != it.Code {
				t.Fatalf("item %d: Validate(Event) = %v, want %s", i, r, it.Code)
			}
			bin, err := event.Marshal(it.Event)
			if err != nil {
				t.Fatal(err)
			}
			batch := append([]byte{0x0a, byte(len(bin))}, bin...)
			if len(bin) < 128 {
				if got := decodeCode(t, event.FormatProtobuf, batch, lim, it.at); got != it.Code {
					t.Fatalf("item %d: protobuf answer %q, want %q", i, got, it.Code)
				}
			}
		}
		codes[it.Code]++
	}
	for _, c := range []string{event.CodeMalformed, event.CodeNotObject, event.CodeMissingField,
		event.CodeUnknownType, event.CodeInvalidValue, event.CodePayloadMismatch} {
		if codes[c] == 0 {
			t.Errorf("no malformed item with code %s (%v)", c, codes)
		}
	}
	// All of them in one JSON array: the batch still splits.
	body := append(append([]byte{'['}, bytes.Join(array, []byte{','})...), ']')
	dec, err := event.DecodeBatch(event.FormatJSON, body, lim)
	if err != nil {
		t.Fatalf("a JSON array with malformed items does not split: %v", err)
	}
	if len(dec) != len(items) {
		t.Fatalf("array splits into %d, want %d", len(dec), len(items))
	}
}

func decodeCode(t *testing.T, f event.Format, body []byte, lim event.Limits, now time.Time) string {
	t.Helper()
	dec, err := event.DecodeBatch(f, body, lim)
	if err != nil {
		t.Fatalf("batch error: %v: %s", err, body)
	}
	if len(dec) != 1 {
		t.Fatalf("%d items in %s", len(dec), body)
	}
	if dec[0].Rejection != nil {
		return dec[0].Rejection.Code
	}
	if r := event.Validate(dec[0].Event, gatewayRules(now)); r != nil {
		return r.Code
	}
	return ""
}

func TestFaultShares(t *testing.T) {
	for _, tc := range []struct{ dup, late, mal float64 }{
		{0, 0, 0},
		{0.05, 0.03, 0.02},
		{0.2, 0.1, 0.1},
		{0, 0.25, 0},
		{0.45, 0, 0},
		{0, 0, 0.6},
	} {
		cfg := Config{Seed: 9, Start: testStart, Rate: 5, Duplicates: tc.dup, Late: tc.late, Malformed: tc.mal}
		items := generate(t, cfg, 20000)
		var n [numKinds]int
		for _, it := range items {
			n[it.Kind]++
		}
		total := float64(len(items))
		for k, want := range map[Kind]float64{KindDuplicate: tc.dup, KindLate: tc.late, KindMalformed: tc.mal} {
			got := float64(n[k]) / total
			tol := max(0.004, 4*math.Sqrt(want*(1-want)/total))
			if math.Abs(got-want) > tol {
				t.Errorf("%+v: %s share %.4f, want %.4f ± %.4f", tc, k, got, want, tol)
			}
		}
	}
}

// TestModel checks the realism the package promises, over a simulated day.
func TestModel(t *testing.T) {
	cfg := Config{Seed: 21, Start: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), Rate: 4}
	g := newGen(t, cfg)
	var (
		hourStarts  [24]int
		countries   = map[string]int{}
		platforms   = map[string]int{}
		games       = map[string]int{}
		builds      = map[string]bool{}
		payers      = map[string]bool{}
		players     = map[string]bool{}
		txs         = map[string]*event.Purchase{}
		refunds     int
		installs    int
		durations   []int64
		bossFail    [2]int // fails, attempts at boss levels
		plainFail   [2]int
		starts      = map[string]int32{}
		currencyOK  = map[string]bool{"USD": true, "EUR": true, "GBP": true, "BRL": true, "JPY": true}
		minPerHour  = math.MaxInt
		peakPerHour = 0
	)
	for range 4 * 86400 {
		ev := g.Next().Event
		players[ev.PlayerId] = true
		switch ev.EventType {
		case event.TypeSessionStart:
			hourStarts[g.Clock().Hour()]++
			countries[ev.Country]++
			platforms[ev.Platform]++
			games[ev.GameId]++
			builds[ev.AppBuild] = true
			if ev.GetSessionStart().EntryPoint == "install" {
				installs++
			}
		case event.TypeSessionEnd:
			durations = append(durations, ev.GetSessionEnd().DurationMs)
		case event.TypePurchase:
			p := ev.GetPurchase()
			if !currencyOK[p.Currency] || !inTiers(p.Price, prices[p.Currency]) {
				t.Fatalf("purchase at %v %s", p.Price, p.Currency)
			}
			txs[p.StoreTransactionId] = p
			payers[ev.PlayerId] = true
		case event.TypeRefund:
			r := ev.GetRefund()
			p := txs[r.StoreTransactionId]
			if p == nil || p.Price != r.Amount || p.Currency != r.Currency {
				t.Fatalf("refund %v of no matching purchase", r)
			}
			refunds++
		case event.TypeLevelStart:
			starts[ev.SessionId] = ev.GetLevelStart().Level
		case event.TypeLevelComplete, event.TypeLevelFail:
			l := ev.GetLevelComplete()
			if l == nil {
				l = ev.GetLevelFail()
			}
			if starts[ev.SessionId] != l.Level {
				t.Fatalf("level %d ends, level %d started", l.Level, starts[ev.SessionId])
			}
			c := &plainFail
			if l.Level%10 == 0 {
				c = &bossFail
			}
			c[1]++
			if ev.EventType == event.TypeLevelFail {
				c[0]++
			}
		case event.TypeAdImpression:
			if a := ev.GetAdImpression(); a.Revenue <= 0 || a.Revenue > 0.2 {
				t.Fatalf("ad revenue %v", a.Revenue)
			}
		}
	}
	for _, n := range hourStarts[1:] { // hour 0 holds the cold start
		minPerHour = min(minPerHour, n)
		peakPerHour = max(peakPerHour, n)
	}
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	median := time.Duration(durations[len(durations)/2]) * time.Millisecond
	checks := []struct {
		what string
		ok   bool
		got  any
	}{
		{"diurnal: session starts per hour, peak/trough > 1.3", float64(peakPerHour) > 1.3*float64(minPerHour), [2]int{minPerHour, peakPerHour}},
		{"median session 3–15 min", median > 3*time.Minute && median < 15*time.Minute, median},
		{"3 games", len(games) == 3, games},
		{"≥ 8 countries", len(countries) >= 8, countries},
		{"5 platforms", len(platforms) == 5, platforms},
		{"several builds", len(builds) >= 8, len(builds)},
		{"new installs 2–10% of sessions", between(float64(installs)/float64(sumHours(hourStarts)), 0.02, 0.10), installs},
		{"payers 0.3–5% of players", between(float64(len(payers))/float64(len(players)), 0.003, 0.05), [2]int{len(payers), len(players)}},
		{"refunds 0.5–6% of purchases", between(float64(refunds)/float64(len(txs)), 0.005, 0.06), [2]int{refunds, len(txs)}},
		{"boss levels fail more", rate(bossFail) > rate(plainFail)+0.1, [2]float64{rate(bossFail), rate(plainFail)}},
	}
	for _, c := range checks {
		t.Logf("%s: %v", c.what, c.got)
		if !c.ok {
			t.Errorf("%s: got %v", c.what, c.got)
		}
	}
}

func inTiers(p float64, tiers []float64) bool {
	for _, x := range tiers {
		if x == p {
			return true
		}
	}
	return false
}

func between(x, lo, hi float64) bool { return x >= lo && x <= hi }

func rate(c [2]int) float64 { return float64(c[0]) / float64(max(1, c[1])) }

func sumHours(h [24]int) int {
	s := 0
	for _, n := range h {
		s += n
	}
	return s
}

func TestConfigValidate(t *testing.T) {
	if err := (&Config{}).Validate(); err == nil {
		t.Error("an empty config without defaults validates")
	}
	good := Defaults()
	good.EnsureDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name   string
		modify func(c *Config)
		want   string
	}{
		{"negative rate", func(c *Config) { c.Rate = -1 }, "rate"},
		{"nan rate", func(c *Config) { c.Rate = math.NaN() }, "rate"},
		{"faults sum to 1", func(c *Config) { c.Duplicates, c.Late, c.Malformed = 0.4, 0.3, 0.3 }, "below 1"},
		{"too many duplicates", func(c *Config) { c.Duplicates, c.Late = 0.5, 0.2 }, "duplicates"},
		{"share > 1", func(c *Config) { c.Late = 1.5 }, "late"},
		{"unknown platform", func(c *Config) { c.Games[0].Platforms = []string{"ios", "amiga"} }, "amiga"},
		{"duplicate game", func(c *Config) { c.Games[1].ID = c.Games[0].ID }, "duplicate id"},
		{"payer share", func(c *Config) { c.Games[2].PayerShare = 2 }, "payer share"},
		{"short late delay", func(c *Config) { c.LateDelay = time.Millisecond }, "late delay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults()
			c.Games = DefaultGames()
			tc.modify(&c)
			c.EnsureDefaults()
			_, err := New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
	// A game with only an id gets the defaults of a game.
	g, err := New(Config{Start: testStart, Games: []Game{{ID: "solo"}}})
	if err != nil {
		t.Fatal(err)
	}
	if gm := g.Config().Games[0]; gm.Weight != 1 || len(gm.Platforms) != 2 || gm.SessionMedian == 0 {
		t.Errorf("game defaults not applied: %+v", gm)
	}
	if ev := g.Next().Event; ev.GameId != "solo" {
		t.Errorf("game_id %q", ev.GameId)
	}
}

func BenchmarkNext(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"default", Config{Seed: 1, Start: testStart, Rate: 1000}},
		{"faults", Config{Seed: 1, Start: testStart, Rate: 1000, Duplicates: 0.05, Late: 0.03, Malformed: 0.02}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := newGen(b, bc.cfg)
			for range 200_000 { // past the cold start
				g.Next()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				g.Next()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
