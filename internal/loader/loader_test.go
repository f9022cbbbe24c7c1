package loader_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
	"github.com/gamepulse/gamepulse/internal/pipeline"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/report"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

// TestLoadExactlyOnce runs the processor over simulated traffic on the
// embedded broker, then loads its outputs into DuckDB three times over: a
// loader stopped early, a second one resuming from the warehouse's offsets,
// and a third under a new consumer group (Kafka's offsets say "from the
// start"; the warehouse's say otherwise). Every table must hold each output
// record once, and the KPI tables each row's latest version.
func TestLoadExactlyOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts, topics := pipelinetest.StartEmbedded(t)
	rates, err := jobs.NewRates(pipelinetest.SimRates)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{InstanceID: "t", Topics: topics, Jobs: jobs.Config{Rates: rates}}, opts, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), append(topics.Specs(), p.Specs()...), nil); err != nil {
		t.Fatal(err)
	}
	max, err := pipelinetest.Produce(ctx, opts, topics.Raw, pipelinetest.SimConfig(3, 100), 10000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipelinetest.ProduceSentinels(ctx, opts, topics.Raw, int(topics.Partitions), "gem-garden", max.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(pctx) }()
	if err := pipelinetest.WaitCaughtUp(ctx, opts, pipeline.DefaultAppID, topics, pipeline.DefaultPartialsTopic); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out, err := pipelinetest.ReadOutputs(ctx, opts, topics)
	if err != nil {
		t.Fatal(err)
	}

	db, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	count := func(q string) int64 {
		var n int64
		if err := db.DB().QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	run := func(group string, until func() bool) {
		l, err := loader.New(loader.Config{Group: group, Topics: topics, BatchRows: 1500, BatchInterval: 50 * time.Millisecond}, opts, db, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		lctx, lstop := context.WithCancel(ctx)
		ldone := make(chan error, 1)
		go func() { ldone <- l.Run(lctx) }()
		for !until() {
			if ctx.Err() != nil {
				t.Fatal("loader never got there")
			}
			time.Sleep(20 * time.Millisecond)
		}
		lstop()
		if err := <-ldone; err != nil {
			t.Fatal(err)
		}
	}
	run("g1", func() bool { return count("SELECT count(*) FROM events") > 0 })
	first := count("SELECT count(*) FROM events")
	var dead int64
	for _, n := range out.DeadLetters {
		dead += n
	}
	// Every table, not the events alone: the second loader must have loaded
	// everything before it stops, however slow the machine, so that the
	// third (another group, same warehouse offsets) can only prove that
	// nothing is loaded twice.
	all := func() bool {
		return count("SELECT count(*) FROM events") == int64(out.Enriched) &&
			count("SELECT count(*) FROM sessions") == int64(len(out.Sessions)) &&
			count("SELECT count(*) FROM dead_letters") == dead &&
			count("SELECT count(*) FROM kpi_minute")+count("SELECT count(*) FROM kpi_hour") == int64(len(out.KPI)) &&
			count("SELECT count(*) FROM completeness") == int64(len(out.Completeness))
	}
	run("g1", all)
	run("g2", func() bool { time.Sleep(500 * time.Millisecond); return true })
	t.Logf("first loader stopped at %d events of %d", first, out.Enriched)

	if n := count("SELECT count(*) FROM events"); n != int64(out.Enriched) {
		t.Errorf("events: %d rows, want %d", n, out.Enriched)
	}
	if n := count("SELECT count(DISTINCT event_id) FROM events"); n != int64(len(out.EnrichedIDs)) {
		t.Errorf("events: %d distinct ids, want %d", n, len(out.EnrichedIDs))
	}
	if n := count("SELECT count(*) FROM sessions"); n != int64(len(out.Sessions)) {
		t.Errorf("sessions: %d rows, want %d", n, len(out.Sessions))
	}
	if n := count("SELECT count(*) FROM dead_letters"); n != dead {
		t.Errorf("dead_letters: %d rows, want %d", n, dead)
	}
	if n := count("SELECT count(*) FROM kpi_minute") + count("SELECT count(*) FROM kpi_hour"); n != int64(len(out.KPI)) {
		t.Errorf("kpi tables: %d rows, want %d", n, len(out.KPI))
	}
	if n := count("SELECT count(*) FROM completeness"); n != int64(len(out.Completeness)) {
		t.Errorf("completeness: %d rows, want %d", n, len(out.Completeness))
	}
	// Each KPI row holds its latest version.
	for key, v := range out.KPI {
		k, err := kpiKey(key)
		if err != nil {
			t.Fatal(err)
		}
		var version, active int64
		if err := db.DB().QueryRowContext(ctx, "SELECT version, active_players FROM kpi_"+k.window+
			" WHERE window_start = ? AND game_id = ? AND platform = ? AND country = ?", k.start, k.game, k.platform, k.country).Scan(&version, &active); err != nil {
			t.Fatalf("kpi row %s: %v", key, err)
		}
		if want := int64(v["version"].(float64)); version != want || active != int64(v["active_players"].(float64)) {
			t.Errorf("kpi row %s: version %d active %d, want %d %v", key, version, active, want, v["active_players"])
		}
	}

	// The KPI tables agree with a recomputation from the events table.
	rep, err := report.Reconcile(ctx, db, time.Unix(0, 0), time.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tables[0].Rows == 0 || rep.Tables[1].Rows == 0 {
		t.Errorf("reconcile compared nothing: %+v", rep.Tables)
	}
	for _, tr := range rep.Tables {
		t.Logf("reconcile %s: %d rows, %d differences", tr.Table, tr.Rows, len(tr.Differences))
		for i, d := range tr.Differences {
			if i < 10 {
				t.Errorf("reconcile %s: %s", tr.Table, d)
			}
		}
	}

	// Replay: damage the warehouse, then re-load ranges of the topics.
	fingerprint := func(table, id string) [2]int64 {
		var fp [2]int64
		if err := db.DB().QueryRowContext(ctx, "SELECT count(*), coalesce(sum(hash("+id+", kafka_partition, kafka_offset) % 1000003), 0) FROM "+table).Scan(&fp[0], &fp[1]); err != nil {
			t.Fatal(err)
		}
		return fp
	}
	events, sessions := fingerprint("events", "event_id"), fingerprint("sessions", "session_id")
	for _, q := range []string{
		"DELETE FROM events WHERE kafka_partition = 1 AND kafka_offset % 3 = 0",
		"UPDATE events SET player_id = 'damaged' WHERE kafka_partition = 2",
		"DELETE FROM sessions WHERE kafka_offset < 100",
	} {
		if _, err := db.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	l, err := loader.New(loader.Config{Topics: topics, BatchRows: 700}, opts, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	replay := func(req loader.ReplayRequest) loader.ReplayStats {
		t.Helper()
		st, err := l.Replay(ctx, req, nil)
		if err != nil {
			t.Fatalf("replay %+v: %v", req, err)
		}
		return st
	}
	// Partition 1 by offsets, up to far beyond what was loaded (clamped).
	st := replay(loader.ReplayRequest{Topic: topics.Enriched, Partitions: []int32{1}, From: loader.Bound{Offset: 0}, To: loader.Bound{Offset: 1 << 40}})
	if len(st.Ranges) != 1 || st.Transactions < 2 {
		t.Errorf("replay of partition 1: %+v, want one range in several transactions", st)
	}
	// Every partition by time: from long before the first event to the end of what was loaded.
	replay(loader.ReplayRequest{Topic: topics.Enriched, From: loader.Bound{Time: time.Unix(0, 0)}, To: loader.Bound{Loaded: true}})
	replay(loader.ReplayRequest{Topic: topics.Sessions, From: loader.Bound{Start: true}, To: loader.Bound{Loaded: true}})
	// Twice is the same as once.
	replay(loader.ReplayRequest{Topic: topics.Sessions, From: loader.Bound{Offset: 0}, To: loader.Bound{Loaded: true}})
	if got := fingerprint("events", "event_id"); got != events {
		t.Errorf("events after replay: %v, want %v as loaded", got, events)
	}
	if got := fingerprint("sessions", "session_id"); got != sessions {
		t.Errorf("sessions after replay: %v, want %v as loaded", got, sessions)
	}
	if n := count("SELECT count(*) FROM events WHERE player_id = 'damaged'"); n != 0 {
		t.Errorf("%d damaged events left after replay", n)
	}
	if _, err := l.Replay(ctx, loader.ReplayRequest{Topic: "nope", To: loader.Bound{Loaded: true}}, nil); err == nil {
		t.Error("replay of a topic the loader does not load succeeded")
	}
}

// TestRejectedRecordsAndSchemaEvolution: records the warehouse cannot take
// (a type mismatch, a value too large for a VARIANT, a KPI record that is
// not JSON) go to dead_letters with their reasons while the loader keeps
// going; an event carrying a field added to the schema later loads, the
// field in extra, next to the old rows.
func TestRejectedRecordsAndSchemaEvolution(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opts, topics := pipelinetest.StartEmbedded(t)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), append(topics.Specs(), topics.ProcessorSpecs()...), nil); err != nil {
		t.Fatal(err)
	}
	ev := func(id string, members map[string]string) *kgo.Record {
		m := map[string]string{"event_id": `"` + id + `"`}
		for k, v := range members {
			m[k] = v
		}
		return &kgo.Record{Topic: topics.Enriched, Value: []byte(warehousetest.EnrichedJSON(m))}
	}
	recs := []*kgo.Record{
		ev("old-1", nil),
		ev("bad-seq", map[string]string{"seq": `"three"`}),
		ev("huge", map[string]string{"purchase": `{"sku":"` + strings.Repeat("x", warehouse.MaxValueBytes) + `"}`}),
		{Topic: topics.KPI, Key: []byte("minute|2026-11-25T18:04:00Z|g|*|*"), Value: []byte("not json")},
		ev("new-1", map[string]string{"ab_test_group": `"B"`}),
		ev("old-2", nil),
	}
	for _, r := range recs {
		r.Partition = 0
	}
	pcl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(32<<20))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := loader.New(loader.Config{Topics: topics, BatchInterval: 50 * time.Millisecond}, opts, db, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- l.Run(lctx) }()
	for l.Stats().Rows < int64(len(recs)) {
		if ctx.Err() != nil {
			t.Fatalf("the loader loaded %d rows, want %d", l.Stats().Rows, len(recs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rows, err := db.DB().QueryContext(ctx, "SELECT event_id, coalesce(CAST(extra AS VARCHAR), '') FROM events ORDER BY kafka_offset")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var id, extra string
		if err := rows.Scan(&id, &extra); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+" "+extra)
	}
	rows.Close()
	if want := []string{"old-1 ", `new-1 {"ab_test_group":"B"}`, "old-2 "}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rows, err = db.DB().QueryContext(ctx, "SELECT code, reason, source_topic, source_offset, octet_length(original) FROM dead_letters ORDER BY source_topic, source_offset")
	if err != nil {
		t.Fatal(err)
	}
	var dead []string
	for rows.Next() {
		var code, reason, topic string
		var off, n int64
		if err := rows.Scan(&code, &reason, &topic, &off, &n); err != nil {
			t.Fatal(err)
		}
		dead = append(dead, fmt.Sprintf("%s %s@%d %d bytes: %s", code, topic, off, n, reason))
	}
	rows.Close()
	wantDead := []string{"seq", "too large", "kpi"}
	if len(dead) != len(wantDead) {
		t.Fatalf("dead letters:\n%s\nwant %d", strings.Join(dead, "\n"), len(wantDead))
	}
	for i, d := range dead {
		if !strings.HasPrefix(d, "load_rejected ") || !strings.Contains(strings.ToLower(d), wantDead[i]) {
			t.Errorf("dead letter %d: %s; want load_rejected naming %q", i, d, wantDead[i])
		}
	}
}

// TestResumeCommitsTheWarehouseOffsets: a loader that applied its last
// batch and died before its Kafka commit leaves the group's offsets behind
// the warehouse's. The next loader finds nothing new to load; it must still
// bring the group's offsets up to the warehouse's, or lag reports (and
// anyone waiting for lag 0) see records that are already loaded.
func TestResumeCommitsTheWarehouseOffsets(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opts, topics := pipelinetest.StartEmbedded(t)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := kafka.EnsureTopics(ctx, adm, append(topics.Specs(), topics.ProcessorSpecs()...), nil); err != nil {
		t.Fatal(err)
	}
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: topics.Enriched, Partition: 0,
			Value: []byte(warehousetest.EnrichedJSON(map[string]string{"event_id": fmt.Sprintf(`"e-%d"`, i)}))})
	}
	pcl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	if err := pcl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(until func() bool, what string) {
		t.Helper()
		l, err := loader.New(loader.Config{Topics: topics, BatchInterval: 50 * time.Millisecond, SessionTimeout: 6 * time.Second}, opts, db, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		lctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Run(lctx) }()
		for !until() {
			if ctx.Err() != nil {
				t.Fatalf("the loader never %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	committed := func() int64 {
		o, err := adm.FetchOffsets(ctx, loader.DefaultGroup)
		if err != nil {
			return -1
		}
		c, ok := o.Lookup(topics.Enriched, 0)
		if !ok {
			return 0
		}
		return c.At
	}
	loaded := func() bool {
		var n int
		return db.DB().QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n) == nil && n == len(recs)
	}
	run(loaded, "loaded the records")
	// What a kill between the warehouse commit and the Kafka commit leaves.
	reset := kadm.Offsets{}
	reset.AddOffset(topics.Enriched, 0, 0, -1)
	for {
		// Until the stopped loader has left the group (its commit is refused meanwhile).
		resp, err := adm.CommitOffsets(ctx, loader.DefaultGroup, reset)
		if err == nil {
			err = resp.Error()
		}
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("reset the group's offset: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := committed(); got != 0 {
		t.Fatalf("the group's offset is %d after the reset, want 0", got)
	}
	run(func() bool { return committed() == int64(len(recs)) }, "committed the warehouse's offset to Kafka")
	if !loaded() {
		t.Error("the warehouse no longer holds each record once")
	}
}
