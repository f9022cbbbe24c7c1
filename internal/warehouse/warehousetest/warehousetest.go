// Package warehousetest is the test suite every warehouse.Sink must pass:
// migrations, round trips, redelivery, overlap, KPI upserts, offsets and
// atomicity.
package warehousetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/procstat"
	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Queryer is what the suite needs besides Sink to read tables back.
type Queryer interface {
	DB() *sql.DB
}

// Topics used by the suite's batches.
const (
	TopicEvents = "gamepulse.events.enriched"
	TopicKPI    = "gamepulse.kpi"
)

var t0 = time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)

// Event returns an event row at offset off of partition part of TopicEvents.
func Event(part int32, off int64) warehouse.EventRow {
	return warehouse.EventRow{
		EventID: fmt.Sprintf("e-%d-%d", part, off), EventType: "purchase", GameID: "gem-garden",
		PlayerID: fmt.Sprintf("p-%d", off%7), SessionID: "s-1", Seq: off + 1,
		EventTime: t0.Add(time.Duration(off) * time.Millisecond), ReceivedAt: t0.Add(time.Second),
		Platform: "ios", Country: "DE", AppVersion: "1.12.0", AppBuild: "1.12.0+4411",
		RevenueUSDMicros: 1_072_000, FirstSeen: t0, Payer: true, SessionCount: 1,
		Payload: `{"sku":"gems","price":4.99}`,
		Pos:     warehouse.Position{Topic: TopicEvents, Partition: part, Offset: off},
	}
}

// Events returns a batch of the events at offsets [from, to) of partition part.
func Events(part int32, from, to int64) warehouse.Batch {
	b := warehouse.Batch{Offsets: []warehouse.Offset{{Topic: TopicEvents, Partition: part, Next: to}}}
	for o := from; o < to; o++ {
		b.Events = append(b.Events, Event(part, o))
	}
	return b
}

// KPI returns a minute KPI row of game at offset off with the given version
// and purchases.
func KPI(game string, off, version, purchases int64) warehouse.KPIRow {
	return warehouse.KPIRow{
		Window: warehouse.Minute, Start: t0, End: t0.Add(time.Minute), Game: game, Platform: "*", Country: "*",
		ActivePlayers: 10, Purchases: purchases, Levels: []warehouse.Level{{Level: 3, Starts: 2, Fails: 1}},
		Final: version > 0, Version: version, Watermark: t0.Add(3 * time.Minute),
		Pos: warehouse.Position{Topic: TopicKPI, Partition: 0, Offset: off},
	}
}

