// The Spark engine of "gamepulse process --engine spark": the same jobs as
// Spark Structured Streaming queries on a Spark Connect server, which this
// process starts, watches and stops (internal/sparkjobs, internal/sparkrun).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/sparkconnect"
	"github.com/gamepulse/gamepulse/internal/sparkjobs"
	"github.com/gamepulse/gamepulse/internal/sparkrun"
)

// The engines of gamepulse process.
const (
	engineGo    = "go"
	engineSpark = "spark"
)

// sparkFlags are the Spark engine's settings.
type sparkFlags struct {
	remote          string
	checkpoint      string
	sessionID       string
	trigger         time.Duration
	startingOffsets string
	maxOffsets      int64
	pollInterval    time.Duration
	leaveRunning    bool
}

// addSparkFlags registers the Spark engine's settings.
func addSparkFlags(fs *flag.FlagSet) *sparkFlags {
	f := &sparkFlags{}
	d := sparkrun.DefaultConfig()
	fs.StringVar(&f.remote, "spark-remote", "", "with --engine spark: the Spark Connect server, sc://HOST:PORT (Spark's default port is 15002)")
	fs.StringVar(&f.checkpoint, "spark-checkpoint", "", "with --engine spark: the directory or URI, as the Spark server sees it, under which each query keeps its checkpoint (required; keep it across restarts)")
	fs.StringVar(&f.sessionID, "spark-session-id", "", "with --engine spark: the Spark Connect session (a UUID) that owns the queries; empty: derived from --app-id and --instance-id, so a restarted process reattaches to its queries")
	fs.DurationVar(&f.trigger, "spark-trigger", time.Second, "with --engine spark: the micro-batch interval of every query (0: a batch as soon as the last one ends)")
	fs.StringVar(&f.startingOffsets, "spark-starting-offsets", "earliest", "with --engine spark: where a query without a checkpoint starts reading: earliest or latest")
	fs.Int64Var(&f.maxOffsets, "spark-max-offsets-per-trigger", 0, "with --engine spark: raw records per micro-batch at most (0: no bound)")
	fs.DurationVar(&f.pollInterval, "spark-poll-interval", d.PollInterval, "with --engine spark: how often each query's status and progress are read (and exported as metrics)")
	fs.BoolVar(&f.leaveRunning, "spark-leave-running", false, "with --engine spark: leave the queries running on the server when this process stops (the default stops them)")
	return f
}

// check refuses missing or malformed Spark settings (usage errors).
func (f *sparkFlags) check() error {
	if f.remote == "" {
		return usagef("--engine spark needs --spark-remote sc://HOST:PORT (the Spark Connect server)")
	}
	if _, err := sparkconnect.ParseRemote(f.remote); err != nil {
		return usagef("--spark-remote: %v", err)
	}
	if f.checkpoint == "" {
		return usagef("--engine spark needs --spark-checkpoint DIR|URI: where the Spark server keeps each query's checkpoint")
	}
	if f.sessionID != "" {
		if _, err := uuid.Parse(f.sessionID); err != nil {
			return usagef("--spark-session-id must be a UUID, got %q", f.sessionID)
		}
	}
	return nil
}

// sparkFlagsSet returns the name of a --spark-* flag set on the command
// line, or "".
func sparkFlagsSet(fs *flag.FlagSet) string {
	var set string
	fs.Visit(func(f *flag.Flag) {
		if set == "" && strings.HasPrefix(f.Name, "spark-") {
			set = f.Name
		}
	})
	return set
}

// sparkSessionID derives a stable session id from the processor's app and
// instance ids, so that a restarted process finds the queries it started.
func sparkSessionID(appID, instanceID string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("gamepulse:"+appID+":"+instanceID)).String()
}

