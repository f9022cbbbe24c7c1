package oracle

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// TestJobsAgree is the differential test of the oracle against the
// processor's stage 1: simulated records with every fault of the simulator
// (duplicates, late and malformed items), and more made here (lost events,
// replayed purchases, unknown currencies, amounts out of range, client
// clocks ahead of received_at, odd platform names, seqs past 2^40), go
// through one jobs.Stage per partition in arrival order and through the
// oracle. Dead letters by code, drops by kind, accepted events, closed
// sessions (a multiset, through the sessions topic's JSON), sessions left
// open, completeness sums per (game, platform, build, minute) and the KPI
// rows built from the jobs' enriched events with kpi.Aggregate, as stage 1
// does, must all be equal.
func TestJobsAgree(t *testing.T) {
	noBRL := map[string]float64{"USD": 1, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067} // BRL purchases: unknown_currency
	for _, tc := range []struct {
		name     string
		p        Params
		n        int
		rate     float64 // simulated items per second
		explicit bool    // records carry their partition, which is not the key's
		enc      record.Encoding
	}{
		{"defaults", Params{Partitions: 3, Rates: noBRL}, 30_000, 200, false, record.EncodingProtobuf},
		// The raw records in the JSON encoding: the oracle reads them with
		// DecodeRaw, the jobs by the encoding given to Process.
		{"json raw records", Params{Partitions: 3, Rates: noBRL}, 20_000, 200, true, record.EncodingJSON},
		{"short horizon and gap", Params{Partitions: 2, Rates: noBRL, DedupHorizon: 2 * time.Minute,
			SessionGap: 20 * time.Second, Lateness: 5 * time.Second, MaxFuture: time.Minute}, 30_000, 40, true, record.EncodingProtobuf},
		{"one partition", Params{Partitions: 1, Rates: noBRL, DedupHorizon: 10 * time.Minute,
			SessionGap: time.Minute, Lateness: 30 * time.Second}, 20_000, 60, false, record.EncodingProtobuf},
		{"many partitions", Params{Partitions: 7, Rates: noBRL, DedupHorizon: 5 * time.Minute,
			SessionGap: 45 * time.Second, Lateness: 10 * time.Second}, 20_000, 30, true, record.EncodingProtobuf},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := int64(1); seed <= 2; seed++ {
				runJobsAgree(t, tc.p, seed, tc.n, tc.rate, tc.explicit, tc.enc)
			}
		})
	}
}

// diffRecord is one raw topic record: its value and partition, and the
// oracle's view of it.
type diffRecord struct {
	value []byte
	rec   Record
}

