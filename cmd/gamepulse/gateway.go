package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/gateway"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/record"
)

// GatewayCommand is "gamepulse gateway":
// HTTP ingest gateway: authenticate, validate, store in Kafka.
type GatewayCommand struct{}

func (*GatewayCommand) Name() string { return "gateway" }
func (*GatewayCommand) Summary() string {
	return "HTTP ingest gateway: authenticate, validate, store in Kafka"
}
func (*GatewayCommand) Usage() string {
	return `Usage: gamepulse gateway --listen ADDR --brokers ADDRS [flags]

Serves POST /v1/events (a JSON array, NDJSON or a Protobuf EventBatch,
optionally gzip-encoded), GET /healthz and GET /readyz on --listen, the
public address. /metrics, the live page (/) and, with --pprof, /debug/pprof/
are on the admin address --metrics-listen (loopback by default; keep it off
the public network, and set --admin-token when others can reach it).

Each game authenticates with its write key (Authorization: Bearer KEY or
X-API-Key: KEY); keys come from GAMEPULSE_API_KEYS ("key1=game1,key2=game2")
or from --api-keys-file (one key=game_id per line). The game of an event is
the key's game, whatever the payload says.

Every event of a batch is validated on its own; the answer lists the refused
ones with their reason: {"accepted": N, "rejected": [{"index": I, "code": C,
"reason": R}]}. A 2xx means Kafka acknowledged every accepted event (acks=all,
idempotent producer). When Kafka is slow or down the gateway answers 503 with
Retry-After and never buffers without bound.

Example:
  GAMEPULSE_API_KEYS=demo-key=space-raiders gamepulse gateway --listen :8080 --brokers 127.0.0.1:9092`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *GatewayCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	o.addTopics()
	gf := addGatewayFlags(fs, true)
	af := addAdminFlags(fs, "127.0.0.1:9100", true)
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	cfg, err := gf.config(topics.Raw)
	if err != nil {
		return err
	}
	reg := newRegistry()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	if _, err := serveAdmin(gctx, g, af, reg, log); err != nil {
		return err
	}
	gw, err := startGateway(gctx, g, cfg, kf.config("gamepulse-gateway"), topics, gf.grace, reg, log)
	if err != nil {
		cancel() // stops the admin server
		g.Wait()
		return err
	}
	log.Info("gateway listening", "addr", gw.Addr, "topic", topics.Raw, "games", len(cfg.Keys))
	return g.Wait()
}

type gatewayFlags struct {
	cfg      gateway.Config
	cors     string
	keys     string
	keysFile string
	rawEnc   string
	grace    time.Duration
}

// rawEncodingUsage describes --raw-encoding, of the gateway and the
// simulator.
const rawEncodingUsage = "encoding of the events written to the raw topic: protobuf, or json for a stream processor that cannot decode Protobuf (Spark); each record names it in its content-type header, and the processor reads both"

// addGatewayFlags registers the gateway settings; with keys it also registers
// --api-keys and --api-keys-file (the demo makes its own keys).
func addGatewayFlags(fs *flag.FlagSet, keys bool) *gatewayFlags {
	d := gateway.DefaultConfig()
	f := &gatewayFlags{cfg: d}
	c := &f.cfg
	fs.StringVar(&c.Listen, "listen", d.Listen, "HTTP listen address")
	if keys {
		fs.StringVar(&f.keys, "api-keys", "", "write keys as key=game_id pairs, comma-separated (prefer the environment variable to a flag)")
		fs.StringVar(&f.keysFile, "api-keys-file", "", "file of write keys, one key=game_id per line (# comments)")
	}
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", d.MaxBodyBytes, "largest request body as sent (413 past it)")
	fs.Int64Var(&c.MaxDecompressedBytes, "max-decompressed-bytes", d.MaxDecompressedBytes, "largest body after gzip; inflating stops here (413)")
	fs.IntVar(&c.MaxEvents, "max-events", d.MaxEvents, "most events in one batch (413 past it)")
	fs.IntVar(&c.MaxEventBytes, "max-event-bytes", d.MaxEventBytes, "largest single encoded event (that event is rejected)")
	fs.IntVar(&c.MaxDepth, "max-depth", d.MaxDepth, "deepest JSON nesting of one event (that event is rejected)")
	fs.DurationVar(&c.MaxPast, "max-past", d.MaxPast, "oldest client_time accepted, before now (clock-skew window)")
	fs.DurationVar(&c.MaxFuture, "max-future", d.MaxFuture, "newest client_time accepted, after now (clock-skew window)")
	fs.Float64Var(&c.RateLimit, "rate-limit", d.RateLimit, "events per second per write key; 0 turns the limit off (429 past it)")
	fs.IntVar(&c.RateBurst, "rate-burst", d.RateBurst, "events a key may send at once above its rate")
	fs.IntVar(&c.MaxPendingEvents, "max-pending-events", d.MaxPendingEvents, "events waiting for Kafka's acks, across requests; past it 503 (bounds memory)")
	fs.DurationVar(&c.ProduceTimeout, "produce-timeout", d.ProduceTimeout, "how long a request waits for Kafka's acks before 503")
	fs.DurationVar(&c.RetryAfter, "retry-after", d.RetryAfter, "Retry-After sent with 503")
	fs.StringVar(&f.rawEnc, "raw-encoding", record.EncodingProtobuf.String(), rawEncodingUsage)
	fs.StringVar(&f.cors, "cors-origins", "", "browser origins allowed to POST events (CORS), comma-separated scheme://host[:port], or * for any; empty: CORS off")
	fs.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take to finish")
	return f
}

