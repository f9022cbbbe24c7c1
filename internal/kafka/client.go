package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kslog"
)

// Config says how to reach a Kafka cluster.
type Config struct {
	Brokers  []string // host:port seed brokers
	ClientID string

	TLS                   bool   // connect with TLS
	TLSCAFile             string // PEM CA bundle; empty: the system pool
	TLSCertFile           string // PEM client certificate (mutual TLS)
	TLSKeyFile            string // PEM client key
	TLSInsecureSkipVerify bool   // for tests only

	SASLMechanism string // "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	SASLUser      string
	SASLPassword  string

	// Compression of produced batches: lz4 (the default), snappy, zstd,
	// gzip or none. On the gateway's benchmark lz4 cost the least CPU per
	// event, less even than none: writing 3x the bytes costs more than
	// compressing them (docs/benchmarks.md).
	Compression string
}

func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(name) {
	case "", "lz4":
		return kgo.Lz4Compression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "none":
		return kgo.NoCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("kafka: unknown compression %q (use lz4, snappy, zstd, gzip or none)", name)
}

// ParseBrokers splits a comma-separated broker list.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// DefaultBrokers is the seed broker of DefaultConfig: a local Kafka (or
// gamepulse broker) on its usual port.
const DefaultBrokers = "127.0.0.1:9092"

// DefaultConfig returns the documented defaults: a local broker, no TLS or
// SASL, lz4 compression.
func DefaultConfig() Config {
	return Config{Brokers: ParseBrokers(DefaultBrokers), Compression: "lz4"}
}

// Validate reports the first problem with c, naming the field at fault.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("kafka: no brokers configured (Brokers)")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("kafka: broker %q is not host:port: %w", b, err)
		}
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "":
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if c.SASLUser == "" {
			return fmt.Errorf("kafka: SASL %s needs a user (SASLUser)", c.SASLMechanism)
		}
	default:
		return fmt.Errorf("kafka: unknown SASL mechanism %q (use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", c.SASLMechanism)
	}
	if _, err := compressionCodec(c.Compression); err != nil {
		return err
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("kafka: TLSCertFile and TLSKeyFile go together")
	}
	return nil
}

// Opts returns the kgo options for c: seeds, TLS, SASL and logging. Callers
// add their own producer or consumer options.
func (c Config) Opts(log *slog.Logger) ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	codec, _ := compressionCodec(c.Compression) // checked by Validate
	// One compressor for every client of these options: with
	// ProducerBatchCompression each kgo.NewClient would build its own by
	// rewriting the option's codec slice in place, a data race when
	// clients are created concurrently (the processor's two stages).
	comp, err := kgo.DefaultCompressor(codec, kgo.NoCompression())
	if err != nil {
		return nil, fmt.Errorf("kafka: compression: %w", err)
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(5 * time.Second),
		kgo.WithCompressor(comp),
	}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	if log != nil {
		// franz-go explains every metadata refresh at info; keep its info
		// for --log-level debug.
		opts = append(opts, kgo.WithLogger(kslog.New(slog.New(quieter{log.Handler()}))),
			kgo.WithHooks(newReachability(log)))
	}
	if c.TLS || c.TLSCAFile != "" || c.TLSCertFile != "" {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha512Mechanism()))
	}
	return opts, nil
}

func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSInsecureSkipVerify} //nolint:gosec // opt-in for tests
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: read CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka: no certificates in %s", c.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka: load client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// ProducerOpts are the options of every producer in the pipeline: acks from
// all in-sync replicas and idempotence (kgo's defaults, stated here so that
// nobody weakens them by accident), player-keyed partitioning that matches
// Kafka's Java client, and a bounded buffer. Compression comes with the
// connection settings (Config.Opts).
func ProducerOpts(maxBufferedRecords int) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)), // murmur2 of the key, like the Java client
		kgo.ProducerLinger(2 * time.Millisecond),
		kgo.RecordDeliveryTimeout(30 * time.Second),
	}
	if maxBufferedRecords > 0 {
		opts = append(opts, kgo.MaxBufferedRecords(maxBufferedRecords))
	}
	return opts
}

// quieter lowers a handler's records by one step (info becomes debug, warn
// stays warn), for chatty libraries, and franz-go's per-retry connection
// messages to debug (reachability logs the state changes).
type quieter struct{ h slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return q.h.Enabled(ctx, l)
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo || (r.Level > slog.LevelDebug && isRetryNoise(r.Message)) {
		r.Level = slog.LevelDebug
		if !q.h.Enabled(ctx, r.Level) {
			return nil
		}
	}
	return q.h.Handle(ctx, r)
}

func (q quieter) WithAttrs(as []slog.Attr) slog.Handler { return quieter{q.h.WithAttrs(as)} }
func (q quieter) WithGroup(n string) slog.Handler       { return quieter{q.h.WithGroup(n)} }
