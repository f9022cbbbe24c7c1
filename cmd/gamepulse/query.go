package main

import (
	"context"
	"fmt"
)

// QueryCommand is "gamepulse query" (run SQL against the warehouse and print the result).
type QueryCommand struct{}

func (*QueryCommand) Name() string    { return "query" }
func (*QueryCommand) Summary() string { return "run SQL against the warehouse and print the result" }
func (*QueryCommand) Usage() string {
	return `Usage: gamepulse query [--warehouse URL] [--format table|csv|json] "SQL"

Runs one SQL statement against the warehouse (see gamepulse load for the
tables) and prints its rows: a readable table (default), CSV with a header
row, or JSON (one array of objects). It opens the warehouse read-only; a
DuckDB file cannot be read while load or demo writes it (stop them first, or
query a copy of the file).

Examples:
  gamepulse query "SELECT game_id, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC"
  gamepulse query --format csv "SELECT * FROM kpi_minute WHERE platform = '*' ORDER BY window_start"`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *QueryCommand) Run(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, c)
	wh := fs.String("warehouse", defaultWarehouse, warehouseHelp)
	format := fs.String("format", "table", "output format: "+outputFormats)
	if err := resolveArgs(fs, env, args, -1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("give exactly one SQL statement (quote it), got %d arguments: %q", fs.NArg(), fs.Args())
	}
	w, err := openWarehouse(ctx, *wh, readWarehouse)
	if err != nil {
		return err
	}
	defer w.Close()
	rows, err := w.DB().QueryContext(ctx, fs.Arg(0))
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	rs, err := readResult(rows)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	return rs.write(env.Stdout, *format)
}
