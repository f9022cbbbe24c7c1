package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/gamepulse/gamepulse/internal/gateway"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
)

// runCLI runs Main with a short deadline: a command that should refuse its
// arguments must not start working.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] }}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = Main(ctx, e, args)
	return out.String(), errb.String(), err
}

func tempWarehouse(t *testing.T) string {
	return "duckdb://" + filepath.Join(t.TempDir(), "w.duckdb")
}

func TestFlagsAreAcceptedAfterArguments(t *testing.T) {
	wh := "duckdb:" + newWarehouseFile(t)
	out, stderr, err := runCLI(t, nil, "query", "--warehouse", wh, "SELECT 1 AS one", "--format", "csv")
	if err != nil || out != "one\n1\n" {
		t.Fatalf("query with a flag after the statement: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	out, _, err = runCLI(t, nil, "dashboards", "--format", "rules", "queries")
	if err != nil || !strings.Contains(out, "groups:") {
		t.Fatalf("dashboards with a flag before the action: %v\n%s", err, out)
	}
	// "--" ends the flags: what follows is an argument even when it starts with a dash.
	file := filepath.Join(t.TempDir(), "events.ndjson")
	_, _, err = runCLI(t, nil, "simulate", "--count", "1", "--out", file, "--", "--rate")
	if err == nil || !strings.Contains(err.Error(), `"--rate"`) {
		t.Fatalf(`simulate -- --rate: want the stray "--rate" refused, got %v`, err)
	}
}

func TestStrayArgumentsAreRefusedByName(t *testing.T) {
	wh := tempWarehouse(t)
	file := filepath.Join(t.TempDir(), "events.ndjson")
	cases := map[string][]string{
		"simulate first":  {"simulate", "extra", "--count", "1", "--out", file},
		"simulate last":   {"simulate", "--count", "1", "--out", file, "extra"},
		"kpis":            {"kpis", "--warehouse", wh, "extra"},
		"query":           {"query", "--warehouse", wh, "SELECT 1", "extra"},
		"settings":        {"settings", "gateway", "extra"},
		"version":         {"version", "extra"},
		"dashboards":      {"dashboards", "queries", "extra"},
		"dashboards dirs": {"dashboards", "export", t.TempDir(), "extra"},
		"tail":            {"tail", "gamepulse.events.raw", "extra"},
	}
	for _, c := range commands() {
		switch c.Name() {
		case "query", "dashboards", "settings", "version", "tail":
		default:
			cases["every command/"+c.Name()] = []string{c.Name(), "extra"}
		}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			out, stderr, err := runCLI(t, nil, args...)
			if err == nil || !strings.Contains(err.Error(), `"extra"`) {
				t.Fatalf("%q: want the stray argument named, got %v", args, err)
			}
			if strings.Contains(stderr, "level=") {
				t.Fatalf("%q: work started before the refusal:\n%s%s", args, out, stderr)
			}
		})
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("simulate wrote events despite a stray argument")
	}
}

func TestNegativeValuesAreRefusedBeforeAnyWork(t *testing.T) {
	file := filepath.Join(t.TempDir(), "events.ndjson")
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--rate", "-5"}, "--rate must be ≥ 0, got -5"},
		{nil, []string{"--duration", "-5s"}, "--duration must be ≥ 0, got -5s"},
		{nil, []string{"--count", "-1"}, "--count must be ≥ 0, got -1"},
		{nil, []string{"--batch-size", "-3"}, "--batch-size must be ≥ 1, got -3"},
		{map[string]string{"GAMEPULSE_RATE": "-1"}, nil, "GAMEPULSE_RATE: --rate must be ≥ 0, got -1"},
		{nil, []string{"--late", "1.5"}, "--late must be between 0 and 1, got 1.5"},
	}
	for _, tc := range cases {
		args := append([]string{"simulate", "--count", "10", "--out", file}, tc.args...)
		out, stderr, err := runCLI(t, tc.env, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: want %q, got %v", args, tc.env, tc.want, err)
		}
		if out != "" || stderr != "" {
			t.Errorf("%q: printed before refusing:\n%s%s", args, out, stderr)
		}
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("simulate ran despite a bad value")
	}
}

