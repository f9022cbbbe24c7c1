package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// required are the flags the engines command cannot run without.
var required = []string{"engines", "--spark-remote", "sc://127.0.0.1:15002", "--spark-pids", "1"}

func TestEnginesHelpTeaches(t *testing.T) {
	out, err := run(t, nil, "engines", "--help")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{"--brokers", "--spark-remote", "--spark-pids", "--spark-checkpoint", "--events", "--rate",
		"--duration", "--allowed-lateness", "--partitions", "--drain-timeout", "--out", "--process-args", "--spark-args",
		"--gamepulse", "--kafka-tls", "GAMEPULSE_SPARK_PIDS", "spark.pid", "/proc", "per\nCPU-second", "p99", "Example"} {
		if !strings.Contains(out, s) {
			t.Errorf("help lacks %q:\n%s", s, out)
		}
	}
	top, _ := run(t, nil, "help")
	if !strings.Contains(top, "engines") {
		t.Errorf("the command list lacks engines:\n%s", top)
	}
}

func TestEnginesRefusesBadValuesAsUsageErrors(t *testing.T) {
	with := func(extra ...string) []string { return append(slices.Clone(required), extra...) }
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, with("--rate", "0"), "--rate must be > 0"},
		{nil, with("--rate", "NaN"), "--rate must be > 0"},
		{nil, with("--events", "0"), "--events must be ≥ 1"},
		{nil, with("--partitions", "0"), "--partitions must be ≥ 1"},
		{nil, with("--duration", "0s"), "--duration must be > 0"},
		{nil, with("--allowed-lateness", "-1s"), "--allowed-lateness must be ≥ 0"},
		{nil, with("--drain-timeout", "0s"), "--drain-timeout must be > 0"},
		{nil, with("--duration", "60s"), "--duration must be at least 1m + --allowed-lateness (1m5s)"},
		{nil, with("--duration", "70s", "--allowed-lateness", "20s"), "--duration must be at least 1m + --allowed-lateness (1m20s)"},
		{nil, with("--spark-pids", "0"), `"0" is not a process id`},
		{nil, with("--spark-pids", "12,x"), `"x" is not a process id`},
		{nil, with("--spark-pids", "12,"), `"" is not a process id`},
		{nil, with("--spark-remote", "http://h:15002"), "--spark-remote must be sc://HOST:PORT"},
		{nil, []string{"engines", "--spark-pids", "1"}, "--spark-remote is required"},
		{nil, []string{"engines", "--spark-remote", "sc://h:1"}, "--spark-pids is required"},
		{map[string]string{"GAMEPULSE_SPARK_PIDS": "abc"}, []string{"engines", "--spark-remote", "sc://h:1"}, "GAMEPULSE_SPARK_PIDS"},
		{map[string]string{"GAMEPULSE_RATE": "-5"}, with(), "GAMEPULSE_RATE"},
		{nil, with("extra"), `unexpected argument "extra"`},
		{nil, with("--bogus"), "unknown flag --bogus"},
	} {
		_, err := run(t, tc.env, tc.args...)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %v: want a usage error containing %q, got %v", tc.args, tc.env, tc.want, err)
		}
		m := &Main{Stderr: &bytes.Buffer{}}
		if code := m.report(err); code != 2 {
			t.Errorf("%q: exit status %d, want 2", tc.args, code)
		}
	}
}

// Every numeric flag of the command has a rule: a negative value is a
// usage error naming the flag.
func TestEnginesEveryNumericFlagIsValidated(t *testing.T) {
	fs := (&EnginesCommand{}).flagSet(&Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok {
			return
		}
		bad := ""
		switch g.Get().(type) {
		case int, int64, float64:
			bad = "-1"
		case time.Duration:
			bad = "-1s"
		default:
			return
		}
		n++
		_, err := run(t, nil, append(slices.Clone(required), "--"+f.Name, bad)...)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--"+f.Name) {
			t.Errorf("--%s %s: want a usage error naming the flag, got %v", f.Name, bad, err)
		}
	})
	if n < 6 {
		t.Errorf("only %d numeric flags found", n)
	}
}

