package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"

	whreport "github.com/gamepulse/gamepulse/internal/report"
)

// KPIsCommand is "gamepulse kpis":
// a summary per game from the warehouse: DAU, revenue, retention, levels, completeness.
type KPIsCommand struct{}

func (*KPIsCommand) Name() string { return "kpis" }
func (*KPIsCommand) Summary() string {
	return "a summary per game from the warehouse: DAU, revenue, retention, levels, completeness"
}
func (*KPIsCommand) Usage() string {
	return `Usage: gamepulse kpis [--warehouse URL] [--format table|csv|json]

Prints, per game, from the events and sessions tables (UTC days of event
time): days with activity, DAU (mean distinct active players per day),
players, new players, revenue (purchases + ads − refunds), ARPDAU, ARPPU,
payers and payer conversion, D1 and D7 retention (new players active again 1
or 7 days later, over cohorts whose later day is in the data), average
session length (n/a without a closed session), the levels with the highest
fail rate (≥ 10 starts, at least one fail), and completeness per app build
(lost, duplicate and out-of-order sequence numbers per 100 events). DuckDB
and Snowflake warehouses. --format csv and json print a row or object per
game, with -1 for a figure that is n/a.

Example:
  gamepulse kpis --warehouse duckdb:data/demo/warehouse.duckdb`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *KPIsCommand) Run(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, c)
	wh := fs.String("warehouse", defaultWarehouse, warehouseHelp)
	format := fs.String("format", "table", "output format: "+outputFormats)
	if err := resolve(fs, env, args); err != nil {
		return err
	}
	w, err := openWarehouse(ctx, *wh, readWarehouse)
	if err != nil {
		return err
	}
	defer w.Close()
	sums, err := whreport.Summaries(ctx, w)
	if err != nil {
		return err
	}
	if *format == "table" {
		return printSummaries(env.Stdout, sums)
	}
	return summaryResult(sums).write(env.Stdout, *format)
}

// summaryResult returns sums as a result set: a row per game, a column per
// GameSummary field named by its JSON tag, so that --format json prints
// each summary as encoding/json would and csv has the same columns
// (hardest_levels and completeness as compact JSON).
func summaryResult(sums []whreport.GameSummary) *resultSet {
	rs := &resultSet{}
	t := reflect.TypeFor[whreport.GameSummary]()
	for f := range t.Fields() {
		rs.cols = append(rs.cols, strings.Split(f.Tag.Get("json"), ",")[0])
	}
	for _, s := range sums {
		v := reflect.ValueOf(s)
		row := make([]any, v.NumField())
		for i := range row {
			row[i] = v.Field(i).Interface()
		}
		rs.rows = append(rs.rows, row)
	}
	return rs
}

func printSummaries(w io.Writer, sums []whreport.GameSummary) error {
	if len(sums) == 0 {
		fmt.Fprintln(w, "no events in the warehouse yet")
		return nil
	}
	pct := func(v float64) string {
		if v < 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "game\tdays\tDAU\tplayers\tnew\trevenue USD\tARPDAU\tARPPU\tpayers\tconversion\tD1\tD7\tavg session")
	for _, s := range sums {
		session := "n/a"
		if s.AvgSessionS >= 0 {
			session = fmt.Sprintf("%.0f s", s.AvgSessionS)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%d\t%.2f\t%.4f\t%.2f\t%d\t%s\t%s\t%s\t%s\n", s.Game, s.Days, s.DAU, s.Players, s.NewPlayers,
			s.RevenueUSD, s.ARPDAU, s.ARPPU, s.Payers, pct(s.Conversion), pct(s.D1Retention), pct(s.D7Retention), session)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range sums {
		var levels []string
		for _, l := range s.HardLevels {
			levels = append(levels, fmt.Sprintf("%d (%.0f%% of %d)", l.Level, 100*l.FailRate, l.Starts))
		}
		if len(levels) == 0 {
			levels = []string{"none yet (no level with 10 starts has a fail)"}
		}
		fmt.Fprintf(w, "\n%s — hardest levels: %s\n", s.Game, strings.Join(levels, ", "))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  app build\tevents\tlost\tduplicate\tout of order")
		for _, b := range s.Builds {
			fmt.Fprintf(tw, "  %s\t%d\t%.2f%%\t%.2f%%\t%.2f%%\n", b.Build, b.Events, b.LostPct, b.DuplicatePct, b.OutOfOrderPct)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
