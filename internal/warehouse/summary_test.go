package warehouse_test

import (
	"math"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// TestSummaries checks the summary figures in DuckDB.
func TestSummaries(t *testing.T) {
	db := openDuckDB(t)
	testSummaries(t, db)
	var p, jt string
	db.DB().QueryRowContext(t.Context(), "SELECT CAST(payload AS VARCHAR), json_type(payload) FROM events WHERE event_type = 'level_fail' LIMIT 1").Scan(&p, &jt)
	if jt != "OBJECT" { // the Appender once stored payloads as JSON string literals
		t.Errorf("payload %s is stored as a JSON %s, want an OBJECT", p, jt)
	}
}

// testSummaries builds a tiny warehouse in db, whose every figure is known
// by hand, and checks the summary.
func testSummaries(t *testing.T, db warehouse.Warehouse) {
	ctx := t.Context()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	d0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var off int64
	ev := func(player, typ string, at time.Time, revenue int64, newPlayer bool, payload string) warehouse.EventRow {
		off++
		return warehouse.EventRow{EventID: "e" + time.Duration(off).String(), EventType: typ, GameID: "g", PlayerID: player, SessionID: "s",
			Seq: off, EventTime: at, Platform: "ios", Country: "DE", AppVersion: "1", AppBuild: "1+1", SchemaVersion: 1,
			RevenueUSDMicros: revenue, NewPlayer: newPlayer, Payload: payload,
			Pos: warehouse.Position{Topic: "enriched", Partition: 0, Offset: off - 1}}
	}
	b := warehouse.Batch{Events: []warehouse.EventRow{
		ev("a", "login", d0, 0, true, "{}"),                               // day 0: a (new), b (new)
		ev("b", "login", d0, 0, true, "{}"),                               //
		ev("a", "purchase", d0.Add(time.Hour), 4990000, false, "{}"),      // a pays 4.99
		ev("a", "login", d0.Add(24*time.Hour), 0, false, "{}"),            // day 1: a back (D1 1 of 2)
		ev("b", "refund", d0.Add(24*time.Hour), -990000, false, "{}"),     // a refund is not activity
		ev("c", "ad_impression", d0.Add(48*time.Hour), 10000, true, "{}"), // day 2: c (new)
	}}
	for i := 0; i < 10; i++ {
		b.Events = append(b.Events, ev("c", "level_start", d0.Add(48*time.Hour), 0, false, `{"level":3}`))
	}
	for i := 0; i < 4; i++ {
		b.Events = append(b.Events, ev("c", "level_fail", d0.Add(48*time.Hour), 0, false, `{"level":3}`))
	}
	b.Offsets = []warehouse.Offset{{Topic: "enriched", Partition: 0, Next: off}}
	b.Sessions = []warehouse.SessionRow{{SessionID: "s", PlayerID: "a", GameID: "g", Platform: "ios", Country: "DE", Start: d0, End: d0.Add(time.Minute),
		DurationMs: 60000, Events: 3, ClosedBy: "gap", Pos: warehouse.Position{Topic: "sessions", Partition: 0, Offset: 0}}}
	b.Offsets = append(b.Offsets, warehouse.Offset{Topic: "sessions", Partition: 0, Next: 1})
	if err := db.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := warehouse.Summaries(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d games, want 1", len(got))
	}
	s := got[0]
	near := func(name string, g, w float64) {
		if math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, g, w)
		}
	}
	if s.Days != 3 || s.Players != 3 || s.NewPlayers != 3 || s.Payers != 1 {
		t.Errorf("days %d players %d new %d payers %d, want 3 3 3 1", s.Days, s.Players, s.NewPlayers, s.Payers)
	}
	near("dau", s.DAU, 4.0/3)                     // 2, 1, 1
	near("revenue", s.RevenueUSD, 4.99-0.99+0.01) // purchases + ads − refunds
	near("arpdau", s.ARPDAU, (4.99-0.99+0.01)/4)  // 4 player-days
	near("arppu", s.ARPPU, 4.99)
	near("conversion", s.Conversion, 1.0/3)
	near("d1", s.D1Retention, 1.0/2) // cohorts of day 0 (a, b); c's day 2 has no next day in the data
	near("d7", s.D7Retention, -1)
	near("avg session", s.AvgSessionS, 60)
	if len(s.HardLevels) != 1 || s.HardLevels[0].Level != 3 || s.HardLevels[0].Starts != 10 || s.HardLevels[0].Fails != 4 {
		t.Errorf("hardest levels %+v, want level 3: 10 starts, 4 fails", s.HardLevels)
	}
	if len(s.Builds) != 1 || s.Builds[0].Events != int64(len(b.Events)) {
		t.Errorf("builds %+v", s.Builds)
	}
}
