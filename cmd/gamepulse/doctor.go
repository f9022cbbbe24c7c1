package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/sparkconnect"
	"github.com/gamepulse/gamepulse/internal/sparkrun"
)

// DoctorCommand is "gamepulse doctor" (check a Kafka cluster against what the pipeline needs).
type DoctorCommand struct{}

func (*DoctorCommand) Name() string { return "doctor" }
func (*DoctorCommand) Summary() string {
	return "check a Kafka cluster against what the pipeline needs"
}
func (*DoctorCommand) Usage() string {
	return `Usage: gamepulse doctor --brokers ADDRS [--format text|json]
       [--spark-remote sc://HOST:PORT [--spark-checkpoint DIR|URI]]

Checks the cluster and says in plain words what to change: enough brokers for
the replication factor (with --replication -1, the broker's own
default.replication.factor, as a dry-run topic creation shows the broker
applies it), min.insync.replicas, unclean leader election off, transaction
support (needed for exactly-once processing), and the pipeline's existing
topics as they are: partitions, replication factor and min.insync.replicas
against the live brokers. When the broker does not answer a question
(DescribeConfigs denied, say) doctor says so instead of guessing. It changes
nothing. Exit status 1 when a check fails, 0 otherwise (warnings included).

With --spark-remote it checks the Spark side of "process --engine spark"
too: the Spark Connect server answers, its version, that Kafka's connector
is on its classpath (a streaming read of the raw topic resolves), and, with
--spark-checkpoint, that the server can write there.

Examples:
  gamepulse doctor --brokers kafka-1:9092,kafka-2:9092 --replication 3
  gamepulse doctor --brokers 127.0.0.1:9092 --format json
  gamepulse doctor --brokers 127.0.0.1:9092 --spark-remote sc://127.0.0.1:15002 --spark-checkpoint /var/lib/gamepulse/spark`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *DoctorCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	o.addTopics()
	format := fs.String("format", "text", "output: text or json")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	remote := fs.String("spark-remote", "", "also check this Spark Connect server (sc://HOST:PORT) for process --engine spark")
	checkpoint := fs.String("spark-checkpoint", "", "with --spark-remote: also check that the Spark server can write under this directory or URI")
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	if *remote != "" {
		if _, err := sparkconnect.ParseRemote(*remote); err != nil {
			return usagef("--spark-remote: %v", err)
		}
	} else if *checkpoint != "" {
		return usagef("--spark-checkpoint needs --spark-remote")
	}
	cl, err := newKafkaClient(kf.config("gamepulse-doctor"), nil, log)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	findings := kafka.Doctor(ctx, kadm.NewClient(cl), topics)
	if *remote != "" {
		sc, err := sparkconnect.Dial(ctx, *remote)
		var s sparkrun.DoctorSession
		if err == nil {
			defer sc.Close()
			s = sc
		}
		kc := kf.config("gamepulse-doctor")
		findings = append(findings, sparkrun.Doctor(ctx, s, err, *remote, kc.Brokers, topics.Raw, *checkpoint)...)
	}
	failed := false
	for _, f := range findings {
		failed = failed || f.Status == kafka.Fail
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(findings); err != nil {
			return err
		}
	case "text":
		for _, f := range findings {
			fmt.Fprintf(env.Stdout, "[%-4s] %s: %s\n", f.Status, f.Check, f.Detail)
			if f.Fix != "" {
				fmt.Fprintf(env.Stdout, "       fix: %s\n", f.Fix)
			}
		}
	}
	if failed {
		return errors.New("doctor: the cluster is not ready for gamepulse (see the failed checks above)")
	}
	return nil
}