func TestReversedRangesAreRefused(t *testing.T) {
	wh := tempWarehouse(t)
	_, _, err := runCLI(t, nil, "reconcile", "--warehouse", wh, "--from", "2026-11-26T00:00:00Z", "--to", "2026-11-25T00:00:00Z")
	if err == nil || !strings.Contains(err.Error(), "--from 2026-11-26T00:00:00Z is not before --to 2026-11-25T00:00:00Z") {
		t.Fatalf("reconcile with --from after --to: %v", err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	for _, r := range [][2]string{{"100", "5"}, {"7", "7"}, {"2026-11-26T00:00:00Z", "2026-11-25T00:00:00Z"}} {
		_, _, err = runCLI(t, nil, "replay", "--brokers", brokers, "--warehouse", wh, "--topic", "gamepulse.sessions", "--from", r[0], "--to", r[1])
		if err == nil || !strings.Contains(err.Error(), "--from "+r[0]+" is not before --to "+r[1]) {
			t.Fatalf("replay --from %s --to %s: %v", r[0], r[1], err)
		}
	}
}

func TestHelpSaysWhatTheDemoRuns(t *testing.T) {
	top, _, _ := runCLI(t, nil, "help")
	demo, _, _ := runCLI(t, nil, "demo", "--help")
	paragraph := func(text, start string) string {
		i := strings.Index(text, start)
		if i < 0 {
			t.Fatalf("no %q in:\n%s", start, text)
		}
		text = text[i:]
		if j := strings.Index(text, "\n\n"); j >= 0 {
			text = text[:j]
		}
		return text
	}
	topLine, demoPara := paragraph(top, "gamepulse demo "), paragraph(demo, "Starts, in this process")
	for _, stage := range []string{"broker", "gateway", "processor", "loader", "reconcile", "simulator"} {
		if !strings.Contains(topLine, stage) || !strings.Contains(demoPara, stage) {
			t.Errorf("the help does not say the demo runs the %s:\n%s\n%s", stage, topLine, demoPara)
		}
	}
	for _, c := range commands() {
		if c.Name() == "load" && !strings.Contains(c.Summary(), "Snowflake") {
			t.Errorf("load's summary leaves out Snowflake: %s", c.Summary())
		}
	}
}

func TestReplayPrintsItsSummaryOnlyOnStdout(t *testing.T) {
	var stderr bytes.Buffer
	report, clear := replayProgress(&stderr, time.Now())
	report(loader.ReplayStats{Records: 10, Rows: 10, Transactions: 1})
	clear()
	if stderr.Len() > 0 {
		t.Fatalf("replay repeats its summary on stderr, which is not a terminal: %q", stderr.String())
	}
}

func TestUnknownFormatIsAUsageError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "events.ndjson")
	for _, args := range [][]string{
		{"simulate", "--count", "1", "--out", file, "--format", "yaml"},
		{"reconcile", "--warehouse", tempWarehouse(t), "--format", "yaml"},
		{"dashboards", "queries", "--format", "yaml"},
		{"dashboards", "export", t.TempDir(), "--format", "yaml"},
		{"loadtest", "--api-key", "k", "--format", "yaml"},
		{"demo", "--format", "yaml"},
		{"process", "--delivery", "twice"},
		{"doctor", "--format", "yaml"},
		{"topics", "--format", "yaml"},
		{"tail", "gamepulse.alerts", "--isolation", "dirty"},
		{"query", "SELECT 1", "--format", "yaml"},
		{"kpis", "--format", "yaml"},
		{"simulate", "--count", "1", "--out", file, "--raw-encoding", "avro"},
		{"gateway", "--api-keys", "k=g", "--raw-encoding", "avro"},
		{"demo", "--raw-encoding", "avro"},
	} {
		_, _, err := runCLI(t, nil, args...)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), " must be ") || !strings.Contains(err.Error(), args[len(args)-1]) {
			t.Errorf("%q: want the format refused with the accepted values, got %v", args, err)
		}
	}
}

// TestEveryNumericFlagRefusesAValueOutsideItsRule walks every command's flag
// set: each numeric flag has a rule (flagRuleOf), and a value outside it is a
// usage error that names the flag, the rule and the value, before anything
// is printed.
func TestEveryNumericFlagRefusesAValueOutsideItsRule(t *testing.T) {
	for _, c := range commands() {
		fs := settingsOf(c)
		if fs == nil {
			continue
		}
		fs.VisitAll(func(f *flag.Flag) {
			v, numeric := numberOf(f)
			if !numeric {
				return
			}
			r, ok := flagRuleOf(c.Name(), f.Name)
			if !ok {
				t.Errorf("%s --%s (default %v) has no rule in flagRuleOf", c.Name(), f.Name, v)
				return
			}
			for _, bad := range badValues(f, r) {
				t.Run(c.Name()+"/"+f.Name+"="+bad, func(t *testing.T) {
					out, stderr, err := runCLI(t, nil, c.Name(), "--"+f.Name, bad)
					want := "--" + f.Name + " must be " + r.text + ", got "
					var ue *usageError
					if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), strings.TrimLeft(bad, "-")) {
						t.Fatalf("want a usage error %q…%s, got %v", want, bad, err)
					}
					if out != "" || stderr != "" {
						t.Fatalf("printed before refusing:\n%s%s", out, stderr)
					}
				})
			}
		})
	}
}