// EnrichedJSON is an enriched event as the processor writes it, with the
// given members replaced or added (a value of "" deletes the member).
func EnrichedJSON(members map[string]string) string {
	base := [][2]string{
		{"schema_version", `1`}, {"event_id", `"e-1"`}, {"event_type", `"purchase"`}, {"game_id", `"gem-garden"`},
		{"player_id", `"p-1"`}, {"session_id", `"s-1"`}, {"seq", `"3"`}, {"client_time", `"2026-11-25T18:04:05.123456Z"`},
		{"received_at", `"2026-11-25T18:04:06Z"`}, {"platform", `"iPhone"`}, {"app_version", `"1.12.0"`},
		{"app_build", `"1.12.0+4411"`}, {"country", `"de"`},
		{"purchase", `{"sku": "gems_500", "price": 4.99, "currency": "EUR"}`},
		{"enrichment", `{"platform_norm":"ios","country_norm":"DE","revenue_usd_micros":5389200,"first_seen":"2026-11-20T10:00:00Z","days_since_install":5,"lifetime_spend_usd_micros":5389200,"payer":true,"session_count":2,"new_player":false}`},
	}
	var sb strings.Builder
	sb.WriteByte('{')
	seen := map[string]bool{}
	add := func(k, v string) {
		if v == "" {
			return
		}
		if sb.Len() > 1 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"` + k + `":` + v)
	}
	for _, kv := range base {
		v, ok := members[kv[0]]
		if !ok {
			v = kv[1]
		}
		seen[kv[0]] = true
		add(kv[0], v)
	}
	for k, v := range members {
		if !seen[k] {
			add(k, v)
		}
	}
	sb.WriteByte('}')
	return sb.String()
}

// atLeastOnceStride is the distance in offsets between AtLeastOnce's copies.
const atLeastOnceStride = 1000

// AtLeastOnce returns a batch of an at-least-once producer's rows for every
// table, its copy-th writing (0: the first): the same rows at offsets
// copy·atLeastOnceStride further on. Events e-0-0 … e-0-9 with times 1 ms
// apart, a session split by a gap (two rows), two alerts, three dead
// letters of which one has an unknown source, a final KPI row and a
// completeness row (which are upserts, in KPIs and Completeness).
func AtLeastOnce(copy int64) warehouse.Batch {
	base := copy * atLeastOnceStride
	pos := func(topic string, off int64) warehouse.Position {
		return warehouse.Position{Topic: topic, Offset: base + off}
	}
	var k warehouse.KeyedRows
	for o := range int64(10) {
		e := Event(0, o)
		e.Pos.Offset += base
		k.Events = append(k.Events, e)
	}
	for i, start := range []time.Time{t0, t0.Add(time.Hour)} {
		k.Sessions = append(k.Sessions, warehouse.SessionRow{SessionID: "s-split", PlayerID: "p-1", GameID: "g", Platform: "ios", Country: "DE",
			Start: start, End: start.Add(time.Minute), DurationMs: 60000, Events: 3, ClosedBy: "gap", Pos: pos("gamepulse.sessions", int64(i))})
	}
	for i, subject := range []string{"p-1", "p-2"} {
		k.Alerts = append(k.Alerts, warehouse.AlertRow{Rule: "purchase_burst", Subject: subject, GameID: "g", WindowStart: t0,
			WindowEnd: t0.Add(time.Minute), Observed: 12, Threshold: 10, Message: "m", Pos: pos("gamepulse.alerts", int64(i))})
	}
	for i, off := range []int64{99, 100, -1} {
		src, part := "gamepulse.events.raw", int32(2)
		if off < 0 {
			src, part = "", -1
		}
		k.DeadLetters = append(k.DeadLetters, warehouse.DeadLetterRow{Code: "bad_json", Reason: "r", Original: []byte{'{'},
			SourceTopic: src, SourcePartition: part, SourceOffset: off, Pos: pos("gamepulse.events.deadletter", int64(i))})
	}
	kpi := KPI("g", base, 1, 5)
	compl := warehouse.CompletenessRow{Start: t0, Game: "g", Platform: "ios", AppBuild: "b", Gaps: 2, Duplicates: 1,
		Watermark: t0.Add(3 * time.Minute), Pos: pos(TopicKPI, 1)}
	return warehouse.Batch{AtLeastOnce: k, KPIs: []warehouse.KPIRow{kpi}, Completeness: []warehouse.CompletenessRow{compl},
		Offsets: []warehouse.Offset{{Topic: TopicEvents, Next: base + 10}, {Topic: "gamepulse.sessions", Next: base + 2},
			{Topic: "gamepulse.alerts", Next: base + 2}, {Topic: "gamepulse.events.deadletter", Next: base + 3}, {Topic: TopicKPI, Next: base + 2}}}
}

// BenchApply applies b.N batches of rows events each to s (migrated
// here), then calls end (nil: none) inside the timed work, and reports
// rows/s.
func BenchApply(b *testing.B, s warehouse.Sink, rows int, end func() error) {
	benchApply(b, s, rows, false, false, end)
}

// BenchApplyAtLeastOnce is BenchApply with the events as an at-least-once
// producer's (Batch.AtLeastOnce): new events in every batch, each batch's
// event times after the last one's (BenchApply repeats the same ids and
// times at new offsets, which this path would skip); or, with copies, the
// events of a first batch (applied before the timer starts) again at new
// offsets in every batch, all of which the sink skips.
func BenchApplyAtLeastOnce(b *testing.B, s warehouse.Sink, rows int, copies bool, end func() error) {
	benchApply(b, s, rows, true, copies, end)
}

func benchApply(b *testing.B, s warehouse.Sink, rows int, atLeastOnce, copies bool, end func() error) {
	ctx := b.Context()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	batch := Events(0, 0, int64(rows))
	first := 0
	if atLeastOnce {
		batch.AtLeastOnce.Events, batch.Events = batch.Events, nil
		if copies {
			if err := s.Apply(ctx, batch); err != nil {
				b.Fatal(err)
			}
			first = 1
		}
	}
	events := batch.Events
	if atLeastOnce {
		events = batch.AtLeastOnce.Events
	}
	cpu := startCPU()
	b.ResetTimer()
	for i := range b.N {
		base := int64((first + i) * rows)
		if atLeastOnce && !copies { // new events, later in time, as a producer writes them
			b.StopTimer()
			cpu.stop()
			for j := range events {
				events[j].EventID = fmt.Sprintf("e-0-%d", base+int64(j))
				events[j].EventTime = t0.Add(time.Duration(base+int64(j)) * time.Millisecond)
			}
			cpu.start()
			b.StartTimer()
		}
		for j := range events {
			events[j].Pos.Offset = base + int64(j)
		}
		batch.Offsets[0].Next = base + int64(rows)
		if err := s.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	if end != nil {
		if err := end(); err != nil {
			b.Fatal(err)
		}
	}
	cpu.stop()
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	if cpu.ok && cpu.total > 0 {
		b.ReportMetric(float64(b.N*rows)/cpu.total, "rows/cpu-s")
	}
}

// cpuClock sums the process's CPU time (all its threads: DuckDB's, the Go
// runtime's) over the timed parts of a benchmark, from /proc (Linux; ok
// false elsewhere): rows per CPU-second compare on a machine that other
// work shares, where rows/s does not.
type cpuClock struct {
	ok       bool
	at       float64
	total    float64
	counting bool
}

func startCPU() *cpuClock {
	c := &cpuClock{ok: true}
	c.start()
	return c
}

func (c *cpuClock) read() float64 {
	s, err := procstat.CPUSeconds(os.Getpid())
	if err != nil {
		c.ok = false
	}
	return s
}

func (c *cpuClock) start() { c.at, c.counting = c.read(), true }

func (c *cpuClock) stop() {
	if c.counting {
		c.total += c.read() - c.at
		c.counting = false
	}
}

// Run runs the suite; open returns a new, empty, unmigrated sink that also
// implements Queryer.
func Run(t *testing.T, open func(t *testing.T) warehouse.Sink) {
	ctx := context.Background()
	setup := func(t *testing.T) (warehouse.Sink, *sql.DB) {
		t.Helper()
		s := open(t)
		q, ok := s.(Queryer)
		if !ok {
			t.Fatalf("%T does not implement warehousetest.Queryer", s)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return s, q.DB()
	}
	apply := func(t *testing.T, s warehouse.Sink, b warehouse.Batch) {
		t.Helper()
		if err := s.Apply(ctx, b); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("MigrateTwice", func(t *testing.T) {
		s, db := setup(t)
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		var n int
		mustScan(t, db, "SELECT count(*) FROM schema_migrations", &n)
		if n != len(warehouse.Migrations) {
			t.Errorf("schema_migrations has %d rows, want %d", n, len(warehouse.Migrations))
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		s, db := setup(t)
		b := Events(0, 0, 3)
		b.Sessions = []warehouse.SessionRow{{SessionID: "s-1", PlayerID: "p-1", GameID: "g", Platform: "ios", Country: "DE",
			Start: t0, End: t0.Add(time.Minute), DurationMs: 60000, Events: 3, RevenueUSDMicros: 5, LevelsPlayed: 1, ClosedBy: "gap",
			Pos: warehouse.Position{Topic: "gamepulse.sessions", Offset: 0}}}
		b.Alerts = []warehouse.AlertRow{{Rule: "r", Subject: "p-1", GameID: "g", WindowStart: t0, WindowEnd: t0.Add(time.Minute),
			Observed: 12, Threshold: 10, Message: "m", Pos: warehouse.Position{Topic: "gamepulse.alerts", Offset: 4}}}
		b.DeadLetters = []warehouse.DeadLetterRow{{Code: "bad_json", Reason: "r", Original: []byte{0xff, '{'},
			SourceTopic: "gamepulse.events.raw", SourcePartition: 2, SourceOffset: 99, Pos: warehouse.Position{Topic: "gamepulse.events.deadletter", Offset: 0}}}
		b.KPIs = []warehouse.KPIRow{KPI("g", 0, 1, 5)}
		b.Completeness = []warehouse.CompletenessRow{{Start: t0, Game: "g", Platform: "ios", AppBuild: "b", Gaps: 2,
			Pos: warehouse.Position{Topic: TopicKPI, Offset: 1}}}
		b.Offsets = append(b.Offsets,
			warehouse.Offset{Topic: "gamepulse.sessions", Next: 1}, warehouse.Offset{Topic: "gamepulse.alerts", Next: 5},
			warehouse.Offset{Topic: "gamepulse.events.deadletter", Next: 1}, warehouse.Offset{Topic: TopicKPI, Next: 2})
		apply(t, s, b)
		for table, want := range map[string]int{"events": 3, "sessions": 1, "alerts": 1, "dead_letters": 1, "kpi_minute": 1, "kpi_hour": 0, "completeness": 1} {
			if n := count(t, db, table); n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		var id string
		var rev float64
		var et time.Time
		mustScan(t, db, "SELECT event_id, CAST(revenue_usd AS DOUBLE), event_time FROM events WHERE kafka_offset = 2", &id, &rev, &et)
		if id != "e-0-2" || rev != 1.072 || !et.Equal(t0.Add(2*time.Millisecond)) {
			t.Errorf("event: %s %v %v", id, rev, et)
		}
		var orig []byte
		var sp int32
		mustScan(t, db, "SELECT original, source_partition FROM dead_letters", &orig, &sp)
		if string(orig) != "\xff{" || sp != 2 {
			t.Errorf("dead letter: %q %d", orig, sp)
		}
		var purchases int64
		mustScan(t, db, "SELECT purchases FROM kpi_minute", &purchases)
		if purchases != 5 {
			t.Errorf("kpi purchases %d", purchases)
		}
	})

	t.Run("RedeliveryIsNoop", func(t *testing.T) {
		s, db := setup(t)
		b := Events(0, 0, 10)
		b.KPIs = []warehouse.KPIRow{KPI("g", 0, 1, 5)}
		b.Offsets = append(b.Offsets, warehouse.Offset{Topic: TopicKPI, Next: 1})
		apply(t, s, b)
		apply(t, s, b)
		if n := count(t, db, "events"); n != 10 {
			t.Errorf("events: %d rows after redelivery, want 10", n)
		}
		if n := count(t, db, "kpi_minute"); n != 1 {
			t.Errorf("kpi_minute: %d rows, want 1", n)
		}
	})

	t.Run("OverlapAppliesNewPart", func(t *testing.T) {
		s, db := setup(t)
		apply(t, s, Events(0, 0, 10))
		apply(t, s, Events(0, 5, 15)) // offsets 5..9 again, 10..14 new
		apply(t, s, Events(1, 0, 4))  // another partition is independent
		var n, distinct int
		mustScan(t, db, "SELECT count(*), count(DISTINCT event_id) FROM events", &n, &distinct)
		if n != 19 || distinct != 19 {
			t.Errorf("events: %d rows, %d distinct, want 19", n, distinct)
		}
		var mx int64
		mustScan(t, db, "SELECT max(kafka_offset) FROM events WHERE kafka_partition = 0", &mx)
		if mx != 14 {
			t.Errorf("max offset %d, want 14", mx)
		}
	})

	t.Run("KPIKeepsHighestVersion", func(t *testing.T) {
		s, db := setup(t)
		kb := func(off int64, rows ...warehouse.KPIRow) warehouse.Batch {
			return warehouse.Batch{KPIs: rows, Offsets: []warehouse.Offset{{Topic: TopicKPI, Next: off}}}
		}
		apply(t, s, kb(1, KPI("g", 0, 0, 1)))                    // provisional
		apply(t, s, kb(2, KPI("g", 1, 0, 2)))                    // provisional update, same version: replaces
		apply(t, s, kb(4, KPI("g", 2, 2, 7), KPI("g", 3, 1, 6))) // v2 then a stale v1 in one batch
		apply(t, s, kb(5, KPI("g", 4, 1, 9)))                    // a stale v1 in a later batch
		other := KPI("h", 5, 1, 3)
		hour := KPI("g", 6, 1, 40)
		hour.Window, hour.End = warehouse.Hour, t0.Add(time.Hour)
		apply(t, s, kb(7, other, hour))
		var p, v int64
		mustScan(t, db, "SELECT purchases, version FROM kpi_minute WHERE game_id = 'g'", &p, &v)
		if p != 7 || v != 2 {
			t.Errorf("kpi g: purchases %d version %d, want 7 and 2", p, v)
		}
		if n := count(t, db, "kpi_minute"); n != 2 {
			t.Errorf("kpi_minute: %d rows, want 2", n)
		}
		mustScan(t, db, "SELECT purchases FROM kpi_hour", &p)
		if p != 40 {
			t.Errorf("kpi_hour purchases %d", p)
		}
	})

	t.Run("OffsetsResume", func(t *testing.T) {
		s, _ := setup(t)
		got, err := s.Offsets(ctx, []string{TopicEvents})
		if err != nil || len(got) != 0 {
			t.Fatalf("empty warehouse: %v, %v", got, err)
		}
		apply(t, s, Events(0, 0, 10))
		apply(t, s, Events(3, 0, 2))
		apply(t, s, warehouse.Batch{Offsets: []warehouse.Offset{{Topic: TopicKPI, Partition: 1, Next: 42}}}) // no rows
		apply(t, s, Events(0, 0, 5))                                                                         // stale: never moves back
		got, err = s.Offsets(ctx, []string{TopicEvents})
		if err != nil {
			t.Fatal(err)
		}
		want := map[warehouse.TopicPartition]int64{{Topic: TopicEvents, Partition: 0}: 10, {Topic: TopicEvents, Partition: 3}: 2}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("offsets %v, want %v", got, want)
		}
		all, err := s.Offsets(ctx, nil)
		if err != nil || len(all) != 3 || all[warehouse.TopicPartition{Topic: TopicKPI, Partition: 1}] != 42 {
			t.Errorf("all offsets %v, %v", all, err)
		}
	})

	t.Run("NeverHalfApplied", func(t *testing.T) {
		s, db := setup(t)
		apply(t, s, Events(0, 0, 5))
		b := Events(0, 5, 3000)
		b.KPIs = []warehouse.KPIRow{KPI("g", 0, 1, 5)}
		b.Offsets = append(b.Offsets, warehouse.Offset{Topic: TopicKPI, Next: 1})
		b.Events[2500].Payload = `{"sku":` // the warehouse rejects it, after the KPI upsert and 2,500 rows
		if err := s.Apply(ctx, b); err == nil {
			t.Fatal("Apply of a batch with invalid payload JSON succeeded")
		}
		if n := count(t, db, "events"); n != 5 {
			t.Errorf("events: %d rows after a failed batch, want 5", n)
		}
		if n := count(t, db, "kpi_minute"); n != 0 {
			t.Errorf("kpi_minute: %d rows after a failed batch, want 0", n)
		}
		got, _ := s.Offsets(ctx, nil)
		if len(got) != 1 || got[warehouse.TopicPartition{Topic: TopicEvents}] != 5 {
			t.Errorf("offsets after a failed batch: %v", got)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Apply(cctx, Events(0, 5, 10)); err == nil {
			t.Error("Apply with a cancelled context succeeded")
		}
		b.Events[2500].Payload = `{}`
		apply(t, s, b) // the sink is still usable and the batch applies whole
		if n := count(t, db, "events"); n != 3000 {
			t.Errorf("events: %d rows, want 3000", n)
		}
	})

	t.Run("ReplayRestoresWithoutDuplicates", func(t *testing.T) {
		s, db := setup(t)
		b := Events(0, 0, 10)
		b.KPIs = []warehouse.KPIRow{KPI("g", 0, 1, 5)}
		b.Offsets = append(b.Offsets, warehouse.Offset{Topic: TopicKPI, Next: 1})
		apply(t, s, b)
		apply(t, s, warehouse.Batch{KPIs: []warehouse.KPIRow{KPI("g", 1, 2, 6)}, Offsets: []warehouse.Offset{{Topic: TopicKPI, Next: 2}}})
		// Damage: rows 3..5 lost, row 6 altered.
		if _, err := db.Exec("DELETE FROM events WHERE kafka_offset BETWEEN 3 AND 5"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec("UPDATE events SET game_id = 'damaged' WHERE kafka_offset = 6"); err != nil {
			t.Fatal(err)
		}
		ranges := []warehouse.Range{{Topic: TopicEvents, From: 2, To: 8}, {Topic: TopicKPI, From: 0, To: 1}}
		rb := Events(0, 2, 8)
		rb.KPIs = []warehouse.KPIRow{KPI("g", 0, 1, 5)} // the stale version 1 re-read
		for range 2 {                                   // a replay, then the same replay again
			if err := s.Replay(ctx, ranges, rb); err != nil {
				t.Fatal(err)
			}
			var n, distinct, damaged int
			mustScan(t, db, "SELECT count(*), count(DISTINCT event_id), count(CASE WHEN game_id = 'damaged' THEN 1 END) FROM events", &n, &distinct, &damaged)
			if n != 10 || distinct != 10 || damaged != 0 {
				t.Errorf("after replay: %d events, %d distinct, %d damaged; want 10, 10, 0", n, distinct, damaged)
			}
			var p, v int64
			mustScan(t, db, "SELECT purchases, version FROM kpi_minute", &p, &v)
			if p != 6 || v != 2 {
				t.Errorf("kpi after replay: purchases %d version %d, want 6 and 2 (a replay never lowers a version)", p, v)
			}
		}
		got, _ := s.Offsets(ctx, []string{TopicEvents})
		if got[warehouse.TopicPartition{Topic: TopicEvents}] != 10 {
			t.Errorf("offsets after replay: %v, want unchanged 10", got)
		}
		// Beyond what was loaded, or rows outside the ranges: refused.
		if err := s.Replay(ctx, []warehouse.Range{{Topic: TopicEvents, From: 8, To: 12}}, Events(0, 8, 12)); !errors.Is(err, warehouse.ErrInvalidBatch) {
			t.Errorf("replay past the loaded offsets: %v, want ErrInvalidBatch", err)
		}
		if err := s.Replay(ctx, []warehouse.Range{{Topic: TopicEvents, From: 4, To: 8}}, Events(0, 2, 8)); !errors.Is(err, warehouse.ErrInvalidBatch) {
			t.Errorf("replay with rows before the range: %v, want ErrInvalidBatch", err)
		}
		if n := count(t, db, "events"); n != 10 {
			t.Errorf("events after refused replays: %d, want 10", n)
		}
	})

	t.Run("AtLeastOnceRowsLoadOnce", func(t *testing.T) {
		s, db := setup(t)
		k := AtLeastOnce(0)
		b := warehouse.Batch{AtLeastOnce: k.AtLeastOnce, KPIs: k.KPIs, Completeness: k.Completeness, Offsets: k.Offsets}
		apply(t, s, b)
		want := map[string]int{"events": 10, "sessions": 2, "alerts": 2, "dead_letters": 3, "kpi_minute": 1, "completeness": 1}
		checkCounts := func(when string) {
			t.Helper()
			for table, n := range want {
				if got := count(t, db, table); got != n {
					t.Errorf("%s: %s: %d rows, want %d", when, table, got, n)
				}
			}
		}
		checkCounts("first load")
		kpiBefore := rowText(t, db, "kpi_minute")
		complBefore := rowText(t, db, "completeness")

		// The producer restarts and writes them all again at new offsets, the
		// events twice more in one batch, plus one new event, written twice.
		again := AtLeastOnce(1)
		twice := AtLeastOnce(2)
		b = warehouse.Batch{Offsets: twice.Offsets}
		b.KPIs = append(again.KPIs, twice.KPIs...)
		b.Completeness = append(again.Completeness, twice.Completeness...)
		k1, k2 := again.AtLeastOnce, twice.AtLeastOnce
		newEvent := Event(0, 10)
		newEvent.Pos.Offset = 2*atLeastOnceStride + 10
		newCopy := newEvent
		newCopy.Pos.Offset++
		b.AtLeastOnce = warehouse.KeyedRows{
			Events:      append(append(append(k1.Events, k2.Events...), newEvent), newCopy),
			Sessions:    append(k1.Sessions, k2.Sessions...),
			Alerts:      append(k1.Alerts, k2.Alerts...),
			DeadLetters: append(k1.DeadLetters, k2.DeadLetters...),
		}
		b.Offsets[0].Next = newCopy.Pos.Offset + 1
		apply(t, s, b)
		// Each row once; the dead letter without a source has no key, and
		// each of its two copies is a row.
		want["events"], want["dead_letters"] = 11, 5
		checkCounts("copies at new offsets")
		var n, distinct int
		var maxOff int64
		mustScan(t, db, "SELECT count(*), count(DISTINCT event_id), max(kafka_offset) FROM events", &n, &distinct, &maxOff)
		if n != distinct || maxOff != newEvent.Pos.Offset {
			t.Errorf("events: %d rows, %d distinct ids, newest at offset %d; want each id once, the first copy at %d", n, distinct, maxOff, newEvent.Pos.Offset)
		}
		var splitParts int
		mustScan(t, db, "SELECT count(DISTINCT start_time) FROM sessions WHERE session_id = 's-split'", &splitParts)
		if splitParts != 2 {
			t.Errorf("the session split by a gap has %d parts, want 2", splitParts)
		}
		if got := rowText(t, db, "kpi_minute"); got != kpiBefore {
			t.Errorf("a KPI copy of the same version changed the row:\n got %s\nwant %s", got, kpiBefore)
		}
		if got := rowText(t, db, "completeness"); got != complBefore {
			t.Errorf("a completeness copy changed the row:\n got %s\nwant %s", got, complBefore)
		}
		got, err := s.Offsets(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range b.Offsets {
			if n := got[warehouse.TopicPartition{Topic: o.Topic, Partition: o.Partition}]; n != o.Next {
				t.Errorf("offset of %s/%d: %d, want %d (copies advance it)", o.Topic, o.Partition, n, o.Next)
			}
		}

		// A replay of the copies' offsets, and of the originals', changes nothing.
		replay := AtLeastOnce(1)
		rb := warehouse.Batch{AtLeastOnce: replay.AtLeastOnce}
		ranges := []warehouse.Range{{Topic: TopicEvents, From: atLeastOnceStride, To: atLeastOnceStride + 10}}
		if err := s.Replay(ctx, ranges, warehouse.Batch{AtLeastOnce: warehouse.KeyedRows{Events: rb.AtLeastOnce.Events}}); err != nil {
			t.Fatal(err)
		}
		orig := AtLeastOnce(0)
		ranges = []warehouse.Range{{Topic: TopicEvents, From: 0, To: 10}}
		if err := s.Replay(ctx, ranges, warehouse.Batch{AtLeastOnce: warehouse.KeyedRows{Events: orig.AtLeastOnce.Events}}); err != nil {
			t.Fatal(err)
		}
		checkCounts("replays")

		// Rows without the mark keep today's semantics: a row at a new
		// offset is appended, whatever its key.
		plain := Events(0, 0, 10)
		for i := range plain.Events {
			plain.Events[i].Pos.Offset += 3 * atLeastOnceStride
		}
		plain.Offsets[0].Next = 3*atLeastOnceStride + 10
		apply(t, s, plain)
		if n := count(t, db, "events"); n != 21 {
			t.Errorf("events: %d rows after unmarked copies at new offsets, want 21", n)
		}
	})

	t.Run("InvalidBatch", func(t *testing.T) {
		s, _ := setup(t)
		b := Events(0, 0, 3)
		b.Offsets[0].Next = 2 // offset 2 not covered
		if err := s.Apply(ctx, b); err == nil {
			t.Error("Apply of a row beyond its batch's offsets succeeded")
		}
	})
}

// rowText returns table's one row as text, its columns but the kafka_*
// ones, which name where the row was read.
func rowText(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("%s: no row", table)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	for i, c := range cols {
		if !strings.HasPrefix(strings.ToLower(c), "kafka_") {
			fmt.Fprintf(&sb, "%s=%v ", strings.ToLower(c), vals[i])
		}
	}
	if rows.Next() {
		t.Fatalf("%s: more than one row", table)
	}
	return sb.String()
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	mustScan(t, db, "SELECT count(*) FROM "+table, &n)
	return n
}

func mustScan(t *testing.T, db *sql.DB, q string, dst ...any) {
	t.Helper()
	if err := db.QueryRow(q).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
