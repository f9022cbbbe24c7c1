package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"
)

// idlePoll bounds how long a poll waits, so that timers (Flush) run while
// no records arrive.
const idlePoll = 200 * time.Millisecond

// Run processes until ctx is done. In exactly-once mode, a transaction open
// when ctx ends is aborted and its input is processed again by whoever owns
// the partition next.
func (p *Engine) Run(ctx context.Context) error {
	if p.cfg.Delivery == AtLeastOnce {
		return p.runAtLeastOnce(ctx)
	}
	sess, err := kgo.NewGroupTransactSession(p.clientOpts()...)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	cl := sess.Client()
	crashed := false
	defer func() {
		if crashed {
			cl.Close() // like kill -9: the open transaction is left to be fenced
			return
		}
		sess.Close()
	}()
	adm := kadm.NewClient(cl)
	for ctx.Err() == nil {
		t0 := time.Now()
		fs := p.poll(ctx, func(pctx context.Context) kgo.Fetches { return sess.PollRecords(pctx, p.cfg.MaxPollRecords) })
		if fs.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		if err := p.fetchErr(fs); err != nil {
			return err
		}
		tPoll := time.Since(t0)
		out, err := p.process(ctx, adm, cl, fs)
		if err != nil {
			p.dropTasks()
			if ctx.Err() != nil {
				return nil // stopped during a restore or a poll's processing: nothing was produced
			}
			return err
		}
		if fs.NumRecords() == 0 && len(out.recs) == 0 {
			continue // nothing to commit: an empty transaction would cost a round trip or more
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("engine: begin transaction: %w", err)
		}
		var perr error
		var mu sync.Mutex
		for _, r := range out.recs {
			sess.Produce(ctx, r, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					perr = errors.Join(perr, err)
					mu.Unlock()
				}
			})
		}
		p.m.produced.Add(float64(len(out.recs)))
		if p.testHook != nil && p.testHook("produced") {
			crashed = true
			return nil
		}
		start := time.Now()
		// Wait for every output before deciding: franz-go's End commits
		// whatever was produced even when some produce failed (unlike
		// Java's producer), which would commit the offsets without those
		// outputs or changelog records, and lose them.
		if err := cl.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				p.abort(ctx, sess, "shutdown")
				return nil
			}
			return fmt.Errorf("engine: flush: %w", err)
		}
		mu.Lock()
		failed := perr
		mu.Unlock()
		if failed != nil {
			p.log.Warn("a produce failed; aborting the transaction, its input is processed again", "err", failed)
			p.abort(ctx, sess, "produce")
			continue
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		p.m.commitSeconds.Observe(time.Since(start).Seconds())
		p.log.Debug("transaction ended", "committed", committed, "records", fs.NumRecords(), "outputs", len(out.recs),
			"poll", tPoll, "process", start.Sub(t0)-tPoll, "end", time.Since(start))
		switch {
		case err != nil:
			p.m.aborts.WithLabelValues("end_error").Inc()
			p.dropTasks()
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("transaction failed; state is rebuilt from the changelog", "err", err)
			// franz-go leaves the client in its transaction when End fails
			// (the outcome may be unconfirmed) and documents a TryAbort as
			// the way out; without it the next Begin fails with "already
			// in a transaction" and the instance stops (seen when a zombie
			// is fenced while the machine is loaded).
			p.heal(ctx, sess)
		case !committed:
			p.log.Warn("transaction aborted: the group rebalanced or this instance was fenced; its input is processed again by the partitions' owner")
			p.m.aborts.WithLabelValues("rebalance").Inc()
			p.dropTasks()
		default:
			p.m.commits.Inc()
		}
	}
	return nil
}

// heal ends a transaction that a failed End left open, with TryAbort.
func (p *Engine) heal(ctx context.Context, sess *kgo.GroupTransactSession) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := sess.End(actx, kgo.TryAbort); err != nil {
		p.log.Warn("abort after a failed end failed", "err", err)
	}
}

func (p *Engine) abort(ctx context.Context, sess *kgo.GroupTransactSession, reason string) {
	p.m.aborts.WithLabelValues(reason).Inc()
	p.dropTasks()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := sess.End(actx, kgo.TryAbort); err != nil {
		p.log.Warn("abort failed", "err", err)
	}
}