func runJobsAgree(t *testing.T, p Params, seed int64, n int, rate float64, explicit bool, enc record.Encoding) {
	t.Helper()
	p.EnsureDefaults()
	rates, err := jobs.NewRates(p.Rates)
	if err != nil {
		t.Fatal(err)
	}
	cfg := jobs.Config{DedupHorizon: p.DedupHorizon, SessionGap: p.SessionGap, AllowedLateness: p.Lateness,
		MaxFuture: p.MaxFuture, Rates: rates}
	stages := make([]*jobs.Stage, p.Partitions)
	for i := range stages {
		if stages[i], err = jobs.NewStage(cfg); err != nil {
			t.Fatal(err)
		}
	}
	o, err := New(p)
	if err != nil {
		t.Fatal(err)
	}

	var (
		res       jobs.Result
		closed    []Session
		ledger    = map[completenessKey]*Completeness{}
		aggs      = map[kpi.Key]*kpi.Aggregate{}
		processed int
	)
	drain := func(st *jobs.Stage) {
		for _, c := range st.DrainLedger(nil) {
			k := completenessKey{c.GameID, c.Platform, c.AppBuild, c.Window.UnixMilli()}
			if ledger[k] == nil {
				ledger[k] = &Completeness{Game: c.GameID, Platform: c.Platform, AppBuild: c.AppBuild, Minute: c.Window}
			}
			ledger[k].Gaps += c.Gaps
			ledger[k].Duplicates += c.Duplicates
			ledger[k].OutOfOrder += c.OutOfOrder
		}
	}
	addKPI := func(x *jobs.Enriched) {
		e := x.Event
		in := kpi.Input{Time: x.EventTime, Player: e.GetPlayerId(), Game: e.GetGameId(), Platform: x.PlatformNorm,
			Country: x.CountryNorm, Type: e.GetEventType(), RevenueMicros: x.RevenueUSDMicros, NewPlayer: x.NewPlayer, Level: levelOf(e)}
		detail, game := kpi.Keys(in)
		for _, k := range []kpi.Key{detail, game, detail.Hour(), game.Hour()} {
			if aggs[k] == nil {
				aggs[k] = &kpi.Aggregate{}
			}
			aggs[k].Add(in)
		}
	}
	perturb := newPerturber(t, p, seed, explicit, enc)
	g, err := simulate.New(simulate.Config{Seed: seed, Start: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC), Rate: rate,
		Players: 3000, RefundShare: 0.2, Duplicates: 0.03, Late: 0.03, Malformed: 0.01, LateDelay: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		for _, r := range perturb.records(g.Next()) {
			st := stages[r.rec.Partition]
			st.Process(r.value, enc, &res)
			for i := range res.Sessions {
				closed = append(closed, viaJSON(t, &res.Sessions[i]))
			}
			if res.Accepted() {
				addKPI(&res.Enriched)
			}
			if processed++; processed%100 == 0 {
				drain(st)
			}
			o.Add(r.rec)
		}
	}
	var open []Session
	for _, st := range stages {
		drain(st)
		for _, s := range st.Advance(time.Unix(1<<40, 0), nil) {
			x := viaJSON(t, &s)
			x.ClosedBy = ""
			open = append(open, x)
		}
	}
	rep := o.Report()

	// Counts.
	var want jobs.Stats
	want.DeadLetters = map[string]int64{}
	for _, st := range stages {
		s := st.Stats()
		want.Records += s.Records
		want.Accepted += s.Accepted
		want.DroppedEventID += s.DroppedEventID
		want.DroppedStoreTransaction += s.DroppedStoreTransaction
		want.Stray += s.Stray
		for c, v := range s.DeadLetters {
			want.DeadLetters[c] += v
		}
	}
	if !maps.Equal(rep.DeadLetters, want.DeadLetters) {
		t.Errorf("seed %d: dead letters: oracle %v, jobs %v", seed, rep.DeadLetters, want.DeadLetters)
	}
	if rep.Records != want.Records || rep.Processed != want.Accepted || rep.DuplicateEvents != want.DroppedEventID ||
		rep.DuplicatePurchases != want.DroppedStoreTransaction {
		t.Errorf("seed %d: records/processed/dup events/dup purchases: oracle %d/%d/%d/%d, jobs %d/%d/%d/%d", seed,
			rep.Records, rep.Processed, rep.DuplicateEvents, rep.DuplicatePurchases,
			want.Records, want.Accepted, want.DroppedEventID, want.DroppedStoreTransaction)
	}
	// The workload must exercise every rule.
	for _, code := range []string{event.CodeMalformed, event.CodeMissingField, event.CodeInvalidValue, event.CodeClockSkew, CodeUnknownCurrency} {
		if want.DeadLetters[code] == 0 {
			t.Errorf("seed %d: no dead letter %s", seed, code)
		}
	}
	if want.DroppedEventID == 0 || want.DroppedStoreTransaction == 0 || want.Stray == 0 {
		t.Errorf("seed %d: too few drops or strays: %+v", seed, want)
	}

	// Sessions.
	SortSessions(closed)
	SortSessions(open)
	compareSessions(t, fmt.Sprintf("seed %d: closed sessions", seed), rep.Sessions, closed)
	compareSessions(t, fmt.Sprintf("seed %d: open sessions", seed), rep.OpenSessions, open)
	by := map[string]int{}
	for _, s := range closed {
		by[s.ClosedBy]++
	}
	for _, why := range []string{ClosedByEnd, ClosedByNext, ClosedByGap, ClosedByWatermark} {
		if by[why] == 0 && p.SessionGap < time.Minute {
			t.Errorf("seed %d: no session closed by %s: %v", seed, why, by)
		}
	}
	if len(closed) == 0 || len(open) == 0 {
		t.Errorf("seed %d: %d sessions closed, %d open", seed, len(closed), len(open))
	}
	t.Logf("seed %d: %d records: %d accepted, dead letters %v, drops %d+%d, %d strays; sessions closed %v, %d open; %d KPI rows",
		seed, want.Records, want.Accepted, want.DeadLetters, want.DroppedEventID, want.DroppedStoreTransaction, want.Stray, by, len(open), len(rep.KPIs))

	// Completeness.
	nonZero := func(cs []Completeness) map[string]Completeness {
		m := map[string]Completeness{}
		for _, c := range cs {
			if c.Gaps != 0 || c.Duplicates != 0 || c.OutOfOrder != 0 {
				m[fmt.Sprintf("%s|%s|%s|%s", c.Game, c.Platform, c.AppBuild, c.Minute.UTC().Format(time.RFC3339))] = c
			}
		}
		return m
	}
	var fromJobs []Completeness
	for _, c := range ledger {
		fromJobs = append(fromJobs, *c)
	}
	got, wantC := nonZero(rep.Completeness), nonZero(fromJobs)
	if len(wantC) == 0 {
		t.Errorf("seed %d: the ledger counted nothing", seed)
	}
	diffs := 0
	for k := range mapsUnion(got, wantC) {
		g, w := got[k], wantC[k]
		if g.Gaps != w.Gaps || g.Duplicates != w.Duplicates || g.OutOfOrder != w.OutOfOrder {
			if diffs++; diffs <= 5 {
				t.Errorf("seed %d: completeness %s: oracle %d/%d/%d, jobs %d/%d/%d (gaps/dups/ooo)", seed, k,
					g.Gaps, g.Duplicates, g.OutOfOrder, w.Gaps, w.Duplicates, w.OutOfOrder)
			}
		}
	}

	// KPI rows.
	fromAgg := map[string]kpi.Result{}
	for k, a := range aggs {
		fromAgg[k.String()] = a.Result(k)
	}
	if len(fromAgg) != len(rep.KPIs) {
		t.Errorf("seed %d: %d KPI rows in the oracle, %d from the jobs", seed, len(rep.KPIs), len(fromAgg))
	}
	diffs = 0
	for _, k := range rep.KPIs {
		w, ok := fromAgg[k.Key]
		levels := make([]kpi.LevelResult, 0, len(k.Levels))
		for _, l := range k.Levels {
			levels = append(levels, kpi.LevelResult{Level: l.Level, Starts: l.Starts, Completions: l.Completions, Fails: l.Fails})
		}
		g := kpi.Result{Key: k.Key, Window: w.Window, Start: w.Start, End: w.End, Game: k.Game, Platform: k.Platform, Country: k.Country,
			ActivePlayers: k.ActivePlayers, NewPlayers: k.NewPlayers, SessionsStarted: k.SessionsStarted, Purchases: k.Purchases,
			Payers: k.Payers, RevenueMicros: k.RevenueMicros, PurchaseRevenueMicros: k.PurchaseRevenueMicros, Refunds: k.Refunds,
			RefundMicros: k.RefundMicros, AdImpressions: k.AdImpressions, AdRevenueMicros: k.AdRevenueMicros, Levels: levels}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !ok || string(gj) != string(wj) {
			if diffs++; diffs <= 5 {
				t.Errorf("seed %d: KPI row %s:\noracle %s\njobs   %s", seed, k.Key, gj, wj)
			}
		}
	}
}

