package jobs

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// runStream processes n generated events (binary-encoded, as the engine
// sees them) and returns every output line, with the ledger totals at the
// end. restoreEvery > 0 rebuilds the stage from its changelog that often
// (full log when full, else compacted), draining the ledger and changes
// every drainEvery events as the engine would per transaction.
func runStream(t *testing.T, cfg Config, seed uint64, step int64, n, restoreEvery, drainEvery int, full bool) (out []string, tombstones int) {
	t.Helper()
	g := newGen(seed, 40, step)
	r := &runner{t: t, cfg: cfg, ledger: map[string]*LedgerCount{}}
	r.newStage()
	rng := rand.New(rand.NewPCG(seed, 7))
	for i := 1; i <= n; i++ {
		b, err := event.Marshal(g.next())
		if err != nil {
			t.Fatal(err)
		}
		r.st.Process(b, record.EncodingProtobuf, &r.res)
		r.report()
		if i%drainEvery == 0 {
			r.drain()
		}
		if restoreEvery > 0 && rng.IntN(restoreEvery) == 0 {
			r.restore(!full)
		}
		if i%997 == 0 {
			// The engine's timer, with a watermark behind the partition's own.
			max, _ := r.st.MaxEventTime()
			for _, s := range r.st.Advance(max.Add(-10*time.Minute), nil) {
				r.out = append(r.out, formatSession(&s))
			}
		}
	}
	for _, s := range r.st.Advance(time.Unix(1<<40, 0), nil) {
		r.out = append(r.out, formatSession(&s))
	}
	r.drain()
	for _, c := range r.log {
		if c.value == nil {
			tombstones++
		}
	}
	keys := make([]string, 0, len(r.ledger))
	for k := range r.ledger {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c := r.ledger[k]
		if c.Gaps != 0 || c.Duplicates != 0 || c.OutOfOrder != 0 {
			r.out = append(r.out, fmt.Sprintf("ledger %s gaps=%d duplicates=%d out_of_order=%d", k, c.Gaps, c.Duplicates, c.OutOfOrder))
		}
	}
	return r.out, tombstones
}

// TestRestoreAnywhere: rebuilding the stage from its changelog at random
// points (and draining at any cadence) never changes any output. A small
// horizon over 2.5 h of event time makes expiry and its tombstones happen.
func TestRestoreAnywhere(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		step int64
	}{{Config{}, 1500}, {Config{DedupHorizon: 20 * time.Minute, SessionGap: 5 * time.Minute}, 3000}} {
		cfg := c.cfg
		for seed := uint64(1); seed <= 2; seed++ {
			want, tombs := runStream(t, cfg, seed, c.step, 2000, 0, 1, false)
			if cfg.DedupHorizon != 0 && tombs == 0 {
				t.Fatal("no expiry in the stream")
			}
			for _, tc := range []struct {
				every, drain int
				full         bool
			}{{40, 1, false}, {300, 7, true}} {
				got, _ := runStream(t, cfg, seed, c.step, 2000, tc.every, tc.drain, tc.full)
				if a, b := strings.Join(got, "\n"), strings.Join(want, "\n"); a != b {
					compareLines(t, fmt.Sprintf("horizon %v seed %d %+v: ", cfg.DedupHorizon, seed, tc), got, want)
					return
				}
			}
		}
	}
}

// TestLedgerReference compares the ledger with a naive implementation of
// rule 3 (a set of seen seqs per session, and the revealing row of every
// missing seq), over a generated stream, within the horizon.
func TestLedgerReference(t *testing.T) {
	type sess struct {
		highest uint64
		seen    map[uint64]bool
		reveal  map[uint64]rowKey
	}
	for seed := uint64(1); seed <= 3; seed++ {
		st, err := NewStage(Config{})
		if err != nil {
			t.Fatal(err)
		}
		g := newGen(seed, 30, 1000)
		type sessKey struct{ game, player, session string }
		sessions := map[sessKey]*sess{}
		want := map[rowKey]rowCounts{}
		add := func(k rowKey, gaps, dups, ooo int64) {
			c := want[k]
			c.gaps += gaps
			c.dups += dups
			c.ooo += ooo
			want[k] = c
		}
		var res Result
		for i := 0; i < 20000; i++ {
			e := g.next()
			st.ProcessEvent(e, &res)
			if e.GetSessionId() == "" || res.DeadLetter != nil {
				continue
			}
			ts := e.GetClientTime().AsTime().UnixMilli()
			row := rowKey{e.GetGameId(), NormalizePlatform(e.GetPlatform()), e.GetAppBuild(), windowOf(ts)}
			k := sessKey{e.GetGameId(), e.GetPlayerId(), e.GetSessionId()}
			s := sessions[k]
			if s == nil {
				s = &sess{seen: map[uint64]bool{}, reveal: map[uint64]rowKey{}}
				sessions[k] = s
			}
			seq := e.GetSeq()
			switch {
			case s.seen[seq]:
				add(row, 0, 1, 0)
			case seq < s.highest:
				add(s.reveal[seq], -1, 0, 0)
				add(row, 0, 0, 1)
			default:
				for m := s.highest + 1; m < seq; m++ {
					s.reveal[m] = row
				}
				add(row, int64(seq-s.highest-1), 0, 0)
				s.highest = seq
			}
			s.seen[seq] = true
		}
		got := map[rowKey]rowCounts{}
		for _, c := range st.DrainLedger(nil) {
			got[rowKey{c.GameID, c.Platform, c.AppBuild, c.Window.UnixMilli()}] = rowCounts{c.Gaps, c.Duplicates, c.OutOfOrder}
		}
		maps := func(m map[rowKey]rowCounts) map[rowKey]rowCounts {
			out := map[rowKey]rowCounts{}
			for k, v := range m {
				if v != (rowCounts{}) {
					out[k] = v
				}
			}
			return out
		}
		w, gt := maps(want), maps(got)
		if len(w) == 0 {
			t.Fatal("the stream has no ledger counts")
		}
		if fmt.Sprint(w) != fmt.Sprint(gt) {
			t.Errorf("seed %d: ledger rows differ:\n got %v\nwant %v", seed, gt, w)
		}
	}
}

