// Package duckdb is the embedded warehouse backend: a warehouse.Warehouse
// on a DuckDB database file, the default of gamepulse load and demo.
//
// Open creates the file if needed (load, demo); OpenExisting opens one that
// must exist (ErrNoWarehouse), read-only for the readers, and names a file
// another process holds for writing (ErrWarehouseBusy): DuckDB lets one
// process open a file for writing, with no reader beside it. Apply and
// Replay run the warehouse package's exactly-once protocol in one
// transaction on one connection, serialized by a mutex; KPI and
// completeness rows are upserted by multi-row INSERT … ON CONFLICT, the
// append-only tables written through DuckDB Appenders (events through a
// query Appender whose INSERT casts payload and extra to JSON, which
// validates them; the rows of at-least-once producers through query
// Appenders whose INSERT … SELECT keeps the rows with no stored row of the
// same key, WHERE NOT EXISTS, appendKeyed). The schema is warehouse.Migrations as it is; Dialect is
// DuckDB's SQL for the reports.
package duckdb
