package kpi

import "time"

// CompletenessKey names a completeness row: (game, platform, app build,
// minute).
type CompletenessKey struct {
	Game, Platform, Build string
	Minute                int64 // Unix milliseconds of the window start
}

// CompletenessCounts are a completeness row's counts (design rule 3): the
// sequence numbers lost, repeated and out of order.
type CompletenessCounts struct {
	Gaps, Duplicates, OutOfOrder int64
}

// Add returns the sum of c and d.
func (c CompletenessCounts) Add(d CompletenessCounts) CompletenessCounts {
	return CompletenessCounts{c.Gaps + d.Gaps, c.Duplicates + d.Duplicates, c.OutOfOrder + d.OutOfOrder}
}

// CompletenessRow is a row and its counts.
type CompletenessRow struct {
	Key    CompletenessKey
	Counts CompletenessCounts
}

// Completeness is stage 2's completeness rows of one partials partition:
// the sum of the ledger deltas every source partition sends for a row (the
// ledger itself, rule 3, is stage 1's: jobs). The rules:
//
//   - a row is upserted (emitted again, with its running counts) in the
//     transaction of every delta that touches it;
//   - a row is kept as long as a KPI row (Retention past its end) and then
//     expired, judged against the stage's global watermark once per
//     watermark minute. A delta to a row already past retention is upserted
//     and expired in the same flush (its upsert is its last word; a later
//     delta starts the row afresh), as the pipeline always did.
//
// Not safe for concurrent use: one per partials partition.
type Completeness struct {
	retention time.Duration
	rows      map[CompletenessKey]CompletenessCounts
	touched   map[CompletenessKey]bool
	expiredTo int64 // the watermark minute (Unix ms) up to which rows were expired
}

// NewCompleteness returns the rows restored from the changelog, kept
// retention past their end (MergerConfig.Retention).
func NewCompleteness(retention time.Duration, restored []CompletenessRow) *Completeness {
	c := &Completeness{retention: retention, rows: make(map[CompletenessKey]CompletenessCounts, len(restored)), touched: map[CompletenessKey]bool{}}
	for _, r := range restored {
		c.rows[r.Key] = r.Counts
	}
	return c
}

// Add adds a source's delta to a row.
func (c *Completeness) Add(k CompletenessKey, d CompletenessCounts) {
	c.rows[k] = c.rows[k].Add(d)
	c.touched[k] = true
}

// Len returns the number of rows held.
func (c *Completeness) Len() int { return len(c.rows) }

// Flush returns, at the flush of a transaction with the stage's global
// watermark wm, the rows touched since the last Flush (appended to upserts,
// in no particular order: the caller orders them by its record key) and the
// rows that expired (appended to expired; their changelog tombstones are the
// caller's to write).
func (c *Completeness) Flush(wm time.Time, upserts []CompletenessRow, expired []CompletenessKey) ([]CompletenessRow, []CompletenessKey) {
	for k := range c.touched {
		upserts = append(upserts, CompletenessRow{Key: k, Counts: c.rows[k]})
	}
	clear(c.touched)
	if !wm.IsZero() && wm.Truncate(time.Minute).UnixMilli() > c.expiredTo {
		c.expiredTo = wm.Truncate(time.Minute).UnixMilli()
		cut := wm.Add(-c.retention - time.Minute).UnixMilli()
		for k := range c.rows {
			if k.Minute <= cut {
				delete(c.rows, k)
				expired = append(expired, k)
			}
		}
	}
	return upserts, expired
}
