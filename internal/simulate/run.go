package simulate

import (
	"context"
	"fmt"
	"math"
	"time"
)

// RunOptions tune Run. Zero fields take the documented defaults.
type RunOptions struct {
	// Rate is the pace in items per second of wall time; 0 sends as fast
	// as the sink takes them. Item i is due at start + i/Rate: after a
	// stall (a slow sink) Run catches up, so with Config.Rate == Rate and
	// Config.Start = now the simulated clock keeps tracking the wall
	// clock.
	Rate float64
	// Count stops the run after this many items from Generator.Next
	// (0: no limit). The held items drained at the end come on top.
	Count int64
	// Duration stops the run after this much wall time (0: no limit).
	Duration time.Duration
	// BatchSize is the number of items per Send; default 100.
	BatchSize int
	// Linger is the longest a partly filled batch waits for more items
	// when paced; default 1 s.
	Linger time.Duration
	// Progress, if set, is called about once a second and once at the end,
	// on Run's goroutine.
	Progress func(Stats)
}

// Stats count what a run did: the ground truth of what was generated and
// what the sink reported.
type Stats struct {
	// Items generated, by kind (drained held items included).
	Normal, Duplicate, Late, Malformed int64
	// Sent items were handed to the sink; of those the receiver
	// Accepted or Rejected some, and Failed are those of a failed Send
	// that it did not account for (their fate is unknown).
	Sent, Accepted, Rejected, Failed int64
	Batches                          int64
	// Retries are requests the sink sent again (after 429/503, a
	// network error...); 0 for sinks that do not retry.
	Retries int64
	Elapsed time.Duration
}

// Generated returns the number of items generated.
func (s Stats) Generated() int64 { return s.Normal + s.Duplicate + s.Late + s.Malformed }

func (s *Stats) count(k Kind) {
	switch k {
	case KindNormal:
		s.Normal++
	case KindDuplicate:
		s.Duplicate++
	case KindLate:
		s.Late++
	case KindMalformed:
		s.Malformed++
	}
}

// String is a one-line summary for progress output.
func (s Stats) String() string {
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Generated()) / s.Elapsed.Seconds()
	}
	return fmt.Sprintf("generated=%d (normal=%d duplicate=%d late=%d malformed=%d) sent=%d accepted=%d rejected=%d failed=%d batches=%d retries=%d elapsed=%s rate=%.0f/s",
		s.Generated(), s.Normal, s.Duplicate, s.Late, s.Malformed, s.Sent, s.Accepted, s.Rejected, s.Failed,
		s.Batches, s.Retries, s.Elapsed.Round(time.Millisecond), rate)
}

// finalGrace bounds the last flush after ctx is cancelled.
const finalGrace = 5 * time.Second

// Run takes items from g and sends them to sink in batches until ctx is
// cancelled, Count items were generated or Duration has passed. Then it
// drains the generator's held items (late events and duplicates not yet due,
// so that no event is lost) and sends them with the last batch; after a
// cancellation that last flush gets 5 s of its own. A cancellation is a
// normal stop: Run returns nil. It returns the first error of the sink and
// does not call sink.Close.
func Run(ctx context.Context, g *Generator, sink Sink, opts RunOptions) (Stats, error) {
	if opts.BatchSize == 0 {
		opts.BatchSize = 100
	}
	if opts.Linger == 0 {
		opts.Linger = time.Second
	}
	if opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) || opts.Count < 0 ||
		opts.Duration < 0 || opts.BatchSize < 0 || opts.Linger < 0 {
		return Stats{}, fmt.Errorf("simulate: run: invalid options %+v", opts)
	}
	r := &runner{g: g, sink: sink, opts: opts, start: time.Now()}
	r.batch = make([]Item, 0, opts.BatchSize)
	r.nextProgress = r.start.Add(time.Second)
	if opts.Duration > 0 {
		r.deadline = r.start.Add(opts.Duration)
	}
	err := r.loop(ctx)
	if err == nil || ctx.Err() != nil {
		err = r.finish(ctx)
	}
	r.stats.Elapsed = time.Since(r.start)
	if opts.Progress != nil {
		opts.Progress(r.stats)
	}
	return r.stats, err
}

