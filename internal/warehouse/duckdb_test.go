package warehouse_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/warehousetest"
)

func openDuckDB(tb testing.TB) *warehouse.DuckDB {
	tb.Helper()
	d, err := warehouse.OpenDuckDB(filepath.Join(tb.TempDir(), "w.duckdb"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

func TestDuckDBSink(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) warehouse.Sink { return openDuckDB(t) })
}

// BenchmarkApplyEvents measures rows/s of events batches into a DuckDB file.
func BenchmarkApplyEvents(b *testing.B) {
	const rows = 50_000
	d := openDuckDB(b)
	ctx := context.Background()
	if err := d.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	batch := warehousetest.Events(0, 0, rows)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch.Events {
			batch.Events[j].Pos.Offset = int64(i*rows + j)
		}
		batch.Offsets[0].Next = int64((i + 1) * rows)
		if err := d.Apply(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
