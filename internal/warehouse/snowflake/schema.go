package snowflake

import (
	"regexp"
	"strings"
	"sync"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Migrations is the Snowflake schema's history: the tables and column
// names of warehouse.Migrations (documented in the warehouse package) in
// Snowflake types, so the same queries run on both. TIMESTAMPTZ is TIMESTAMP_TZ,
// BIGINT NUMBER(19,0), INTEGER NUMBER(10,0), JSON VARIANT, BLOB BINARY,
// DOUBLE FLOAT. Snowflake records but does not enforce PRIMARY KEY; the
// sink's MERGE statements keep the keys unique. It has no CHECK
// constraints (DuckDB's event_id <> ” is not carried over).
var Migrations = []warehouse.Migration{{
	Version: 1,
	Name:    "initial schema",
	SQL:     snowflakeInitial(),
}}

// snowflakeInitial translates DuckDB's first migration, whose DDL uses only
// the types replaced here.
func snowflakeInitial() []string {
	r := strings.NewReplacer(
		"TIMESTAMPTZ", "TIMESTAMP_TZ",
		"BIGINT", "NUMBER(19,0)",
		"INTEGER", "NUMBER(10,0)",
		"DECIMAL(18,6)", "NUMBER(18,6)",
		"JSON", "VARIANT",
		"BLOB", "BINARY",
		"DOUBLE", "FLOAT",
		" CHECK (event_id <> '')", "",
	)
	out := make([]string, len(warehouse.Migrations[0].SQL))
	for i, s := range warehouse.Migrations[0].SQL {
		out[i] = r.Replace(s)
	}
	return out
}

// columnTypes maps table → column → Snowflake type, read from the
// CREATE TABLE and ALTER TABLE … ADD COLUMN statements of
// Migrations, so that the casts of the bulk statements (boundTable)
// follow the schema by construction.
var columnTypes = sync.OnceValue(func() map[string]map[string]string {
	create := regexp.MustCompile(`(?is)^\s*CREATE TABLE IF NOT EXISTS (\w+) \((.*)\)\s*$`)
	column := regexp.MustCompile(`^\s*(\w+) ([A-Z_]+(?:\(\d+,\d+\))?)`)
	add := regexp.MustCompile(`(?i)^\s*ALTER TABLE (\w+) ADD COLUMN (?:IF NOT EXISTS )?(\w+) ([A-Z_]+(?:\(\d+,\d+\))?)`)
	out := map[string]map[string]string{}
	set := func(table, col, typ string) {
		if out[table] == nil {
			out[table] = map[string]string{}
		}
		out[table][col] = typ
	}
	for _, m := range Migrations {
		for _, q := range m.SQL {
			if c := create.FindStringSubmatch(q); c != nil {
				for _, line := range strings.Split(c[2], ",\n") {
					if col := column.FindStringSubmatch(line); col != nil && col[1] != "PRIMARY" {
						set(c[1], col[1], col[2])
					}
				}
			} else if a := add.FindStringSubmatch(q); a != nil {
				set(a[1], a[2], a[3])
			}
		}
	}
	return out
})
