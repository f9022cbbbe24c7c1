package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/loader"
)

func runMain(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = Main(ctx, e, args)
	return out.String(), errb.String(), err
}

// readDoc reads a page of the repository's documentation, e.g. "docs/settings.md".
func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.Name(), func(t *testing.T) {
			out, _, err := runMain(t, nil, "help", c.Name())
			if c.Usage() == "" || c.Name() == "settings" { // no flags to teach
				return
			}
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("want ErrHelp, got %v", err)
			}
			if !strings.Contains(out, "Usage: gamepulse "+c.Name()) || !strings.Contains(out, "GAMEPULSE_CONFIG") {
				t.Fatalf("help does not teach:\n%s", out)
			}
		})
	}
	out, _, err := runMain(t, nil)
	if err != nil || !strings.Contains(out, "Commands:") {
		t.Fatalf("top-level help: %v\n%s", err, out)
	}
	if _, _, err := runMain(t, nil, "frobnicate"); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("unknown command: %v", err)
	}
}

// TestSettingsDocFresh keeps the settings reference (docs/settings.md) equal
// to what the commands accept.
func TestSettingsDocFresh(t *testing.T) {
	out, _, err := runMain(t, nil, "settings")
	if err != nil {
		t.Fatal(err)
	}
	doc := readDoc(t, "docs/settings.md")
	begin, end := "<!-- settings:begin -->\n", "<!-- settings:end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatal("docs/settings.md lacks the settings markers")
	}
	if got := doc[i+len(begin) : j]; got != out {
		t.Fatalf("docs/settings.md is stale; regenerate the block between the markers with `go run ./cmd/gamepulse settings`")
	}
}

// TestGatewayDocExamplesValid decodes and validates every JSON example of
// the gateway's documentation (docs/gateway-api.md) with the gateway's rules.
func TestGatewayDocExamplesValid(t *testing.T) {
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllStringSubmatch(readDoc(t, "docs/gateway-api.md"), -1)
	if len(blocks) < 8 {
		t.Fatalf("found %d JSON examples, want at least 8", len(blocks))
	}
	types := map[string]bool{}
	for i, b := range blocks {
		items, err := event.DecodeBatch(event.FormatJSON, []byte(b[1]), event.Limits{MaxEvents: 10, MaxEventBytes: 32 << 10, MaxDepth: 16})
		if err != nil || len(items) != 1 || items[0].Rejection != nil {
			t.Fatalf("example %d does not decode: %v %+v\n%s", i, err, items, b[1])
		}
		ev := items[0].Event
		rules := event.Rules{Now: ev.GetClientTime().AsTime(), MaxPast: time.Hour, MaxFuture: time.Hour, MaxDepth: 16}
		if r := event.Validate(ev, rules); r != nil {
			t.Fatalf("example %d is invalid: %s\n%s", i, r.Reason, b[1])
		}
		types[ev.EventType] = true
	}
	t.Logf("the examples cover %d event types", len(types))
}

func TestSimulateToFileIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	var outs [2]string
	for i := range outs {
		path := filepath.Join(dir, "events"+string(rune('a'+i))+".ndjson")
		_, stderr, err := runMain(t, nil, "simulate", "--seed", "42", "--count", "2000", "--rate", "0",
			"--start", "2026-11-25T12:00:00Z", "--duplicates", "0.01", "--late", "0.02", "--out", path)
		if err != nil {
			t.Fatalf("simulate: %v\n%s", err, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = string(b)
	}
	if outs[0] != outs[1] {
		t.Fatal("same seed and start gave different events")
	}
	items, err := event.DecodeBatch(event.FormatNDJSON, []byte(outs[0]), event.Limits{MaxEvents: 10000, MaxEventBytes: 32 << 10, MaxDepth: 16})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) < 2000 {
		t.Fatalf("%d events written, want at least 2000", len(items))
	}
	for i, it := range items {
		if it.Rejection != nil {
			t.Fatalf("line %d: %s", i+1, it.Rejection.Reason)
		}
	}
}

