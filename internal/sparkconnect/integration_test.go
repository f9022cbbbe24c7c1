//go:build integration

package sparkconnect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The integration tests run against a real Spark Connect server
// (scripts/spark.sh start DIR prints its remote) and, for streaming, a real
// Kafka broker (scripts/kafka.sh start DIR):
//
//	GAMEPULSE_TEST_SPARK_REMOTE=sc://127.0.0.1:PORT GAMEPULSE_TEST_KAFKA_BROKERS=127.0.0.1:PORT \
//	  go test -tags integration -count=1 -v ./internal/sparkconnect/
//
// GAMEPULSE_TEST_SPARK_PROGRESS_OUT=FILE writes a real progress report of
// the window query there (how testdata/progress-kafka-window.json was made).

func sparkRemote(t *testing.T) string {
	t.Helper()
	r := os.Getenv("GAMEPULSE_TEST_SPARK_REMOTE")
	if r == "" {
		t.Skip("GAMEPULSE_TEST_SPARK_REMOTE is not set: start a server with `scripts/spark.sh start DIR` and set it to the sc:// address it prints")
	}
	return r
}

func kafkaBrokers(t *testing.T) []string {
	t.Helper()
	b := os.Getenv("GAMEPULSE_TEST_KAFKA_BROKERS")
	if b == "" {
		t.Skip("GAMEPULSE_TEST_KAFKA_BROKERS is not set: start a broker with `scripts/kafka.sh start DIR` and set it to the address it prints")
	}
	return strings.Split(b, ",")
}

// step logs how long each step of a test took (the figures the CI budget needs).
type stepTimer struct {
	t    *testing.T
	last time.Time
}

func newStepTimer(t *testing.T) *stepTimer { return &stepTimer{t: t, last: time.Now()} }

func (s *stepTimer) done(what string) {
	s.t.Helper()
	now := time.Now()
	s.t.Logf("timing: %-55s %6.2fs", what, now.Sub(s.last).Seconds())
	s.last = now
}

func dial(t *testing.T, ctx context.Context, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(ctx, sparkRemote(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSparkSQLConfAndErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := newStepTimer(t)
	c := dial(t, ctx)
	v, err := c.Version(ctx)
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if !strings.HasPrefix(v, "4.") {
		t.Errorf("Version = %q, want a Spark 4 server", v)
	}
	if c.ServerSessionID() == "" {
		t.Error("no server-side session id after a call")
	}
	st.done("version")

	rows, err := c.SQL(ctx, `SELECT id, CAST(id * 1.5 AS DOUBLE) AS x, concat('g', id) AS game,
		TIMESTAMP'2026-01-02 03:04:05' AS ts, named_struct('a', id) AS s, CAST(NULL AS STRING) AS missing
		FROM range(3) ORDER BY id`)
	if err != nil {
		t.Fatalf("SQL: %v", err)
	}
	if len(rows) != 3 {
		t.Fatalf("SQL returned %d rows, want 3: %v", len(rows), rows)
	}
	for i, r := range rows {
		if r["id"] != int64(i) || r["x"] != float64(i)*1.5 || r["game"] != fmt.Sprintf("g%d", i) || r["missing"] != nil {
			t.Errorf("row %d = %v", i, r)
		}
		if r["ts"] != "2026-01-02T03:04:05Z" {
			t.Errorf("row %d ts = %#v, want 2026-01-02T03:04:05Z", i, r["ts"])
		}
		if s, _ := r["s"].(map[string]any); s["a"] != int64(i) {
			t.Errorf("row %d struct = %#v", i, r["s"])
		}
	}
	st.done("select 3 rows")

	if err := c.Conf(ctx, map[string]string{"spark.sql.shuffle.partitions": "3"}); err != nil {
		t.Fatalf("Conf: %v", err)
	}
	rows, err = c.SQL(ctx, "SET spark.sql.shuffle.partitions")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0]["value"] != "3" {
		t.Errorf("after Conf, SET spark.sql.shuffle.partitions = %v, want value 3", rows)
	}
	if err := c.CreateView(ctx, "three", "SELECT id FROM range(3)"); err != nil {
		t.Fatalf("CreateView: %v", err)
	}
	rows, err = c.SQL(ctx, "SELECT sum(id) AS n FROM three")
	if err != nil || len(rows) != 1 || rows[0]["n"] != int64(3) {
		t.Errorf("sum over the view = %v, %v; want n=3", rows, err)
	}
	st.done("conf, view")

	_, err = c.SQL(ctx, "SELEC 1")
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("a syntax error gave %v, want an *Error", err)
	}
	if se.ErrorClass != "PARSE_SYNTAX_ERROR" || !strings.Contains(se.Message, "'SELEC'") || !strings.Contains(err.Error(), "'SELEC'") {
		t.Errorf("syntax error: class %q, message %q; want PARSE_SYNTAX_ERROR naming 'SELEC'", se.ErrorClass, se.Message)
	}
	_, err = c.SQL(ctx, "SELECT * FROM no_such_table_here")
	if ErrorClass(err) != "TABLE_OR_VIEW_NOT_FOUND" || !strings.Contains(err.Error(), "no_such_table_here") {
		t.Errorf("missing table: %v (class %q), want TABLE_OR_VIEW_NOT_FOUND naming the table", err, ErrorClass(err))
	}
	st.done("errors")
}

