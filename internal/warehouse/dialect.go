package warehouse

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

var _ Warehouse = (*DuckDB)(nil)

// Dialect returns DuckDBSQL.
func (d *DuckDB) Dialect() Dialect { return DuckDBSQL }

// epochMillis returns the SQL for a TIMESTAMPTZ column as Unix
// milliseconds, a BIGINT: window and day arithmetic is done on it in plain
// integer SQL that both dialects run alike, whatever the session's time
// zone.
func (d Dialect) epochMillis(col string) string {
	if d == SnowflakeSQL {
		return "DATE_PART(epoch_millisecond, " + col + ")"
	}
	return "epoch_ms(" + col + ")"
}

// timestamp returns a parameter placeholder cast to a timestamp with time
// zone, for an RFC 3339 string argument.
func (d Dialect) timestamp() string {
	if d == SnowflakeSQL {
		return "CAST(? AS TIMESTAMP_TZ)"
	}
	return "CAST(? AS TIMESTAMPTZ)"
}

// epochDay returns the SQL for the UTC day number (days since 1970-01-01)
// of a TIMESTAMPTZ column.
func (d Dialect) epochDay(col string) string {
	return "CAST(floor(" + d.epochMillis(col) + " / 86400000) AS BIGINT)"
}

// jsonInt returns the SQL for an integer member of a JSON (VARIANT) column,
// NULL when absent.
func (d Dialect) jsonInt(col, member string) string {
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

// anyInt scans an integer that a warehouse may return as int64, a float
// (fakesnow sums NUMBER columns as DOUBLE), a decimal string (Snowflake's
// NUMBER(38,0)), or a *big.Int (DuckDB's HUGEINT sums).
type anyInt int64

func (n *anyInt) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n = 0
	case int64:
		*n = anyInt(x)
	case int32:
		*n = anyInt(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return fmt.Errorf("integer column holds %v", x)
		}
		*n = anyInt(x)
	case string:
		return n.parse(x)
	case []byte:
		return n.parse(string(x))
	case *big.Int:
		if !x.IsInt64() {
			return fmt.Errorf("integer column holds %v, beyond int64", x)
		}
		*n = anyInt(x.Int64())
	default:
		return fmt.Errorf("integer column holds a %T", v)
	}
	return nil
}

func (n *anyInt) parse(s string) error {
	s = strings.TrimSuffix(s, ".0")
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer column holds %q", s)
	}
	*n = anyInt(i)
	return nil
}
