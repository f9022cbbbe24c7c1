package warehouse

import "fmt"

var _ Warehouse = (*DuckDB)(nil)

// Dialect returns DuckDBSQL.
func (d *DuckDB) Dialect() Dialect { return DuckDBSQL }

// EpochMillis returns the SQL for a TIMESTAMPTZ column as Unix
// milliseconds, a BIGINT: window and day arithmetic is done on it in plain
// integer SQL that both dialects run alike, whatever the session's time
// zone.
func (d Dialect) EpochMillis(col string) string {
	if d == SnowflakeSQL {
		return "DATE_PART(epoch_millisecond, " + col + ")"
	}
	return "epoch_ms(" + col + ")"
}

// Timestamp returns a parameter placeholder cast to a timestamp with time
// zone, for an RFC 3339 string argument.
func (d Dialect) Timestamp() string {
	if d == SnowflakeSQL {
		return "CAST(? AS TIMESTAMP_TZ)"
	}
	return "CAST(? AS TIMESTAMPTZ)"
}

// JSONInt returns the SQL for an integer member of a JSON (VARIANT) column,
// NULL when absent.
func (d Dialect) JSONInt(col, member string) string {
	if d == SnowflakeSQL {
		return fmt.Sprintf("CAST(%s:%s AS NUMBER(19,0))", col, member)
	}
	return fmt.Sprintf("CAST(json_extract(%s, '$.%s') AS BIGINT)", col, member)
}

func (d Dialect) String() string {
	if d == SnowflakeSQL {
		return "snowflake"
	}
	return "duckdb"
}
