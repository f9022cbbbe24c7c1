package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

func TestQueryPrintsJSONColumnsAsJSON(t *testing.T) {
	wh := "duckdb:" + newWarehouseFile(t)
	const sql = `SELECT e.payload, e.extra, k.levels FROM events e, kpi_minute k WHERE e.kafka_offset = 0`
	want := []string{`{"price":4.99,"sku":"gems"}`, `{"device":{"os":"iOS 18"}}`, `[{"completions":0,"fails":1,"level":3,"starts":2}]`}
	out, _, err := runMain(t, nil, "query", "--warehouse", wh, sql)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %s:\n%s", w, out)
		}
	}
	out, _, err = runMain(t, nil, "query", "--warehouse", wh, "--format", "csv", sql)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	for i, w := range want {
		if recs[1][i] != w {
			t.Errorf("csv column %s is %s, want %s", recs[0][i], recs[1][i], w)
		}
	}
	out, _, err = runMain(t, nil, "query", "--warehouse", wh, "--format", "json", sql)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if p, ok := got[0]["payload"].(map[string]any); !ok || p["sku"] != "gems" {
		t.Errorf("json payload is %#v, want an object", got[0]["payload"])
	}
}

// TestQueryPrintsEveryColumnTypeReadably covers the values DuckDB returns
// that are not plain strings and numbers.
func TestQueryPrintsEveryColumnTypeReadably(t *testing.T) {
	wh := "duckdb:" + newWarehouseFile(t)
	const sql = `SELECT [1, 2] AS list, {'a': 1, 'b': 'x'} AS struct, MAP {'k': [DATE '2026-01-02']} AS map,
		DATE '2026-01-02' AS date, TIME '12:34:56.5' AS time, TIMESTAMPTZ '2026-01-02 03:04:05.25+00' AS ts,
		'a<b'::BLOB AS text_blob, '\xAA\x01'::BLOB AS blob, 12.340::DECIMAL(18,3) AS dec, -0.05::DECIMAL(4,2) AS neg,
		170141183460469231731687303715884105727::HUGEINT AS huge, 18446744073709551615::UBIGINT AS ubig,
		INTERVAL 14 MONTH + INTERVAL 1 DAY + INTERVAL 3500 MILLISECOND AS iv, '5f3c0f6e-1b2a-4c3d-9e8f-0a1b2c3d4e5f'::UUID AS uuid,
		'nan'::DOUBLE AS nan, 1e6::DOUBLE AS million, 'a'::ENUM('a', 'b') AS enum, union_value(k := 7) AS un,
		'tab	and
newline' AS ws, NULL AS nothing`
	cols := []string{"list", "struct", "map", "date", "time", "ts", "text_blob", "blob", "dec", "neg", "huge", "ubig",
		"iv", "uuid", "nan", "million", "enum", "un", "ws", "nothing"}
	wantText := []string{`[1,2]`, `{"a":1,"b":"x"}`, `{"k":["2026-01-02T00:00:00Z"]}`, `2026-01-02`, `12:34:56.5`,
		`2026-01-02T03:04:05.25Z`, `a<b`, `\xAA\x01`, `12.340`, `-0.05`, `170141183460469231731687303715884105727`,
		`18446744073709551615`, `1 year 2 months 1 day 00:00:03.5`, `5f3c0f6e-1b2a-4c3d-9e8f-0a1b2c3d4e5f`, `NaN`, `1000000`,
		`a`, `7`, "tab\tand\nnewline", ``}

	out, _, err := runMain(t, nil, "query", "--warehouse", wh, "--format", "csv", sql)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	for i, c := range cols {
		if recs[0][i] != c || recs[1][i] != wantText[i] {
			t.Errorf("csv column %d: %s = %q, want %s = %q", i, recs[0][i], recs[1][i], c, wantText[i])
		}
	}

	out, _, err = runMain(t, nil, "query", "--warehouse", wh, sql)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range wantText {
		if cols[i] == "ws" {
			w = `tab\tand\nnewline` // a table row stays one line
		}
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %s %s:\n%s", cols[i], w, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("table has %d lines, want a header, a row and the count:\n%s", n, out)
	}

	out, _, err = runMain(t, nil, "query", "--warehouse", wh, "--format", "json", sql)
	if err != nil {
		t.Fatalf("json: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	var got []map[string]any
	if err := dec.Decode(&got); err != nil || len(got) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	wantJSON := map[string]string{"list": `[1,2]`, "struct": `{"a":1,"b":"x"}`, "date": `"2026-01-02"`, "dec": `12.340`,
		"huge": `170141183460469231731687303715884105727`, "ubig": `18446744073709551615`, "blob": `"\\xAA\\x01"`,
		"nan": `"NaN"`, "million": `1000000`, "nothing": `null`, "uuid": `"5f3c0f6e-1b2a-4c3d-9e8f-0a1b2c3d4e5f"`}
	for c, w := range wantJSON {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(got[0][c])
		if g := strings.TrimSpace(b.String()); g != w {
			t.Errorf("json %s = %s, want %s", c, g, w)
		}
	}
	if i, j := strings.Index(out, `"list"`), strings.Index(out, `"nothing"`); i < 0 || j < i {
		t.Errorf("json objects do not keep the columns' order:\n%s", out)
	}
}
