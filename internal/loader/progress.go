package loader

import (
	"context"
	"log/slog"
	"time"
)

// LogProgress logs an info line every period until ctx ends: rows/s by
// table since the previous line, rows in all, consumer lag and freshness.
func (l *Loader) LogProgress(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	prev, at := l.Stats(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			cur := l.Stats()
			l.log.Info("loader progress", progressAttrs(prev, cur, now.Sub(at))...)
			prev, at = cur, now
		}
	}
}

// progressAttrs describes the progress from prev to cur, elapsed apart.
func progressAttrs(prev, cur Stats, elapsed time.Duration) []any {
	rates := make([]any, 0, 2*len(Tables))
	for i, t := range Tables {
		r := 0.0
		if elapsed > 0 {
			r = float64(cur.ByTable[i]-prev.ByTable[i]) / elapsed.Seconds()
		}
		rates = append(rates, t, float64(int64(r*10+0.5))/10)
	}
	lag := any(cur.Lag)
	if cur.Lag < 0 {
		lag = "unknown"
	}
	fresh := any("none yet")
	if !cur.LastApplied.IsZero() {
		fresh = cur.Freshness.Round(time.Millisecond)
	}
	return []any{slog.Group("rows_per_second", rates...), "rows", cur.Rows, "lag", lag, "freshness", fresh}
}
