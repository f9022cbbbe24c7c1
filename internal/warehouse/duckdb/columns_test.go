package duckdb

import (
	"slices"
	"testing"
)

// TestColumnListsMatchTables: the Appenders name the columns of events,
// sessions, alerts and dead_letters by hand, in table order; the keyed
// Appenders look rows up by these names.
func TestColumnListsMatchTables(t *testing.T) {
	d, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	events := make([]string, len(eventColumns))
	for i, c := range eventColumns {
		events[i] = c.name
	}
	for table, want := range map[string][]string{"events": events, "sessions": sessionColumns, "alerts": alertColumns, "dead_letters": deadLetterColumns} {
		rows, err := d.DB().QueryContext(t.Context(), `SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index`, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			got = append(got, c)
		}
		rows.Close()
		if !slices.Equal(got, want) {
			t.Errorf("%s: the table's columns are %v, the list %v", table, got, want)
		}
	}
}
