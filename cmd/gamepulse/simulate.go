package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/gateway"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// SimulateCommand is "gamepulse simulate":
// generate realistic game traffic (to the gateway, Kafka or a file).
type SimulateCommand struct{}

func (*SimulateCommand) Name() string { return "simulate" }
func (*SimulateCommand) Summary() string {
	return "generate realistic game traffic (to the gateway, Kafka or a file)"
}
func (*SimulateCommand) Usage() string {
	return `Usage: gamepulse simulate [--seed N] [--rate R] [--count N | --duration D]
                          (--gateway URL --api-key KEY | --brokers ADDRS | --out FILE|-)

Simulates a player population of several games: new and returning players,
sessions of realistic length, level progression with fail/complete rates,
purchases at store price points by a small payer share, refunds, ad
impressions, virtual currency, a diurnal curve, several platforms and
countries. The same --seed (and --start) gives the same events.

Destinations (exactly one):
  --gateway URL --api-key KEY   POST batches to the ingest gateway. KEY is one
                                write key, or key=game_id pairs (the format of
                                GAMEPULSE_API_KEYS) to send each game with its key
  --brokers ADDRS               produce straight to the raw topic, in the
                                gateway's form in --raw-encoding (protobuf
                                or json; the processor reads both)
  --out FILE or --out -         write NDJSON in the gateway's JSON form

Fault switches for tests, shares from 0 to 1: --duplicates (exact re-sends),
--late (held back 1-10 minutes, arriving out of order), --malformed (events
the gateway must refuse, each for a named reason).

By default client timestamps follow the wall clock (paced runs) or end near
now (unpaced runs with --count), so that they pass the gateway's skew check.

Examples:
  gamepulse simulate --gateway http://localhost:8080 --api-key demo-key --rate 2000 --duration 1m
  gamepulse simulate --seed 7 --count 100000 --late 0.02 --duplicates 0.01 --out events.ndjson`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *SimulateCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	sf := addSimulateFlags(fs, true)
	kf := o.addKafka("")
	o.addTopics()
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	dests := 0
	for _, set := range []bool{sf.gateway != "", kf.brokers != "", sf.out != ""} {
		if set {
			dests++
		}
	}
	if dests != 1 {
		return usagef("simulate: give exactly one destination: --gateway URL, --brokers ADDRS or --out FILE|-")
	}
	var sink simulate.Sink
	switch {
	case sf.out != "":
		w := env.Stdout
		if sf.out != "-" {
			f, err := os.Create(sf.out)
			if err != nil {
				return fmt.Errorf("simulate: %w", err)
			}
			defer f.Close()
			w = f
		}
		sink = simulate.NewFileSink(w)
	case sf.gateway != "":
		if sink, err = sf.httpSink(log); err != nil {
			return err
		}
	default:
		cl, err := newKafkaClient(kf.config("gamepulse-simulate"), nil, log, kafka.ProducerOpts(0)...)
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := ensureTopics(ctx, cl, topics.Specs(), log); err != nil {
			return err
		}
		if sf.malformed > 0 {
			log.Warn("malformed items go to Kafka as raw bytes without a key; the processor dead-letters them")
		}
		enc, ok := record.ParseEncoding(sf.rawEnc)
		if !ok {
			return usagef("--raw-encoding must be protobuf or json, got %q", sf.rawEnc)
		}
		sink = simulate.NewKafkaSink(cl, topics.Raw, enc)
	}
	stats, err := sf.run(ctx, sink, env.Stderr, sf.out == "-")
	if cerr := sink.Close(context.Background()); err == nil {
		err = cerr
	}
	log.Info("simulation finished", "stats", stats.String())
	return err
}

type simulateFlags struct {
	// retries and retryWait, when set, bound the HTTP sink's retries after
	// 429/503 (the demo retries through a Kafka outage); no flags.
	retries   int
	retryWait time.Duration

	seed                        int64
	rate                        float64
	count                       int64
	duration                    time.Duration
	start                       string
	gateway, apiKey, out        string
	format                      string
	rawEnc                      string
	gzip                        bool
	batch                       int
	players                     int
	duplicates, late, malformed float64
}

