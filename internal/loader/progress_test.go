package loader

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestProgressLineSaysRowsPerSecondByTableLagAndFreshness(t *testing.T) {
	prev := Stats{Rows: 100, ByTable: [len(Tables)]int64{80, 10, 6, 2, 0, 2}}
	cur := Stats{Rows: 2100, ByTable: [len(Tables)]int64{1880, 110, 86, 12, 1, 11}, Lag: 42,
		LastApplied: time.Now(), Freshness: 1234567 * time.Microsecond}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loader progress", progressAttrs(prev, cur, 10*time.Second)...)
	line := buf.String()
	for _, want := range []string{"rows_per_second.events=180 ", "rows_per_second.sessions=10 ", "rows_per_second.kpi=8 ",
		"rows_per_second.completeness=1 ", "rows_per_second.alerts=0.1 ", "rows_per_second.dead_letters=0.9 ",
		"rows=2100 ", "lag=42 ", "freshness=1.235s"} {
		if !strings.Contains(line, want) {
			t.Errorf("progress line lacks %q:\n%s", want, line)
		}
	}
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("loader progress", progressAttrs(Stats{}, Stats{Lag: -1}, time.Second)...)
	if line := buf.String(); !strings.Contains(line, "lag=unknown") || !strings.Contains(line, `freshness="none yet"`) {
		t.Errorf("before any batch and lag measure:\n%s", line)
	}
}