func TestSimulateNeedsOneDestination(t *testing.T) {
	_, _, err := runMain(t, nil, "simulate", "--count", "1")
	if err == nil || !strings.Contains(err.Error(), "exactly one destination") {
		t.Fatalf("got %v", err)
	}
}

func TestDoctorOnEmbeddedBroker(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, _, err := runMain(t, nil, "doctor", "--brokers", strings.Join(c.ListenAddrs(), ","), "--replication", "1")
	if err != nil {
		t.Fatalf("doctor failed on a healthy single broker: %v\n%s", err, out)
	}
	for _, want := range []string{"[ok  ] connect", "[ok  ] transactions", "topic gamepulse.events.raw: does not exist yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
	// Asking for more replicas than brokers fails, with a fix.
	out, _, err = runMain(t, nil, "doctor", "--brokers", strings.Join(c.ListenAddrs(), ","), "--replication", "3")
	if err == nil || !strings.Contains(out, "[fail] replication") || !strings.Contains(out, "fix:") {
		t.Fatalf("want a failed replication check with a fix, got %v:\n%s", err, out)
	}
}

func TestBadConfigNamesTheSetting(t *testing.T) {
	_, _, err := runMain(t, map[string]string{"GAMEPULSE_MAX_EVENTS": "lots"}, "gateway")
	if err == nil || !strings.Contains(err.Error(), "GAMEPULSE_MAX_EVENTS") {
		t.Fatalf("got %v", err)
	}
	_, _, err = runMain(t, nil, "gateway", "--brokers", "127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "API keys") {
		t.Fatalf("gateway without keys: %v", err)
	}
}

func TestParseBound(t *testing.T) {
	tests := []struct {
		in, keyword string
		want        loader.Bound
		err         bool
	}{
		{"0", "start", loader.Bound{Offset: 0}, false},
		{"1234", "loaded", loader.Bound{Offset: 1234}, false},
		{"start", "start", loader.Bound{Start: true}, false},
		{"loaded", "loaded", loader.Bound{Loaded: true}, false},
		{"loaded", "start", loader.Bound{}, true},
		{"2026-11-25T18:00:00Z", "start", loader.Bound{Time: time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)}, false},
		{"-1", "start", loader.Bound{}, true},
		{"yesterday", "loaded", loader.Bound{}, true},
	}
	for _, tt := range tests {
		got, err := parseBound(tt.in, tt.keyword)
		if (err != nil) != tt.err || (err == nil && (got.Offset != tt.want.Offset || got.Start != tt.want.Start ||
			got.Loaded != tt.want.Loaded || !got.Time.Equal(tt.want.Time))) {
			t.Errorf("parseBound(%q, %q) = %+v, %v; want %+v (error %v)", tt.in, tt.keyword, got, err, tt.want, tt.err)
		}
	}
}

func TestLoadLogsProgressPeriodicallyUnlessWarn(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, level := range []string{"info", "warn"} {
		var out, errb bytes.Buffer
		e := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		err := Main(ctx, e, []string{"load", "--brokers", strings.Join(c.ListenAddrs(), ","), "--metrics-listen", "",
			"--warehouse", "duckdb:" + filepath.Join(t.TempDir(), "w.duckdb"), "--progress-every", "200ms", "--log-level", level})
		cancel()
		if err != nil {
			t.Fatalf("load: %v\n%s", err, errb.String())
		}
		lines := strings.Count(errb.String(), `msg="loader progress"`)
		switch {
		case level == "info" && lines < 2:
			t.Errorf("%d progress lines in 1.5 s every 200 ms:\n%s", lines, errb.String())
		case level == "info" && !regexp.MustCompile(`rows_per_second\.events=0 .*rows=0 lag=\S+ freshness=`).MatchString(errb.String()):
			t.Errorf("progress line lacks rows/s by table, lag or freshness:\n%s", errb.String())
		case level == "warn" && lines > 0:
			t.Errorf("progress lines at --log-level warn:\n%s", errb.String())
		}
	}
}
