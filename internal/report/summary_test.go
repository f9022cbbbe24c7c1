package report_test

import (
	"testing"

	"github.com/gamepulse/gamepulse/internal/report/reporttest"
)

// TestSummaries checks the summary figures in DuckDB.
func TestSummaries(t *testing.T) {
	db := openDuckDB(t)
	reporttest.Summaries(t, db)
	var p, jt string
	db.DB().QueryRowContext(t.Context(), "SELECT CAST(payload AS VARCHAR), json_type(payload) FROM events WHERE event_type = 'level_fail' LIMIT 1").Scan(&p, &jt)
	if jt != "OBJECT" { // the Appender once stored payloads as JSON string literals
		t.Errorf("payload %s is stored as a JSON %s, want an OBJECT", p, jt)
	}
}
