package report

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
)

// GameSummary is the analyst's one-screen view of a game (gamepulse kpis),
// computed from the events and sessions tables. Days are UTC days of event
// time. AvgSessionS is the mean length of the game's closed sessions, -1
// when it has none.
type GameSummary struct {
	Game        string              `json:"game_id"`
	Days        int64               `json:"days"`         // days with activity
	DAU         float64             `json:"dau"`          // mean distinct active players per active day (refunds are not activity)
	Players     int64               `json:"players"`      // distinct active players
	NewPlayers  int64               `json:"new_players"`  // events flagged new_player
	RevenueUSD  float64             `json:"revenue_usd"`  // purchases + ads − refunds
	ARPDAU      float64             `json:"arpdau"`       // revenue / player-days
	ARPPU       float64             `json:"arppu"`        // purchase revenue / payers
	Payers      int64               `json:"payers"`       // distinct players with a purchase
	Conversion  float64             `json:"conversion"`   // payers / players
	D1Retention float64             `json:"d1_retention"` // share of new players active again the next day (cohorts with a next day in the data); -1: no such cohort
	D7Retention float64             `json:"d7_retention"` // likewise 7 days later
	AvgSessionS float64             `json:"avg_session_s"`
	HardLevels  []LevelFailRate     `json:"hardest_levels"` // highest fail rate first (levels with ≥ 10 starts and a fail; at most 5)
	Builds      []BuildCompleteness `json:"completeness"`
}

// LevelFailRate is a level's fails per start.
type LevelFailRate struct {
	Level    int64   `json:"level"`
	Starts   int64   `json:"starts"`
	Fails    int64   `json:"fails"`
	FailRate float64 `json:"fail_rate"`
}

// BuildCompleteness is the completeness ledger of one app build: lost
// (gap), duplicate and out-of-order sequence numbers per 100 events.
type BuildCompleteness struct {
	Build         string  `json:"app_build"`
	Events        int64   `json:"events"`
	LostPct       float64 `json:"lost_pct"`
	DuplicatePct  float64 `json:"duplicate_pct"`
	OutOfOrderPct float64 `json:"out_of_order_pct"`
}

