package main

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/loader"
	"github.com/gamepulse/gamepulse/internal/pipeline"
)

// component is a part of the demo that stops on its own signal, so that a
// drain can stop the parts one after the other. Its goroutines run in their
// own group; a failure there fails the demo's group, which stops every part.
type component struct {
	ctx  context.Context // the component's goroutines run until it ends
	g    *errgroup.Group
	stop context.CancelFunc
	done chan struct{} // closed when every goroutine of g returned
}

func newComponent(parent context.Context) *component {
	ctx, stop := context.WithCancel(parent)
	g, gctx := errgroup.WithContext(ctx)
	return &component{ctx: gctx, g: g, stop: stop, done: make(chan struct{})}
}

// joinTo waits for the component's goroutines in main; call it once they
// are all started.
func (c *component) joinTo(main *errgroup.Group) {
	main.Go(func() error {
		defer close(c.done)
		defer c.stop()
		return c.g.Wait()
	})
}

// stopAndWait stops the component and waits for it, or for ctx.
func (c *component) stopAndWait(ctx context.Context) {
	c.stop()
	select {
	case <-c.done:
	case <-ctx.Done():
	}
}

// drainDemo stops the demo's parts in the order data flows once the
// simulator has stopped: the gateway stops accepting and flushes what it
// accepted into Kafka; the processor processes everything in its input
// (the windows the last events close emitted, their corrections too), then
// stops; the loader applies everything in its topics, then stops. So the
// warehouse's KPI rows agree with its events after a clean stop. The whole
// drain takes at most timeout; past it, or when ctx ends (a failure), the
// parts still running stop at once.
func drainDemo(ctx context.Context, timeout time.Duration, gw, proc, load *component,
	p *pipeline.Pipeline, ld *loader.Loader, log *slog.Logger) {
	if ctx.Err() != nil { // a part failed: everything stops at once
		return
	}
	start := time.Now()
	log.Info("draining: the gateway stops, the processor and the loader finish what is in Kafka", "timeout", timeout)
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() { // whatever happened, nothing runs past the drain
		gw.stop()
		proc.stop()
		load.stop()
	}()
	gw.stopAndWait(dctx)
	if err := p.Drain(dctx); err != nil {
		log.Warn("drain incomplete: the processor stops with records left in its input", "after", time.Since(start).Round(time.Millisecond), "err", err)
		return
	}
	proc.stopAndWait(dctx)
	if err := ld.Drain(dctx); err != nil {
		log.Warn("drain incomplete: the loader stops with records left in its topics", "after", time.Since(start).Round(time.Millisecond), "err", err)
		return
	}
	load.stopAndWait(dctx)
	log.Info("drained", "took", time.Since(start).Round(time.Millisecond))
}
