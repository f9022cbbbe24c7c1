package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

func queryCommand() command {
	c := command{
		name:    "query",
		summary: "run SQL against the warehouse and print the result",
		usage: `Usage: gamepulse query [--warehouse URL] [--format table|csv|json] "SQL"

Runs one SQL statement against the warehouse (see gamepulse load for the
tables) and prints its rows: a readable table (default), CSV with a header
row, or JSON (one array of objects). It opens the warehouse read-only; a
DuckDB file cannot be read while load or demo writes it (stop them first, or
query a copy of the file).

Examples:
  gamepulse query "SELECT game_id, count(*) AS events FROM events GROUP BY 1 ORDER BY 2 DESC"
  gamepulse query --format csv "SELECT * FROM kpi_minute WHERE platform = '*' ORDER BY window_start"`,
	}
	c.run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlagSet(env, c)
		wh := fs.String("warehouse", defaultWarehouse, warehouseHelp)
		format := fs.String("format", "table", "output format: table, csv or json")
		if err := resolve(fs, env, args); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("query: give exactly one SQL statement (quote it)")
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
		return printRows(env.Stdout, rows, *format)
	}
	return c
}

// printRows writes rows in format.
func printRows(w io.Writer, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	switch format {
	case "json":
		objs := make([]map[string]any, len(out))
		for i, r := range out {
			objs[i] = map[string]any{}
			for j, c := range cols {
				objs[i][c] = jsonValue(r[j])
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(cols); err != nil {
			return err
		}
		for _, r := range out {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = text(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
		for _, r := range out {
			rec := make([]string, len(r))
			for j, v := range r {
				rec[j] = text(v)
			}
			fmt.Fprintln(tw, strings.Join(rec, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "(%d rows)\n", len(out))
		return nil
	}
	return fmt.Errorf("--format must be table, csv or json, got %q", format)
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}