// Summaries computes a GameSummary per game over the whole warehouse.
func Summaries(ctx context.Context, w Warehouse) ([]GameSummary, error) {
	db, d := w.DB(), w.Dialect()
	byGame := map[string]*GameSummary{}
	get := func(g string) *GameSummary {
		s := byGame[g]
		if s == nil {
			s = &GameSummary{Game: g, D1Retention: -1, D7Retention: -1, AvgSessionS: -1}
			byGame[g] = s
		}
		return s
	}
	q := func(query string, scan func(*sql.Rows) error) error {
		rows, err := db.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("report: summary: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return fmt.Errorf("report: summary: %w", err)
			}
		}
		return rows.Err()
	}
	err := q(`WITH daily AS (
			SELECT game_id, `+epochDay(d, "event_time")+` AS day, count(DISTINCT player_id) AS dau
			FROM events WHERE event_type <> 'refund' GROUP BY 1, 2)
		SELECT e.game_id,
			(SELECT count(*) FROM daily d WHERE d.game_id = e.game_id),
			coalesce((SELECT avg(dau) FROM daily d WHERE d.game_id = e.game_id), 0),
			coalesce((SELECT sum(dau) FROM daily d WHERE d.game_id = e.game_id), 0),
			count(DISTINCT CASE WHEN e.event_type <> 'refund' THEN e.player_id END),
			count(CASE WHEN e.new_player THEN 1 END),
			coalesce(sum(e.revenue_usd_micros), 0),
			coalesce(sum(CASE WHEN e.event_type = 'purchase' THEN e.revenue_usd_micros END), 0),
			count(DISTINCT CASE WHEN e.event_type = 'purchase' THEN e.player_id END)
		FROM events e GROUP BY e.game_id`, func(r *sql.Rows) error {
		var g string
		var days, playerDays, players, newPlayers, rev, purchaseRev, payers anyInt
		var dau float64
		if err := r.Scan(&g, &days, &dau, &playerDays, &players, &newPlayers, &rev, &purchaseRev, &payers); err != nil {
			return err
		}
		s := get(g)
		s.Days, s.DAU, s.Players, s.NewPlayers, s.Payers = int64(days), dau, int64(players), int64(newPlayers), int64(payers)
		s.RevenueUSD = float64(rev) / 1e6
		if playerDays > 0 {
			s.ARPDAU = s.RevenueUSD / float64(playerDays)
		}
		if payers > 0 {
			s.ARPPU = float64(purchaseRev) / 1e6 / float64(payers)
		}
		if players > 0 {
			s.Conversion = float64(payers) / float64(players)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, n := range []int{1, 7} {
		err := q(fmt.Sprintf(`WITH active AS (
				SELECT DISTINCT game_id, player_id, %[2]s AS day FROM events WHERE event_type <> 'refund'),
			cohort AS (
				SELECT game_id, player_id, min(%[2]s) AS day FROM events WHERE new_player GROUP BY game_id, player_id),
			last AS (SELECT game_id, max(day) AS day FROM active GROUP BY game_id)
			SELECT c.game_id, count(*), count(a.player_id)
			FROM cohort c JOIN last l ON l.game_id = c.game_id AND c.day + %[1]d <= l.day
			LEFT JOIN active a ON a.game_id = c.game_id AND a.player_id = c.player_id AND a.day = c.day + %[1]d
			GROUP BY c.game_id`, n, epochDay(d, "event_time")), func(r *sql.Rows) error {
			var g string
			var cohort, retained int64
			if err := r.Scan(&g, &cohort, &retained); err != nil {
				return err
			}
			if cohort > 0 {
				v := float64(retained) / float64(cohort)
				if n == 1 {
					get(g).D1Retention = v
				} else {
					get(g).D7Retention = v
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err = q(`SELECT game_id, avg(duration_ms) FROM sessions GROUP BY game_id`, func(r *sql.Rows) error {
		var g string
		var ms float64
		if err := r.Scan(&g, &ms); err != nil {
			return err
		}
		get(g).AvgSessionS = ms / 1000
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q(`SELECT game_id, level, count(CASE WHEN event_type = 'level_start' THEN 1 END) AS starts,
			count(CASE WHEN event_type = 'level_fail' THEN 1 END) AS fails
		FROM (SELECT game_id, event_type, `+d.JSONInt("payload", "level")+` AS level FROM events
			WHERE event_type IN ('level_start', 'level_fail')) l
		GROUP BY game_id, level HAVING count(CASE WHEN event_type = 'level_start' THEN 1 END) >= 10`, func(r *sql.Rows) error {
		var g string
		var l LevelFailRate
		var level sql.NullInt64
		if err := r.Scan(&g, &level, &l.Starts, &l.Fails); err != nil {
			return err
		}
		if l.Fails == 0 {
			return nil // not hard
		}
		l.Level = level.Int64
		l.FailRate = float64(l.Fails) / float64(l.Starts)
		s := get(g)
		s.HardLevels = append(s.HardLevels, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = q(`WITH ev AS (SELECT game_id, app_build, count(*) AS n FROM events GROUP BY game_id, app_build),
			c AS (SELECT game_id, app_build, sum(gaps) AS gaps, sum(duplicates) AS dups, sum(out_of_order) AS ooo
				FROM completeness GROUP BY game_id, app_build)
		SELECT ev.game_id, ev.app_build, ev.n, coalesce(c.gaps, 0), coalesce(c.dups, 0), coalesce(c.ooo, 0)
		FROM ev LEFT JOIN c ON c.game_id = ev.game_id AND c.app_build = ev.app_build`, func(r *sql.Rows) error {
		var g string
		var b BuildCompleteness
		var gaps, dups, ooo anyInt
		if err := r.Scan(&g, &b.Build, &b.Events, &gaps, &dups, &ooo); err != nil {
			return err
		}
		if b.Events > 0 {
			b.LostPct = 100 * float64(gaps) / float64(b.Events)
			b.DuplicatePct = 100 * float64(dups) / float64(b.Events)
			b.OutOfOrderPct = 100 * float64(ooo) / float64(b.Events)
		}
		s := get(g)
		s.Builds = append(s.Builds, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]GameSummary, 0, len(byGame))
	for _, s := range byGame {
		sort.Slice(s.HardLevels, func(i, j int) bool {
			if s.HardLevels[i].FailRate != s.HardLevels[j].FailRate {
				return s.HardLevels[i].FailRate > s.HardLevels[j].FailRate
			}
			return s.HardLevels[i].Level < s.HardLevels[j].Level
		})
		if len(s.HardLevels) > 5 {
			s.HardLevels = s.HardLevels[:5]
		}
		sort.Slice(s.Builds, func(i, j int) bool { return s.Builds[i].Build < s.Builds[j].Build })
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Game < out[j].Game })
	return out, nil
}