// badValues returns values of f's type just outside r.
func badValues(f *flag.Flag, r flagRule) []string {
	var below, above []float64
	switch {
	case r.min == -math.MaxFloat64:
	case r.orMinusOne:
		below = []float64{-2}
		if r.min > 0 {
			below = append(below, 0)
		}
	default:
		below = []float64{math.Min(r.min-1, -1)}
		if r.min > 0 {
			below = append(below, 0)
		}
	}
	if r.max < math.MaxFloat64 {
		above = []float64{r.max + 1}
	}
	var out []string
	for _, v := range append(below, above...) {
		switch f.Value.(flag.Getter).Get().(type) {
		case time.Duration:
			out = append(out, time.Duration(v*float64(time.Second)).String())
		case float64:
			out = append(out, strconv.FormatFloat(v, 'g', -1, 64))
		default:
			out = append(out, strconv.FormatInt(int64(v), 10))
		}
	}
	return out
}

// runReported runs Main as the binary does: what report prints on stderr,
// and the exit status.
func runReported(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	out, errs, err := runCLI(t, nil, args...)
	var b strings.Builder
	code = report(&b, err)
	return out, errs + b.String(), code
}

func TestUsageErrorsAreOneLineWithAHint(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"gateway", "--bogus"}, "gamepulse gateway: unknown flag --bogus\nRun 'gamepulse gateway --help' for usage.\n"},
		{[]string{"frobnicate"}, "gamepulse: unknown command \"frobnicate\"\nRun 'gamepulse --help' for usage.\n"},
		{[]string{"--bogus"}, "gamepulse: unknown flag --bogus\nRun 'gamepulse --help' for usage.\n"},
		{[]string{"gateway", "--max-events", "lots"}, "gamepulse gateway: invalid value \"lots\" for --max-events: parse error\nRun 'gamepulse gateway --help' for usage.\n"},
		{[]string{"gateway", "--max-events"}, "gamepulse gateway: flag --max-events needs a value\nRun 'gamepulse gateway --help' for usage.\n"},
		{[]string{"kpis", "extra"}, "gamepulse kpis: unexpected argument \"extra\"\nRun 'gamepulse kpis --help' for usage.\n"},
		{[]string{"simulate", "--rate", "-5"}, "gamepulse simulate: --rate must be ≥ 0, got -5\nRun 'gamepulse simulate --help' for usage.\n"},
		{[]string{"simulate", "--count", "1"}, "gamepulse simulate: give exactly one destination: --gateway URL, --brokers ADDRS or --out FILE|-\nRun 'gamepulse simulate --help' for usage.\n"},
		{[]string{"broker", "--log-format", "xml"}, "gamepulse broker: --log-format must be text or json, got \"xml\"\nRun 'gamepulse broker --help' for usage.\n"},
		{[]string{"version", "--short"}, "gamepulse version: unknown flag --short\nRun 'gamepulse version --help' for usage.\n"},
		{[]string{"process", "--engine", "flink"}, "gamepulse process: --engine must be go or spark, got \"flink\"\nRun 'gamepulse process --help' for usage.\n"},
		{[]string{"process", "--engine", "spark"}, "gamepulse process: --engine spark needs --spark-remote sc://HOST:PORT (the Spark Connect server)\nRun 'gamepulse process --help' for usage.\n"},
		{[]string{"process", "--engine", "spark", "--spark-remote", "sc://h:15002"}, "gamepulse process: --engine spark needs --spark-checkpoint DIR|URI: where the Spark server keeps each query's checkpoint\nRun 'gamepulse process --help' for usage.\n"},
		{[]string{"process", "--engine", "spark", "--spark-remote", "sc://h:15002", "--spark-checkpoint", "/cp", "--spark-session-id", "mine"}, "gamepulse process: --spark-session-id must be a UUID, got \"mine\"\nRun 'gamepulse process --help' for usage.\n"},
		{[]string{"process", "--spark-checkpoint", "/cp"}, "gamepulse process: --spark-checkpoint applies to --engine spark only\nRun 'gamepulse process --help' for usage.\n"},
		{[]string{"doctor", "--spark-checkpoint", "/cp"}, "gamepulse doctor: --spark-checkpoint needs --spark-remote\nRun 'gamepulse doctor --help' for usage.\n"},
	} {
		out, stderr, code := runReported(t, tc.args...)
		if code != 2 || stderr != tc.want || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s\nwant exit 2 and:\n%s", tc.args, code, out, stderr, tc.want)
		}
	}
}

