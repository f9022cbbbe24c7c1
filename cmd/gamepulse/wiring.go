// Wiring shared by the commands: the opening every command makes (flag set,
// log flags, resolve, logger, topics), the admin listener, Kafka clients and
// topics, the warehouse a URL names, a process's CPU time.

package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/livepage"
	"github.com/gamepulse/gamepulse/internal/pipeline"
	"github.com/gamepulse/gamepulse/internal/procstat"
	"github.com/gamepulse/gamepulse/internal/warehouse"
	"github.com/gamepulse/gamepulse/internal/warehouse/backend"
)

// adminFlags are the settings of a command's admin address: /metrics, the
// live page and, where the command offers --pprof, Go's profiles. It is
// one listener, apart from any public one, and one implementation for
// every command (serveAdmin).
type adminFlags struct {
	listen string
	pprof  bool
	token  string
}

// addAdminFlags registers --metrics-listen (default listen), --admin-token
// and, with pprof, --pprof.
func addAdminFlags(fs *flag.FlagSet, listen string, pprof bool) *adminFlags {
	f := &adminFlags{}
	what := "/metrics and the live page (/)"
	if pprof {
		what = "/metrics, the live page (/) and, with --pprof, /debug/pprof/"
	}
	fs.StringVar(&f.listen, "metrics-listen", listen, "admin address serving "+what+"; keep it off the public network; empty: none")
	if pprof {
		fs.BoolVar(&f.pprof, "pprof", false, "serve Go profiles at /debug/pprof/ on the admin address (--metrics-listen)")
	}
	fs.StringVar(&f.token, "admin-token", "", "require Authorization: Bearer TOKEN (or HTTP basic auth with TOKEN as the password) on the admin address; empty: none (prefer the environment variable)")
	return f
}

// adminRoutes adds the admin endpoints to mux: the live page at /, its
// event stream and snapshot, /metrics, and /debug/pprof when pprof. The
// page's sampler runs in g until ctx ends.
func adminRoutes(ctx context.Context, g *errgroup.Group, mux *http.ServeMux, pprof bool, reg *prometheus.Registry, log *slog.Logger) error {
	page, err := livepage.New(livepage.DefaultConfig(), reg, log.With("component", "livepage"))
	if err != nil {
		return err
	}
	g.Go(func() error { return page.Run(ctx) })
	mux.Handle("/", page)
	mux.Handle("GET /metrics", metricsHandler(reg))
	if pprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	}
	return nil
}

// serveAdmin binds the admin address of f and serves the admin endpoints
// (see adminRoutes), behind the token when f has one, in g until ctx ends.
// It returns the bound address; an empty --metrics-listen serves nothing
// and returns "".
func serveAdmin(ctx context.Context, g *errgroup.Group, f *adminFlags, reg *prometheus.Registry, log *slog.Logger) (string, error) {
	if f.listen == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return "", fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	if err := adminRoutes(ctx, g, mux, f.pprof, reg, log); err != nil {
		ln.Close()
		return "", err
	}
	srv := &http.Server{Handler: requireToken(f.token, mux), ReadHeaderTimeout: 5 * time.Second}
	g.Go(func() error {
		<-ctx.Done()
		return srv.Close()
	})
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("admin server: %w", err)
		}
		return nil
	})
	addr := ln.Addr().String()
	log.Info("admin address listening (metrics, live page)", "addr", addr, "token", f.token != "")
	return addr, nil
}

