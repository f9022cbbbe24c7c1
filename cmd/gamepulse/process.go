package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/engine"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline"
)

// ProcessCommand is "gamepulse process":
// stream processor: dedup, enrich, sessionize, windowed KPIs, exactly once.
type ProcessCommand struct{}

func (*ProcessCommand) Name() string { return "process" }
func (*ProcessCommand) Summary() string {
	return "stream processor: dedup, enrich, sessionize, windowed KPIs, exactly once"
}
func (*ProcessCommand) Usage() string {
	return `Usage: gamepulse process --brokers ADDRS [--instance-id ID] [flags]
       gamepulse process --engine spark --spark-remote sc://HOST:15002 --spark-checkpoint DIR|URI --brokers ADDRS [flags]

A Kafka consumer-group application in two stages, both in this process:

  stage 1 (one task per raw partition): validate (failures go to the
    dead-letter topic with the reason and the original bytes), completeness
    ledger, dedup by event_id and store transaction id, enrichment (USD
    revenue, player attributes), sessionization, per-player fraud alerts;
    writes enriched events, sessions, late events and alerts, and KPI
    partials with watermark marks to the internal partials topic.
  stage 2 (one task per partials partition): merges the partials into
    minute and hour KPI rows per game and per (game, platform, country);
    emits each row when the watermark passes its end and a correction when a
    late event changes it; completeness rows; game-level alerts.

Every poll's outputs, the state changes (compacted changelog topics) and the
consumed offsets commit in one Kafka transaction (read_committed). Run 1..N
instances with distinct, stable --instance-id values: Kafka spreads the
partitions among them, state moves with its partition, and a restarted
instance fences its previous incarnation. SIGINT/SIGTERM aborts the open
transaction and leaves the group cleanly.

The rules, defaults included, are in docs/processing.md.

With --engine spark the same jobs run as Spark Structured Streaming queries
on a Spark Connect server (Spark 4.2 with the Kafka connector): this process
starts them (each named gamepulse_<job>, checkpointed under
--spark-checkpoint), exports their progress as metrics, restarts a query
that fails, reattaches to its queries after its own restart, and stops them
on SIGINT/SIGTERM. Spark reads the raw topic in JSON: run the gateway with
--raw-encoding json. What differs from the Go engine, and why, is in
docs/engines.md.

Examples:
  gamepulse process --brokers 127.0.0.1:9092 --instance-id proc-1 --metrics-listen 127.0.0.1:9101
  gamepulse process --engine spark --spark-remote sc://127.0.0.1:15002 \
    --spark-checkpoint /var/lib/gamepulse/spark --brokers 127.0.0.1:9092`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *ProcessCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	tf := o.addTopics()
	pf := addProcessFlags(fs, tf)
	eng := fs.String("engine", engineGo, "the engine that runs the jobs: go (this process) or spark (Spark Structured Streaming on --spark-remote)")
	sf := addSparkFlags(fs)
	af := addAdminFlags(fs, "127.0.0.1:9101", true)
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	if *eng == engineGo {
		if set := sparkFlagsSet(fs); set != "" {
			return usagef("--%s applies to --engine spark only", set)
		}
	} else if err := sf.check(); err != nil {
		return err
	}
	reg := newRegistry()
	g, gctx := errgroup.WithContext(ctx)
	if _, err := serveAdmin(gctx, g, af, reg, log); err != nil {
		return err
	}
	if *eng == engineSpark {
		err = startSparkEngine(gctx, g, pf, sf, kf.config("gamepulse-processor"), topics, reg, log)
	} else {
		_, err = startProcessor(gctx, g, pf, kf.config("gamepulse-processor"), topics, reg, log)
	}
	if err != nil {
		return err
	}
	return g.Wait()
}

// processFlags are the processor's settings.
type processFlags struct {
	cfg         pipeline.Config
	ratesFile   string
	createTopic bool
	delivery    string
}

