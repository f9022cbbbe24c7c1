package main

import (
	"context"
	"flag"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
	"github.com/gamepulse/gamepulse/internal/warehouse"
)

const (
	defaultWarehouse = "duckdb:data/demo/warehouse.duckdb"
	warehouseHelp    = "warehouse URL: duckdb:///abs/path.duckdb, duckdb:rel/path.duckdb or snowflake://DSN (see gamepulse help load)"
)

// LoadCommand is "gamepulse load":
// warehouse loader: the processor's outputs into DuckDB or Snowflake, exactly once.
type LoadCommand struct{}

func (*LoadCommand) Name() string { return "load" }
func (*LoadCommand) Summary() string {
	return "warehouse loader: the processor's outputs into DuckDB or Snowflake, exactly once"
}
func (*LoadCommand) Usage() string {
	return `Usage: gamepulse load --brokers ADDRS [--warehouse URL] [flags]

Reads the enriched events, sessions, KPI, alerts and dead-letter topics
(read_committed) in a consumer group and writes them into warehouse tables:
events, sessions, kpi_minute, kpi_hour, completeness, alerts, dead_letters
(the schema is in docs/warehouse.md). Each batch and the Kafka offsets it covers are
written in one warehouse transaction, and the loader resumes from the
warehouse's offsets, so a batch is never half applied and never applied
twice. A record the warehouse cannot take goes to dead_letters with its
reason; the loader keeps going. Every --progress-every it logs a line (at
info level) with rows/s by table, consumer lag and freshness.

--warehouse is a URL: duckdb:///abs/path/file.duckdb (absolute) or
duckdb:rel/path/file.duckdb (relative to the working directory; the default
is duckdb:data/demo/warehouse.duckdb, which demo writes and query, kpis,
reconcile and replay read), or snowflake://DSN where DSN is
gosnowflake's (user:password@account/DB/SCHEMA?warehouse=W&role=R; key-pair
auth with authenticator=SNOWFLAKE_JWT&privateKey=...). The Snowflake sink is
tested against the fakesnow emulator only.

Example:
  gamepulse load --brokers 127.0.0.1:9092 --warehouse duckdb:///var/lib/gamepulse/warehouse.duckdb`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *LoadCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	tf := o.addTopics()
	addOutputTopicFlags(fs, tf)
	lc := addLoadFlags(fs)
	af := addAdminFlags(fs, "127.0.0.1:9102", false)
	progressEvery := fs.Duration("progress-every", 10*time.Second, "log a progress line (rows/s by table, lag, freshness) this often; 0: never")
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	reg := newRegistry()
	g, gctx := errgroup.WithContext(ctx)
	if _, err := serveAdmin(gctx, g, af, reg, log); err != nil {
		return err
	}
	ld, _, err := startLoader(gctx, g, lc, kf.config("gamepulse-loader"), topics, reg, log)
	if err != nil {
		return err
	}
	if *progressEvery > 0 {
		g.Go(func() error {
			ld.LogProgress(gctx, *progressEvery)
			return nil
		})
	}
	return g.Wait()
}

type loadFlags struct {
	cfg       loader.Config
	warehouse string
}

func addLoadFlags(fs *flag.FlagSet) *loadFlags {
	f := &loadFlags{cfg: loader.DefaultConfig()}
	d := loader.DefaultConfig()
	fs.StringVar(&f.warehouse, "warehouse", defaultWarehouse, warehouseHelp)
	fs.StringVar(&f.cfg.Group, "load-group", d.Group, "the loader's consumer group")
	fs.IntVar(&f.cfg.BatchRows, "batch-rows", d.BatchRows, "apply a batch when it holds this many rows")
	fs.IntVar(&f.cfg.BatchBytes, "batch-bytes", d.BatchBytes, "or this many bytes of record values")
	fs.DurationVar(&f.cfg.BatchInterval, "batch-interval", d.BatchInterval, "or when its first record is this old (freshness against warehouse statements)")
	fs.DurationVar(&f.cfg.SessionTimeout, "load-session-timeout", d.SessionTimeout, "the loader group's session timeout: how long a dead loader keeps its partitions")
	fs.DurationVar(&f.cfg.AutoSuspend, "warehouse-auto-suspend", d.AutoSuspend, "the Snowflake warehouse's AUTO_SUSPEND, for the estimate of its running time (gamepulse_loader_warehouse_active_seconds_total)")
	return f
}

// startLoader opens the warehouse and runs the loader in g; the warehouse
// closes when the loader stops.
func startLoader(ctx context.Context, g *errgroup.Group, f *loadFlags, kc kafka.Config, topics kafka.Topics,
	reg prometheus.Registerer, log *slog.Logger) (*loader.Loader, warehouse.Warehouse, error) {
	log = log.With("component", "loader")
	sink, err := openWarehouse(ctx, f.warehouse, createWarehouse)
	if err != nil {
		return nil, nil, err
	}
	base, err := kc.Opts(log)
	if err != nil {
		sink.Close()
		return nil, nil, err
	}
	cfg := f.cfg
	cfg.Topics = topics
	l, err := loader.New(cfg, base, sink, loader.NewMetrics(reg), log)
	if err != nil {
		sink.Close()
		return nil, nil, err
	}
	g.Go(func() error {
		defer sink.Close()
		err := l.Run(ctx)
		log.Info("loader stopped")
		return err
	})
	return l, sink, nil
}
