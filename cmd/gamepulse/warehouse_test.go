package main

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/duckdb"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

// warehouseFile returns the path of a migrated DuckDB warehouse holding b
// (nothing when b has no offsets), closed again.
func warehouseFile(t *testing.T, b warehouse.Batch) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "warehouse.duckdb")
	w, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(b.Offsets) > 0 {
		if err := w.Apply(t.Context(), b); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// newWarehouseFile returns the path of a migrated DuckDB warehouse holding
// a few events, closed again.
func newWarehouseFile(t *testing.T) string {
	t.Helper()
	b := warehousetest.Events(0, 0, 3)
	b.Events[0].Extra = `{"device":{"os":"iOS 18"}}`
	b.KPIs = []warehouse.KPIRow{warehousetest.KPI("gem-garden", 0, 1, 2)}
	b.Offsets = append(b.Offsets, warehouse.Offset{Topic: warehousetest.TopicKPI, Partition: 0, Next: 1})
	return warehouseFile(t, b)
}

func TestReadersRefuseAMissingWarehouse(t *testing.T) {
	for _, args := range [][]string{
		{"query", "SELECT 1"},
		{"kpis"},
		{"reconcile", "--from", "2026-11-25T00:00:00Z", "--to", "2026-11-26T00:00:00Z"},
		{"replay", "--brokers", "127.0.0.1:1", "--topic", "gamepulse.events.enriched", "--from", "start"},
	} {
		t.Run(args[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "nonexistent", "dir")
			path := filepath.Join(dir, "x.duckdb")
			_, _, err := runMain(t, nil, append([]string{args[0], "--warehouse", "duckdb:" + path}, args[1:]...)...)
			if err == nil || !strings.Contains(err.Error(), "no warehouse at "+path) {
				t.Errorf("got %v, want an error saying there is no warehouse at %s", err, path)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s created %s", args[0], dir)
			}
		})
	}
}

// TestWarehouseCommandsShareOneDefault: what demo and load write is what
// query, kpis, reconcile and replay read when --warehouse is not given.
func TestWarehouseCommandsShareOneDefault(t *testing.T) {
	defaults := map[string]string{}
	for _, c := range commands() {
		fs := settingsOf(c)
		if fs == nil {
			continue
		}
		if f := fs.Lookup("warehouse"); f != nil {
			defaults[c.Name()] = f.DefValue
		}
	}
	for _, name := range []string{"demo", "load", "query", "kpis", "reconcile", "replay"} {
		if defaults[name] != defaults["demo"] || defaults[name] == "" {
			t.Errorf("%s reads or writes %q by default, demo %q", name, defaults[name], defaults["demo"])
		}
	}
}

func TestQueryOpensTheWarehouseReadOnly(t *testing.T) {
	path := newWarehouseFile(t)
	out, _, err := runMain(t, nil, "query", "--warehouse", "duckdb:"+path, "SELECT count(*) AS n FROM events")
	if err != nil || !strings.Contains(out, "3") {
		t.Fatalf("query: %v\n%s", err, out)
	}
	_, _, err = runMain(t, nil, "query", "--warehouse", "duckdb:"+path, "CREATE TABLE scratch (a INTEGER)")
	if err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("query wrote into the warehouse: %v", err)
	}
	// Readers share the file: two at once.
	other, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, _, err := runMain(t, nil, "kpis", "--warehouse", "duckdb:"+path); err != nil {
		t.Fatalf("kpis beside another reader: %v", err)
	}
}

// TestReadersExplainAWarehouseBeingWritten holds the warehouse open for
// writing in another process, as load and demo do.
func TestReadersExplainAWarehouseBeingWritten(t *testing.T) {
	path := newWarehouseFile(t)
	holder := exec.Command(os.Args[0], "-test.run=^TestHoldWarehouseForWriting$")
	holder.Env = append(os.Environ(), "GAMEPULSE_TEST_HOLD_WAREHOUSE="+path)
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	holder.Stderr = os.Stderr
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); holder.Wait() }()
	for r := bufio.NewReader(stdout); ; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("holder: %q, %v", line, err)
		}
		if line == "holding\n" {
			break
		}
	}
	for _, args := range [][]string{{"query", "SELECT 1"}, {"kpis"}} {
		_, _, err := runMain(t, nil, append([]string{args[0], "--warehouse", "duckdb:" + path}, args[1:]...)...)
		if err == nil || !strings.Contains(err.Error(), "being written by another gamepulse process (load or demo)") {
			t.Errorf("%s: got %v, want an explanation of the lock", args[0], err)
		}
	}
}

// TestHoldWarehouseForWriting is TestReadersExplainAWarehouseBeingWritten's
// other process: it opens the warehouse for writing and holds it until its
// stdin closes.
func TestHoldWarehouseForWriting(t *testing.T) {
	path := os.Getenv("GAMEPULSE_TEST_HOLD_WAREHOUSE")
	if path == "" {
		t.Skip("only run by TestReadersExplainAWarehouseBeingWritten")
	}
	w, err := duckdb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("holding\n")
	bufio.NewReader(os.Stdin).ReadString('\n') //nolint:errcheck // EOF ends the hold
}

func TestReconcileSaysWhenNothingWasCompared(t *testing.T) {
	path := warehouseFile(t, warehouse.Batch{})
	out, _, err := runMain(t, nil, "reconcile", "--warehouse", "duckdb:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "nothing compared: no KPI window closed in the range") {
		t.Fatalf("an empty warehouse reconciled without saying nothing was compared:\n%s", out)
	}
	out, _, err = runMain(t, nil, "reconcile", "--warehouse", "duckdb:"+newWarehouseFile(t), "--from", "2000-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z")
	if err != nil && !strings.Contains(err.Error(), "differences") {
		t.Fatal(err)
	}
	if strings.Contains(out, "nothing compared") {
		t.Fatalf("a warehouse with a KPI row reported nothing compared:\n%s", out)
	}
}
