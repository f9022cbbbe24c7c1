package report_test

import (
	"path/filepath"
	"testing"

	"github.com/gamepulse/gamepulse/internal/report/reporttest"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
)

func openDuckDB(tb testing.TB) *duckdb.Warehouse {
	tb.Helper()
	d, err := duckdb.Open(filepath.Join(tb.TempDir(), "w.duckdb"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func TestReconcile(t *testing.T) { reporttest.Reconcile(t, openDuckDB(t)) }
