package duckdb

import "fmt"

// Dialect is DuckDB's SQL (see warehouse.Dialect).
type Dialect struct{}

func (Dialect) String() string { return "duckdb" }

// EpochMillis returns epoch_ms(col).
func (Dialect) EpochMillis(col string) string { return "epoch_ms(" + col + ")" }

// Timestamp returns a placeholder cast to TIMESTAMPTZ.
func (Dialect) Timestamp() string { return "CAST(? AS TIMESTAMPTZ)" }

// JSONInt returns json_extract(col, '$.member') cast to BIGINT.
func (Dialect) JSONInt(col, member string) string {
	return fmt.Sprintf("CAST(json_extract(%s, '$.%s') AS BIGINT)", col, member)
}
