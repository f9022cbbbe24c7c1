package jobs

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/datadriven"
	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The testdata format (internal/datadriven): a file holds cases "run", input
// lines, a line "----", then the expected output lines. Blank lines and
// lines starting with '#' in the input are ignored.
//
// Input lines:
//
//	config k=v ...      Config: horizon=24h gap=30m lateness=2m fraud=5
//	                    maxfuture=10m rates=EUR:1.1,JPY:0.007 (replaces
//	                    the table); must come before the first event
//	server game_id=G    fill a missing game_id with G, and a missing
//	                    received_at with client_time
//	encoding E          the raw encoding of the records that follow: protobuf
//	                    (the default), json, or unknown (a content-type
//	                    header naming neither)
//	{...}               one event in the gateway's JSON form (one line),
//	                    decoded by event.DecodeBatch(FormatNDJSON), encoded
//	                    in the raw encoding (binary Protobuf, or JSON by
//	                    event.AppendJSON) and given to Stage.Process
//	as-is {...}         the same without the server defaults
//	raw TEXT            a record value of the bytes of TEXT
//	advance TIME        Stage.Advance(TIME) (RFC 3339)
//	restore             rebuild the Stage from its compacted changelog
//
// Output lines, in the order produced:
//
//	dead ID CODE: REASON
//	drop ID KIND
//	enriched ID platform=P country=C revenue=N first_seen=T days=N spend=N payer=B sessions=N new=B
//	stray ID
//	session ID player=P game=G platform=P country=C start=T end=T duration_ms=N events=N revenue=N levels=N closed_by=WHY
//	alert RULE subject=P game=G window=T observed=N threshold=N
//
// and after the last input, the sum of all ledger drains, non-zero rows:
//
//	ledger GAME PLATFORM BUILD WINDOW gaps=N duplicates=N out_of_order=N
//
// (BUILD is "-" when empty). ID is the event_id ("-" when none). Each case
// also runs with the Stage rebuilt from its full changelog after every
// input line: the output must not change; and a case without raw records
// or encoding lines runs once more with its events in the JSON encoding:
// the output must not change either. After a deliberate change,
// regenerate the expectations with
// `go test ./internal/jobs -run TestDataDriven -rewrite` and review the diff.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata/*.txt", func(t *testing.T) func(*testing.T, *datadriven.Case) string {
		return func(t *testing.T, c *datadriven.Case) string {
			if c.Cmd != "run" {
				t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
			}
			in := significant(c.Input)
			got := runCase(t, in, false)
			compareLines(t, c.Pos+": restore after every line: ", runCase(t, in, true), got)
			if !slices.ContainsFunc(in, func(l string) bool {
				return strings.HasPrefix(l, "raw ") || strings.HasPrefix(l, "encoding ")
			}) {
				compareLines(t, c.Pos+": events in the JSON encoding: ", runCase(t, append([]string{"encoding json"}, in...), false), got)
			}
			return strings.Join(got, "\n")
		}
	})
}

func significant(lines []string) []string {
	var out []string
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func compareLines(t *testing.T, prefix string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	var b strings.Builder
	n := max(len(got), len(want))
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		mark := "  "
		if g != w {
			mark = "≠ "
		}
		fmt.Fprintf(&b, "%s%3d got:  %s\n       want: %s\n", mark, i+1, g, w)
	}
	t.Errorf("%soutput differs:\n%s", prefix, b.String())
}

type changelogRec struct {
	store      string
	key, value []byte
}

// runner drives a Stage through one test case.
type runner struct {
	t          *testing.T
	cfg        Config
	st         *Stage
	log        []changelogRec
	ledger     map[string]*LedgerCount
	serverGame string
	enc        record.Encoding // of the records given to Process
	res        Result
	out        []string
}

func runCase(t *testing.T, in []string, restoreEveryLine bool) []string {
	t.Helper()
	r := &runner{t: t, ledger: map[string]*LedgerCount{}}
	for i, line := range in {
		word, rest, _ := strings.Cut(line, " ")
		if strings.HasPrefix(line, "{") {
			word, rest = "event", line
		}
		if r.st == nil && word != "config" && word != "server" && word != "encoding" {
			r.newStage()
		}
		switch word {
		case "config":
			if r.st != nil {
				t.Fatalf("line %d: config after the first event", i+1)
			}
			r.parseConfig(rest)
		case "server":
			k, v, ok := strings.Cut(rest, "=")
			if !ok || k != "game_id" {
				t.Fatalf("line %d: want server game_id=G", i+1)
			}
			r.serverGame = v
		case "event", "as-is":
			r.event(rest, word == "event")
		case "encoding":
			enc, ok := record.ParseEncoding(rest)
			if !ok && rest != "unknown" {
				t.Fatalf("line %d: want encoding protobuf, json or unknown", i+1)
			}
			r.enc = enc
		case "raw":
			r.st.Process([]byte(rest), r.enc, &r.res)
			r.report()
		case "advance":
			ts, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(rest))
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			for _, s := range r.st.Advance(ts, nil) {
				r.out = append(r.out, formatSession(&s))
			}
		case "restore":
			r.restore(true)
		default:
			t.Fatalf("line %d: unknown directive %q", i+1, word)
		}
		if restoreEveryLine && r.st != nil {
			r.restore(false)
		}
	}
	if r.st == nil {
		r.newStage()
	}
	r.drain()
	keys := make([]string, 0, len(r.ledger))
	for k, c := range r.ledger {
		if c.Gaps != 0 || c.Duplicates != 0 || c.OutOfOrder != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := r.ledger[k]
		r.out = append(r.out, fmt.Sprintf("ledger %s gaps=%d duplicates=%d out_of_order=%d", k, c.Gaps, c.Duplicates, c.OutOfOrder))
	}
	return r.out
}

