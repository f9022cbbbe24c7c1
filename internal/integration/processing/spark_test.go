//go:build integration

package processing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/dashboards"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/record"
)

// sparkEnv returns the Spark Connect server scripts/spark.sh started, and
// its directory (to kill and start it again).
func sparkEnv(t *testing.T) (remote, dir string) {
	t.Helper()
	remote, dir = os.Getenv("GAMEPULSE_TEST_SPARK_REMOTE"), os.Getenv("GAMEPULSE_TEST_SPARK_DIR")
	if remote == "" || dir == "" {
		t.Fatal("GAMEPULSE_TEST_SPARK_REMOTE and GAMEPULSE_TEST_SPARK_DIR are not set: run these tests through scripts/test.sh, which starts Spark with scripts/spark.sh")
	}
	return remote, dir
}

// endOffsets sums the end offsets of topic's partitions (-1 when they
// cannot be listed).
func (s *setup) endOffsets(ctx context.Context, topic string) int64 {
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return -1
	}
	defer cl.Close()
	ends, err := kafka.EndOffsets(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		return -1
	}
	return ends[topic]
}

// distinctEventIDs counts the distinct event ids of an enriched topic.
func (s *setup) distinctEventIDs(ctx context.Context, topic string) int {
	recs, err := kafka.ReadAll(ctx, s.opts, topic)
	if err != nil {
		return 0
	}
	seen := map[string]bool{}
	for _, r := range recs {
		var e struct {
			EventID string `json:"event_id"`
		}
		if json.Unmarshal(r.Value, &e) == nil && e.EventID != "" {
			seen[e.EventID] = true
		}
	}
	return len(seen)
}

