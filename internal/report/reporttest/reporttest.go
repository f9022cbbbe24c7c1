// Package reporttest holds the report tests every warehouse backend runs:
// a tiny warehouse whose every figure is known by hand, then the summary
// and the reconciliation read from it.
package reporttest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/report"
	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Summaries builds a tiny warehouse in db, whose every figure is known
// by hand, and checks the summary.
func Summaries(t *testing.T, db warehouse.Warehouse) {
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
	got, err := report.Summaries(ctx, db)
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

// Reconcile loads hand-made events and the KPI rows they make, checks
// that Reconcile finds them equal, then damages stored rows and checks that
// it names each difference.
func Reconcile(t *testing.T, w warehouse.Warehouse) {
	ctx := t.Context()
	if err := w.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	m0 := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	var b warehouse.Batch
	ev := func(player, typ, platform string, at time.Time, revenue int64, newPlayer bool) {
		off := int64(len(b.Events))
		b.Events = append(b.Events, warehouse.EventRow{EventID: fmt.Sprint("e", off), EventType: typ, GameID: "g", PlayerID: player,
			SessionID: "s", Seq: off + 1, EventTime: at, Platform: platform, Country: "DE", AppVersion: "1", AppBuild: "1+1",
			RevenueUSDMicros: revenue, NewPlayer: newPlayer, Payload: "{}",
			Pos: warehouse.Position{Topic: "enriched", Offset: off}})
	}
	ev("a", "session_start", "ios", m0.Add(time.Second), 0, true)
	ev("a", "purchase", "ios", m0.Add(2*time.Second), 4_990_000, false)
	ev("b", "purchase", "android", m0.Add(3*time.Second), 990_000, true)
	ev("b", "refund", "android", m0.Add(70*time.Second), -990_000, false) // next minute
	ev("c", "ad_impression", "ios", m0.Add(80*time.Second), 10_000, false)
	ev("z", "login", "ios", m0.Add(-2*time.Hour), 0, false)  // outside the range
	ev("y", "login", "ios", m0.Add(5*time.Minute), 0, false) // a minute the watermark has not closed
	b.Offsets = []warehouse.Offset{{Topic: "enriched", Next: int64(len(b.Events))}}
	kpi := func(w warehouse.Window, start time.Time, platform string, f func(*warehouse.KPIRow)) {
		r := warehouse.KPIRow{Window: w, Start: start, End: start.Add(time.Minute), Game: "g", Platform: platform, Country: "DE",
			Final: true, Version: 1, Watermark: m0.Add(3 * time.Minute), Pos: warehouse.Position{Topic: "kpi", Offset: int64(len(b.KPIs))}}
		if platform == "*" {
			r.Country = "*"
		}
		f(&r)
		b.KPIs = append(b.KPIs, r)
	}
	m1 := m0.Add(time.Minute)
	kpi(warehouse.Minute, m0, "ios", func(r *warehouse.KPIRow) {
		r.ActivePlayers, r.NewPlayers, r.SessionsStarted, r.Purchases, r.Payers = 1, 1, 1, 1, 1
		r.RevenueUSDMicros, r.PurchaseRevenueUSDMicros = 4_990_000, 4_990_000
	})
	kpi(warehouse.Minute, m0, "android", func(r *warehouse.KPIRow) {
		r.ActivePlayers, r.NewPlayers, r.Purchases, r.Payers = 1, 1, 1, 1
		r.RevenueUSDMicros, r.PurchaseRevenueUSDMicros = 990_000, 990_000
	})
	kpi(warehouse.Minute, m0, "*", func(r *warehouse.KPIRow) {
		r.ActivePlayers, r.NewPlayers, r.SessionsStarted, r.Purchases, r.Payers = 2, 2, 1, 2, 2
		r.RevenueUSDMicros, r.PurchaseRevenueUSDMicros = 5_980_000, 5_980_000
	})
	kpi(warehouse.Minute, m1, "android", func(r *warehouse.KPIRow) { // a refund is not activity
		r.Refunds, r.RefundUSDMicros, r.RevenueUSDMicros = 1, 990_000, -990_000
	})
	kpi(warehouse.Minute, m1, "ios", func(r *warehouse.KPIRow) {
		r.ActivePlayers, r.AdImpressions, r.AdRevenueUSDMicros, r.RevenueUSDMicros = 1, 1, 10_000, 10_000
	})
	kpi(warehouse.Minute, m1, "*", func(r *warehouse.KPIRow) {
		r.ActivePlayers, r.Refunds, r.RefundUSDMicros, r.AdImpressions, r.AdRevenueUSDMicros = 1, 1, 990_000, 1, 10_000
		r.RevenueUSDMicros = -980_000
	})
	b.Offsets = append(b.Offsets, warehouse.Offset{Topic: "kpi", Next: int64(len(b.KPIs))})
	if err := w.Apply(ctx, b); err != nil {
		t.Fatal(err)
	}
	from, to := m0.Add(-30*time.Minute), m0.Add(30*time.Minute)
	rep, err := report.Reconcile(ctx, w, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Differences() != 0 || len(rep.Tables) != 2 || rep.Tables[0].Rows != 6 {
		t.Fatalf("reconcile of consistent tables: %d differences %v, %+v", rep.Differences(), rep.Tables, rep)
	}
	// kpi_hour has no rows and no hour lies wholly in the range: nothing to compare.
	if rep.Tables[1].Rows != 0 {
		t.Errorf("kpi_hour: %d rows compared, want 0", rep.Tables[1].Rows)
	}

	for _, q := range []string{
		"UPDATE kpi_minute SET purchases = 3, revenue_usd_micros = 1 WHERE platform = 'ios' AND purchases = 1",
		"UPDATE kpi_minute SET active_players = 4 WHERE platform = '*' AND active_players = 2", // beyond the tolerance (1)
		"DELETE FROM kpi_minute WHERE platform = 'android' AND refunds = 1",
	} {
		if _, err := w.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rep, err = report.Reconcile(ctx, w, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range rep.Tables[0].Differences {
		got = append(got, d.String())
	}
	want := []string{
		"2026-11-25T18:04:00Z g/*/* active_players: stored 4, recomputed 2",
		"2026-11-25T18:04:00Z g/ios/DE purchases: stored 3, recomputed 1",
		"2026-11-25T18:04:00Z g/ios/DE revenue_usd_micros: stored 1, recomputed 4990000",
		"2026-11-25T18:05:00Z g/android/DE row: stored 0, recomputed 1",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("differences:\n%v\nwant\n%v", got, want)
	}
	if n := report.DistinctTolerance(100_000); n != 2438 {
		t.Errorf("tolerance at 100k: %d, want 2438 (3 standard errors of 0.8125 %%)", n)
	}
}