func (r *runner) newStage() {
	st, err := NewStage(r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.st = st
}

func (r *runner) parseConfig(s string) {
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			r.t.Fatalf("config: %q is not k=v", f)
		}
		var err error
		switch k {
		case "horizon":
			r.cfg.DedupHorizon, err = time.ParseDuration(v)
		case "gap":
			r.cfg.SessionGap, err = time.ParseDuration(v)
		case "lateness":
			r.cfg.AllowedLateness, err = time.ParseDuration(v)
		case "fraud":
			r.cfg.FraudMaxPurchases, err = strconv.Atoi(v)
		case "maxfuture":
			r.cfg.MaxFuture, err = time.ParseDuration(v)
		case "rates":
			r.cfg.Rates, err = ParseRates(strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(v, ":", "="), ",", "\n")))
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			r.t.Fatalf("config %s: %v", f, err)
		}
	}
}

func (r *runner) event(js string, fill bool) {
	items, err := event.DecodeBatch(event.FormatNDJSON, []byte(js), event.Limits{})
	if err != nil || len(items) != 1 || items[0].Event == nil {
		r.t.Fatalf("bad event line %s: %v %+v", js, err, items)
	}
	e := items[0].Event
	if fill {
		if e.GameId == "" {
			e.GameId = r.serverGame
		}
		if e.ReceivedAt == nil && e.ClientTime != nil {
			e.ReceivedAt = timestamppb.New(e.ClientTime.AsTime())
		}
	}
	var b []byte
	if r.enc == record.EncodingJSON {
		b, err = event.AppendJSON(nil, e)
	} else {
		b, err = event.Marshal(e)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.st.Process(b, r.enc, &r.res)
	r.report()
}

func (r *runner) report() {
	r.out = append(r.out, resultLines(r.t, &r.res)...)
}

// resultLines formats a Result in the testdata output format.
func resultLines(t *testing.T, res *Result) []string {
	var out []string
	id := "-"
	if res.Event != nil && res.Event.GetEventId() != "" {
		id = res.Event.GetEventId()
	}
	switch {
	case res.DeadLetter != nil:
		out = append(out, fmt.Sprintf("dead %s %s: %s", id, res.DeadLetter.Code, res.DeadLetter.Reason))
	case res.Drop != NotDropped:
		out = append(out, fmt.Sprintf("drop %s %s", id, res.Drop))
	default:
		x := &res.Enriched
		out = append(out, fmt.Sprintf("enriched %s platform=%s country=%s revenue=%d first_seen=%s days=%d spend=%d payer=%t sessions=%d new=%t",
			id, x.PlatformNorm, x.CountryNorm, x.RevenueUSDMicros, fmtTime(x.FirstSeen), x.DaysSinceInstall,
			x.LifetimeSpendUSDMicros, x.Payer, x.SessionCount, x.NewPlayer))
		if res.Stray {
			out = append(out, "stray "+id)
		}
		// Every accepted event's JSON must encode.
		if _, err := x.AppendJSON(nil); err != nil {
			t.Errorf("%s: AppendJSON: %v", id, err)
		}
	}
	for i := range res.Sessions {
		out = append(out, formatSession(&res.Sessions[i]))
	}
	for _, a := range res.Alerts {
		out = append(out, fmt.Sprintf("alert %s subject=%s game=%s window=%s observed=%v threshold=%v",
			a.Rule, a.Subject, a.GameID, fmtTime(a.Start), a.Observed, a.Threshold))
	}
	return out
}

func formatSession(s *Session) string {
	return fmt.Sprintf("session %s player=%s game=%s platform=%s country=%s start=%s end=%s duration_ms=%d events=%d revenue=%d levels=%d closed_by=%s",
		s.SessionID, s.PlayerID, s.GameID, s.Platform, s.Country, fmtTime(s.Start), fmtTime(s.End),
		s.DurationMs, s.Events, s.RevenueUSDMicros, s.LevelsPlayed, s.ClosedBy)
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// drain moves the stage's ledger rows and changelog records into the runner.
func (r *runner) drain() {
	for _, c := range r.st.DrainLedger(nil) {
		build := c.AppBuild
		if build == "" {
			build = "-"
		}
		k := fmt.Sprintf("%s %s %s %s", c.GameID, c.Platform, build, fmtTime(c.Window))
		acc := r.ledger[k]
		if acc == nil {
			acc = &LedgerCount{}
			r.ledger[k] = acc
		}
		acc.Gaps += c.Gaps
		acc.Duplicates += c.Duplicates
		acc.OutOfOrder += c.OutOfOrder
	}
	r.st.Changes(func(store string, key, value []byte) {
		r.log = append(r.log, changelogRec{store, bytes.Clone(key), bytes.Clone(value)})
	})
}

// restore replaces the stage with one rebuilt from the changelog: compacted
// (last value per key, tombstones dropped, keys in random order) or the full
// log in order.
func (r *runner) restore(compacted bool) {
	r.drain()
	fresh, err := NewStage(r.cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	if compacted {
		last := map[[2]string][]byte{}
		for _, c := range r.log {
			last[[2]string{c.store, string(c.key)}] = c.value
		}
		for k, v := range last {
			if v == nil {
				continue
			}
			if err := fresh.Restore(k[0], []byte(k[1]), v); err != nil {
				r.t.Fatal(err)
			}
		}
	} else {
		for _, c := range r.log {
			if err := fresh.Restore(c.store, c.key, c.value); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	r.st = fresh
}
