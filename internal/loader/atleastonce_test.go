package loader_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

// TestAtLeastOnceCopiesLoadOnce: an at-least-once producer (Spark's Kafka
// sink after a restart) writes its records, then all of them again at new
// offsets, once while the loader runs and once more before a second
// loader starts; the records carry the delivery header. The warehouse holds
// each event, session, alert, dead letter and KPI row once. The same event
// written twice without the header is loaded twice, as before: the plain
// path stays exactly once per offset.
func TestAtLeastOnceCopiesLoadOnce(t *testing.T) {
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
	t0 := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var marked []*kgo.Record
	for i, id := range []string{"a-1", "a-2", "a-3"} {
		marked = append(marked, &kgo.Record{Topic: topics.Enriched, Partition: int32(i % 2), Key: []byte("p-1"),
			Value: []byte(warehousetest.EnrichedJSON(map[string]string{"event_id": `"` + id + `"`}))})
	}
	for _, start := range []time.Time{t0, t0.Add(time.Hour)} { // one session split by a gap: two rows
		s := record.Session{SessionID: "s-1", PlayerID: "p-1", GameID: "g", Platform: "ios", Country: "DE",
			Start: start, End: start.Add(time.Minute), DurationMs: 60000, Events: 2, ClosedBy: record.ClosedByGap}
		marked = append(marked, &kgo.Record{Topic: topics.Sessions, Key: []byte(s.Key()), Value: mustJSON(&s)})
	}
	a := record.Alert{Rule: "player_purchases_per_minute", Subject: "p-1", GameID: "g", Start: t0, End: t0.Add(time.Minute),
		Observed: 12, Threshold: 10, Message: "12 purchases in a minute"}
	marked = append(marked, &kgo.Record{Topic: topics.Alerts, Key: []byte(a.Key()), Value: mustJSON(a)})
	dl := record.DeadLetter{Code: "invalid_value", Reason: "r", SourceTopic: topics.Raw, SourcePartition: 1, SourceOffset: 42}
	marked = append(marked, &kgo.Record{Topic: topics.DeadLetter, Key: []byte("p-1"), Value: []byte{0xff},
		Headers: kgoHeaders(dl.Headers())})
	kpiKey := record.KPIKey(record.Minute, t0, "g", "*", "*")
	marked = append(marked, &kgo.Record{Topic: topics.KPI, Key: []byte(kpiKey), Value: mustJSON(record.KPI{Key: kpiKey,
		Window: record.Minute, Start: t0, End: t0.Add(time.Minute), Game: "g", Platform: "*", Country: "*", ActivePlayers: 3,
		Purchases: 2, Levels: []record.Level{}, Final: true, Version: 1, Watermark: t0.Add(2 * time.Minute)})})
	for _, r := range marked {
		r.Headers = append(r.Headers, kgoHeaders(record.AtLeastOnceHeaders())...)
	}
	plain := &kgo.Record{Topic: topics.Enriched, Partition: 0, Key: []byte("p-2"),
		Value: []byte(warehousetest.EnrichedJSON(map[string]string{"event_id": `"plain-1"`}))}

	pcl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	produce := func(recs ...*kgo.Record) {
		t.Helper()
		copies := make([]*kgo.Record, len(recs)) // each a new record: new offsets
		for i, r := range recs {
			c := *r
			copies[i] = &c
		}
		if err := pcl.ProduceSync(ctx, copies...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := duckdb.Open(filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// run loads with a new loader until it has applied rows rows, then stops it.
	run := func(rows int64, during func()) {
		t.Helper()
		l, err := loader.New(loader.Config{Topics: topics, BatchInterval: 50 * time.Millisecond}, opts, db, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		lctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- l.Run(lctx) }()
		if during != nil {
			during()
		}
		for l.Stats().Rows < rows {
			if ctx.Err() != nil {
				t.Fatalf("the loader applied %d rows, want %d", l.Stats().Rows, rows)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stop()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	n := int64(len(marked))
	produce(append(marked, plain)...)
	produce(marked...) // a copy of each, before the loader reads them: some land in the same batch
	run(3*n+2, func() {
		produce(append(marked, plain)...) // and again while it loads
	})
	produce(marked...) // a fourth copy, for a loader that resumes from the warehouse's offsets
	run(n, nil)

	for table, want := range map[string]int{"events": 3 + 2, "sessions": 2, "alerts": 1, "dead_letters": 1, "kpi_minute": 1} {
		var got int
		if err := db.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	var plainRows, markedDistinct int
	if err := db.DB().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE event_id = 'plain-1'),
		count(DISTINCT event_id) FILTER (WHERE event_id <> 'plain-1') FROM events`).Scan(&plainRows, &markedDistinct); err != nil {
		t.Fatal(err)
	}
	if plainRows != 2 || markedDistinct != 3 {
		t.Errorf("events: plain-1 %d times (want 2: unmarked, loaded per offset), %d distinct marked ids (want 3)", plainRows, markedDistinct)
	}
	// Every copy was read: the warehouse's offsets are at the topics' ends.
	stored, err := db.Offsets(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics.Enriched, topics.Sessions, topics.Alerts, topics.DeadLetter, topics.KPI)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset == 0 {
			return
		}
		if got := stored[warehouse.TopicPartition{Topic: o.Topic, Partition: o.Partition}]; got != o.Offset {
			t.Errorf("%s/%d: the warehouse's next offset %d, the partition ends at %d", o.Topic, o.Partition, got, o.Offset)
		}
	})
}

func kgoHeaders(hs []record.Header) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader(h)
	}
	return out
}
