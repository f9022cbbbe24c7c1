package snowflake

import "fmt"

// Dialect is Snowflake's SQL (see warehouse.Dialect).
type Dialect struct{}

func (Dialect) String() string { return "snowflake" }

// EpochMillis returns DATE_PART(epoch_millisecond, col).
func (Dialect) EpochMillis(col string) string { return "DATE_PART(epoch_millisecond, " + col + ")" }

// Timestamp returns a placeholder cast to TIMESTAMP_TZ.
func (Dialect) Timestamp() string { return "CAST(? AS TIMESTAMP_TZ)" }

// JSONInt returns col:member cast to NUMBER(19,0).
func (Dialect) JSONInt(col, member string) string {
	return fmt.Sprintf("CAST(%s:%s AS NUMBER(19,0))", col, member)
}
