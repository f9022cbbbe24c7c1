package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
	"github.com/gamepulse/gamepulse/internal/pipeline"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// DemoCommand is "gamepulse demo" (the whole pipeline in one process, on embedded defaults).
type DemoCommand struct{}

func (*DemoCommand) Name() string { return "demo" }
func (*DemoCommand) Summary() string {
	return "the whole pipeline in one process, on embedded defaults"
}
func (*DemoCommand) Usage() string {
	return `Usage: gamepulse demo [--duration D] [--rate R] [--listen ADDR] [--metrics-listen ADDR]

Starts, in this process: the embedded Kafka-protocol broker (state in
--data-dir), the ingest gateway (on --listen), the stream processor, the
warehouse loader (into --warehouse), reconcile every --reconcile-every, one
admin address on loopback for the live page and /metrics of all of them
(--metrics-listen, default 127.0.0.1:9100), and the game simulator sending to
the gateway over HTTP, with a few duplicated, late and malformed events so
that the rejections show. A status line shows events/s accepted and rejected,
totals, the raw topic's end offset, the processor's progress and the rows
loaded. Ctrl-C (or --duration) stops everything cleanly: the simulator stops,
the gateway stops accepting, and the processor and the loader finish what is
in Kafka (at most --drain-timeout), so the warehouse's KPIs agree with its
events. A second Ctrl-C stops at once.

While it runs, try the gateway yourself (the demo prints a key):
  curl -s -H 'Authorization: Bearer demo-gem-garden' -H 'Content-Type: application/json' \
    -d '[{"event_id":"x1","event_type":"login","player_id":"me","session_id":"s1","seq":1,"client_time":"<now, RFC 3339>"}]' \
    http://127.0.0.1:8080/v1/events

Fault switches make the live page's alerts fire and clear: --kafka-outage 30s
(the broker refuses everything for 30 s) and --stall-loader 60s (the loader
does nothing for a minute), both --faults-after the start.

Examples:
  go run ./cmd/gamepulse demo --duration 30s
  go run ./cmd/gamepulse demo --kafka-outage 60s --stall-loader 60s --faults-after 45s`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *DemoCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	tf := o.addTopics()
	gf := addGatewayFlags(fs, false)
	af := addAdminFlags(fs, "127.0.0.1:9100", true)
	sf := addSimulateFlags(fs, false)
	pf := addProcessFlags(fs, tf)
	lc := addLoadFlags(fs)
	fs.Lookup("instance-id").DefValue, pf.cfg.InstanceID = "demo", "demo"
	// KPI rows appear allowed-lateness after their minute ends: 10 s
	// shows them soon, and the simulator's late events then show as
	// corrections.
	fs.Lookup("allowed-lateness").DefValue, pf.cfg.Jobs.AllowedLateness = "10s", 10*time.Second
	dataDir := fs.String("data-dir", "data/demo", "directory for the embedded broker's state; empty keeps it in memory")
	faultsAfter := fs.Duration("faults-after", time.Minute, "when the fault switches below act, after the demo starts")
	kafkaOutage := fs.Duration("kafka-outage", 0, "fault switch: the embedded broker refuses every request for this long (the gateway answers 503; alerts fire on the live page, then clear); 0: none")
	stallLoader := fs.Duration("stall-loader", 0, "fault switch: the loader reads and applies nothing for this long (freshness and lag grow; alerts fire, then clear); 0: none")
	drainTimeout := fs.Duration("drain-timeout", time.Minute, "on a clean stop, how long the processor and the loader may take to finish what is in Kafka")
	reconcileEvery := fs.Duration("reconcile-every", time.Minute, "reconcile the KPI tables with the events table this often (see gamepulse reconcile); 0: never")
	brokerListen := fs.String("broker-listen", "127.0.0.1:0", "embedded broker address (port 0 picks a free one)")
	fs.Lookup("listen").DefValue, gf.cfg.Listen = "127.0.0.1:8080", "127.0.0.1:8080"
	fs.Lookup("rate").DefValue, sf.rate = "500", 500
	fs.Lookup("duplicates").DefValue, sf.duplicates = "0.01", 0.01
	fs.Lookup("late").DefValue, sf.late = "0.02", 0.02
	fs.Lookup("malformed").DefValue, sf.malformed = "0.005", 0.005
	fs.Lookup("partitions").DefValue, tf.partitions = "4", 4
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	if gf.cfg.MaxFuture > pf.cfg.Jobs.MaxFuture { // what the gateway accepts, the processor must not refuse
		pf.cfg.Jobs.MaxFuture = gf.cfg.MaxFuture
	}

	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: *brokerListen, DataDir: *dataDir, SyncWrites: true}, log)
	if err != nil {
		return err
	}
	defer b.Close()
	kc := kafka.Config{Brokers: b.Addrs(), ClientID: "gamepulse-demo"}

	keys := map[string]string{}
	var pairs []string
	for _, g := range simulate.DefaultGames() {
		keys["demo-"+g.ID] = g.ID
		pairs = append(pairs, "demo-"+g.ID+"="+g.ID)
	}
	gf.keys = strings.Join(pairs, ",")
	cfg, err := gf.config(topics.Raw)
	if err != nil {
		return err
	}

	reg := newRegistry()
	// The parts do not stop when ctx ends but one after the other once
	// the simulator has (drainDemo); a failure stops them all.
	base, stopAll := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAll()
	g, gctx := errgroup.WithContext(base)
	runCtx, stopRun := context.WithCancel(gctx) // the status line, reconcile and fault switches
	defer stopRun()
	adminAddr, err := serveAdmin(runCtx, g, af, reg, log) // up until the drain is over
	if err != nil {
		return err
	}
	gwPart, procPart, loadPart := newComponent(gctx), newComponent(gctx), newComponent(gctx)
	gw, err := startGateway(gwPart.ctx, gwPart.g, cfg, kc, topics, gf.grace, reg, log)
	if err != nil {
		return err
	}
	gwPart.joinTo(g)
	proc, err := startProcessor(procPart.ctx, procPart.g, pf, kc, topics, reg, log)
	if err != nil {
		return err
	}
	procPart.joinTo(g)
	ld, wh, err := startLoader(loadPart.ctx, loadPart.g, lc, kc, topics, reg, log)
	if err != nil {
		return err
	}
	loadPart.joinTo(g)
	if *reconcileEvery > 0 {
		m := newReconcileMetrics(reg)
		g.Go(func() error {
			reconcileLoop(runCtx, wh, *reconcileEvery, func(now time.Time) (time.Time, time.Time, error) {
				return now.Add(-30*time.Second - 2*time.Hour), now.Add(-30 * time.Second), nil // the demo closes minutes 10 s late
			}, m, 10, log.With("component", "reconcile"))
			return nil
		})
	}
	if *kafkaOutage > 0 || *stallLoader > 0 {
		g.Go(func() error {
			select {
			case <-runCtx.Done():
				return nil
			case <-time.After(*faultsAfter):
			}
			if *kafkaOutage > 0 {
				log.Warn("fault switch: Kafka outage", "for", *kafkaOutage)
				b.Outage(*kafkaOutage)
			}
			if *stallLoader > 0 {
				log.Warn("fault switch: loader stalled", "for", *stallLoader)
				ld.Stall(*stallLoader)
			}
			return nil
		})
	}
	url := "http://" + gw.Addr
	live := "off (--metrics-listen is empty)"
	if adminAddr != "" {
		live = fmt.Sprintf("http://%s/  (the pipeline's live page: throughput, lag, freshness, game KPIs, alerts; metrics at http://%s/metrics)", adminAddr, adminAddr)
	}
	fmt.Fprintf(env.Stderr, "gamepulse demo\n  live     %s\n  broker   %s (data in %s)\n  gateway  %s  (POST /v1/events, /healthz, /readyz)\n  api key  demo-gem-garden (one per game: %s)\n\n",
		live, strings.Join(b.Addrs(), ","), orMemory(*dataDir), url, strings.Join(pairs, " "))

	sf.gateway, sf.apiKey = url, strings.Join(pairs, ",")
	sf.retries, sf.retryWait = math.MaxInt32, 2*time.Second // through a --kafka-outage
	sink, err := sf.httpSink(log.With("component", "simulate"))
	if err != nil {
		return err
	}
	var last atomic.Pointer[simulate.Stats]
	status := newDemoStatus(env.Stderr, kc, topics, proc.Stats(), log)
	status.loader = ld
	simCtx, stopSim := context.WithCancel(runCtx) // ends on Ctrl-C too
	defer context.AfterFunc(ctx, stopSim)()
	g.Go(func() error {
		defer stopRun() // the simulator's end ends the demo, after the drain
		gen, err := sf.generator()
		if err != nil {
			return err
		}
		_, err = simulate.Run(simCtx, gen, sink, simulate.RunOptions{
			Rate: sf.rate, Count: sf.count, Duration: sf.duration, BatchSize: sf.batch,
			Progress: func(st simulate.Stats) { last.Store(&st) },
		})
		drainDemo(gctx, *drainTimeout, gwPart, procPart, loadPart, proc, ld, log)
		return err
	})
	g.Go(func() error { return status.run(runCtx, &last) })
	err = g.Wait()
	status.final(kc, &last)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func orMemory(dir string) string {
	if dir == "" {
		return "memory"
	}
	return dir
}

