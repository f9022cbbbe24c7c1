package main

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/simulate"
)

// passTracker notes, for each minute, the wall-clock moment the produced
// event times passed the minute's end + the allowed lateness: the moment
// from which an engine has every event it needs to close the minute. Only
// the simulator's ordinary events count (late ones, duplicates and
// malformed ones do not move an engine's clock forward).
type passTracker struct {
	lateness time.Duration

	mu     sync.Mutex
	max    time.Time               // the latest event time produced
	last   time.Time               // the latest minute end noted
	passed map[time.Time]time.Time // minute end → wall time it was passed
}

func newPassTracker(lateness time.Duration) *passTracker {
	return &passTracker{lateness: lateness, passed: map[time.Time]time.Time{}}
}

// observe takes items Kafka acknowledged at now.
func (p *passTracker) observe(items []simulate.Item, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, it := range items {
		if it.Kind != simulate.KindNormal || it.Event == nil {
			continue
		}
		if t := it.Event.GetClientTime().AsTime(); t.After(p.max) {
			p.max = t
		}
	}
	if p.max.IsZero() {
		return
	}
	// The latest minute end e with e + lateness ≤ max, and every one
	// after the last noted up to it. Before the first event there is
	// nothing of this run: the first observation notes e alone.
	e := p.max.Add(-p.lateness).Truncate(time.Minute)
	if p.last.IsZero() {
		p.passed[e], p.last = now, e
		return
	}
	for x := p.last.Add(time.Minute); !x.After(e); x = x.Add(time.Minute) {
		p.passed[x], p.last = now, x
	}
}

// passedAt returns a copy of the minute ends passed and when.
func (p *passTracker) passedAt() map[time.Time]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[time.Time]time.Time, len(p.passed))
	for k, v := range p.passed {
		out[k] = v
	}
	return out
}

// passSink is a simulator sink that tells a passTracker what Kafka
// acknowledged.
type passSink struct {
	simulate.Sink
	t *passTracker
}

func (s passSink) Send(ctx context.Context, items []simulate.Item) (int, int, error) {
	a, r, err := s.Sink.Send(ctx, items)
	if err == nil {
		s.t.observe(items, time.Now())
	}
	return a, r, err
}

// arrival is the first appearance of a minute KPI row.
type arrival struct {
	end time.Time // the minute's end
	at  time.Time // when a reader first got it
}

// kpiArrivals reads an engine's KPI topic and keeps, for each minute row
// (by record key), when it first arrived: a Spark micro-batch written
// again after a restart repeats rows, and the Go engine's corrections
// (version > 1) are not the result the latency is about.
type kpiArrivals struct {
	mu   sync.Mutex
	rows map[string]arrival
}

// noteRecord takes one KPI record read at now.
func (k *kpiArrivals) noteRecord(key, value []byte, now time.Time) {
	var row struct {
		Window  string    `json:"window"`
		End     time.Time `json:"end"`
		Version int64     `json:"version"`
	}
	if json.Unmarshal(value, &row) != nil || row.Window != "minute" || row.Version != 1 || row.End.IsZero() {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.rows == nil {
		k.rows = map[string]arrival{}
	}
	if _, seen := k.rows[string(key)]; !seen {
		k.rows[string(key)] = arrival{end: row.End, at: now}
	}
}

// read reads topic (read_committed) from its start until ctx ends.
func (k *kpiArrivals) read(ctx context.Context, opts []kgo.Opt, topic string) error {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(50*time.Millisecond))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) { k.noteRecord(r.Key, r.Value, now) })
	}
	return nil
}

// snapshot returns a copy of the arrivals so far.
func (k *kpiArrivals) snapshot() map[string]arrival {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]arrival, len(k.rows))
	for key, a := range k.rows {
		out[key] = a
	}
	return out
}

// missingMinutes returns how many of the minutes passed, from the first
// one with a row on, have no row yet: rows still to come.
func missingMinutes(rows map[string]arrival, passed map[time.Time]time.Time) int {
	have := map[time.Time]bool{}
	var first time.Time
	for _, a := range rows {
		have[a.end] = true
		if first.IsZero() || a.end.Before(first) {
			first = a.end
		}
	}
	if first.IsZero() {
		return len(passed)
	}
	n := 0
	for end := range passed {
		if !end.Before(first) && !have[end] {
			n++
		}
	}
	return n
}

// latencyStats are the KPI result latencies of a fixed-rate run.
type latencyStats struct {
	Rows      int     `json:"rows"`             // minute rows measured
	Minutes   int     `json:"minutes"`          // distinct minutes among them
	Unmatched int     `json:"unmatched_rows"`   // rows of a minute the produced events never passed
	P50ms     float64 `json:"p50_ms"`           //
	P99ms     float64 `json:"p99_ms"`           //
	MaxMs     float64 `json:"max_ms"`           //
	Passed    int     `json:"minutes_passed"`   // minutes the produced events passed
	Missing   int     `json:"minutes_no_rows"`  // of those (from the first with a row on), without a row
	Lateness  string  `json:"allowed_lateness"` //
}

// latencies pairs each row with the moment its minute was passed: the
// row's latency is its arrival minus that moment, in milliseconds.
func latencies(rows map[string]arrival, passed map[time.Time]time.Time) latencyStats {
	var ms []float64
	minutes := map[time.Time]bool{}
	st := latencyStats{Passed: len(passed), Missing: missingMinutes(rows, passed)}
	for _, a := range rows {
		p, ok := passed[a.end]
		if !ok {
			st.Unmatched++
			continue
		}
		ms = append(ms, float64(a.at.Sub(p).Microseconds())/1000)
		minutes[a.end] = true
	}
	sort.Float64s(ms)
	st.Rows, st.Minutes = len(ms), len(minutes)
	if len(ms) > 0 {
		st.P50ms, st.P99ms, st.MaxMs = quantile(ms, 0.5), quantile(ms, 0.99), ms[len(ms)-1]
	}
	return st
}
