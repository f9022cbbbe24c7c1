package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"
)

// ReconcileReport is the result of Reconcile: per KPI table, how many rows
// were compared and every difference.
type ReconcileReport struct {
	From, To time.Time
	Tables   []TableReconcile
}

// Differences returns the number of differences over all tables.
func (r *ReconcileReport) Differences() int {
	n := 0
	for _, t := range r.Tables {
		n += len(t.Differences)
	}
	return n
}

// TableReconcile is one KPI table's part of a ReconcileReport.
type TableReconcile struct {
	Table       string // kpi_minute or kpi_hour
	Rows        int    // rows compared (stored or recomputed)
	Differences []Difference
}

// Difference is one figure of one KPI row that differs between the stored
// row and its recomputation from events. A row missing on one side is one
// Difference with Field "row" and the side's value 0.
type Difference struct {
	Start                   time.Time
	Game, Platform, Country string
	Field                   string
	Stored, Recomputed      int64
}

func (d Difference) String() string {
	return fmt.Sprintf("%s %s/%s/%s %s: stored %d, recomputed %d",
		d.Start.UTC().Format(time.RFC3339), d.Game, d.Platform, d.Country, d.Field, d.Stored, d.Recomputed)
}

// reconciled are the KPI columns Reconcile recomputes, in query order.
// Distinct counts (HyperLogLog estimates in kpi rows) are compared with a
// tolerance; the others exactly.
var reconciled = []struct {
	col      string
	sql      string // over events e
	distinct bool
}{
	{"active_players", "count(DISTINCT CASE WHEN event_type <> 'refund' THEN player_id END)", true},
	{"new_players", "count(CASE WHEN new_player THEN 1 END)", false},
	{"sessions_started", "count(CASE WHEN event_type = 'session_start' THEN 1 END)", false},
	{"purchases", "count(CASE WHEN event_type = 'purchase' THEN 1 END)", false},
	{"payers", "count(DISTINCT CASE WHEN event_type = 'purchase' THEN player_id END)", true},
	{"revenue_usd_micros", "coalesce(sum(revenue_usd_micros), 0)", false},
	{"purchase_revenue_usd_micros", "coalesce(sum(CASE WHEN event_type = 'purchase' THEN revenue_usd_micros END), 0)", false},
	{"refunds", "count(CASE WHEN event_type = 'refund' THEN 1 END)", false},
	{"refund_usd_micros", "-coalesce(sum(CASE WHEN event_type = 'refund' THEN revenue_usd_micros END), 0)", false},
	{"ad_impressions", "count(CASE WHEN event_type = 'ad_impression' THEN 1 END)", false},
	{"ad_revenue_usd_micros", "coalesce(sum(CASE WHEN event_type = 'ad_impression' THEN revenue_usd_micros END), 0)", false},
}

// DistinctTolerance is how far a stored distinct count (a HyperLogLog
// estimate at precision 14, standard error 0.81 %) may be from the exact
// count of the events table: three standard errors, and at least 1.
func DistinctTolerance(exact int64) int64 {
	return max(1, int64(math.Ceil(3*0.008125*float64(exact))))
}

type kpiKey struct {
	start                   int64 // Unix ms
	game, platform, country string
}

// Reconcile recomputes the KPI figures of the windows in [from, to) (from
// and to rounded down to the minute; hours that lie wholly inside) from
// the events table and compares them with kpi_minute and kpi_hour: per row
// (game, platform, country and the game-level "*" row), active players,
// new players, sessions started, purchases, payers, revenue, purchase
// revenue, refunds, refund and ad figures. Counters must be equal; distinct
// counts within DistinctTolerance. Levels and the completeness columns are
// not recomputed (the ledger's figures need the events' arrival order).
//
// The range ends at the newest watermark of the stored KPI rows at most:
// windows the processor has not closed are not compared. Rows whose events
// are still in flight (the loader reads the KPI and events topics
// independently) show as differences: reconcile windows that closed a
// while ago.
func Reconcile(ctx context.Context, w Warehouse, from, to time.Time) (*ReconcileReport, error) {
	// Windows the processor has not closed yet are not compared: to ends at
	// the newest watermark the KPI rows carry.
	var wm sql.NullInt64
	if err := w.DB().QueryRowContext(ctx, `SELECT max(`+w.Dialect().EpochMillis("watermark")+`) FROM kpi_minute`).Scan(&wm); err != nil {
		return nil, fmt.Errorf("report: reconcile: %w", err)
	}
	if !wm.Valid {
		to = from
	} else if t := time.UnixMilli(wm.Int64); t.Before(to) {
		to = t
	}
	from, to = from.UTC().Truncate(time.Minute), to.UTC().Truncate(time.Minute)
	if to.Before(from) {
		to = from
	}
	rep := &ReconcileReport{From: from, To: to}
	for _, tb := range []struct {
		table string
		unit  time.Duration
	}{{"kpi_minute", time.Minute}, {"kpi_hour", time.Hour}} {
		f, t := from, to
		if tb.unit == time.Hour {
			f = from.Add(time.Hour - time.Nanosecond).Truncate(time.Hour) // hours wholly inside
			t = to.Truncate(time.Hour)
		}
		tr := TableReconcile{Table: tb.table}
		if f.Before(t) {
			var err error
			if tr, err = reconcileTable(ctx, w, tb.table, tb.unit, f, t); err != nil {
				return nil, fmt.Errorf("report: reconcile %s: %w", tb.table, err)
			}
		}
		rep.Tables = append(rep.Tables, tr)
	}
	return rep, nil
}

