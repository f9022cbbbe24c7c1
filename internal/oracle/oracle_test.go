package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/gamepulse/gamepulse/internal/datadriven"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The data-driven oracle tests (testdata/*) have one command:
//
//	run [partitions=N] [lateness=D] [gap=D] [horizon=D] [maxfuture=D] [rates=USD:1,EUR:1.1]
//	NDJSON lines, in arrival order (received_at is stamped 23:00, game_id is the event's)
//	----
//	the report, as fmtReport prints it
//
// Rates default to USD:1 EUR:1.1 JPY:0.0067. Times print as HH:MM[:SS] on
// 2026-11-25 UTC.

var testDay = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func fmtTime(tm time.Time) string {
	if !tm.Truncate(24 * time.Hour).Equal(testDay) {
		return tm.UTC().Format(time.RFC3339Nano)
	}
	if tm.Nanosecond() != 0 {
		return tm.UTC().Format("15:04:05.999999999")
	}
	if tm.Second() != 0 {
		return tm.UTC().Format("15:04:05")
	}
	return tm.UTC().Format("15:04")
}

func fmtSession(s Session) string {
	return fmt.Sprintf("%s %s %s %s/%s %s..%s duration=%dms events=%d revenue=%d levels=%d",
		s.Game, s.Player, s.ID, s.Platform, s.Country, fmtTime(s.Start), fmtTime(s.End), s.DurationMs, s.Events, s.RevenueMicros, s.LevelsPlayed)
}

func fmtReport(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "records=%d processed=%d late=%d duplicate_events=%d duplicate_purchases=%d\n",
		r.Records, r.Processed, r.Late, r.DuplicateEvents, r.DuplicatePurchases)
	for _, c := range slices.Sorted(maps.Keys(r.DeadLetters)) {
		fmt.Fprintf(&b, "deadletter %s=%d\n", c, r.DeadLetters[c])
	}
	for _, s := range r.Sessions {
		fmt.Fprintf(&b, "session %s closed_by=%s\n", fmtSession(s), s.ClosedBy)
	}
	for _, s := range r.OpenSessions {
		fmt.Fprintf(&b, "open %s\n", fmtSession(s))
	}
	for _, k := range r.KPIs {
		fmt.Fprintf(&b, "kpi %s|%s|%s|%s|%s active=%d/%d", k.Window, fmtTime(k.Start), k.Game, k.Platform, k.Country, k.ActivePlayers, k.ActivePlayersExact)
		for _, f := range []struct {
			name string
			v    int64
		}{
			{"new", k.NewPlayers}, {"sessions", k.SessionsStarted}, {"purchases", k.Purchases},
			{"revenue", k.RevenueMicros}, {"purchase_rev", k.PurchaseRevenueMicros},
			{"refunds", k.Refunds}, {"refund_rev", k.RefundMicros}, {"ads", k.AdImpressions}, {"ad_rev", k.AdRevenueMicros},
		} {
			if f.v != 0 {
				fmt.Fprintf(&b, " %s=%d", f.name, f.v)
			}
		}
		if k.PayersExact != 0 {
			fmt.Fprintf(&b, " payers=%d/%d", k.Payers, k.PayersExact)
		}
		for _, l := range k.Levels {
			fmt.Fprintf(&b, " L%d=%d/%d/%d", l.Level, l.Starts, l.Completions, l.Fails)
		}
		b.WriteString("\n")
	}
	for _, c := range r.Completeness {
		fmt.Fprintf(&b, "completeness %s %s %q %s gaps=%d duplicates=%d out_of_order=%d\n",
			c.Game, c.Platform, c.AppBuild, fmtTime(c.Minute), c.Gaps, c.Duplicates, c.OutOfOrder)
	}
	return b.String()
}

func testParams(t *testing.T, c *datadriven.Case) Params {
	t.Helper()
	p := Params{Rates: map[string]float64{"USD": 1, "EUR": 1.1, "JPY": 0.0067}}
	dur := func(v string) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s: bad duration %q", c.Pos, v)
		}
		return d
	}
	for name, v := range c.Args {
		switch name {
		case "partitions":
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s: bad partitions", c.Pos)
			}
			p.Partitions = n
		case "lateness":
			p.Lateness = dur(v)
		case "gap":
			p.SessionGap = dur(v)
		case "horizon":
			p.DedupHorizon = dur(v)
		case "maxfuture":
			p.MaxFuture = dur(v)
		case "rates":
			p.Rates = map[string]float64{}
			for _, kv := range strings.Split(v, ",") {
				cur, r, _ := strings.Cut(kv, ":")
				f, err := strconv.ParseFloat(r, 64)
				if err != nil {
					t.Fatalf("%s: bad rate %q", c.Pos, kv)
				}
				p.Rates[cur] = f
			}
		default:
			t.Fatalf("%s: unknown argument %s", c.Pos, name)
		}
	}
	return p
}

