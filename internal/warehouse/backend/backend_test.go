package backend_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gamepulse/gamepulse/internal/warehouse/backend"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
)

// TestOpenRejectsURLsThatNameNoWarehouse: a bad URL is a URLError, which
// names the URL and what is wrong, for the command to map to its flag.
func TestOpenRejectsURLsThatNameNoWarehouse(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"duckdb:", "want duckdb:///abs/path/file.duckdb or duckdb:rel/path/file.duckdb"},
		{"duckdb://host/w.duckdb", "want duckdb:///abs/path/file.duckdb"},
		{"postgres://db/w", `unknown scheme "postgres" (duckdb or snowflake)`},
		{"://w.duckdb", "missing protocol scheme"},
	} {
		_, err := backend.Open(t.Context(), tc.url, backend.Read)
		var ue *backend.URLError
		if !errors.As(err, &ue) || ue.URL != tc.url || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q): %v, want a URLError saying %q", tc.url, err, tc.want)
		}
	}
}

// TestOpenCreatesOnlyForWriters: load and demo create a DuckDB file (and
// its directory) and migrate it; replay and the readers need it to exist,
// and a reader opens it read-only.
func TestOpenCreatesOnlyForWriters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sub", "w.duckdb")
	for _, use := range []backend.Use{backend.Read, backend.Write} {
		if _, err := backend.Open(ctx, "duckdb://"+path, use); !errors.Is(err, duckdb.ErrNoWarehouse) {
			t.Fatalf("use %d of a missing file: %v, want ErrNoWarehouse", use, err)
		}
	}
	w, err := backend.Open(ctx, "duckdb://"+path, backend.Create)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.DB().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n == 0 {
		t.Errorf("created warehouse: %d migrations (%v), want them applied", n, err)
	}
	if got := w.Dialect().String(); got != "duckdb" {
		t.Errorf("dialect %q", got)
	}
	w.Close()

	r, err := backend.Open(ctx, "duckdb:"+path, backend.Read)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.DB().ExecContext(ctx, `DELETE FROM offsets`); err == nil {
		t.Error("a reader could write the warehouse")
	}
}
