package engine

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/datadriven"
)

// Commands of the data-driven files (format: internal/datadriven). Times:
//
//   - Event times and watermarks are written "18:04:00" or "18:04:59.5" for
//     that time on baseDate (UTC), or in full RFC 3339; "zero" is the zero
//     time. Output uses the same short form.
//   - Wall-clock times are written now=D, a Go duration after an arbitrary
//     origin, and printed the same way.
//
// Watermarks:
//
//	new [lateness=D] [idle=D]   a new tracker (defaults for omitted fields); prints its config
//	assign p=0,1,2 now=D        Assign each partition
//	revoke p=1,2                Revoke each partition
//	observe now=D               Observe each input line "PARTITION TIME"; prints unassigned partitions
//	combined now=D              Combined(now)
//	status now=D                Partition(p, now) of every assigned partition, one per line:
//	                            p0 max=… wm=… eff=… seen=D active|idle
//
// Windows:
//
//	windows size=D              the window of each input event time
//	late [wm=T] [size=1m]       IsLate of each input event time against wm (default:
//	                            the tracker's Current()); prints "TIME WINDOW late|on-time"

var (
	baseDate  = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	wallEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // the origin of now=D
)

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/*", func(t *testing.T) func(*testing.T, *datadriven.Case) string {
		var d ddDriver
		return d.run
	})
}

// ddDriver holds the state of one data-driven file.
type ddDriver struct {
	wm *Watermarks
}

func (d *ddDriver) run(t *testing.T, c *datadriven.Case) string {
	t.Helper()
	fail := func(format string, args ...any) string {
		t.Fatalf("%s: %s: %s", c.Pos, c.Cmd, fmt.Sprintf(format, args...))
		return ""
	}
	durArg := func(key string, def time.Duration) time.Duration {
		s, ok := c.Lookup(key)
		if !ok {
			return def
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			fail("%s: %v", key, err)
		}
		return v
	}
	nowArg := func() time.Time {
		if _, ok := c.Lookup("now"); !ok {
			fail("now= is required")
		}
		return wallEpoch.Add(durArg("now", 0))
	}
	timeArg := func(key string) (time.Time, bool) {
		s, ok := c.Lookup(key)
		if !ok {
			return time.Time{}, false
		}
		v, err := parseTime(s)
		if err != nil {
			fail("%s: %v", key, err)
		}
		return v, true
	}
	partsArg := func() []int32 {
		s, ok := c.Lookup("p")
		if !ok {
			fail("p= is required")
		}
		var ps []int32
		for _, f := range strings.Split(s, ",") {
			p, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				fail("p: %v", err)
			}
			ps = append(ps, int32(p))
		}
		return ps
	}
	inputTimes := func() []time.Time {
		var ts []time.Time
		for _, l := range c.Input {
			v, err := parseTime(l)
			if err != nil {
				fail("%v", err)
			}
			ts = append(ts, v)
		}
		return ts
	}
	tracker := func() *Watermarks {
		if d.wm == nil {
			fail("no tracker: run new first")
		}
		return d.wm
	}

	var out strings.Builder
	switch c.Cmd {
	case "new":
		w, err := NewWatermarks(WatermarkConfig{AllowedLateness: durArg("lateness", 0), IdleTimeout: durArg("idle", 0)})
		if err != nil {
			return "error: " + err.Error()
		}
		d.wm = w
		cfg := w.Config()
		fmt.Fprintf(&out, "lateness=%v idle=%v", cfg.AllowedLateness, cfg.IdleTimeout)

	case "assign":
		now := nowArg()
		for _, p := range partsArg() {
			tracker().Assign(p, now)
		}

	case "revoke":
		for _, p := range partsArg() {
			tracker().Revoke(p)
		}

	case "observe":
		now := nowArg()
		for _, l := range c.Input {
			ps, ts, ok := strings.Cut(l, " ")
			p, err := strconv.ParseInt(ps, 10, 32)
			if !ok || err != nil {
				fail("want PARTITION TIME, got %q", l)
			}
			et, err := parseTime(strings.TrimSpace(ts))
			if err != nil {
				fail("%v", err)
			}
			if !tracker().Observe(int32(p), et, now) {
				fmt.Fprintf(&out, "p%d not assigned\n", p)
			}
		}

	case "combined":
		out.WriteString(fmtTime(tracker().Combined(nowArg())))

	case "status":
		now := nowArg()
		w := tracker()
		for _, p := range w.Partitions() {
			pw, ok := w.Partition(p, now)
			if !ok {
				fail("partition %d listed but not found", p)
			}
			state := "active"
			if pw.Idle {
				state = "idle"
			}
			fmt.Fprintf(&out, "p%d max=%s wm=%s eff=%s seen=%v %s\n", pw.Partition, fmtTime(pw.MaxEventTime),
				fmtTime(pw.Watermark), fmtTime(pw.Effective), pw.LastSeen.Sub(wallEpoch), state)
		}

	case "windows":
		win := Windowing{Size: durArg("size", time.Minute)}
		for _, et := range inputTimes() {
			w := win.Assign(et)
			if !w.Contains(et) || w.End.Sub(w.Start) != win.Size {
				fail("window %v of %v", w, et)
			}
			fmt.Fprintf(&out, "%s %s\n", fmtTime(et), fmtWindow(w))
		}

	case "late":
		win := Windowing{Size: durArg("size", time.Minute)}
		wm, ok := timeArg("wm")
		if !ok {
			wm = tracker().Current()
		}
		for _, et := range inputTimes() {
			verdict := "on-time"
			if IsLate(et, wm, win) {
				verdict = "late"
			}
			fmt.Fprintf(&out, "%s %s %s\n", fmtTime(et), fmtWindow(win.Assign(et)), verdict)
		}

	default:
		fail("unknown command")
	}
	return out.String()
}

// parseTime parses "18:04:00[.fff]" on baseDate, a full RFC 3339 time, or "zero".
func parseTime(s string) (time.Time, error) {
	if s == "zero" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("15:04:05.999999999", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want 15:04:05[.fff], RFC 3339 or zero", s)
	}
	return baseDate.Add(t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))), nil
}

// fmtTime is the inverse of parseTime, in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	t = t.UTC()
	if y, m, d := t.Date(); y == baseDate.Year() && m == baseDate.Month() && d == baseDate.Day() {
		return t.Format("15:04:05.999999999")
	}
	return t.Format(time.RFC3339Nano)
}

func fmtWindow(w Window) string { return "[" + fmtTime(w.Start) + "," + fmtTime(w.End) + ")" }
