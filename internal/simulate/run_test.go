package simulate

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// memSink keeps what it is sent; it refuses malformed items like a gateway.
type memSink struct {
	mu      sync.Mutex
	items   []Item
	batches []int
	failAt  int // fail the n-th Send (1-based); 0: never
	block   bool
}

func (m *memSink) Send(ctx context.Context, items []Item) (int, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches = append(m.batches, len(items))
	if len(m.batches) == m.failAt {
		return 0, 0, errors.New("boom")
	}
	if m.block {
		<-ctx.Done()
		return 0, 0, ctx.Err()
	}
	rej := 0
	for _, it := range items {
		if it.Kind == KindMalformed {
			rej++
		}
	}
	m.items = append(m.items, items...)
	return len(items) - rej, rej, nil
}

func (m *memSink) Close(context.Context) error { return nil }

func TestRunCount(t *testing.T) {
	g := newGen(t, faultyConfig(1, 1))
	sink := &memSink{}
	var progress []Stats
	st, err := Run(context.Background(), g, sink, RunOptions{Count: 5000, BatchSize: 64,
		Progress: func(s Stats) { progress = append(progress, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Generated() < 5000 || st.Generated() != int64(len(sink.items)) || st.Sent != st.Generated() {
		t.Fatalf("stats %v, sink got %d", st, len(sink.items))
	}
	if st.Accepted+st.Rejected != st.Sent || st.Rejected != st.Malformed || st.Failed != 0 {
		t.Fatalf("stats %v", st)
	}
	if len(progress) == 0 || progress[len(progress)-1] != st {
		t.Fatalf("last progress %v, stats %v", progress, st)
	}
	for _, n := range sink.batches {
		if n > 64 {
			t.Fatalf("batch of %d", n)
		}
	}
	// The drained late events close every seq gap: same check as for the
	// generator alone.
	seqs := map[string]map[uint64]bool{}
	for _, it := range sink.items {
		if it.Kind == KindMalformed || it.Kind == KindDuplicate || it.Event.SessionId == "" {
			continue
		}
		if seqs[it.Event.SessionId] == nil {
			seqs[it.Event.SessionId] = map[uint64]bool{}
		}
		seqs[it.Event.SessionId][it.Event.Seq] = true
	}
	for id, s := range seqs {
		for q := uint64(1); q <= uint64(len(s)); q++ {
			if !s[q] {
				t.Fatalf("session %s misses seq %d", id, q)
			}
		}
	}
}

func TestRunPaced(t *testing.T) {
	// 300 items at 1,000/s take ~0.3 s; client_time follows the wall clock.
	start := time.Now()
	g := newGen(t, Config{Seed: 2, Start: start, Rate: 1000})
	sink := &memSink{}
	st, err := Run(context.Background(), g, sink, RunOptions{Rate: 1000, Count: 300, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if el < 280*time.Millisecond || el > 3*time.Second {
		t.Fatalf("300 items at 1000/s took %s", el)
	}
	if st.Generated() != 300 {
		t.Fatalf("generated %d", st.Generated())
	}
	for _, it := range sink.items {
		if r := event.Validate(it.Event, event.Rules{Now: time.Now(), MaxPast: time.Second, MaxFuture: 50 * time.Millisecond}); r != nil {
			t.Fatalf("paced event not near the wall clock: %s", r.Reason)
		}
	}
}

func TestRunDurationAndLinger(t *testing.T) {
	g := newGen(t, Config{Seed: 3, Start: time.Now(), Rate: 20})
	sink := &memSink{}
	start := time.Now()
	st, err := Run(context.Background(), g, sink, RunOptions{Rate: 20, Duration: 500 * time.Millisecond, Linger: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 450*time.Millisecond || el > 2*time.Second {
		t.Fatalf("a 500 ms run took %s", el)
	}
	if st.Generated() < 7 || st.Generated() > 13 {
		t.Fatalf("generated %d items in 0.5 s at 20/s", st.Generated())
	}
	// Batches of 100 never fill at 20/s: the linger sends them.
	if len(sink.batches) < 3 {
		t.Fatalf("batches %v: linger did not send", sink.batches)
	}
}

func TestRunCancel(t *testing.T) {
	g := newGen(t, Config{Seed: 4, Start: time.Now(), Rate: 100})
	sink := &memSink{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	st, err := Run(ctx, g, sink, RunOptions{Rate: 100})
	if err != nil {
		t.Fatalf("cancel is a normal stop, got %v", err)
	}
	if st.Generated() == 0 || st.Sent != st.Generated() {
		t.Fatalf("stats after cancel: %v (the last batch must be flushed)", st)
	}
}

func TestRunSinkError(t *testing.T) {
	g := newGen(t, Config{Seed: 5, Start: testStart})
	sink := &memSink{failAt: 3}
	st, err := Run(context.Background(), g, sink, RunOptions{Count: 1000, BatchSize: 10})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("err = %v", err)
	}
	if st.Failed != 10 || st.Sent != 30 || st.Batches != 3 {
		t.Fatalf("stats %v", st)
	}
}

func TestRunCancelDuringSend(t *testing.T) {
	g := newGen(t, Config{Seed: 6, Start: testStart})
	sink := &memSink{block: true}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	st, err := Run(ctx, g, sink, RunOptions{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > finalGrace+time.Second || st.Failed == 0 {
		t.Fatalf("stats %v after %s", st, time.Since(start))
	}
}

func TestRunFileSinkEndToEnd(t *testing.T) {
	var buf bytes.Buffer
	g := newGen(t, faultyConfig(8, 100))
	st, err := Run(context.Background(), g, NewFileSink(&buf), RunOptions{Count: 2000})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := event.DecodeBatch(event.FormatNDJSON, buf.Bytes(), event.Limits{})
	if err != nil || int64(len(dec)) != st.Generated() {
		t.Fatalf("%d lines, %v; stats %v", len(dec), err, st)
	}
}