// poll waits at most idlePoll for records.
func (p *Engine) poll(ctx context.Context, fn func(context.Context) kgo.Fetches) kgo.Fetches {
	pctx, cancel := context.WithTimeout(ctx, idlePoll)
	defer cancel()
	return fn(pctx)
}

// fetchErr returns the fetch errors that stop the processor: authorization
// failures, which no retry will cure. Others (a broker that cannot be
// dialed, a group join that failed) are logged; franz-go retries them.
func (p *Engine) fetchErr(fs kgo.Fetches) error {
	var fatal error
	fs.EachError(func(t string, part int32, e error) {
		if errors.Is(e, context.DeadlineExceeded) || errors.Is(e, context.Canceled) {
			return
		}
		var ke *kerr.Error
		if errors.As(e, &ke) && (ke == kerr.TopicAuthorizationFailed || ke == kerr.GroupAuthorizationFailed ||
			ke == kerr.TransactionalIDAuthorizationFailed || ke == kerr.ClusterAuthorizationFailed) {
			fatal = errors.Join(fatal, fmt.Errorf("fetch %s/%d: %w", t, part, e))
			return
		}
		p.log.Warn("fetch failed; retrying", "topic", t, "partition", part, "err", e)
	})
	return fatal
}

// process runs the poll's records through their partitions' tasks, one
// goroutine per partition, and then flushes every assigned task. Outputs are
// gathered in partition order.
func (p *Engine) process(ctx context.Context, adm *kadm.Client, cl *kgo.Client, fs kgo.Fetches) (*Outputs, error) {
	byPart := map[int32][]*kgo.Record{}
	fs.EachRecord(func(r *kgo.Record) { byPart[r.Partition] = append(byPart[r.Partition], r) })
	p.mu.Lock()
	parts := make([]int32, 0, len(p.assigned))
	for part := range p.assigned {
		parts = append(parts, part)
	}
	p.mu.Unlock()
	for part := range byPart { // records can arrive before the assignment callback is seen
		if !contains(parts, part) {
			parts = append(parts, part)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	outs := make([]Outputs, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	now := time.Now()
	for i, part := range parts {
		g.Go(func() error {
			t, err := p.task(gctx, adm, cl, part)
			if err != nil {
				return err
			}
			for _, r := range byPart[part] {
				if err := t.Process(r, &outs[i]); err != nil {
					return fmt.Errorf("partition %d offset %d: %w", part, r.Offset, err)
				}
			}
			return t.Flush(now, &outs[i])
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	n := 0
	for _, recs := range byPart {
		n += len(recs)
	}
	p.m.consumed.Add(float64(n))
	p.mu.Lock()
	p.m.tasks.Set(float64(len(p.tasks)))
	p.mu.Unlock()
	all := &Outputs{}
	for i := range outs {
		all.recs = append(all.recs, outs[i].recs...)
	}
	return all, nil
}

func contains(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// runAtLeastOnce processes without transactions: outputs are produced and
// acknowledged, then the offsets are committed. A crash in between repeats
// outputs. It exists to measure what exactly-once costs.
func (p *Engine) runAtLeastOnce(ctx context.Context) error {
	cl, err := kgo.NewClient(p.clientOpts()...)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for ctx.Err() == nil {
		fs := p.poll(ctx, func(pctx context.Context) kgo.Fetches { return cl.PollRecords(pctx, p.cfg.MaxPollRecords) })
		if fs.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		if err := p.fetchErr(fs); err != nil {
			return err
		}
		out, err := p.process(ctx, adm, cl, fs)
		if err != nil {
			p.dropTasks()
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := cl.ProduceSync(ctx, out.recs...).FirstErr(); err != nil {
			p.dropTasks()
			if ctx.Err() != nil {
				return nil // shutting down: the offsets are not committed, the outputs may repeat
			}
			return fmt.Errorf("engine: produce: %w", err)
		}
		p.m.produced.Add(float64(len(out.recs)))
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("offset commit failed; outputs may repeat", "err", err)
		}
	}
	return nil
}