type runner struct {
	g            *Generator
	sink         Sink
	opts         RunOptions
	stats        Stats
	batch        []Item
	batchAt      time.Time
	start        time.Time
	deadline     time.Time // zero: none
	nextProgress time.Time
}

// loop generates and sends until a stop condition; it returns nil on a
// normal stop (cancellation included).
func (r *runner) loop(ctx context.Context) error {
	for i := int64(0); r.opts.Count == 0 || i < r.opts.Count; i++ {
		if r.opts.Rate > 0 {
			due := r.start.Add(time.Duration(float64(i) / r.opts.Rate * 1e9))
			stop, err := r.waitUntil(ctx, due)
			if stop || err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		now := time.Now()
		if r.past(now) {
			return nil
		}
		it := r.g.Next()
		r.stats.count(it.Kind)
		if len(r.batch) == 0 {
			r.batchAt = now
		}
		r.batch = append(r.batch, it)
		if len(r.batch) >= r.opts.BatchSize {
			if err := r.send(ctx); err != nil {
				return err
			}
		}
		r.progress(now)
	}
	return nil
}

// waitUntil sleeps until due, sending a lingering batch and reporting
// progress meanwhile. stop reports cancellation or the deadline.
func (r *runner) waitUntil(ctx context.Context, due time.Time) (stop bool, err error) {
	for {
		now := time.Now()
		if !now.Before(due) {
			return false, nil
		}
		if r.past(now) {
			return true, nil
		}
		wake := due
		if len(r.batch) > 0 {
			if flushAt := r.batchAt.Add(r.opts.Linger); !now.Before(flushAt) {
				if err := r.send(ctx); err != nil {
					return true, err
				}
				continue
			} else if flushAt.Before(wake) {
				wake = flushAt
			}
		}
		if r.nextProgress.Before(wake) {
			wake = r.nextProgress
		}
		if !r.deadline.IsZero() && r.deadline.Before(wake) {
			wake = r.deadline
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return true, nil
		case <-t.C:
		}
		r.progress(time.Now())
	}
}

func (r *runner) past(now time.Time) bool { return !r.deadline.IsZero() && !now.Before(r.deadline) }

func (r *runner) progress(now time.Time) {
	if r.opts.Progress == nil || now.Before(r.nextProgress) {
		return
	}
	r.nextProgress = now.Add(time.Second)
	r.stats.Elapsed = now.Sub(r.start)
	r.opts.Progress(r.stats)
}

// finish drains the held items and sends the rest; after a cancellation it
// works under a fresh, short deadline.
func (r *runner) finish(ctx context.Context) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finalGrace)
		defer cancel()
	}
	for _, it := range r.g.Drain() {
		r.stats.count(it.Kind)
		r.batch = append(r.batch, it)
		if len(r.batch) >= r.opts.BatchSize {
			if err := r.send(ctx); err != nil {
				return err
			}
		}
	}
	if len(r.batch) > 0 {
		return r.send(ctx)
	}
	return nil
}

func (r *runner) send(ctx context.Context) error {
	n := len(r.batch)
	acc, rej, err := r.sink.Send(ctx, r.batch)
	clear(r.batch) // let the events go
	r.batch = r.batch[:0]
	r.stats.Batches++
	if rs, ok := r.sink.(interface{ Retries() int64 }); ok {
		r.stats.Retries = rs.Retries()
	}
	r.stats.Sent += int64(n)
	r.stats.Accepted += int64(acc)
	r.stats.Rejected += int64(rej)
	if err != nil {
		r.stats.Failed += int64(max(0, n-acc-rej))
		return err
	}
	return nil
}