// addSimulateFlags registers the simulator settings; with destinations it
// also registers --gateway, --api-key and --out (the demo sets those itself).
func addSimulateFlags(fs *flag.FlagSet, destinations bool) *simulateFlags {
	s := &simulateFlags{}
	fs.Int64Var(&s.seed, "seed", 1, "random seed; the same seed and --start give the same events")
	fs.Float64Var(&s.rate, "rate", 1000, "events per second; 0 sends as fast as the destination takes them")
	fs.Int64Var(&s.count, "count", 0, "stop after this many events (0: no limit)")
	fs.DurationVar(&s.duration, "duration", 0, "stop after this long (0: no limit); Ctrl-C stops too")
	fs.StringVar(&s.start, "start", "", "simulated clock start, RFC 3339 (default: now for paced runs, now minus the run's span for unpaced --count runs)")
	if destinations {
		fs.StringVar(&s.gateway, "gateway", "", "gateway base URL, e.g. http://localhost:8080")
		fs.StringVar(&s.apiKey, "api-key", "", "write key for --gateway, or key=game_id pairs to send each game with its own key")
		fs.StringVar(&s.out, "out", "", "write NDJSON to this file, or - for stdout")
		fs.StringVar(&s.rawEnc, "raw-encoding", record.EncodingProtobuf.String(), "with --brokers: "+rawEncodingUsage)
	}
	fs.StringVar(&s.format, "format", "json", "body format for --gateway: json, ndjson or protobuf")
	fs.BoolVar(&s.gzip, "gzip", false, "gzip request bodies for --gateway")
	fs.IntVar(&s.batch, "batch-size", 100, "events per request or produce batch")
	fs.IntVar(&s.players, "players", 0, "initial player population (0: the model's default, which grows with --rate)")
	fs.Float64Var(&s.duplicates, "duplicates", 0, "share of events sent twice (same event_id), 0 to 1")
	fs.Float64Var(&s.late, "late", 0, "share of events held back 1-10 minutes (out of order), 0 to 1")
	fs.Float64Var(&s.malformed, "malformed", 0, "share of items that are malformed (each refused for a named reason), 0 to 1")
	return s
}

func (s *simulateFlags) httpSink(log *slog.Logger) (simulate.Sink, error) {
	if s.apiKey == "" {
		return nil, errors.New("simulate: --gateway needs --api-key (or GAMEPULSE_API_KEY)")
	}
	opts := simulate.HTTPOptions{Gzip: s.gzip, MaxRetries: s.retries, MaxWait: s.retryWait, Logger: log}
	switch s.format {
	case "json":
		opts.Format = event.FormatJSON
	case "ndjson":
		opts.Format = event.FormatNDJSON
	case "protobuf":
		opts.Format = event.FormatProtobuf
	default:
		return nil, fmt.Errorf("simulate: --format must be json, ndjson or protobuf, got %q", s.format)
	}
	key := s.apiKey
	if strings.Contains(s.apiKey, "=") {
		pairs, err := gateway.ParseKeys(strings.NewReader(s.apiKey))
		if err != nil {
			return nil, fmt.Errorf("simulate: --api-key: %w", err)
		}
		opts.Keys = map[string]string{}
		key = ""
		for k, game := range pairs {
			opts.Keys[game] = k
			key = k // events of games without a key of their own use one of them
		}
	}
	return simulate.NewHTTPSink(s.gateway, key, opts)
}

// generator builds the population model for this run.
func (s *simulateFlags) generator() (*simulate.Generator, error) {
	cfg := simulate.Defaults()
	cfg.Seed = s.seed
	cfg.Players = s.players
	cfg.Duplicates, cfg.Late, cfg.Malformed = s.duplicates, s.late, s.malformed
	if s.rate > 0 {
		cfg.Rate = s.rate
	}
	switch {
	case s.start != "":
		t, err := time.Parse(time.RFC3339, s.start)
		if err != nil {
			return nil, fmt.Errorf("simulate: --start: %w", err)
		}
		cfg.Start = t
	case s.rate > 0:
		cfg.Start = time.Now()
	case s.count > 0: // unpaced: end the simulated span at about now
		cfg.Start = time.Now().Add(-time.Duration(float64(s.count) / cfg.Rate * float64(time.Second)))
	default:
		cfg.Start = time.Now()
	}
	return simulate.New(cfg)
}

// run generates and sends until --count, --duration or ctx, with a progress
// line on w about once a second.
func (s *simulateFlags) run(ctx context.Context, sink simulate.Sink, w io.Writer, quiet bool) (simulate.Stats, error) {
	g, err := s.generator()
	if err != nil {
		return simulate.Stats{}, err
	}
	if s.rate == 0 && s.count == 0 && s.out == "" && s.start == "" {
		slog.Warn("unpaced run without --count: simulated timestamps run ahead of the wall clock and the gateway may refuse them as clock_skew")
	}
	p := newProgress(w)
	opts := simulate.RunOptions{Rate: s.rate, Count: s.count, Duration: s.duration, BatchSize: s.batch}
	if !quiet || w != os.Stdout {
		opts.Progress = func(st simulate.Stats) { p.line(st.String()) }
	}
	st, err := simulate.Run(ctx, g, sink, opts)
	p.done()
	return st, err
}