// requireToken lets through only requests that carry token, as
// `Authorization: Bearer TOKEN` (Prometheus's authorization setting, curl)
// or as the password of HTTP basic auth (what a browser asks for, and then
// sends with the live page's event stream too). Digests are compared in
// constant time. An empty token guards nothing.
func requireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := sha256.Sum256([]byte(adminCredential(r)))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Add("WWW-Authenticate", `Bearer realm="gamepulse admin"`)
			w.Header().Add("WWW-Authenticate", `Basic realm="gamepulse admin", charset="UTF-8"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(struct {
				Error string `json:"error"`
				Code  string `json:"code"`
			}{"admin token missing or wrong: send Authorization: Bearer TOKEN (--admin-token)", "unauthorized"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// adminCredential is the bearer token of r, or its basic-auth password.
func adminCredential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	if _, pass, ok := r.BasicAuth(); ok {
		return pass
	}
	return ""
}

// warehouseUse is what a command does with the warehouse it opens.
type warehouseUse = backend.Use

const (
	createWarehouse = backend.Create // load, demo: create it if needed, migrate, write
	writeWarehouse  = backend.Write  // replay: it must exist; migrate, write
	readWarehouse   = backend.Read   // query, kpis, reconcile: it must exist; read only, no migrations
)

// openWarehouse opens the warehouse the --warehouse URL raw names for use
// (backend.Open), its errors in the flag's terms.
func openWarehouse(ctx context.Context, raw string, use warehouseUse) (warehouse.Warehouse, error) {
	wh, err := backend.Open(ctx, raw, use)
	var ue *backend.URLError
	switch {
	case errors.As(err, &ue):
		return nil, fmt.Errorf("--warehouse %q: %w", ue.URL, ue.Err)
	case errors.Is(err, backend.ErrNoWarehouse):
		return nil, fmt.Errorf("%w (check --warehouse; gamepulse load and demo create it)", err)
	}
	return wh, err
}

// procCPU returns the user+system CPU seconds of a process (0 for pid 0).
func procCPU(pid int) (float64, error) {
	if pid == 0 {
		return 0, nil
	}
	return procstat.CPUSeconds(pid)
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
		return nil, usagef("--log-level must be debug, info, warn or error, got %q", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, checkChoice("log-format", l.format, "text", "json")
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
	d := kafka.DefaultConfig()
	fs.StringVar(&k.brokers, "brokers", defaultBrokers, "Kafka seed brokers, comma-separated host:port")
	fs.BoolVar(&k.tls, "kafka-tls", false, "connect to Kafka with TLS")
	fs.StringVar(&k.tlsCA, "kafka-tls-ca", "", "PEM CA bundle for Kafka TLS (default: system roots)")
	fs.StringVar(&k.tlsCert, "kafka-tls-cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&k.tlsKey, "kafka-tls-key", "", "PEM client key for mutual TLS")
	fs.BoolVar(&k.tlsSkipVerify, "kafka-tls-insecure-skip-verify", false, "do not verify the brokers' certificates (tests only)")
	fs.StringVar(&k.saslMech, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&k.saslUser, "kafka-sasl-user", "", "SASL user")
	fs.StringVar(&k.saslPass, "kafka-sasl-password", "", "SASL password (prefer the environment variable)")
	fs.StringVar(&k.compression, "kafka-compression", d.Compression, "compression of produced batches: lz4, snappy, zstd, gzip or none")
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
	addIngestTopicFlags(fs, &t.t)
	fs.IntVar(&t.partitions, "partitions", int(d.Partitions), "partitions of each topic gamepulse creates")
	fs.IntVar(&t.replication, "replication", int(d.Replication), "replication factor of each topic gamepulse creates; -1 takes the broker default")
	return t
}

// The topic-name flags, each declared once here: commands combine them.

// addIngestTopicFlags registers the gateway's topics on t.
func addIngestTopicFlags(fs *flag.FlagSet, t *kafka.Topics) {
	d := kafka.DefaultTopicConfig()
	fs.StringVar(&t.Raw, "topic-raw", d.Raw, "topic of accepted raw events (binary Protobuf, keyed by player_id)")
	fs.StringVar(&t.DeadLetter, "topic-deadletter", d.DeadLetter, "topic of events that failed validation downstream")
}

// addOutputTopicFlags registers the names of the processor's output topics
// (what the loader reads) on tf.
func addOutputTopicFlags(fs *flag.FlagSet, tf *topicFlags) { addOutputTopicNames(fs, &tf.t) }

func addOutputTopicNames(fs *flag.FlagSet, t *kafka.Topics) {
	d := kafka.DefaultTopicConfig()
	fs.StringVar(&t.Enriched, "topic-enriched", d.Enriched, "topic of deduplicated, enriched events (JSON, keyed by player_id)")
	fs.StringVar(&t.Sessions, "topic-sessions", d.Sessions, "topic of closed sessions (JSON, keyed by session_id)")
	fs.StringVar(&t.KPI, "topic-kpi", d.KPI, "topic of KPI and completeness upserts (JSON, compacted, keyed by window and dimensions)")
	fs.StringVar(&t.Alerts, "topic-alerts", d.Alerts, "topic of real-time alerts (JSON, keyed by rule|subject)")
}

// addProcessorTopicFlags registers the processor's late topic on t and its
// internal partials topic on partials.
func addProcessorTopicFlags(fs *flag.FlagSet, t *kafka.Topics, partials *string) {
	fs.StringVar(&t.Late, "topic-late", kafka.DefaultTopicConfig().Late, "topic of events that arrived after their minute closed (JSON)")
	fs.StringVar(partials, "topic-kpi-partials", pipeline.DefaultPartialsTopic, "internal topic from stage 1 to stage 2 (partials and watermark marks)")
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

// opening is the start every long-running command makes: its flag set (see
// newFlagSet) with the log flags and, when the command asks, the Kafka
// connection and topic flags; once the command has added its own flags,
// start resolves them all and returns the logger and the topics.
type opening struct {
	env    *Env
	fs     *flag.FlagSet
	log    *logFlags
	kafka  *kafkaFlags // nil unless addKafka
	topics *topicFlags // nil unless addTopics
}

func newOpening(env *Env, c Command) *opening {
	fs := newFlagSet(env, c)
	return &opening{env: env, fs: fs, log: addLogFlags(fs)}
}

// addKafka adds the Kafka connection flags, --brokers defaulting to brokers.
func (o *opening) addKafka(brokers string) *kafkaFlags {
	o.kafka = addKafkaFlags(o.fs, brokers)
	return o.kafka
}

// addTopics adds the flags that name the pipeline's topics.
func (o *opening) addTopics() *topicFlags {
	o.topics = addTopicFlags(o.fs)
	return o.topics
}

// start resolves the flags from args (up to maxArgs arguments, see
// resolveArgs), the environment and --config, and returns the logger on
// stderr and, when the command has topic flags, the validated topics.
func (o *opening) start(args []string, maxArgs int) (*slog.Logger, kafka.Topics, error) {
	if err := resolveArgs(o.fs, o.env, args, maxArgs); err != nil {
		return nil, kafka.Topics{}, err
	}
	log, err := o.log.logger(o.env.Stderr)
	if err != nil {
		return nil, kafka.Topics{}, err
	}
	if o.topics == nil {
		return log, kafka.Topics{}, nil
	}
	topics, err := o.topics.topics()
	return log, topics, err
}