// addProcessFlags registers the processor's settings, and the names of the
// topics it writes on tf.
func addProcessFlags(fs *flag.FlagSet, tf *topicFlags) *processFlags {
	f := &processFlags{}
	addOutputTopicFlags(fs, tf)
	f.cfg = pipeline.DefaultConfig()
	c, pd := &f.cfg, pipeline.DefaultConfig()
	addProcessorTopicFlags(fs, &tf.t, &c.PartialsTopic)
	fs.StringVar(&c.AppID, "app-id", pd.AppID, "prefix of the consumer groups, transactional ids and changelog topics")
	fs.StringVar(&c.InstanceID, "instance-id", "", "this instance's id: stable across its restarts (to fence its zombie), unique among running instances; empty: the host name")
	fs.StringVar(&f.delivery, "delivery", string(pd.Delivery), "exactly-once, or at-least-once (no transactions; only to measure what exactly-once costs)")
	fs.IntVar(&c.MaxPollRecords, "max-poll-records", pd.MaxPollRecords, "input records per transaction at most")
	fs.DurationVar(&c.TxnTimeout, "txn-timeout", pd.TxnTimeout, "transaction timeout: how long a crashed instance's open transaction can block readers")
	fs.DurationVar(&c.SessionTimeout, "session-timeout", pd.SessionTimeout, "consumer-group session timeout: how long a silent instance keeps its partitions before the others take them over")
	fs.BoolVar(&f.createTopic, "create-topics", true, "create the output, partials and changelog topics when missing")

	fs.DurationVar(&c.Jobs.DedupHorizon, "dedup-horizon", pd.Jobs.DedupHorizon, "event time an event_id (and a purchase's store transaction id) is remembered for dedup")
	fs.DurationVar(&c.Jobs.SessionGap, "session-gap", pd.Jobs.SessionGap, "inactivity (event time) that closes a session without session_end")
	fs.DurationVar(&c.Jobs.AllowedLateness, "allowed-lateness", pd.Jobs.AllowedLateness, "watermark = max event time seen on a partition minus this")
	fs.DurationVar(&c.Jobs.MaxFuture, "max-event-future", pd.Jobs.MaxFuture, "dead-letter (clock_skew) an event whose client_time is more than this after its received_at; keep it at least the gateway's --max-future")
	fs.IntVar(&c.Jobs.FraudMaxPurchases, "fraud-max-purchases", pd.Jobs.FraudMaxPurchases, "alert when one player makes more purchases than this in one minute")
	fs.StringVar(&f.ratesFile, "fx-rates", "", "file of CUR=rate lines (USD per unit) replacing the built-in FX table")
	fs.DurationVar(&c.Watermark.IdleTimeout, "idle-timeout", pd.Watermark.IdleTimeout, "a partition without records for this long (wall clock) stops holding the watermark back")
	fs.DurationVar(&c.Merger.Retention, "retention", pd.Merger.Retention, "how long past its end a KPI window accepts corrections")
	ad := pd.Merger.Alerts
	fs.Float64Var(&c.Merger.Alerts.DropPercent, "alert-drop-percent", ad.DropPercent, "alert when a game's active players or revenue in a minute fall this many % below its recent mean")
	fs.IntVar(&c.Merger.Alerts.History, "alert-history", ad.History, "minutes in the recent mean of the game-level alert rules")
	fs.Float64Var(&c.Merger.Alerts.ActiveFloor, "alert-active-floor", ad.ActiveFloor, "the active-players drop rule applies only above this mean")
	fs.Float64Var(&c.Merger.Alerts.RevenueFloorMicros, "alert-revenue-floor-micros", ad.RevenueFloorMicros, "the revenue drop rule applies only above this mean (micro-USD per minute)")
	fs.Float64Var(&c.Merger.Alerts.RefundFactor, "alert-refund-factor", ad.RefundFactor, "alert when a game's refunds in a minute exceed this multiple of their recent mean")
	fs.Float64Var(&c.Merger.Alerts.RefundFloor, "alert-refund-floor", ad.RefundFloor, "and are at least this many")
	return f
}

// config returns the pipeline configuration for topics.
func (f *processFlags) config(topics kafka.Topics) (pipeline.Config, error) {
	c := f.cfg
	c.Topics = topics
	if c.InstanceID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			return c, errors.New("--instance-id is empty and the host name is unknown: set --instance-id")
		}
		c.InstanceID = host
	}
	c.Delivery = engine.Delivery(f.delivery)
	if c.Delivery != engine.ExactlyOnce && c.Delivery != engine.AtLeastOnce {
		return c, fmt.Errorf("--delivery must be %s or %s, got %q", engine.ExactlyOnce, engine.AtLeastOnce, f.delivery)
	}
	c.Watermark.AllowedLateness = c.Jobs.AllowedLateness
	if f.ratesFile != "" {
		r, err := jobs.LoadRates(f.ratesFile)
		if err != nil {
			return c, fmt.Errorf("--fx-rates: %w", err)
		}
		c.Jobs.Rates = r
	}
	return c, nil
}

// startProcessor creates the processor's topics and runs it in g.
func startProcessor(ctx context.Context, g *errgroup.Group, f *processFlags, kc kafka.Config, topics kafka.Topics,
	reg prometheus.Registerer, log *slog.Logger) (*pipeline.Pipeline, error) {
	log = log.With("component", "processor")
	cfg, err := f.config(topics)
	if err != nil {
		return nil, err
	}
	base, err := kc.Opts(log)
	if err != nil {
		return nil, err
	}
	p, err := pipeline.New(cfg, base, pipeline.NewMetrics(reg), engine.NewMetrics(reg), log)
	if err != nil {
		return nil, err
	}
	cl, err := newKafkaClient(kc, nil, log)
	if err != nil {
		return nil, err
	}
	specs := topics.Specs()
	if f.createTopic {
		specs = append(specs, p.Specs()...)
	}
	err = ensureTopics(ctx, cl, specs, log)
	cl.Close()
	if err != nil {
		return nil, err
	}
	g.Go(func() error {
		err := p.Run(ctx)
		if errors.Is(err, pipeline.ErrTopicMissing) {
			err = fmt.Errorf("%w; gamepulse process creates it unless --create-topics=false", err)
		}
		log.Info("processor stopped")
		return err
	})
	return p, nil
}