func reconcileTable(ctx context.Context, w Warehouse, table string, unit time.Duration, from, to time.Time) (TableReconcile, error) {
	tr := TableReconcile{Table: table}
	db, d := w.DB(), w.Dialect()
	n := len(reconciled)
	scan := func(rows *sql.Rows, into map[kpiKey][]int64) error {
		defer rows.Close()
		for rows.Next() {
			var k kpiKey
			var start anyInt
			vals := make([]anyInt, n)
			dst := []any{&start, &k.game, &k.platform, &k.country}
			for i := range vals {
				dst = append(dst, &vals[i])
			}
			if err := rows.Scan(dst...); err != nil {
				return err
			}
			k.start = int64(start)
			v := make([]int64, n)
			for i := range vals {
				v[i] = int64(vals[i])
			}
			into[k] = v
		}
		return rows.Err()
	}

	cols, exprs := "", ""
	for _, c := range reconciled {
		cols += ", " + c.col
		exprs += ", " + c.sql
	}
	stored := map[kpiKey][]int64{}
	rows, err := db.QueryContext(ctx, `SELECT `+d.EpochMillis("window_start")+`, game_id, platform, country`+cols+
		` FROM `+table+` WHERE window_start >= `+d.Timestamp()+` AND window_start < `+d.Timestamp(), ts(from), ts(to))
	if err != nil {
		return tr, err
	}
	if err := scan(rows, stored); err != nil {
		return tr, err
	}

	// One pass per level: detail rows, then the game-level "*" rows.
	recomputed := map[kpiKey][]int64{}
	u := unit.Milliseconds()
	for _, dims := range []string{"platform, country", "'*' AS platform, '*' AS country"} {
		group := "w, game_id, platform, country"
		if dims[0] == '\'' {
			group = "w, game_id"
		}
		q := fmt.Sprintf(`SELECT w, game_id, %s%s FROM (
				SELECT e.*, %s - mod(%s, %d) AS w FROM events e WHERE event_time >= %s AND event_time < %s) x
			GROUP BY %s`, dims, exprs, d.EpochMillis("event_time"), d.EpochMillis("event_time"), u, d.Timestamp(), d.Timestamp(), group)
		rows, err := db.QueryContext(ctx, q, ts(from), ts(to))
		if err != nil {
			return tr, err
		}
		if err := scan(rows, recomputed); err != nil {
			return tr, err
		}
	}

	keys := make([]kpiKey, 0, len(stored))
	for k := range stored {
		keys = append(keys, k)
	}
	for k := range recomputed {
		if _, ok := stored[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.game != b.game {
			return a.game < b.game
		}
		if a.platform != b.platform {
			return a.platform < b.platform
		}
		return a.country < b.country
	})
	tr.Rows = len(keys)
	for _, k := range keys {
		s, sok := stored[k]
		r, rok := recomputed[k]
		diff := Difference{Start: time.UnixMilli(k.start).UTC(), Game: k.game, Platform: k.platform, Country: k.country}
		if !sok || !rok {
			diff.Field = "row"
			if sok {
				diff.Stored = 1
			} else {
				diff.Recomputed = 1
			}
			tr.Differences = append(tr.Differences, diff)
			continue
		}
		for i, c := range reconciled {
			gap := s[i] - r[i]
			if gap == 0 || (c.distinct && abs(gap) <= DistinctTolerance(r[i])) {
				continue
			}
			diff.Field, diff.Stored, diff.Recomputed = c.col, s[i], r[i]
			tr.Differences = append(tr.Differences, diff)
		}
	}
	return tr, nil
}

// ts is a timestamp parameter: bound as an RFC 3339 string and cast in SQL
// (Dialect.timestamp), so both drivers compare it as an instant.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
