package warehouse

import "strings"

// SnowflakeMigrations is the Snowflake schema's history: the tables and
// column names of DuckDBMigrations (documented in doc.go) in Snowflake
// types, so the same queries run on both. TIMESTAMPTZ is TIMESTAMP_TZ,
// BIGINT NUMBER(19,0), INTEGER NUMBER(10,0), JSON VARIANT, BLOB BINARY,
// DOUBLE FLOAT. Snowflake records but does not enforce PRIMARY KEY; the
// sink's MERGE statements keep the keys unique. It has no CHECK
// constraints (DuckDB's event_id <> ” is not carried over).
var SnowflakeMigrations = []Migration{{
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
	out := make([]string, len(DuckDBMigrations[0].SQL))
	for i, s := range DuckDBMigrations[0].SQL {
		out[i] = r.Replace(s)
	}
	return out
}
