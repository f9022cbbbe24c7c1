package main

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// outputFormats are the --format values of query and kpis.
const outputFormats = "table, csv or json"

var outputFormatList = []string{"table", "csv", "json"}

// checkFormat reports whether format is one of outputFormats; commands call
// it before they open anything.
func checkFormat(format string) error {
	return checkChoice("format", format, outputFormatList...)
}

// resultSet is what query and kpis print: named columns and rows of values.
// A value is nil (NULL), a string, a bool, a number (Go's, or json.Number for
// exact decimals and huge integers), or anything encoding/json encodes
// (lists, objects), which table and csv print as compact JSON.
type resultSet struct {
	cols    []string
	jsonCol []bool // the column holds JSON: its strings print quoted in table and csv too
	rows    [][]any
}

// readResult reads rows, turning each driver value into a printable one
// (see plainValue).
func readResult(rows *sql.Rows) (*resultSet, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	rs := &resultSet{cols: make([]string, len(types)), jsonCol: make([]bool, len(types))}
	dbTypes := make([]string, len(types))
	for i, t := range types {
		rs.cols[i], dbTypes[i] = t.Name(), strings.ToUpper(t.DatabaseTypeName())
		rs.jsonCol[i] = dbTypes[i] == "JSON"
	}
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = plainValue(v, dbTypes[i])
		}
		rs.rows = append(rs.rows, vals)
	}
	return rs, rows.Err()
}

// write prints rs in format: a table with a row count, CSV with a header
// row, or a JSON array of objects whose members are in column order.
func (rs *resultSet) write(w io.Writer, format string) error {
	switch format {
	case "json":
		objs := make([]jsonObject, len(rs.rows))
		for i, r := range rs.rows {
			objs[i] = jsonObject{keys: rs.cols, vals: r}
		}
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(objs)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(rs.cols); err != nil {
			return err
		}
		for _, r := range rs.rows {
			if err := cw.Write(rs.texts(r, false)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(rs.cols, "\t"))
		for _, r := range rs.rows {
			fmt.Fprintln(tw, strings.Join(rs.texts(r, true), "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "(%d rows)\n", len(rs.rows))
		return nil
	}
	return checkFormat(format)
}

// texts returns r's values as text; oneLine escapes tabs and line breaks,
// which would break a table's rows and columns.
func (rs *resultSet) texts(r []any, oneLine bool) []string {
	out := make([]string, len(r))
	for i, v := range r {
		out[i] = cellText(v, rs.jsonCol != nil && rs.jsonCol[i])
		if oneLine {
			out[i] = tableEscaper.Replace(out[i])
		}
	}
	return out
}

var tableEscaper = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\r", `\r`)

// cellText is a value as table and csv print it: NULL is empty, strings and
// numbers are themselves, anything else (and any value of a JSON column) is
// compact JSON.
func cellText(v any, isJSON bool) string {
	if v == nil {
		return ""
	}
	if !isJSON {
		switch x := v.(type) {
		case string:
			return x
		case json.Number:
			return string(x)
		case float64:
			return formatFloat(x)
		case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
			return fmt.Sprint(x)
		}
	}
	b, err := compactJSON(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// compactJSON encodes v on one line, without escaping <, > and &.
func compactJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// formatFloat formats f as encoding/json does: no exponent for ordinary
// magnitudes.
func formatFloat(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// plainValue turns a value database/sql scanned from a column of database
// type dbType ("" inside lists, structs and maps) into a printable one that
// encoding/json encodes: times as RFC 3339 (a DATE as 2006-01-02, a TIME as
// 15:04:05.999999), exact decimals and huge integers as json.Number, blobs
// as text (\xAA escapes outside UTF-8), UUIDs in their usual form,
// intervals as DuckDB writes them, NaN and infinities as strings, and the
// contents of lists, structs and maps likewise.
func plainValue(v any, dbType string) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
	case float32:
		return plainValue(float64(x), dbType)
	case []byte:
		if dbType == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String()
		}
		if utf8.Valid(x) && !bytes.ContainsFunc(x, isControl) {
			return string(x)
		}
		var sb strings.Builder
		for _, c := range x {
			if c < utf8.RuneSelf && strconv.IsPrint(rune(c)) && c != '\\' {
				sb.WriteByte(c)
			} else {
				sb.WriteString(`\x` + strings.ToUpper(hex.EncodeToString([]byte{c})))
			}
		}
		return sb.String()
	case time.Time:
		switch dbType {
		case "DATE":
			return x.Format(time.DateOnly)
		case "TIME":
			return x.Format("15:04:05.999999")
		case "TIMETZ", "TIME WITH TIME ZONE":
			return x.Format("15:04:05.999999Z07:00")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case duckdb.Decimal:
		return json.Number(decimalText(x))
	case *big.Int:
		if x == nil {
			return nil
		}
		return json.Number(x.String())
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.Union:
		return plainValue(x.Value, "")
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e, "")
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plainValue(e, "")
		}
		return out
	case duckdb.OrderedMap:
		keys, vals := x.Keys(), x.Values()
		out := make(map[string]any, len(keys))
		for i, k := range keys {
			out[cellText(plainValue(k, ""), false)] = plainValue(vals[i], "")
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[cellText(plainValue(k, ""), false)] = plainValue(e, "")
		}
		return out
	case string:
		if dbType == "VARIANT" || dbType == "OBJECT" || dbType == "ARRAY" {
			// Snowflake returns semi-structured values as indented JSON text.
			var b bytes.Buffer
			if json.Compact(&b, []byte(x)) == nil {
				return json.RawMessage(b.Bytes())
			}
		}
	}
	return v
}

// isControl reports whether r is a control character other than a tab or a
// line break: text with one prints as escaped bytes.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// decimalText writes d with all its scale's digits, as DuckDB does (1.070,
// not 1.07).
func decimalText(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// intervalText writes i as DuckDB does: 1 year 2 months 3 days 04:05:06.5.
func intervalText(i duckdb.Interval) string {
	var parts []string
	unit := func(n int64, name string) {
		if n == 0 {
			return
		}
		if n != 1 && n != -1 {
			name += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, name))
	}
	unit(int64(i.Months/12), "year")
	unit(int64(i.Months%12), "month")
	unit(int64(i.Days), "day")
	if i.Micros != 0 || len(parts) == 0 {
		us, sign := i.Micros, ""
		if us < 0 {
			us, sign = -us, "-"
		}
		t := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3_600_000_000, us/60_000_000%60, us/1_000_000%60)
		if frac := us % 1_000_000; frac != 0 {
			t += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// jsonObject encodes as a JSON object whose members are in keys' order.
type jsonObject struct {
	keys []string
	vals []any
}

func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := compactJSON(k)
		if err != nil {
			return nil, err
		}
		vb, err := compactJSON(o.vals[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", k, err)
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