// event is what the test writes to the input topic.
type event struct {
	EventID string `json:"event_id"`
	Game    string `json:"game"`
	TS      string `json:"ts"`
}

// windowCount is what the query writes to the output topic.
type windowCount struct {
	Game        string `json:"game"`
	WindowStart string `json:"window_start"`
	Count       int64  `json:"count"`
}

// eventsAt makes n events of game at minute m (+ seconds) after base.
func eventsAt(base time.Time, game string, minute, n int) []event {
	var evs []event
	for i := range n {
		evs = append(evs, event{
			EventID: uuid.NewString(), Game: game,
			TS: base.Add(time.Duration(minute)*time.Minute + time.Duration(i%50)*time.Second).Format(time.RFC3339),
		})
	}
	return evs
}

func produce(t *testing.T, ctx context.Context, cl *kgo.Client, topic string, evs []event) {
	t.Helper()
	var recs []*kgo.Record
	for _, e := range evs {
		b, _ := json.Marshal(e)
		recs = append(recs, &kgo.Record{Topic: topic, Value: b})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

// outputReader reads the query's output topic from the start.
type outputReader struct {
	cl  *kgo.Client
	got []windowCount
}

func newOutputReader(t *testing.T, brokers []string, topic string) *outputReader {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return &outputReader{cl: cl}
}

// until polls the output (and reports the query's progress to the log)
// until have returns true for what was read so far.
func (o *outputReader) until(t *testing.T, ctx context.Context, c *Client, q QueryRef, have func([]windowCount) bool) {
	t.Helper()
	for !have(o.got) {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fs := o.cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			st, _ := c.Status(context.Background(), q)
			exc, _ := c.Exception(context.Background(), q)
			t.Fatalf("output incomplete when the test's deadline passed: got %v; query status %+v, exception %q", o.got, st, exc)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var w windowCount
			if err := json.Unmarshal(r.Value, &w); err != nil {
				t.Errorf("output record %q: %v", r.Value, err)
				return
			}
			o.got = append(o.got, w)
		})
		if len(fs.Records()) == 0 {
			st, err := c.Status(ctx, q)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if !st.Active {
				exc, _ := c.Exception(ctx, q)
				t.Fatalf("query stopped before its output was complete: %+v, exception %q", st, exc)
			}
		}
	}
}

// counts indexes window counts by game and window start; a window written
// twice (at-least-once redelivery) must carry the same count.
func counts(t *testing.T, got []windowCount) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, w := range got {
		k := w.Game + "@" + w.WindowStart
		if prev, ok := m[k]; ok && prev != w.Count {
			t.Errorf("window %s written with count %d and %d", k, prev, w.Count)
		}
		m[k] = w.Count
	}
	return m
}

const windowSQL = `
SELECT game AS key, to_json(named_struct(
         'game', game,
         'window_start', date_format(w.start, "yyyy-MM-dd'T'HH:mm:ss'Z'"),
         'count', n)) AS value
FROM (
  SELECT game, window(ts, '1 minute') AS w, count(*) AS n
  FROM events WATERMARK ts DELAY OF INTERVAL 1 MINUTE
  GROUP BY game, window(ts, '1 minute')
)`

