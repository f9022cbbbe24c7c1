// Package report owns the analytics that read a loaded warehouse: the
// per-game KPI summary of gamepulse kpis (Summaries) and the check of the
// KPI tables against the events they were computed from, gamepulse
// reconcile (Reconcile). It writes nothing.
//
// Reports run on any backend through Warehouse: a *sql.DB and the
// backend's warehouse.Dialect, for the few SQL fragments (epoch
// milliseconds, timestamp parameters, JSON members) that differ between
// DuckDB and Snowflake. Every other query is plain SQL both run alike;
// integers are scanned through anyInt, since the drivers return sums as
// int64, float, decimal string or *big.Int.
//
// reporttest holds the report tests every backend runs (DuckDB in this
// package's tests, Snowflake in the fakesnow integration run).
package report

import (
	"database/sql"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Warehouse is what a report reads: a database and its SQL dialect. Every
// warehouse.Warehouse (duckdb.Warehouse, snowflake.Warehouse) is one.
type Warehouse interface {
	DB() *sql.DB
	Dialect() warehouse.Dialect
}