// TestSessionConservation: every accepted event with a session_id is in
// exactly one emitted session or a straggler, and session revenue adds up.
func TestSessionConservation(t *testing.T) {
	st, err := NewStage(Config{SessionGap: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(42, 50, 2000)
	var res Result
	var inSession, stray, sessEvents, revIn, revSess int64
	closed := map[string]int{}
	record := func(ss []Session) {
		for _, s := range ss {
			sessEvents += s.Events
			revSess += s.RevenueUSDMicros
			closed[s.ClosedBy]++
			if s.End.Before(s.Start) || s.DurationMs != s.End.Sub(s.Start).Milliseconds() {
				t.Fatalf("bad session %+v", s)
			}
		}
	}
	for i := 0; i < 30000; i++ {
		st.ProcessEvent(g.next(), &res)
		record(res.Sessions)
		if !res.Accepted() || res.Event.GetSessionId() == "" {
			continue
		}
		if res.Stray {
			stray++
			continue
		}
		inSession++
		revIn += res.Enriched.RevenueUSDMicros
	}
	record(st.Advance(time.Unix(1<<40, 0), nil))
	if sessEvents != inSession || revIn != revSess {
		t.Errorf("events in sessions %d, accepted session events %d (strays %d); revenue %d vs %d", sessEvents, inSession, stray, revSess, revIn)
	}
	for _, by := range []string{ClosedByEnd, ClosedByGap, ClosedByNext, ClosedByWatermark} {
		if closed[by] == 0 && by != ClosedByNext {
			t.Errorf("no session closed by %s: %v", by, closed)
		}
	}
	if stray == 0 {
		t.Error("no stragglers in the stream")
	}
	st2 := st.Stats()
	if st2.Stray != stray || st2.DroppedEventID == 0 || st2.DroppedStoreTransaction == 0 {
		t.Errorf("stats %+v", st2)
	}
}

// TestChangesQuiet: with nothing processed since the last Changes, Changes
// reports nothing; restore reports nothing either.
func TestChangesQuiet(t *testing.T) {
	st, _ := NewStage(Config{})
	g := newGen(3, 10, 1000)
	var res Result
	for i := 0; i < 500; i++ {
		st.ProcessEvent(g.next(), &res)
	}
	var log []changelogRec
	st.Changes(func(store string, key, value []byte) { log = append(log, changelogRec{store, key, value}) })
	n := 0
	st.Changes(func(string, []byte, []byte) { n++ })
	if n != 0 || len(log) == 0 {
		t.Fatalf("second Changes: %d records (first: %d)", n, len(log))
	}
	fresh, _ := NewStage(Config{})
	for _, c := range log {
		if err := fresh.Restore(c.store, c.key, c.value); err != nil {
			t.Fatal(err)
		}
	}
	fresh.Changes(func(string, []byte, []byte) { n++ })
	if n != 0 {
		t.Errorf("a restored stage reports %d changes", n)
	}
	// Each key appears once per Changes call.
	seen := map[string]bool{}
	for _, c := range log {
		k := c.store + "\x00" + string(c.key)
		if seen[k] {
			t.Errorf("key %s %q reported twice", c.store, c.key)
		}
		seen[k] = true
		if c.value != nil && len(c.value) == 0 {
			t.Errorf("key %s %q: empty value (not a tombstone)", c.store, c.key)
		}
	}
}