// createViews registers the Kafka input and its parsed view.
func createViews(t *testing.T, ctx context.Context, c *Client, brokers []string, topic string) {
	t.Helper()
	err := c.CreateStreamView(ctx, "events_raw", "kafka", map[string]string{
		"kafka.bootstrap.servers": strings.Join(brokers, ","),
		"subscribe":               topic,
		"startingOffsets":         "earliest",
	})
	if err != nil {
		t.Fatalf("CreateStreamView: %v", err)
	}
	err = c.CreateView(ctx, "events", `SELECT e.event_id, e.game, e.ts FROM (
		SELECT from_json(CAST(value AS STRING), 'event_id STRING, game STRING, ts TIMESTAMP') AS e FROM events_raw)`)
	if err != nil {
		t.Fatalf("CreateView: %v", err)
	}
}

// lastProgress waits for a progress report of run q that satisfies ok.
func lastProgress(t *testing.T, ctx context.Context, c *Client, q QueryRef, ok func(*Progress) bool) *Progress {
	t.Helper()
	for {
		p, err := c.LastProgress(ctx, q)
		if err != nil {
			t.Fatalf("LastProgress: %v", err)
		}
		if p != nil && p.RunID == q.RunID && ok(p) {
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no progress report as wanted before the test's deadline; last %+v", p)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func inputEnd(t *testing.T, p *Progress, topic string) int64 {
	t.Helper()
	if len(p.Sources) != 1 {
		t.Fatalf("progress has %d sources, want 1", len(p.Sources))
	}
	offs, err := KafkaOffsets(p.Sources[0].EndOffset)
	if err != nil {
		t.Fatal(err)
	}
	return offs[topic][0]
}

func TestSparkStreamingKafkaWindowCountsStopAndRestartFromCheckpoint(t *testing.T) {
	sparkRemote(t)
	brokers := kafkaBrokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	st := newStepTimer(t)

	kc, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	suffix := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	in, out := "spark-it-in-"+suffix, "spark-it-out-"+suffix
	adm := kadm.NewClient(kc)
	if _, err := adm.CreateTopics(ctx, 1, -1, nil, in, out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.DeleteTopics(context.Background(), in, out) })
	// Minutes 0..2 of two games, then an event at minute 5 that moves the
	// watermark (max event time - 1 minute) past the end of minute 2.
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var phase1 []event
	for m := range 3 {
		phase1 = append(phase1, eventsAt(base, "alpha", m, 10+m)...)
		phase1 = append(phase1, eventsAt(base, "beta", m, 20+m)...)
	}
	phase1 = append(phase1, eventsAt(base, "alpha", 5, 1)...)
	produce(t, ctx, kc, in, phase1)
	st.done("kafka topics + produce")

	c := dial(t, ctx)
	createViews(t, ctx, c, brokers, in)
	st.done("create stream views")
	checkpoint := filepath.Join(t.TempDir(), "checkpoint")
	q := Query{
		Name: "window_counts_" + suffix, SQL: windowSQL, Format: "kafka", OutputMode: "append",
		CheckpointLocation: checkpoint,
		Options:            map[string]string{"kafka.bootstrap.servers": strings.Join(brokers, ","), "topic": out},
		ProcessingTime:     time.Second,
	}
	ref, err := c.StartQuery(ctx, q)
	if err != nil {
		t.Fatalf("StartQuery: %v", err)
	}
	if ref.ID == "" || ref.RunID == "" || ref.Name != q.Name {
		t.Errorf("StartQuery returned %+v", ref)
	}
	st.done("start query (call latency)")

	want1 := map[string]int64{}
	for m := range 3 {
		ws := base.Add(time.Duration(m) * time.Minute).Format(time.RFC3339)
		want1["alpha@"+ws] = int64(10 + m)
		want1["beta@"+ws] = int64(20 + m)
	}
	rd := newOutputReader(t, brokers, out)
	rd.until(t, ctx, c, ref, func(got []windowCount) bool { return len(got) >= len(want1) })
	st.done("first window counts in the output topic")
	got := counts(t, rd.got)
	for k, n := range want1 {
		if got[k] != n {
			t.Errorf("window %s: count %d, want %d", k, got[k], n)
		}
	}
	if len(got) != len(want1) {
		t.Errorf("output windows %v, want exactly %v (minute 5 is not closed yet)", got, want1)
	}

	// The output is written before the batch that wrote it reports its
	// progress: wait for the report of a batch that ran with the watermark.
	p := lastProgress(t, ctx, c, ref, func(p *Progress) bool {
		return inputEnd(t, p, in) == int64(len(phase1)) && !p.Watermark.IsZero()
	})
	if p.ID != ref.ID || p.Name != q.Name || len(p.StateOperators) != 1 || p.BatchID < 1 {
		t.Errorf("progress %s: want the query's id and name, a later batch and one state operator", p.Raw)
	}
	// The watermark is the maximum event time (12:05) less the delay.
	if !p.Watermark.Equal(base.Add(4 * time.Minute)) {
		t.Errorf("watermark %v, want %v", p.Watermark, base.Add(4*time.Minute))
	}
	if out := os.Getenv("GAMEPULSE_TEST_SPARK_PROGRESS_OUT"); out != "" {
		if err := os.WriteFile(out, p.Raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	active, err := c.Active(ctx)
	if err != nil {
		t.Fatalf("Active: %v", err)
	}
	if !slices.ContainsFunc(active, func(r QueryRef) bool { return r.ID == ref.ID && r.Name == q.Name }) {
		t.Errorf("Active = %+v, want it to list %+v", active, ref)
	}
	// The query belongs to the session: a client of the same session id
	// finds it, a client of another session does not.
	same := dial(t, ctx, WithSessionID(c.SessionID()))
	if r, ok, err := same.GetQuery(ctx, ref.ID); err != nil || !ok || r.RunID != ref.RunID {
		t.Errorf("GetQuery from the same session = %+v, %v, %v; want the running query", r, ok, err)
	}
	other := dial(t, ctx)
	if act, err := other.Active(ctx); err != nil || slices.ContainsFunc(act, func(r QueryRef) bool { return r.ID == ref.ID }) {
		t.Errorf("Active from another session = %+v, %v; want no such query", act, err)
	}
	st.done("progress, active, sessions")

	if err := same.Stop(ctx, ref); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	status, err := c.Status(ctx, ref)
	if err != nil || status.Active {
		t.Errorf("after Stop, Status = %+v, %v; want inactive", status, err)
	}
	if exc, err := c.Exception(ctx, ref); err != nil || exc != "" {
		t.Errorf("after Stop, Exception = %q, %v; want none", exc, err)
	}
	if act, err := c.Active(ctx); err != nil || len(act) != 0 {
		t.Errorf("after Stop, Active = %+v, %v; want none", act, err)
	}
	st.done("stop")

	// More input while the query is stopped: minute 6, and minute 9 to
	// close minutes 5 and 6. A new session (as after a restart of the
	// driving process) starts the query again from the same checkpoint: it
	// must go on from the offsets it had committed, not from "earliest".
	// One more event of minute 1 is later than the watermark (12:04): Spark
	// drops it, counts it in numRowsDroppedByWatermark, and leaves the
	// window of minute 1 as it was written.
	var phase2 []event
	phase2 = append(phase2, eventsAt(base, "beta", 6, 7)...)
	phase2 = append(phase2, eventsAt(base, "alpha", 1, 1)...)
	phase2 = append(phase2, eventsAt(base, "alpha", 9, 1)...)
	produce(t, ctx, kc, in, phase2)
	c2 := dial(t, ctx)
	createViews(t, ctx, c2, brokers, in)
	ref2, err := c2.StartQuery(ctx, q)
	if err != nil {
		t.Fatalf("StartQuery again: %v", err)
	}
	if ref2.ID != ref.ID || ref2.RunID == ref.RunID {
		t.Errorf("restart from the checkpoint: %+v, want id %s and a new run id", ref2, ref.ID)
	}
	st.done("restart query from checkpoint (call latency)")
	want2 := map[string]int64{
		"alpha@" + base.Add(5*time.Minute).Format(time.RFC3339): 1,
		"beta@" + base.Add(6*time.Minute).Format(time.RFC3339):  7,
	}
	rd.until(t, ctx, c2, ref2, func(got []windowCount) bool {
		m := counts(t, got)
		for k := range want2 {
			if _, ok := m[k]; !ok {
				return false
			}
		}
		return true
	})
	st.done("window counts after the restart")
	got = counts(t, rd.got)
	for _, want := range []map[string]int64{want1, want2} {
		for k, n := range want {
			if got[k] != n {
				t.Errorf("window %s: count %d, want %d", k, got[k], n)
			}
		}
	}
	if len(got) != len(want1)+len(want2) {
		t.Errorf("output windows %v, want exactly the %d of both phases", got, len(want1)+len(want2))
	}
	recent, err := c2.RecentProgress(ctx, ref2)
	if err != nil || len(recent) == 0 {
		t.Fatalf("RecentProgress = %d reports, %v", len(recent), err)
	}
	first, err := ParseProgress([]byte(recent[0]))
	if err != nil {
		t.Fatal(err)
	}
	start, err := KafkaOffsets(first.Sources[0].StartOffset)
	if err != nil {
		t.Fatal(err)
	}
	// The first batch of the new run starts where the first run ended (the
	// batch that was planned before the stop may be re-run, but from there).
	if start[in][0] != int64(len(phase1)) {
		t.Errorf("first batch after the restart starts at offset %v of %s, want %d (not reprocessing phase 1)",
			start[in], in, len(phase1))
	}
	if first.NumInputRows > int64(len(phase2)) {
		t.Errorf("first batch after the restart read %d rows, want at most the %d new ones", first.NumInputRows, len(phase2))
	}
	var dropped int64
	for _, js := range recent {
		p, err := ParseProgress([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		dropped += p.RowsDroppedByWatermark()
	}
	if dropped != 1 {
		t.Errorf("rows dropped by the watermark after the restart: %d, want the 1 late event", dropped)
	}
	if err := c2.Stop(ctx, ref2); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	st.done("offsets check, stop")
}

func TestSparkStreamingQueryErrorsSurfaceSparksMessage(t *testing.T) {
	sparkRemote(t)
	brokers := kafkaBrokers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := newStepTimer(t)
	kc, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	in := "spark-it-err-" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	adm := kadm.NewClient(kc)
	if _, err := adm.CreateTopics(ctx, 1, -1, nil, in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.DeleteTopics(context.Background(), in) })
	produce(t, ctx, kc, in, eventsAt(time.Now().UTC(), "alpha", 0, 3))

	c := dial(t, ctx)
	createViews(t, ctx, c, brokers, in)
	base := Query{Format: "memory", OutputMode: "append", CheckpointLocation: filepath.Join(t.TempDir(), "cp")}

	// An analysis error: the query does not start, and says why.
	bad := base
	bad.Name, bad.SQL = "bad_column", "SELECT no_such_column FROM events"
	_, err = c.StartQuery(ctx, bad)
	if ErrorClass(err) != "UNRESOLVED_COLUMN.WITH_SUGGESTION" || !strings.Contains(err.Error(), "no_such_column") {
		t.Errorf("StartQuery with an unknown column: %v (class %q), want UNRESOLVED_COLUMN naming it", err, ErrorClass(err))
	}
	st.done("analysis error")

	// A runtime error: the query starts, fails on its first batch, and
	// Exception gives Spark's message.
	fail := base
	fail.Name, fail.SQL = "raises", "SELECT raise_error(concat('bad event ', event_id)) AS r FROM events"
	ref, err := c.StartQuery(ctx, fail)
	if err != nil {
		t.Fatalf("StartQuery: %v", err)
	}
	terminated, err := c.AwaitTermination(ctx, ref, 2*time.Minute)
	if err == nil && !terminated {
		t.Fatal("the failing query did not terminate")
	}
	// Spark answers AwaitTermination of a failed query with its error.
	if err != nil && !strings.Contains(err.Error(), "bad event") {
		t.Errorf("AwaitTermination: %v, want the query's error", err)
	}
	status, err := c.Status(ctx, ref)
	if err != nil || status.Active {
		t.Errorf("Status of the failed query = %+v, %v; want inactive", status, err)
	}
	exc, err := c.Exception(ctx, ref)
	if err != nil || !strings.Contains(exc, "bad event") {
		t.Errorf("Exception = %q, %v; want Spark's message with 'bad event'", exc, err)
	}
	st.done("runtime error")
}

// sparkScript runs scripts/spark.sh CMD on the server of
// GAMEPULSE_TEST_SPARK_DIR (the directory the remote's server runs in).
func sparkScript(t *testing.T, cmd string) string {
	t.Helper()
	dir := os.Getenv("GAMEPULSE_TEST_SPARK_DIR")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(wd, "..", "..", "scripts", "spark.sh")
	out, err := exec.Command("bash", script, cmd, dir).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("spark.sh %s %s: %v\n%s", cmd, dir, err, ee.Stderr)
		}
		t.Fatalf("spark.sh %s %s: %v", cmd, dir, err)
	}
	return strings.TrimSpace(string(out))
}

// TestSparkServerKilledMidRunQueryResumesFromCheckpoint kills the Spark
// Connect server with SIGKILL while a query runs, starts it again on the
// same port, and starts the query again from its checkpoint through the same
// client: the query goes on from the committed offsets, and a window written
// twice (at-least-once) carries the same count.
func TestSparkServerKilledMidRunQueryResumesFromCheckpoint(t *testing.T) {
	remote := sparkRemote(t)
	brokers := kafkaBrokers(t)
	if os.Getenv("GAMEPULSE_TEST_SPARK_DIR") == "" {
		t.Skip("GAMEPULSE_TEST_SPARK_DIR is not set: the directory given to `scripts/spark.sh start DIR` (the test kills and restarts that server)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	st := newStepTimer(t)
	kc, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	suffix := strings.ReplaceAll(uuid.NewString()[:8], "-", "")
	in, out := "spark-kill-in-"+suffix, "spark-kill-out-"+suffix
	adm := kadm.NewClient(kc)
	if _, err := adm.CreateTopics(ctx, 1, -1, nil, in, out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adm.DeleteTopics(context.Background(), in, out) })
	base := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	phase1 := append(eventsAt(base, "alpha", 0, 4), eventsAt(base, "alpha", 3, 1)...)
	produce(t, ctx, kc, in, phase1)

	c := dial(t, ctx, WithSessionID(uuid.NewString()))
	createViews(t, ctx, c, brokers, in)
	q := Query{
		Name: "killed_" + suffix, SQL: windowSQL, Format: "kafka", OutputMode: "append",
		CheckpointLocation: filepath.Join(t.TempDir(), "checkpoint"),
		Options:            map[string]string{"kafka.bootstrap.servers": strings.Join(brokers, ","), "topic": out},
		ProcessingTime:     time.Second,
	}
	ref, err := c.StartQuery(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	rd := newOutputReader(t, brokers, out)
	w0 := "alpha@" + base.Format(time.RFC3339)
	rd.until(t, ctx, c, ref, func(got []windowCount) bool { return len(got) >= 1 })
	st.done("query running, first window written")
	server1 := c.ServerSessionID()

	sparkScript(t, "kill")
	st.done("kill -9 the server")
	if got := sparkScript(t, "start"); got != remote {
		t.Fatalf("the restarted server is at %s, want the same remote %s", got, remote)
	}
	st.done("start the server again (same port)")
	// The same client reconnects; its session is new on the new server.
	for {
		if _, err = c.Version(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the client does not reach the restarted server: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if c.ServerSessionID() == server1 {
		t.Errorf("server-side session id %s unchanged after the server restart", server1)
	}
	if act, err := c.Active(ctx); err != nil || len(act) != 0 {
		t.Errorf("Active after the restart = %+v, %v; want no query", act, err)
	}
	st.done("client reconnected")

	phase2 := append(eventsAt(base, "alpha", 4, 2), eventsAt(base, "alpha", 6, 1)...)
	produce(t, ctx, kc, in, phase2)
	createViews(t, ctx, c, brokers, in)
	ref2, err := c.StartQuery(ctx, q)
	if err != nil {
		t.Fatalf("StartQuery after the server restart: %v", err)
	}
	if ref2.ID != ref.ID {
		t.Errorf("query id %s after the restart, want %s (same checkpoint)", ref2.ID, ref.ID)
	}
	st.done("restart the query from its checkpoint (call latency)")
	want := map[string]int64{
		w0: 4,
		"alpha@" + base.Add(3*time.Minute).Format(time.RFC3339): 1,
		"alpha@" + base.Add(4*time.Minute).Format(time.RFC3339): 2,
	}
	rd.until(t, ctx, c, ref2, func(got []windowCount) bool { return len(counts(t, got)) >= len(want) })
	st.done("windows after the restart")
	got := counts(t, rd.got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("windows %v, want %v", got, want)
	}
	recent, err := c.RecentProgress(ctx, ref2)
	if err != nil || len(recent) == 0 {
		t.Fatalf("RecentProgress = %d, %v", len(recent), err)
	}
	first, err := ParseProgress([]byte(recent[0]))
	if err != nil {
		t.Fatal(err)
	}
	start, err := KafkaOffsets(first.Sources[0].StartOffset)
	if err != nil {
		t.Fatal(err)
	}
	if start[in][0] != int64(len(phase1)) {
		t.Errorf("first batch after the server restart starts at %v, want offset %d", start[in], len(phase1))
	}
	if err := c.Stop(ctx, ref2); err != nil {
		t.Fatal(err)
	}
}