func TestHelpIsOnStdoutAndRuntimeErrorsExitOne(t *testing.T) {
	out, stderr, code := runReported(t, "gateway", "--help")
	if code != 0 || stderr != "" || !strings.Contains(out, "Usage: gamepulse gateway") || !strings.Contains(out, "--max-events") {
		t.Fatalf("gateway --help: exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	}
	out, stderr, code = runReported(t, "--help")
	if code != 0 || stderr != "" || !strings.Contains(out, "Commands:") {
		t.Fatalf("--help: exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	}
	// The gateway's own check of its settings is not a usage error of the command line.
	_, stderr, code = runReported(t, "gateway", "--brokers", "127.0.0.1:1")
	if code != 1 || !strings.HasPrefix(stderr, "gamepulse: ") || !strings.Contains(stderr, "API keys") {
		t.Fatalf("gateway without keys: exit %d, stderr:\n%s", code, stderr)
	}
}

func TestVersionSaysTheCommitAndTheGoVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, stderr, code := runReported(t, args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 0 || stderr != "" || len(lines) != 3 || !strings.HasPrefix(lines[0], "gamepulse ") ||
			!strings.HasPrefix(lines[1], "commit: ") || !strings.HasPrefix(lines[2], "go: "+runtime.Version()) {
			t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, stderr, out)
		}
	}
}

// TestValidationErrorsNameFlags: the components' Validate errors name Config
// fields; what the user reads names the flags, and the error still unwraps
// to the component's.
func TestValidationErrorsNameFlags(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"gateway: MaxEvents must be ≥ 1, got 0", "gateway: --max-events must be ≥ 1, got 0"},
		{"gateway: no API keys: set Keys", "gateway: no API keys: set GAMEPULSE_API_KEYS=key=game_id,... or --api-keys-file"},
		{"topics: kafka: Partitions must be >= 1, got 0", "topics: kafka: --partitions must be >= 1, got 0"},
		{"kafka client: kafka: TLSCertFile and TLSKeyFile go together", "kafka client: kafka: --kafka-tls-cert and --kafka-tls-key go together"},
		{"loader: BatchRows must be ≥ 1, got -1", "loader: --batch-rows must be ≥ 1, got -1"},
		{"broker: bad port in Listen \"x:y\"", "broker: bad port in --listen \"x:y\""},
		{"query: MaxEvents is not a field here", "query: MaxEvents is not a field here"},
	} {
		orig := errors.New(tc.in)
		err := withFlagNames(orig)
		if err.Error() != tc.want || !errors.Is(err, orig) {
			t.Errorf("%q: got %q (unwraps: %v), want %q", tc.in, err, errors.Is(err, orig), tc.want)
		}
	}
	if kafkaCfg := (kafka.Config{}); withFlagNames(kafkaCfg.Validate()).Error() != "kafka: no brokers configured (--brokers)" {
		t.Errorf("kafka: got %v", withFlagNames(kafkaCfg.Validate()))
	}
}

// TestFlagDefaultsComeFromDefaultConfig: a component's flags start at its
// DefaultConfig, so the two cannot drift apart.
func TestFlagDefaultsComeFromDefaultConfig(t *testing.T) {
	gw, ld, kc := gateway.DefaultConfig(), loader.DefaultConfig(), kafka.DefaultConfig()
	want := map[string]map[string]string{
		"gateway": {
			"listen": gw.Listen, "max-body-bytes": fmt.Sprint(gw.MaxBodyBytes), "max-events": fmt.Sprint(gw.MaxEvents),
			"max-past": gw.MaxPast.String(), "rate-limit": fmt.Sprint(gw.RateLimit), "retry-after": gw.RetryAfter.String(),
			"brokers": strings.Join(kc.Brokers, ","), "kafka-compression": kc.Compression,
		},
		"load": {
			"load-group": ld.Group, "batch-rows": fmt.Sprint(ld.BatchRows), "batch-bytes": fmt.Sprint(ld.BatchBytes),
			"batch-interval": ld.BatchInterval.String(), "load-session-timeout": ld.SessionTimeout.String(),
			"warehouse-auto-suspend": ld.AutoSuspend.String(), "kafka-compression": kc.Compression,
		},
	}
	for _, c := range commands() {
		flags, ok := want[c.Name()]
		if !ok {
			continue
		}
		fs := settingsOf(c)
		for name, def := range flags {
			if f := fs.Lookup(name); f == nil || f.DefValue != def {
				t.Errorf("%s --%s: default %v, want %q from DefaultConfig", c.Name(), name, f, def)
			}
		}
	}
}