func (f *gatewayFlags) config(topic string) (gateway.Config, error) {
	cfg := f.cfg
	cfg.Topic = topic
	keys, err := gateway.ParseKeys(strings.NewReader(f.keys))
	if err != nil {
		return cfg, fmt.Errorf("--api-keys: %w", err)
	}
	if f.keysFile != "" {
		file, err := os.Open(f.keysFile)
		if err != nil {
			return cfg, fmt.Errorf("--api-keys-file: %w", err)
		}
		more, err := gateway.ParseKeys(file)
		file.Close()
		if err != nil {
			return cfg, fmt.Errorf("--api-keys-file %s: %w", f.keysFile, err)
		}
		for k, g := range more {
			keys[k] = g
		}
	}
	cfg.Keys = keys
	cfg.CORSOrigins = splitComma(f.cors)
	enc, ok := record.ParseEncoding(f.rawEnc)
	if !ok {
		return cfg, fmt.Errorf("--raw-encoding must be protobuf or json, got %q", f.rawEnc)
	}
	cfg.RawEncoding = enc
	// No EnsureDefaults: the flags hold the defaults already, and an
	// explicit 0 is an error to report, not a default to apply.
	if f.grace < 0 {
		return cfg, fmt.Errorf("--shutdown-grace must be ≥ 0, got %s", f.grace)
	}
	return cfg, cfg.Validate()
}

// runningGateway is a started gateway.
type runningGateway struct {
	Addr string
	GW   *gateway.Gateway
}

// startGateway binds the listener, connects to Kafka, ensures the topics,
// and runs the gateway in g until ctx is done.
func startGateway(ctx context.Context, g *errgroup.Group, cfg gateway.Config, kc kafka.Config, topics kafka.Topics,
	grace time.Duration, reg prometheus.Registerer, log *slog.Logger) (*runningGateway, error) {
	log = log.With("component", "gateway")
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Bind first: a bad or busy address is reported at once, not after
	// Kafka becomes reachable.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("gateway: --listen: %w", err)
	}
	cl, err := newKafkaClient(kc, reg, log,
		append(kafka.ProducerOpts(cfg.MaxPendingEvents+cfg.MaxEvents), kgo.DefaultProduceTopic(cfg.Topic))...)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if err := ensureTopics(ctx, cl, topics.Specs(), log); err != nil {
		ln.Close()
		cl.Close()
		return nil, err
	}
	gw, err := gateway.New(cfg, cl, reg, log)
	if err != nil {
		ln.Close()
		cl.Close()
		return nil, err
	}
	g.Go(func() error { return gw.Run(ctx) })
	g.Go(func() error {
		defer cl.Close()
		err := gateway.Serve(ctx, ln, gw.Handler(), cfg.ProduceTimeout, grace, cl, log)
		log.Info("gateway stopped")
		return err
	})
	return &runningGateway{Addr: ln.Addr().String(), GW: gw}, nil
}