// sparkKafkaOptions maps the Kafka connection settings onto the options
// of Spark's Kafka source and sink. Files are read by the Spark server:
// their paths must be valid there.
func sparkKafkaOptions(kc kafka.Config) (map[string]string, error) {
	opts := map[string]string{}
	proto := "PLAINTEXT"
	switch {
	case kc.TLS && kc.SASLMechanism != "":
		proto = "SASL_SSL"
	case kc.TLS:
		proto = "SSL"
	case kc.SASLMechanism != "":
		proto = "SASL_PLAINTEXT"
	}
	opts["kafka.security.protocol"] = proto
	if kc.TLS {
		if kc.TLSCAFile != "" {
			opts["kafka.ssl.truststore.type"] = "PEM"
			opts["kafka.ssl.truststore.location"] = kc.TLSCAFile
		}
		if kc.TLSCertFile != "" || kc.TLSKeyFile != "" {
			return nil, errors.New("--engine spark: a TLS client certificate (--tls-cert/--tls-key) is not passed to Spark; configure the keystore on the Spark side")
		}
		if kc.TLSInsecureSkipVerify {
			opts["kafka.ssl.endpoint.identification.algorithm"] = ""
		}
	}
	if m := kc.SASLMechanism; m != "" {
		module := "org.apache.kafka.common.security.scram.ScramLoginModule"
		if strings.EqualFold(m, "PLAIN") {
			module = "org.apache.kafka.common.security.plain.PlainLoginModule"
		}
		opts["kafka.sasl.mechanism"] = strings.ToUpper(m)
		opts["kafka.sasl.jaas.config"] = fmt.Sprintf(`%s required username=%q password=%q;`, module, kc.SASLUser, kc.SASLPassword)
	}
	return opts, nil
}

// startSparkEngine plans the jobs for Spark, creates the output topics and
// runs a sparkrun.Runner in g.
func startSparkEngine(ctx context.Context, g *errgroup.Group, pf *processFlags, sf *sparkFlags, kc kafka.Config, topics kafka.Topics,
	reg prometheus.Registerer, log *slog.Logger) error {
	log = log.With("component", "spark")
	if err := sf.check(); err != nil {
		return err
	}
	cfg, err := pf.config(topics)
	if err != nil {
		return err
	}
	kopts, err := sparkKafkaOptions(kc)
	if err != nil {
		return err
	}
	steps, err := sparkjobs.Plan(sparkjobs.Config{Brokers: kc.Brokers, Topics: topics, Jobs: cfg.Jobs,
		CheckpointRoot: sf.checkpoint, StartingOffsets: sf.startingOffsets, KafkaOptions: kopts, MaxOffsetsPerTrigger: sf.maxOffsets})
	if err != nil {
		return err
	}
	session := sf.sessionID
	if session == "" {
		session = sparkSessionID(cfg.AppID, cfg.InstanceID)
	}
	cl, err := newKafkaClient(kc, nil, log)
	if err != nil {
		return err
	}
	err = ensureTopics(ctx, cl, append(topics.Specs(), topics.ProcessorSpecs()...), log)
	cl.Close()
	if err != nil {
		return err
	}
	r, err := sparkrun.New(sparkrun.Config{
		Steps: steps,
		Dial: func(ctx context.Context) (sparkrun.Session, error) {
			return sparkconnect.Dial(ctx, sf.remote, sparkconnect.WithSessionID(session))
		},
		PollInterval: sf.pollInterval, ProcessingTime: sf.trigger, LeaveRunning: sf.leaveRunning,
		ProgressEvery: sparkrun.DefaultConfig().ProgressEvery,
	}, sparkrun.NewMetrics(reg), log)
	if err != nil {
		return err
	}
	log.Info("spark engine", "remote", sf.remote, "session", session, "checkpoint", sf.checkpoint, "queries", strings.Join(sparkjobs.Queries(steps), ","))
	g.Go(func() error {
		err := r.Run(ctx)
		log.Info("spark engine stopped")
		return err
	})
	return nil
}
