package kpi

import (
	"fmt"
	"github.com/gamepulse/gamepulse/internal/datadriven"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// The data-driven merger tests (testdata/merger*) use these commands:
//
//	new sources=0,1 [retention=D] [history=K] [drop=X] [active-floor=F]
//	    [revenue-floor=MICROS] [refund-factor=R] [refund-floor=F] [no-alerts]
//	partial src=P key=KEY
//	  one event per line: TYPE PLAYER [rev=MICROS] [level=N] [new]
//	  or counters: gaps=N dups=N ooo=N
//	mark src=P wm=TIME [idle]
//
// Times are HH:MM[:SS] on 2026-11-25 (UTC) or RFC 3339; KEY is a key's
// string form with such a time. The output lists, one per line, the
// watermark when it moves (wm TIME), the rows emitted (final vN KEY figures,
// non-zero figures only), the alerts and the dropped partials.

var testDay = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return tm.UTC()
	}
	layout := "15:04"
	if strings.Count(s, ":") == 2 {
		layout = "15:04:05"
	}
	tm, err := time.Parse(layout, s)
	if err != nil {
		t.Fatalf("bad time %q", s)
	}
	return testDay.Add(time.Duration(tm.Hour())*time.Hour + time.Duration(tm.Minute())*time.Minute + time.Duration(tm.Second())*time.Second)
}

func fmtTime(tm time.Time) string {
	if !tm.Truncate(24 * time.Hour).Equal(testDay) {
		return tm.UTC().Format(time.RFC3339)
	}
	if tm.Second() != 0 {
		return tm.UTC().Format("15:04:05")
	}
	return tm.UTC().Format("15:04")
}

func parseTestKey(t *testing.T, s string) Key {
	t.Helper()
	f := strings.Split(s, "|")
	if len(f) != 5 {
		t.Fatalf("bad key %q", s)
	}
	k := Key{Window: Window(f[0]), Start: parseTime(t, f[1]), Game: f[2], Platform: f[3], Country: f[4]}
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	return k
}

func fmtKey(k Key) string {
	return string(k.Window) + "|" + fmtTime(k.Start) + "|" + k.Game + "|" + k.Platform + "|" + k.Country
}

// fmtResult prints a row's non-zero figures in a fixed order.
func fmtResult(r Result) string {
	k, err := ParseKey(r.Key)
	if err != nil {
		panic(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "final v%d %s", r.Version, fmtKey(k))
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"active", int64(r.ActivePlayers)}, {"new", r.NewPlayers}, {"sessions", r.SessionsStarted},
		{"purchases", r.Purchases}, {"payers", int64(r.Payers)}, {"revenue", r.RevenueMicros},
		{"purchase_rev", r.PurchaseRevenueMicros}, {"refunds", r.Refunds}, {"refund_rev", r.RefundMicros},
		{"ads", r.AdImpressions}, {"ad_rev", r.AdRevenueMicros},
		{"gaps", r.Gaps}, {"dups", r.Duplicates}, {"ooo", r.OutOfOrder},
	} {
		if f.v != 0 {
			fmt.Fprintf(&b, " %s=%d", f.name, f.v)
		}
	}
	for _, l := range r.Levels {
		fmt.Fprintf(&b, " L%d=%d/%d/%d", l.Level, l.Starts, l.Completions, l.Fails)
	}
	return b.String()
}

func fmtAlert(a Alert) string {
	return fmt.Sprintf("alert %s %s %s observed=%g baseline=%g threshold=%g", a.Rule, a.Subject, fmtTime(a.Start), a.Observed, a.Baseline, a.Threshold)
}

func fmtOutput(m *Merger, prevWM time.Time, out Output) string {
	var b strings.Builder
	if !m.Watermark().Equal(prevWM) {
		fmt.Fprintf(&b, "wm %s\n", fmtTime(m.Watermark()))
	}
	for _, r := range out.Results {
		b.WriteString(fmtResult(r) + "\n")
	}
	for _, a := range out.Alerts {
		b.WriteString(fmtAlert(a) + "\n")
	}
	for _, k := range out.Dropped {
		b.WriteString("dropped " + fmtKey(k) + "\n")
	}
	return b.String()
}

