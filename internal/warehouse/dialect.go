package warehouse

// Dialect is a backend's SQL for the few query fragments that differ
// between DuckDB and Snowflake; every other query gamepulse runs on a
// warehouse (query, kpis, reconcile) is plain SQL both run alike. Each
// backend package implements it.
type Dialect interface {
	// String names the dialect: "duckdb" or "snowflake".
	String() string
	// EpochMillis returns the SQL for a TIMESTAMPTZ column as Unix
	// milliseconds, a BIGINT: window and day arithmetic is done on it in
	// plain integer SQL that both dialects run alike, whatever the
	// session's time zone.
	EpochMillis(col string) string
	// Timestamp returns a parameter placeholder cast to a timestamp with
	// time zone, for an RFC 3339 string argument.
	Timestamp() string
	// JSONInt returns the SQL for an integer member of a JSON (VARIANT)
	// column, NULL when absent.
	JSONInt(col, member string) string
}
