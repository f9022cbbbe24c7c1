package snowflake

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// The Snowflake statements that the emulator cannot tell apart from
// Snowflake's: their text and their bound JSON.

func TestSnowflakeSource(t *testing.T) {
	got := eventsTable.source()
	for _, want := range []string{
		"SELECT value:event_id::VARCHAR AS event_id, ",
		"value:event_time::TIMESTAMP_TZ AS event_time, ",
		"value:revenue_usd::NUMBER(18,6) AS revenue_usd, ",
		"value:payload AS payload, value:extra AS extra, ", // VARIANT: no cast
		"value:kafka_partition::NUMBER(10,0) AS kafka_partition, ",
		" FROM TABLE(FLATTEN(INPUT => PARSE_JSON(?)))",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("events source lacks %q:\n%s", want, got)
		}
	}
	if got := deadLettersTable.source(); !strings.Contains(got, "BASE64_DECODE_BINARY(value:original::VARCHAR) AS original") {
		t.Errorf("dead letters source: %s", got)
	}
	// Every column of every bulk table is in the schema (source panics otherwise).
	for _, tb := range []*boundTable{eventsTable, sessionsTable, alertsTable, deadLettersTable, completenessTable, offsetsTable, kpiTable(warehouse.Minute), kpiTable(warehouse.Hour)} {
		if n := strings.Count(tb.source(), " AS "); n != len(tb.cols) {
			t.Errorf("%s: %d columns in the source, want %d", tb.name, n, len(tb.cols))
		}
		if len(tb.cols) != len(columnTypes()[tb.name]) {
			t.Errorf("%s: binds %d columns of the table's %d", tb.name, len(tb.cols), len(columnTypes()[tb.name]))
		}
	}
}

func TestSnowflakeChunks(t *testing.T) {
	type row struct{ vals []any }
	at := time.Date(2026, 11, 25, 19, 4, 5, 123_000_000, time.FixedZone("CET", 3600))
	tb := &boundTable{name: "t", cols: []string{"a", "b", "c", "d", "e", "f"}}
	rows := []row{
		{[]any{"x", int64(7), at, []byte{0xff, '{'}, json.RawMessage(`{"k": [1, 2]}`), true}},
		{[]any{nil, int64(-1), nil, nil, nil, false}}, // NULLs are left out
	}
	chunks, err := encodeChunks(tb, rows, func(r *row) []any { return r.vals })
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"a":"x","b":7,"c":"2026-11-25T18:04:05.123Z","d":"/3s=","e":{"k":[1,2]},"f":true},{"b":-1,"f":false}]`
	if len(chunks) != 1 || chunks[0] != want {
		t.Errorf("chunks %q\nwant %q", chunks, want)
	}
	bad := []row{{[]any{"x", int64(1), at, nil, json.RawMessage(`{"k":`), true}}}
	if _, err := encodeChunks(tb, bad, func(r *row) []any { return r.vals }); err == nil || !strings.Contains(err.Error(), "t: row 0: e:") {
		t.Errorf("invalid JSON: %v, want an error naming the row and column", err)
	}
	// Chunks split near chunkBytes, every one a JSON array of whole rows.
	big := make([]row, 3000)
	for i := range big {
		big[i] = row{[]any{strings.Repeat("y", 5000), int64(i), nil, nil, nil, nil}}
	}
	chunks, err = encodeChunks(tb, big, func(r *row) []any { return r.vals })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range chunks {
		var objs []map[string]any
		if err := json.Unmarshal([]byte(c), &objs); err != nil {
			t.Fatalf("chunk is not a JSON array: %v", err)
		}
		if len(c) > chunkBytes+6000 {
			t.Errorf("chunk of %d bytes, limit %d", len(c), chunkBytes)
		}
		n += len(objs)
	}
	if len(chunks) != 2 || n != len(big) {
		t.Errorf("%d chunks with %d rows, want 2 with %d", len(chunks), n, len(big))
	}
}

// TestSnowflakeMergeSQL checks the upsert's two statements.
func TestSnowflakeMergeSQL(t *testing.T) {
	var got []string
	rec := recorder{exec: func(q string) { got = append(got, q) }}
	rows := []warehouse.Offset{{Topic: "t", Partition: 1, Next: 5}}
	if err := upsertOffsets(t.Context(), rec, rows); err != nil {
		t.Fatal(err)
	}
	src := offsetsTable.source()
	want := []string{
		"DELETE FROM offsets t USING (" + src + ") s WHERE t.topic = s.topic AND t.partition = s.partition AND s.next_offset > t.next_offset",
		"INSERT INTO offsets (topic, partition, next_offset, updated_at) SELECT topic, partition, next_offset, updated_at FROM (" + src +
			") s WHERE NOT EXISTS (SELECT 1 FROM offsets t WHERE t.topic = s.topic AND t.partition = s.partition)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// recorder is a sqlTx that records statements and runs nothing.
type recorder struct{ exec func(q string) }

func (r recorder) ExecContext(_ context.Context, q string, _ ...any) (sql.Result, error) {
	r.exec(q)
	return driver.RowsAffected(0), nil
}

func (r recorder) QueryContext(context.Context, string, ...any) (*sql.Rows, error) {
	return nil, errors.New("recorder: no queries")
}
