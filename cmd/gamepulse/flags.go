package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"

	"github.com/gamepulse/gamepulse/internal/config"
	"github.com/gamepulse/gamepulse/internal/kafka"
)

func envName(flagName string) string { return config.EnvName(flagName) }

// resolve parses args, then the environment and the config file.
func resolve(fs *flag.FlagSet, env *Env, args []string) error {
	return config.Resolve(fs, fs.Name(), args, env.Getenv)
}

// logFlags are the logging settings of every long-running command.
type logFlags struct {
	level, format string
}

func addLogFlags(fs *flag.FlagSet) *logFlags {
	l := &logFlags{}
	fs.StringVar(&l.level, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&l.format, "log-format", "text", "log format: text or json")
	return l
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", l.format)
}

// kafkaFlags are the connection settings of every command that talks to Kafka.
type kafkaFlags struct {
	brokers                string
	tls, tlsSkipVerify     bool
	tlsCA, tlsCert, tlsKey string
	saslMech, saslUser     string
	saslPass               string
	compression            string
}

func addKafkaFlags(fs *flag.FlagSet, defaultBrokers string) *kafkaFlags {
	k := &kafkaFlags{}
	fs.StringVar(&k.brokers, "brokers", defaultBrokers, "Kafka seed brokers, comma-separated host:port")
	fs.BoolVar(&k.tls, "kafka-tls", false, "connect to Kafka with TLS")
	fs.StringVar(&k.tlsCA, "kafka-tls-ca", "", "PEM CA bundle for Kafka TLS (default: system roots)")
	fs.StringVar(&k.tlsCert, "kafka-tls-cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&k.tlsKey, "kafka-tls-key", "", "PEM client key for mutual TLS")
	fs.BoolVar(&k.tlsSkipVerify, "kafka-tls-insecure-skip-verify", false, "do not verify the brokers' certificates (tests only)")
	fs.StringVar(&k.saslMech, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&k.saslUser, "kafka-sasl-user", "", "SASL user")
	fs.StringVar(&k.saslPass, "kafka-sasl-password", "", "SASL password (prefer the environment variable)")
	fs.StringVar(&k.compression, "kafka-compression", "lz4", "compression of produced batches: lz4, snappy, zstd, gzip or none")
	return k
}

func (k *kafkaFlags) config(clientID string) kafka.Config {
	return kafka.Config{
		Brokers: kafka.ParseBrokers(k.brokers), ClientID: clientID,
		TLS: k.tls, TLSCAFile: k.tlsCA, TLSCertFile: k.tlsCert, TLSKeyFile: k.tlsKey, TLSInsecureSkipVerify: k.tlsSkipVerify,
		SASLMechanism: k.saslMech, SASLUser: k.saslUser, SASLPassword: k.saslPass,
		Compression: k.compression,
	}
}

// topicFlags name the pipeline's topics.
type topicFlags struct {
	t           kafka.Topics
	partitions  int
	replication int
}

func addTopicFlags(fs *flag.FlagSet) *topicFlags {
	d := kafka.DefaultTopicConfig()
	t := &topicFlags{t: d}
	fs.StringVar(&t.t.Raw, "topic-raw", d.Raw, "topic of accepted raw events (binary Protobuf, keyed by player_id)")
	fs.StringVar(&t.t.DeadLetter, "topic-deadletter", d.DeadLetter, "topic of events that failed validation downstream")
	fs.IntVar(&t.partitions, "partitions", int(d.Partitions), "partitions of each topic gamepulse creates")
	fs.IntVar(&t.replication, "replication", int(d.Replication), "replication factor of each topic gamepulse creates; -1 takes the broker default")
	return t
}

func (t *topicFlags) topics() (kafka.Topics, error) {
	out := t.t
	out.Partitions, out.Replication = int32(t.partitions), int16(t.replication)
	return out, out.Validate()
}

// newRegistry returns a registry with the Go runtime and process collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// newKafkaClient builds a franz-go client with the connection settings, the
// client metrics of kprom, and the caller's options.
func newKafkaClient(kc kafka.Config, reg prometheus.Registerer, log *slog.Logger, extra ...kgo.Opt) (*kgo.Client, error) {
	if log != nil {
		log = log.With("component", "kafka-client")
	}
	opts, err := kc.Opts(log)
	if err != nil {
		return nil, err
	}
	if reg != nil {
		opts = append(opts, kgo.WithHooks(kprom.NewMetrics("gamepulse_kafka", kprom.Registerer(reg),
			kprom.WithStaticLabel(prometheus.Labels{"client": kc.ClientID}))))
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

// ensureTopics creates or verifies the topics, retrying while Kafka is not
// reachable yet (it may still be starting) until ctx is done.
func ensureTopics(ctx context.Context, cl *kgo.Client, specs []kafka.TopicSpec, log *slog.Logger) error {
	adm := kadm.NewClient(cl)
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := kafka.EnsureTopics(actx, adm, specs, log)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("topics: %w", err)
		}
		log.Warn("kafka not ready; retrying", "attempt", attempt, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return fmt.Errorf("topics: %w", err)
		case <-time.After(delay):
		}
		if delay < 5*time.Second {
			delay *= 2
		}
	}
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