func TestEngineArgs(t *testing.T) {
	c := &EnginesCommand{sparkRemote: "sc://h:15002", parts: 3, lateness: 7 * time.Second,
		extra: "--max-poll-records 5000", sparkExtra: "--spark-trigger 500ms"}
	tp := topicsFor("b.raw", "b-go", 3)
	goArgs := (&engineRun{engine: "go", brokers: "k:9092", c: c}).args("b-go", tp)
	sparkArgs := (&engineRun{engine: "spark", brokers: "k:9092", c: c, ckRoot: "/tmp/ck"}).args("b-spark", topicsFor("b.raw", "b-spark", 3))
	has := func(args []string, flag, value string) bool {
		i := slices.Index(args, flag)
		return i >= 0 && i+1 < len(args) && args[i+1] == value
	}
	for _, want := range [][2]string{{"--topic-raw", "b.raw"}, {"--topic-kpi", "b-go.kpi"}, {"--topic-kpi-partials", "b-go.partials"},
		{"--app-id", "b-go"}, {"--partitions", "3"}, {"--allowed-lateness", "7s"}, {"--max-poll-records", "5000"}, {"--brokers", "k:9092"}} {
		if !has(goArgs, want[0], want[1]) {
			t.Errorf("go engine: no %s %s in %q", want[0], want[1], goArgs)
		}
	}
	if slices.Contains(goArgs, "--engine") || slices.Contains(goArgs, "--spark-trigger") {
		t.Errorf("go engine given Spark flags: %q", goArgs)
	}
	for _, want := range [][2]string{{"--engine", "spark"}, {"--spark-remote", "sc://h:15002"}, {"--spark-checkpoint", "/tmp/ck/b-spark"},
		{"--topic-raw", "b.raw"}, {"--topic-enriched", "b-spark.enriched"}, {"--spark-trigger", "500ms"}, {"--max-poll-records", "5000"}} {
		if !has(sparkArgs, want[0], want[1]) {
			t.Errorf("spark engine: no %s %s in %q", want[0], want[1], sparkArgs)
		}
	}
	if got := joinCheckpoint("hdfs://nn/ck/", "r1"); got != "hdfs://nn/ck/r1" {
		t.Errorf("joinCheckpoint(URI) = %q", got)
	}
	var _ kafka.Topics = tp
}

func TestParsePIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		ok   bool
	}{
		{"42", []int{42}, true},
		{"42, 43", []int{42, 43}, true},
		{"0", nil, false},
		{"-3", nil, false},
		{"4x", nil, false},
		{"", nil, false},
		{"1,,2", nil, false},
	} {
		got, err := parsePIDs(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("parsePIDs(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestQuantile(t *testing.T) {
	ten := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(i + 1)
	}
	for _, tc := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{ten, 0.5, 5}, {ten, 0.99, 10}, {ten, 1, 10}, {ten, 0.1, 1}, {ten, 0.11, 2},
		{hundred, 0.5, 50}, {hundred, 0.99, 99}, {hundred, 0.999, 100},
		{[]float64{7}, 0.5, 7}, {[]float64{7}, 0.99, 7},
	} {
		if got := quantile(tc.xs, tc.p); got != tc.want {
			t.Errorf("quantile(%d values, %v) = %v, want %v", len(tc.xs), tc.p, got, tc.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("the quantile of nothing is a number")
	}
}

func TestRatios(t *testing.T) {
	goR := engineResult{Engine: "Go",
		Drain: &drainResult{EventsPerSecond: 90000, EventsPerCPUSec: 60000, PeakRSSBytes: 200 << 20},
		Rate:  &rateResult{Latency: latencyStats{Rows: 10, P50ms: 40, P99ms: 80}}}
	sparkR := engineResult{Engine: "Spark",
		Drain: &drainResult{EventsPerSecond: 30000, EventsPerCPUSec: 15000, PeakRSSBytes: 1600 << 20},
		Rate:  &rateResult{Latency: latencyStats{Rows: 10, P50ms: 2000, P99ms: 4000}}}
	r := compare(goR, sparkR)
	for _, tc := range []struct {
		name string
		got  *float64
		want float64
	}{
		{"events per CPU-second Go/Spark", r.EventsPerCPUSecGoOverSpark, 4},
		{"events/s Go/Spark", r.EventsPerSecGoOverSpark, 3},
		{"peak RSS Spark/Go", r.PeakRSSSparkOverGo, 8},
		{"p50 Spark/Go", r.P50SparkOverGo, 50},
		{"p99 Spark/Go", r.P99SparkOverGo, 50},
	} {
		if tc.got == nil || math.Abs(*tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	// A figure that is missing or zero gives no ratio, not 0 or +Inf.
	sparkR.Rate.Latency = latencyStats{}
	sparkR.Drain.EventsPerCPUSec = 0
	r = compare(goR, sparkR)
	if r.P99SparkOverGo != nil || r.P50SparkOverGo != nil || r.EventsPerCPUSecGoOverSpark != nil {
		t.Errorf("ratios of missing figures: %+v", r)
	}
	if r := compare(goR, engineResult{Engine: "Spark"}); r.EventsPerSecGoOverSpark != nil || r.P99SparkOverGo != nil {
		t.Errorf("ratios without a Spark run: %+v", r)
	}
	var b bytes.Buffer
	writeTables(&b, benchReport{Engines: []engineResult{goR, sparkR}, Ratios: r})
	for _, s := range []string{"Go engine", "Spark engine", "events per CPU-second, Go / Spark", "n/a", "KPI latency p99, Spark / Go",
		"no minute row measured", "40 / 80 / 0 ms"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("tables lack %q:\n%s", s, b.String())
		}
	}
}

func TestWriteJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	three := 3.0
	rep := benchReport{Events: 100, Seed: 21, Engines: []engineResult{{Engine: "Go", Drain: &drainResult{Events: 100, EventsPerCPUSec: 50}}},
		Ratios: ratios{EventsPerCPUSecGoOverSpark: &three}}
	if err := writeJSON(path, rep); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	rs := back["ratios"].(map[string]any)
	if rs["events_per_cpu_second_go_over_spark"] != 3.0 || rs["p99_latency_spark_over_go"] != nil {
		t.Errorf("ratios in JSON: %v", rs)
	}
	if err := writeJSON(filepath.Join(t.TempDir(), "no", "such", "dir.json"), rep); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func item(kind simulate.Kind, at time.Time) simulate.Item {
	return simulate.Item{Kind: kind, Event: &event.Event{ClientTime: timestamppb.New(at)}}
}

func TestPassTracker(t *testing.T) {
	base := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	wall := func(s int) time.Time { return base.Add(time.Hour + time.Duration(s)*time.Second) }
	p := newPassTracker(5 * time.Second)
	// First events at 12:00:30: 12:00 + 5 s is passed (no data before it).
	p.observe([]simulate.Item{item(simulate.KindNormal, base.Add(30*time.Second))}, wall(0))
	// 12:01:04: 12:01 + 5 s not yet passed; late, duplicate and malformed
	// items far ahead do not count.
	p.observe([]simulate.Item{item(simulate.KindNormal, base.Add(64*time.Second)), item(simulate.KindLate, base.Add(time.Hour)),
		item(simulate.KindDuplicate, base.Add(time.Hour)), item(simulate.KindMalformed, base.Add(time.Hour)),
		{Kind: simulate.KindNormal}}, wall(1))
	// 12:01:05 passes 12:01.
	p.observe([]simulate.Item{item(simulate.KindNormal, base.Add(65*time.Second))}, wall(2))
	// A jump to 12:04:10 passes 12:02, 12:03 and 12:04 at once; an older
	// event after it changes nothing.
	p.observe([]simulate.Item{item(simulate.KindNormal, base.Add(250*time.Second)), item(simulate.KindNormal, base.Add(70*time.Second))}, wall(3))
	p.observe([]simulate.Item{item(simulate.KindNormal, base.Add(200*time.Second))}, wall(4))
	want := map[time.Time]time.Time{
		base:                      wall(0),
		base.Add(time.Minute):     wall(2),
		base.Add(2 * time.Minute): wall(3),
		base.Add(3 * time.Minute): wall(3),
		base.Add(4 * time.Minute): wall(3),
	}
	got := p.passedAt()
	if len(got) != len(want) {
		t.Errorf("passed %d minutes, want %d: %v", len(got), len(want), got)
	}
	for end, at := range want {
		if !got[end].Equal(at) {
			t.Errorf("minute ending %s passed at %s, want %s", end.Format("15:04"), got[end].Format("15:04:05"), at.Format("15:04:05"))
		}
	}
}

func kpiValue(window string, end time.Time, version int) []byte {
	b, _ := json.Marshal(map[string]any{"window": window, "end": end.Format(time.RFC3339), "version": version, "purchases": 3})
	return b
}

func TestKPILatencies(t *testing.T) {
	m0 := time.Date(2026, 12, 7, 12, 1, 0, 0, time.UTC) // minute ends
	m1, m2, m3 := m0.Add(time.Minute), m0.Add(2*time.Minute), m0.Add(3*time.Minute)
	passed := map[time.Time]time.Time{m0: m0.Add(5 * time.Second), m1: m1.Add(5 * time.Second), m2: m2.Add(5 * time.Second), m3: m3.Add(5 * time.Second)}
	k := &kpiArrivals{}
	ms := func(d int) time.Duration { return time.Duration(d) * time.Millisecond }
	k.noteRecord([]byte("minute|a|*|*"), kpiValue("minute", m0, 1), passed[m0].Add(ms(100)))
	k.noteRecord([]byte("minute|a|ios|US"), kpiValue("minute", m0, 1), passed[m0].Add(ms(300)))
	// a copy (a rewritten Spark micro-batch) and a correction: not again
	k.noteRecord([]byte("minute|a|*|*"), kpiValue("minute", m0, 1), passed[m0].Add(ms(9000)))
	k.noteRecord([]byte("minute|a|ios|US"), kpiValue("minute", m0, 2), passed[m0].Add(ms(9000)))
	k.noteRecord([]byte("minute|b|*|*"), kpiValue("minute", m1, 1), passed[m1].Add(ms(200)))
	// hour rows, completeness rows and garbage are not minute rows
	k.noteRecord([]byte("hour|a|*|*"), kpiValue("hour", m0, 1), passed[m0].Add(ms(50)))
	k.noteRecord([]byte("completeness|x"), []byte(`{"key":"completeness|x","gaps":1}`), passed[m0])
	k.noteRecord([]byte("bad"), []byte("{"), passed[m0])
	if got := missingMinutes(k.snapshot(), passed); got != 2 {
		t.Errorf("missing minutes = %d, want 2 (m2, m3)", got)
	}
	k.noteRecord([]byte("minute|a|*|*|m2"), kpiValue("minute", m2, 1), passed[m2].Add(ms(400)))
	k.noteRecord([]byte("minute|a|*|*|m3"), kpiValue("minute", m3, 1), passed[m3].Add(ms(1000)))
	// a row of a minute the produced events never passed
	k.noteRecord([]byte("minute|z"), kpiValue("minute", m3.Add(time.Hour), 1), m3)
	if got := missingMinutes(k.snapshot(), passed); got != 0 {
		t.Errorf("missing minutes = %d, want 0", got)
	}
	st := latencies(k.snapshot(), passed)
	want := latencyStats{Rows: 5, Minutes: 4, Unmatched: 1, P50ms: 300, P99ms: 1000, MaxMs: 1000, Passed: 4}
	if st != want {
		t.Errorf("latencies = %+v\nwant       %+v", st, want)
	}
	if st := latencies(nil, passed); st.Rows != 0 || st.Missing != 4 || st.P99ms != 0 {
		t.Errorf("no rows: %+v", st)
	}
}

func TestDrainWatch(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type reading struct {
		s             int
		enriched, kpi int64
	}
	for _, tc := range []struct {
		name     string
		readings []reading
		doneAt   int // index of the reading that ends it; -1: never
		end      int
		complete bool
	}{
		{"KPI quiet after the target", []reading{{0, 0, 0}, {1, 50, 0}, {2, 100, 10}, {3, 100, 20}, {8, 100, 20}, {13, 100, 20}}, 5, 3, true},
		{"target reached after the KPI went quiet", []reading{{0, 0, 0}, {1, 90, 20}, {20, 95, 20}, {25, 100, 20}, {35, 100, 20}}, 3, 25, true},
		{"copies beyond the target do not hold it", []reading{{0, 120, 5}, {4, 130, 5}, {10, 130, 5}}, 2, 0, true},
		{"no KPI row yet", []reading{{0, 100, 0}, {30, 100, 0}}, -1, 0, false},
		{"short and stuck", []reading{{0, 10, 0}, {5, 90, 3}, {30, 90, 3}, {65, 90, 3}}, 3, 5, false},
		{"nothing yet", []reading{{0, 0, 0}, {100, 0, 0}}, -1, 0, false},
		{"no KPI row, none expected", []reading{{0, 50, 0}, {2, 100, 0}, {12, 100, 0}}, 2, 2, true},
	} {
		w := &drainWatch{target: 100, needKPI: !strings.HasPrefix(tc.name, "no KPI row, none"), quiet: 10 * time.Second, giveUp: time.Minute}
		doneAt := -1
		var end time.Time
		var complete bool
		for i, r := range tc.readings {
			if done, e, c := w.observe(at(r.s), r.enriched, r.kpi); done {
				doneAt, end, complete = i, e, c
				break
			}
		}
		if doneAt != tc.doneAt || (doneAt >= 0 && (!end.Equal(at(tc.end)) || complete != tc.complete)) {
			t.Errorf("%s: done at reading %d, end %s, complete %v; want %d, %s, %v", tc.name, doneAt, end.Sub(t0), complete,
				tc.doneAt, at(tc.end).Sub(t0), tc.complete)
		}
	}
}

func TestSummarize(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	base := sample{at: at(0), cpu: 100} // the JVM's CPU before the phase
	samples := []sample{
		{at(-500), 99, 9 << 30}, // before the phase: not counted
		{at(250), 101, 1 << 30},
		{at(1000), 104, 3 << 30},
		{at(750), 103, 2 << 30},  // out of order (a reading taken on demand)
		{at(1500), 110, 5 << 30}, // after the end
	}
	st, err := summarize(base, samples, at(1200))
	if err != nil {
		t.Fatal(err)
	}
	if want := (phaseStats{Seconds: 1.2, CPUSeconds: 4, PeakRSS: 3 << 30}); st != want {
		t.Errorf("summarize = %+v, want %+v", st, want)
	}
	if _, err := summarize(base, samples[:1], at(1200)); err == nil {
		t.Error("a phase without a reading was measured")
	}
	if _, err := summarize(base, samples, at(-1)); err == nil {
		t.Error("a phase ending before it began was measured")
	}
}

func TestReadSampleOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	one, err := readSample([]int{os.Getpid()})
	if err != nil || one.rss <= 0 {
		t.Fatalf("readSample(self) = %+v, %v", one, err)
	}
	two, err := readSample([]int{os.Getpid(), os.Getpid()})
	if err != nil || two.rss < one.rss*3/2 || two.cpu < 2*one.cpu {
		t.Errorf("two readings of the same process do not add up: %+v, %+v", one, two)
	}
	if _, err := readSample([]int{os.Getpid(), -1}); err == nil {
		t.Error("a missing process was read")
	}
}

// countRecords counts the data records of a transactional topic: not the
// commit markers, not an aborted transaction's records, and it returns
// although the last offset of each partition is a marker.
func TestCountRecordsSkipsMarkersAndAbortedRecords(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "t", "empty"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}
	cl, err := kgo.NewClient(append(opts, kgo.TransactionalID("x"), kgo.DefaultProduceTopic("t"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, commit := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort, kgo.TryCommit} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			r := &kgo.Record{Value: []byte("v")}
			if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(i, err)
			}
		}
		if err := cl.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := countRecords(ctx, opts, "t"); err != nil || n != 6 {
		t.Errorf("countRecords = %d, %v; want 6 (two committed transactions of 3)", n, err)
	}
	if n, err := countRecords(ctx, opts, "empty"); err != nil || n != 0 {
		t.Errorf("countRecords(empty topic) = %d, %v", n, err)
	}
}
