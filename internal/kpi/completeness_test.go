package kpi

import (
	"testing"
	"time"
)

func TestCompletenessUpsertsAndExpires(t *testing.T) {
	m0 := time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC)
	a := CompletenessKey{Game: "g", Platform: "ios", Build: "1.0", Minute: m0.UnixMilli()}
	b := CompletenessKey{Game: "g", Platform: "ios", Build: "1.0", Minute: m0.Add(time.Minute).UnixMilli()}
	c := NewCompleteness(time.Hour, []CompletenessRow{{Key: a, Counts: CompletenessCounts{Gaps: 2}}})
	if c.Len() != 1 {
		t.Fatalf("restored %d rows", c.Len())
	}
	c.Add(a, CompletenessCounts{Gaps: 1, Duplicates: 3})
	c.Add(b, CompletenessCounts{OutOfOrder: 1})
	c.Add(a, CompletenessCounts{OutOfOrder: 2})
	up, exp := c.Flush(m0.Add(2*time.Minute), nil, nil)
	got := map[CompletenessKey]CompletenessCounts{}
	for _, r := range up {
		got[r.Key] = r.Counts
	}
	if len(up) != 2 || got[a] != (CompletenessCounts{Gaps: 3, Duplicates: 3, OutOfOrder: 2}) || got[b] != (CompletenessCounts{OutOfOrder: 1}) || len(exp) != 0 {
		t.Fatalf("upserts %v, expired %v", up, exp)
	}
	// Nothing touched: no upserts. Retention (1h) past a's end is 19:05.
	if up, exp = c.Flush(m0.Add(time.Hour), nil, nil); len(up) != 0 || len(exp) != 0 {
		t.Fatalf("19:04: upserts %v, expired %v", up, exp)
	}
	if _, exp = c.Flush(m0.Add(time.Hour+time.Minute), nil, nil); len(exp) != 1 || exp[0] != a || c.Len() != 1 {
		t.Fatalf("19:05: expired %v, %d rows left", exp, c.Len())
	}
	// Expiry runs once per watermark minute.
	if _, exp = c.Flush(m0.Add(time.Hour+time.Minute+30*time.Second), nil, nil); len(exp) != 0 {
		t.Fatalf("same minute: expired %v", exp)
	}
	if _, exp = c.Flush(m0.Add(time.Hour+2*time.Minute), nil, nil); len(exp) != 1 || exp[0] != b || c.Len() != 0 {
		t.Fatalf("19:06: expired %v, %d rows left", exp, c.Len())
	}
}