// demoStatus prints the demo's status line once a second.
type demoStatus struct {
	p      *progress
	adm    *kadm.Client
	cl     *kgo.Client
	topics kafka.Topics
	proc   *pipeline.Stats
	loader *loader.Loader
	log    *slog.Logger

	prev      simulate.Stats
	prevProcd int64
	prevTime  time.Time
}

func newDemoStatus(w io.Writer, kc kafka.Config, topics kafka.Topics, proc *pipeline.Stats, log *slog.Logger) *demoStatus {
	s := &demoStatus{p: newProgress(w), topics: topics, proc: proc, log: log, prevTime: time.Now()}
	if cl, err := newKafkaClient(kc, nil, log); err == nil {
		s.cl, s.adm = cl, kadm.NewClient(cl)
	}
	return s
}

func (s *demoStatus) run(ctx context.Context, last *atomic.Pointer[simulate.Stats]) error {
	defer func() {
		if s.cl != nil {
			s.cl.Close()
		}
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.print(ctx, last)
		}
	}
}

func (s *demoStatus) print(ctx context.Context, last *atomic.Pointer[simulate.Stats]) {
	st := last.Load()
	if st == nil {
		return
	}
	now := time.Now()
	secs := now.Sub(s.prevTime).Seconds()
	accRate := float64(st.Accepted-s.prev.Accepted) / secs
	rejRate := float64(st.Rejected-s.prev.Rejected) / secs
	procd := s.proc.Accepted.Load() + s.proc.DeadLetters.Load() + s.proc.Duplicates.Load()
	procRate := float64(procd-s.prevProcd) / secs
	s.prev, s.prevTime, s.prevProcd = *st, now, procd
	offsets := "?"
	if s.adm != nil {
		octx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		if ends, err := kafka.EndOffsets(octx, s.adm, s.topics.Raw); err == nil {
			offsets = fmt.Sprint(ends[s.topics.Raw])
		}
		cancel()
	}
	delay := "-"
	if wm, ok := s.proc.Watermark(); ok {
		delay = now.Sub(wm).Round(time.Second).String()
	}
	load := ""
	if s.loader != nil {
		ls := s.loader.Stats()
		load = fmt.Sprintf(" | warehouse: %d rows, freshness %s", ls.Rows, ls.Freshness.Round(10*time.Millisecond))
	}
	s.p.line(fmt.Sprintf("gateway: accepted %5.0f ev/s, rejected %3.0f ev/s (total %d/%d, raw offset %s) | processor: %5.0f ev/s, watermark delay %s, late %d, dead-lettered %d, dups %d, kpi rows %d%s",
		accRate, rejRate, st.Accepted, st.Rejected, offsets, procRate, delay, s.proc.Late.Load(), s.proc.DeadLetters.Load(), s.proc.Duplicates.Load(), s.proc.Results.Load(), load))
}

func (s *demoStatus) final(kc kafka.Config, last *atomic.Pointer[simulate.Stats]) {
	s.p.done()
	st := last.Load()
	if st == nil {
		return
	}
	fmt.Fprintf(s.p.w, "demo finished: %s\n", st.String())
	if cl, err := newKafkaClient(kc, nil, nil); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if ends, err := kafka.EndOffsets(ctx, kadm.NewClient(cl), s.topics.Raw); err == nil {
			fmt.Fprintf(s.p.w, "raw topic %s holds %d events in all (this run accepted %d)\n", s.topics.Raw, ends[s.topics.Raw], st.Accepted)
		}
		cancel()
		cl.Close()
	}
}