// viaJSON is s as the test reading the sessions topic sees it.
func viaJSON(t *testing.T, s *jobs.Session) Session {
	b, err := s.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var x Session
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

func compareSessions(t *testing.T, what string, oracle, jobs []Session) {
	t.Helper()
	enc := func(ss []Session) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			b, _ := json.Marshal(s)
			out[i] = string(b)
		}
		return out
	}
	o, j := enc(oracle), enc(jobs)
	if slices.Equal(o, j) {
		return
	}
	count := map[string]int{}
	for _, s := range o {
		count[s]++
	}
	for _, s := range j {
		count[s]--
	}
	var lines []string
	for _, s := range slices.Sorted(maps.Keys(count)) {
		switch c := count[s]; {
		case c > 0:
			lines = append(lines, fmt.Sprintf("only in the oracle (×%d): %s", c, s))
		case c < 0:
			lines = append(lines, fmt.Sprintf("only in the jobs (×%d): %s", -c, s))
		}
	}
	t.Errorf("%s: oracle %d, jobs %d; first differences:\n%s", what, len(o), len(j), strings.Join(lines[:min(len(lines), 10)], "\n"))
}

func mapsUnion[V any](a, b map[string]V) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

// perturber turns simulator items into raw topic records, adding faults of
// its own.
type perturber struct {
	t        *testing.T
	rng      *rand.Rand
	p        Params
	explicit bool
	enc      record.Encoding // of the records made
	n        int
	held     []heldRecord
}

type heldRecord struct {
	due int
	ev  *event.Event
}

var oddPlatforms = []string{" Xbox One ", "PS5", "mac os x", "WEBGL", "Nintendo Switch", "win32", "iPod", "smart fridge", "", "\tandroid"}