// parseEvents builds a partial from input lines.
func parseEvents(t *testing.T, k Key, lines []string) *Aggregate {
	t.Helper()
	a := &Aggregate{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		if strings.Contains(f[0], "=") { // counters
			for _, kv := range f {
				name, v, _ := strings.Cut(kv, "=")
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("bad counter %q", kv)
				}
				switch name {
				case "gaps":
					a.Gaps += n
				case "dups":
					a.Duplicates += n
				case "ooo":
					a.OutOfOrder += n
				default:
					t.Fatalf("unknown counter %q", name)
				}
			}
			continue
		}
		if len(f) < 2 || !event.KnownType(f[0]) {
			t.Fatalf("bad event line %q", l)
		}
		in := Input{Time: k.Start, Type: f[0], Player: f[1], Game: k.Game, Platform: k.Platform, Country: k.Country}
		for _, opt := range f[2:] {
			name, v, _ := strings.Cut(opt, "=")
			switch name {
			case "new":
				in.NewPlayer = true
			case "rev":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					t.Fatalf("bad rev in %q", l)
				}
				in.RevenueMicros = n
			case "level":
				n, err := strconv.ParseInt(v, 10, 32)
				if err != nil {
					t.Fatalf("bad level in %q", l)
				}
				in.Level = int32(n)
			default:
				t.Fatalf("unknown option %q in %q", opt, l)
			}
		}
		a.Add(in)
	}
	return a
}

func newTestMerger(t *testing.T, c *datadriven.Case) (*Merger, error) {
	cfg := MergerConfig{}
	for _, s := range strings.Split(c.Arg(t, "sources"), ",") {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s: bad source %q", c.Pos, s)
		}
		cfg.Sources = append(cfg.Sources, int32(n))
	}
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(c.Args[name], 64)
		if err != nil {
			t.Fatalf("%s: bad %s", c.Pos, name)
		}
		return v
	}
	for name, v := range c.Args {
		switch name {
		case "sources":
		case "retention":
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s: bad retention", c.Pos)
			}
			cfg.Retention = d
		case "history":
			cfg.Alerts.History = int(num(name))
		case "drop":
			cfg.Alerts.DropPercent = num(name)
		case "active-floor":
			cfg.Alerts.ActiveFloor = num(name)
		case "revenue-floor":
			cfg.Alerts.RevenueFloorMicros = num(name)
		case "refund-factor":
			cfg.Alerts.RefundFactor = num(name)
		case "refund-floor":
			cfg.Alerts.RefundFloor = num(name)
		case "no-alerts":
			cfg.Alerts.Disabled = true
		default:
			t.Fatalf("%s: unknown argument %s", c.Pos, name)
		}
	}
	return NewMerger(cfg)
}

func TestMergerDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/merger*", func(t *testing.T) func(*testing.T, *datadriven.Case) string {
		var m *Merger
		return func(t *testing.T, c *datadriven.Case) string {
			if c.Cmd != "new" && m == nil {
				t.Fatalf("%s: %s before new", c.Pos, c.Cmd)
			}
			switch c.Cmd {
			case "new":
				var err error
				if m, err = newTestMerger(t, c); err != nil {
					return "error: " + err.Error()
				}
				return ""
			case "partial":
				src, _ := strconv.Atoi(c.Arg(t, "src"))
				k := parseTestKey(t, c.Arg(t, "key"))
				prev := m.Watermark()
				out, err := m.AddPartial(int32(src), k, parseEvents(t, k, c.Input))
				if err != nil {
					return "error: " + err.Error()
				}
				return fmtOutput(m, prev, out)
			case "mark":
				src, _ := strconv.Atoi(c.Arg(t, "src"))
				_, idle := c.Args["idle"]
				prev := m.Watermark()
				out := m.Mark(Mark{Source: int32(src), Watermark: parseTime(t, c.Arg(t, "wm")), Idle: idle})
				return fmtOutput(m, prev, out)
			}
			t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
			return ""
		}
	})
}

func TestMergerConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  MergerConfig
		ok   bool
	}{
		{"defaults", MergerConfig{Sources: []int32{0}}, true},
		{"no sources", MergerConfig{}, false},
		{"short retention", MergerConfig{Sources: []int32{0}, Retention: 30 * time.Minute}, false},
		{"history past retention", MergerConfig{Sources: []int32{0}, Retention: time.Hour, Alerts: AlertConfig{History: 60}}, false},
		{"bad drop", MergerConfig{Sources: []int32{0}, Alerts: AlertConfig{DropPercent: 150}}, false},
		{"bad factor", MergerConfig{Sources: []int32{0}, Alerts: AlertConfig{RefundFactor: -1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewMerger(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("NewMerger: %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestMergerRejectsHourPartial(t *testing.T) {
	m, err := NewMerger(MergerConfig{Sources: []int32{0}})
	if err != nil {
		t.Fatal(err)
	}
	k := MinuteKey(testDay, "g", "ios", "US").Hour()
	if _, err := m.AddPartial(0, k, &Aggregate{}); err == nil {
		t.Fatal("an hour partial was accepted")
	}
	if _, err := m.AddPartial(0, Key{Window: Minute, Start: testDay.Add(time.Second), Game: "g", Platform: "*", Country: "*"}, &Aggregate{}); err == nil {
		t.Fatal("an unaligned key was accepted")
	}
}

// mergerStep is one call of a random merger workload.
type mergerStep struct {
	mark    bool
	source  int32
	wm      time.Time
	idle    bool
	key     Key
	partial []byte // encoded, so each replay gets its own copy
}

func randomWorkload(r *rand.Rand, n int) []mergerStep {
	var steps []mergerStep
	wm := [2]time.Time{testDay.Add(18 * time.Hour), testDay.Add(18 * time.Hour)}
	games := []string{"a", "b"}
	for range n {
		src := int32(r.IntN(2))
		if r.IntN(4) == 0 {
			wm[src] = wm[src].Add(time.Duration(r.IntN(90)) * time.Second)
			steps = append(steps, mergerStep{mark: true, source: src, wm: wm[src], idle: r.IntN(10) == 0})
			continue
		}
		t := wm[src].Add(time.Duration(r.IntN(300)-60) * time.Second)
		in := Input{Time: t, Player: fmt.Sprintf("p%d", r.IntN(50)), Game: games[r.IntN(2)],
			Platform: "ios", Country: "US", Type: event.Types()[r.IntN(len(event.Types()))],
			RevenueMicros: int64(r.IntN(5e6)), Level: int32(r.IntN(3))}
		if in.Type == event.TypeRefund {
			in.RevenueMicros = -in.RevenueMicros
		}
		detail, game := Keys(in)
		for _, k := range []Key{detail, game} {
			a := &Aggregate{}
			a.Add(in)
			steps = append(steps, mergerStep{source: src, key: k, partial: a.Encode()})
		}
	}
	return steps
}

func replay(t *testing.T, m *Merger, steps []mergerStep) []Output {
	t.Helper()
	var outs []Output
	for _, s := range steps {
		if s.mark {
			outs = append(outs, m.Mark(Mark{Source: s.source, Watermark: s.wm, Idle: s.idle}))
			continue
		}
		a, err := Decode(s.partial)
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.AddPartial(s.source, s.key, a)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	return outs
}

// TestMergerRestore checks that a merger rebuilt from its changelog (the
// states of the Touched keys, encoded and decoded, plus marks and watermark)
// continues exactly as the one that was never interrupted.
func TestMergerRestore(t *testing.T) {
	cfg := MergerConfig{Sources: []int32{0, 1}, Alerts: AlertConfig{History: 3, ActiveFloor: 1, RevenueFloorMicros: 1, RefundFloor: 1}}
	r := rand.New(rand.NewPCG(1, 2))
	steps := randomWorkload(r, 3000)
	half := len(steps) / 2

	whole, err := NewMerger(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := replay(t, whole, steps)

	first, _ := NewMerger(cfg)
	changelog := map[id][]byte{}
	for _, out := range replay(t, first, steps[:half]) {
		for _, k := range out.Touched {
			if st, ok := first.Window(k); ok {
				changelog[k.id()] = st.AppendEncode(nil)
			} else {
				delete(changelog, k.id())
			}
		}
	}
	restored := map[Key]WindowState{}
	for i, b := range changelog {
		st, err := DecodeWindowState(b)
		if err != nil {
			t.Fatal(err)
		}
		restored[i.key()] = st
	}
	second, _ := NewMerger(cfg)
	second.Restore(restored, first.Marks(), first.Watermark())
	got := replay(t, second, steps[half:])

	results, alerts := 0, 0
	for i, out := range got {
		w := want[half+i]
		if !reflect.DeepEqual(out.Results, w.Results) || !reflect.DeepEqual(out.Alerts, w.Alerts) || !reflect.DeepEqual(out.Dropped, w.Dropped) {
			t.Fatalf("step %d after restore:\ngot  %+v\nwant %+v", half+i, out, w)
		}
		results += len(out.Results)
		alerts += len(out.Alerts)
	}
	if results == 0 || alerts == 0 {
		t.Fatalf("the workload exercised too little: %d results, %d alerts after the restore", results, alerts)
	}
}