var received = testDay.Add(23 * time.Hour)

func TestOracleDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/*", func(t *testing.T) func(*testing.T, *datadriven.Case) string {
		return func(t *testing.T, c *datadriven.Case) string {
			if c.Cmd != "run" {
				t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
			}
			rep, err := RunNDJSON(strings.NewReader(strings.Join(c.Input, "\n")), received, testParams(t, c))
			if err != nil {
				return "error: " + err.Error()
			}
			// Every row's figures must add up, whatever the case.
			for _, k := range rep.KPIs {
				if k.RevenueMicros != k.PurchaseRevenueMicros+k.AdRevenueMicros-k.RefundMicros {
					t.Errorf("%s: %s: revenue does not add up", c.Pos, k.Key)
				}
			}
			return fmtReport(rep)
		}
	})
}

// TestDeterminism runs the oracle twice over the same generated records,
// and once more through JSON, and requires identical reports.
func TestDeterminism(t *testing.T) {
	recs := generate(t, 20_000, 1)
	p := Params{Rates: simRates, Partitions: 3}
	a, err := Run(recs, p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(recs, p)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("two runs over the same records differ")
	}
	checkAccounting(t, a)
	if a.Processed == 0 || len(a.Sessions) == 0 || len(a.KPIs) == 0 || len(a.Completeness) == 0 {
		t.Fatalf("the workload exercised too little: %+v", a.DeadLetters)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Params
		ok   bool
	}{
		{"defaults", Params{Rates: map[string]float64{"USD": 1}}, true},
		{"no rates", Params{}, false},
		{"bad rate", Params{Rates: map[string]float64{"USD": 0}}, false},
		{"bad partitions", Params{Rates: map[string]float64{"USD": 1}, Partitions: -1}, false},
		{"negative gap", Params{Rates: map[string]float64{"USD": 1}, SessionGap: -time.Second}, false},
		{"sub-ms horizon", Params{Rates: map[string]float64{"USD": 1}, DedupHorizon: time.Hour + 1}, false},
		{"negative max future", Params{Rates: map[string]float64{"USD": 1}, MaxFuture: -time.Minute}, false},
		{"USD not 1", Params{Rates: map[string]float64{"usd": 2}}, false},
		{"no USD", Params{Rates: map[string]float64{"EUR": 1.1}}, true},
	} {
		if _, err := New(tc.p); (err == nil) != tc.ok {
			t.Errorf("%s: New = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// checkAccounting: every record is processed, dead-lettered or dropped as a
// duplicate, exactly once; every row's revenue adds up and its estimates
// are within 4 % (or 2 players) of the exact counts.
func checkAccounting(t *testing.T, r *Report) {
	t.Helper()
	n := r.Processed + r.DuplicateEvents + r.DuplicatePurchases
	for _, v := range r.DeadLetters {
		n += v
	}
	if n != r.Records {
		t.Fatalf("%d records, but %d processed + dead-lettered + dropped", r.Records, n)
	}
	for _, k := range r.KPIs {
		if k.RevenueMicros != k.PurchaseRevenueMicros+k.AdRevenueMicros-k.RefundMicros {
			t.Fatalf("%s: revenue does not add up", k.Key)
		}
		for _, c := range [][2]int64{{int64(k.ActivePlayers), k.ActivePlayersExact}, {int64(k.Payers), k.PayersExact}} {
			if d := c[0] - c[1]; d*d > 4 && float64(max(d, -d)) > 0.04*float64(c[1]) {
				t.Fatalf("%s: estimate %d, exact %d", k.Key, c[0], c[1])
			}
		}
	}
}

// FuzzRunNDJSON: any input runs without panicking and accounts for every
// record.
func FuzzRunNDJSON(f *testing.F) {
	f.Add([]byte(`{"event_id":"e","event_type":"login","game_id":"g","player_id":"p","session_id":"s","seq":1,"client_time":"2026-11-25T18:00:00Z","login":{}}`))
	f.Add([]byte("null\n[1]\n{\"a\":\n"))
	f.Add(simNDJSON(f, 50, 9))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := RunNDJSON(bytes.NewReader(b), received, Params{Rates: simRates, Partitions: 2})
		if err != nil {
			return // a line that cannot be split (unbalanced brackets)
		}
		checkAccounting(t, rep)
	})
}