func newPerturber(t *testing.T, p Params, seed int64, explicit bool, enc record.Encoding) *perturber {
	return &perturber{t: t, rng: rand.New(rand.NewPCG(uint64(seed), 0xd1ff)), p: p, explicit: explicit, enc: enc}
}

// records returns the records an item becomes: none (a lost event), one,
// or more (a replayed purchase, held-back events released).
func (x *perturber) records(it simulate.Item) []diffRecord {
	x.n++
	var out []diffRecord
	for len(x.held) > 0 && x.held[0].due <= x.n {
		out = append(out, x.record(x.held[0].ev))
		x.held = x.held[1:]
	}
	if it.Event == nil {
		part := x.rng.IntN(x.p.Partitions) // no key: any partition
		rec := DecodeRaw(it.Raw, x.enc)    // JSON bytes may happen to parse as Protobuf
		rec.Partition, rec.HasPartition = part, true
		return append(out, diffRecord{value: it.Raw, rec: rec})
	}
	r := x.rng.Float64()
	ev := proto.Clone(it.Event).(*event.Event)
	ct := ev.GetClientTime().AsTime()
	ev.ReceivedAt = timestamppb.New(ct.Add(time.Duration(x.rng.Int64N(int64(3 * time.Second)))))
	switch {
	case r < 0.01: // lost: a seq gap
		return out
	case r < 0.02: // a client clock ahead: around the MaxFuture bound
		skew := x.p.MaxFuture + time.Duration(x.rng.Int64N(int64(time.Minute))) - 30*time.Second
		ev.ReceivedAt = timestamppb.New(ct.Add(-skew))
	case r < 0.03:
		ev.Platform = oddPlatforms[x.rng.IntN(len(oddPlatforms))]
	case r < 0.035 && ev.GetSessionId() != "":
		ev.Seq = 1<<40 + uint64(x.rng.IntN(3)) - 1
	case r < 0.045: // held back long: past the horizon when it is short
		x.hold(500+x.rng.IntN(3000), ev)
		return out
	case r < 0.06 && ev.GetSessionId() != "": // a purchase instead, some replaying a receipt, some in CHF (unknown)
		ev.EventType = event.TypePurchase
		ev.Payload = &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems", Price: 0.99,
			Currency:           []string{"USD", "eur", "JPY", "CHF"}[x.rng.IntN(4)],
			StoreTransactionId: fmt.Sprint("tx-", x.rng.IntN(200))}}
	case r < 0.065: // an ad impression, with or without a currency
		ev.EventType = event.TypeAdImpression
		ev.Payload = &event.Event_AdImpression{AdImpression: &event.AdImpression{Network: "n", Revenue: 0.0031,
			Currency: []string{"", "GBP", "CHF"}[x.rng.IntN(3)]}}
	}
	if pu := ev.GetPurchase(); pu != nil {
		switch r := x.rng.Float64(); {
		case r < 0.03:
			pu.Price *= 1e10 // out of range once converted
		case r < 0.2: // replayed with a new event_id, a little later
			re := proto.Clone(ev).(*event.Event)
			re.EventId += "-replay"
			re.ClientTime = timestamppb.New(ct.Add(time.Duration(x.rng.Int64N(int64(10 * time.Second)))))
			re.ReceivedAt = re.ClientTime
			x.hold(1+x.rng.IntN(50), re)
		}
	}
	return append(out, x.record(ev))
}

// hold releases ev after n more items.
func (x *perturber) hold(n int, ev *event.Event) {
	x.held = append(x.held, heldRecord{due: x.n + n, ev: ev})
	slices.SortStableFunc(x.held, func(a, b heldRecord) int { return cmp.Compare(a.due, b.due) })
}

func (x *perturber) record(ev *event.Event) diffRecord {
	var b []byte
	var err error
	if x.enc == record.EncodingJSON {
		b, err = event.MarshalJSON(ev)
	} else {
		b, err = event.Marshal(ev)
	}
	if err != nil {
		x.t.Fatal(err)
	}
	rec := DecodeRaw(b, x.enc)
	if rec.Event == nil {
		x.t.Fatalf("a %s record of an event does not decode: %s", x.enc, b)
	}
	part := Partition(ev.GetPlayerId(), x.p.Partitions)
	if x.explicit {
		// Another partitioner than the key's: the oracle must follow it.
		part = Partition(ev.GetPlayerId()+"#", x.p.Partitions)
		rec.Partition, rec.HasPartition = part, true
	}
	rec.Partition = part
	return diffRecord{value: b, rec: rec}
}