// TestSparkEngine runs the same seeded JSON input (duplicates and
// malformed records; no late events, which the engines treat differently
// by design, docs/engines.md) through the Go engine and through
// "process --engine spark" on a real Spark Connect server. The Spark server
// is killed with SIGKILL mid-run and started again; the attached process
// resumes its queries from their checkpoints. Then:
//   - Spark's enriched topic holds every event the Go engine enriched (and
//     no other), copies of a rewritten micro-batch allowed;
//   - dead letters by code are equal;
//   - every minute KPI row closed by both engines has equal counts and
//     sums, and active players within the HyperLogLog error;
//   - loading Spark's topics into DuckDB gives each event once (the
//     loader skips the copies: the records carry delivery=at-least-once),
//     one row per KPI key.
func TestSparkEngine(t *testing.T) {
	remote, sdir := sparkEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const n = 40_000
	s := newSetup(t, "--allowed-lateness", "1m")
	sim := pipelinetest.SimConfig(21, 100) // 100 items per simulated second: 10 minutes of event time
	sim.Late = 0
	if _, err := pipelinetest.ProduceEncoded(ctx, s.opts, s.topics.Raw, record.EncodingJSON, sim, n, nil); err != nil {
		t.Fatal(err)
	}

	// doctor --spark-remote on the real server: every Spark check passes.
	cp := filepath.Join(t.TempDir(), "checkpoints")
	doc := exec.CommandContext(ctx, binary(t), "doctor", "--brokers", strings.Join(brokers(t), ","), "--topic-raw", s.topics.Raw,
		"--spark-remote", remote, "--spark-checkpoint", cp, "--timeout", "2m")
	out, err := doc.CombinedOutput()
	for _, check := range []string{"spark reachable", "spark version", "spark kafka connector", "spark checkpoint location"} {
		if !strings.Contains(string(out), "[ok  ] "+check+": ") {
			t.Errorf("doctor --spark-remote: no passing %q check (%v):\n%s", check, err, out)
		}
	}

	// The Go engine.
	proc := s.start("go-engine")
	if err := pipelinetest.WaitCaughtUp(ctx, s.opts, s.appID, s.topics, s.appID+".partials"); err != nil {
		t.Fatal(err)
	}
	s.stop(proc)
	goOut, err := pipelinetest.ReadOutputs(ctx, s.opts, s.topics)
	if err != nil {
		t.Fatal(err)
	}

	// The Spark engine, on topics of its own (the same raw topic).
	sp := s.topics
	for _, t := range []*string{&sp.DeadLetter, &sp.Enriched, &sp.Late, &sp.Sessions, &sp.KPI, &sp.Alerts} {
		*t = strings.Replace(*t, s.appID, s.appID+"-spark", 1)
	}
	admin := freeAddr(t)
	args := []string{"process", "--engine", "spark", "--spark-remote", remote,
		"--spark-checkpoint", cp, "--spark-trigger", "500ms",
		"--spark-max-offsets-per-trigger", "10000", "--spark-poll-interval", "1s",
		"--brokers", strings.Join(brokers(t), ","), "--app-id", s.appID + "-spark", "--instance-id", "spark-1",
		"--topic-raw", sp.Raw, "--topic-deadletter", sp.DeadLetter, "--topic-enriched", sp.Enriched, "--topic-late", sp.Late,
		"--topic-sessions", sp.Sessions, "--topic-kpi", sp.KPI, "--topic-alerts", sp.Alerts,
		"--partitions", fmt.Sprint(partitions), "--fx-rates", s.fxFile, "--allowed-lateness", "1m",
		"--metrics-listen", admin, "--log-format", "json"}
	started := time.Now()
	in := s.run("spark-engine", args)

	// Kill -9 the Spark server once a third of the events are enriched.
	for s.endOffsets(ctx, sp.Enriched) < int64(goOut.Enriched/3) {
		if ctx.Err() != nil {
			t.Fatal("the Spark engine never enriched a third of the events")
		}
		s.checkAlive()
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d enriched records after %s: killing the Spark Connect server", s.endOffsets(ctx, sp.Enriched), time.Since(started).Round(time.Second))
	if out, err := exec.CommandContext(ctx, "../../../scripts/spark.sh", "kill", sdir).CombinedOutput(); err != nil {
		t.Fatalf("spark.sh kill: %v\n%s", err, out)
	}
	restart := time.Now()
	start := exec.CommandContext(ctx, "../../../scripts/spark.sh", "start", sdir)
	start.Stderr = os.Stderr
	if out, err := start.Output(); err != nil || strings.TrimSpace(string(out)) != remote {
		t.Fatalf("spark.sh start: %v (printed %q, want %q)", err, out, remote)
	}
	t.Logf("Spark Connect server back after %s", time.Since(restart).Round(time.Second))

	// Wait until every event the Go engine enriched is in Spark's enriched
	// topic (counting distinct ids: the topic holds copies of rewritten
	// batches) and the KPI topic has stopped growing.
	var last int64 = -1
	stable := time.Now()
	ids := 0
	for {
		s.checkAlive()
		kpi := s.endOffsets(ctx, sp.KPI)
		if ids < len(goOut.EnrichedIDs) {
			ids = s.distinctEventIDs(ctx, sp.Enriched)
		}
		if ids >= len(goOut.EnrichedIDs) && kpi > 0 {
			if kpi != last {
				last, stable = kpi, time.Now()
			} else if time.Since(stable) > 20*time.Second {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("the Spark engine never caught up: %d distinct enriched events (the Go engine: %d), %d KPI records", ids, len(goOut.EnrichedIDs), kpi)
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("Spark engine caught up %s after its start", time.Since(started).Round(time.Second))
	// Every Spark series the dashboards and alert rules read is exported,
	// and the counters moved.
	metrics := scrape(t, "http://"+admin+"/metrics")
	want, err := dashboards.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(want, "gamepulse_spark_query_batches_total", "gamepulse_spark_query_input_rows_total", "gamepulse_spark_session_up") {
		if dashboards.SparkEngine(m) && !strings.Contains(metrics, "\n"+m+"{") && !strings.Contains(metrics, "\n"+m+" ") {
			t.Errorf("process --engine spark does not export %s", m)
		}
	}
	for _, m := range []string{"gamepulse_spark_query_batches_total", "gamepulse_spark_query_input_rows_total"} {
		if !regexp.MustCompile(`(?m)^` + m + `\{query="gamepulse_enrich"\} [1-9]`).MatchString(metrics) {
			t.Errorf("%s of gamepulse_enrich did not move", m)
		}
	}
	s.stop(in)
	sparkOut, err := pipelinetest.ReadOutputs(ctx, s.opts, sp)
	if err != nil {
		t.Fatal(err)
	}

	// Enriched events: the same ids; copies only from a rewritten batch.
	missing, extra, copies := 0, 0, 0
	for id := range goOut.EnrichedIDs {
		if sparkOut.EnrichedIDs[id] == 0 {
			if missing++; missing <= 5 {
				t.Errorf("event %s: enriched by the Go engine, not by Spark", id)
			}
		}
	}
	for id, c := range sparkOut.EnrichedIDs {
		if goOut.EnrichedIDs[id] == 0 {
			if extra++; extra <= 5 {
				t.Errorf("event %s: enriched by Spark, not by the Go engine", id)
			}
		}
		copies += c - 1
	}
	if missing+extra > 0 {
		t.Errorf("%d events only in the Go engine's output, %d only in Spark's", missing, extra)
	}
	t.Logf("enriched: %d events in both; Spark wrote %d copies (at-least-once rewrite after the kill)", len(goOut.EnrichedIDs), copies)

	// Dead letters: the same records, by code equal but for the one
	// difference docs/engines.md predicts: a member of the wrong type
	// (the simulator's "wrong type" faults) is malformed for protojson,
	// while from_json reads it as NULL and Spark names the check on that
	// field (missing_field, invalid_value, ...).
	var goDead, sparkDead int64
	for _, c := range goOut.DeadLetters {
		goDead += c
	}
	for _, c := range sparkOut.DeadLetters {
		sparkDead += c
	}
	if goDead != sparkDead {
		t.Errorf("dead letters: Spark %d, Go %d (by code: Spark %v, Go %v)", sparkDead, goDead, sparkOut.DeadLetters, goOut.DeadLetters)
	}
	for code, c := range goOut.DeadLetters {
		got := sparkOut.DeadLetters[code]
		switch {
		case code == "malformed" && got > c:
			t.Errorf("dead letters malformed: Spark %d, more than Go's %d", got, c)
		case code != "malformed" && got < c:
			t.Errorf("dead letters %s: Spark %d, fewer than Go's %d", code, got, c)
		}
	}
	for code, c := range sparkOut.DeadLetters {
		if goOut.DeadLetters[code] == 0 {
			t.Errorf("dead letters %s: Spark %d, Go none", code, c)
		}
	}
	t.Logf("dead letters by code: Go %v, Spark %v (wrong-typed members: malformed in Go, the field's check in Spark)", goOut.DeadLetters, sparkOut.DeadLetters)

	// KPI minute rows closed by both.
	compared := 0
	for key, g := range goOut.KPI {
		sv, ok := sparkOut.KPI[key]
		if !ok || !strings.HasPrefix(key, "minute|") {
			continue
		}
		compared++
		for _, f := range []string{"purchases", "revenue_usd_micros", "purchase_revenue_usd_micros", "sessions_started", "refunds", "ad_impressions"} {
			if g[f] != sv[f] {
				t.Errorf("KPI %s %s: Go %v, Spark %v", key, f, g[f], sv[f])
			}
		}
		ga, _ := g["active_players"].(float64)
		sa, _ := sv["active_players"].(float64)
		if math.Abs(ga-sa) > 0.03*math.Max(ga, 1)+1 {
			t.Errorf("KPI %s active_players: Go %v, Spark %v (beyond the HyperLogLog error)", key, ga, sa)
		}
	}
	if compared < 10 {
		t.Errorf("only %d minute KPI rows closed by both engines", compared)
	}
	t.Logf("%d minute KPI rows compared (Go %d rows, Spark %d)", compared, len(goOut.KPI), len(sparkOut.KPI))

	// Load Spark's topics: each event once.
	url := "duckdb://" + filepath.Join(t.TempDir(), "spark.duckdb")
	group := s.appID + ".loader.spark"
	ld := s.run("spark-loader", []string{"load", "--brokers", strings.Join(brokers(t), ","), "--warehouse", url,
		"--load-group", group, "--topic-raw", sp.Raw, "--topic-deadletter", sp.DeadLetter, "--topic-enriched", sp.Enriched,
		"--topic-sessions", sp.Sessions, "--topic-kpi", sp.KPI, "--topic-alerts", sp.Alerts,
		"--batch-interval", "300ms", "--metrics-listen", "", "--log-format", "json"})
	saved := s.topics
	s.topics = sp
	for s.loaderBehind(ctx, group) != 0 {
		if ctx.Err() != nil {
			t.Fatal("the loader never caught up with the Spark engine's topics")
		}
		time.Sleep(300 * time.Millisecond)
	}
	s.topics = saved
	s.stop(ld)
	w, err := openWarehouse(url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var events, distinct, kpiRows int64
	if err := w.DB().QueryRowContext(ctx, "SELECT count(*), count(DISTINCT event_id) FROM events").Scan(&events, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := w.DB().QueryRowContext(ctx, "SELECT (SELECT count(*) FROM kpi_minute) + (SELECT count(*) FROM kpi_hour)").Scan(&kpiRows); err != nil {
		t.Fatal(err)
	}
	if events != int64(len(goOut.EnrichedIDs)) || distinct != events {
		t.Errorf("warehouse events: %d rows, %d distinct ids; want %d, each once", events, distinct, len(goOut.EnrichedIDs))
	}
	if kpiRows != int64(len(sparkOut.KPI)) {
		t.Errorf("warehouse KPI rows: %d, want %d (one per key of the Spark engine's KPI topic)", kpiRows, len(sparkOut.KPI))
	}
	t.Logf("warehouse: %d events (each once), %d KPI rows", events, kpiRows)
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// scrape returns the body of a GET of url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
