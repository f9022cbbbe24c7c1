package warehouse_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

func TestReconcile(t *testing.T) { testReconcile(t, openDuckDB(t)) }

// testReconcile loads hand-made events and the KPI rows they make, checks
// that Reconcile finds them equal, then damages stored rows and checks that
// it names each difference.
func testReconcile(t *testing.T, w warehouse.Warehouse) {
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
	rep, err := warehouse.Reconcile(ctx, w, from, to)
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
	rep, err = warehouse.Reconcile(ctx, w, from, to)
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
	if n := warehouse.DistinctTolerance(100_000); n != 2438 {
		t.Errorf("tolerance at 100k: %d, want 2438 (3 standard errors of 0.8125 %%)", n)
	}
}
