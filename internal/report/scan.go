package report

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// epochDay returns the SQL for the UTC day number (days since 1970-01-01)
// of a TIMESTAMPTZ column.
func epochDay(d warehouse.Dialect, col string) string {
	return "CAST(floor(" + d.EpochMillis(col) + " / 86400000) AS BIGINT)"
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
