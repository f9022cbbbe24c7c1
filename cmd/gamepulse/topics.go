package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

// TopicsCommand is "gamepulse topics":
// list the pipeline's topics with offsets and consumer lag.
type TopicsCommand struct{}

func (*TopicsCommand) Name() string { return "topics" }
func (*TopicsCommand) Summary() string {
	return "list the pipeline's topics with offsets and consumer lag"
}
func (*TopicsCommand) Usage() string {
	return `Usage: gamepulse topics [--all] [--format table|json] --brokers ADDRS

Lists the pipeline's topics (raw, dead letters, enriched, late, sessions, KPI
partials, KPI, alerts; a missing one says so) with their partitions,
replication factor, end offsets, records kept (end minus start offsets,
transaction markers included), and the lag of every consumer group that reads
them. With --all, every topic of the cluster instead. It changes nothing.

Examples:
  gamepulse topics --brokers 127.0.0.1:9092
  gamepulse topics --brokers 127.0.0.1:9092 --all
  gamepulse topics --brokers kafka-1:9092 --format json | jq '.[] | {name, records}'

To look at the records themselves: gamepulse tail TOPIC.`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *TopicsCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	names, partials := addTopicNameFlags(fs)
	all := fs.Bool("all", false, "list every topic of the cluster, not only the pipeline's")
	format := fs.String("format", "table", "output: table or json")
	timeout := fs.Duration("timeout", 10*time.Second, "give up when Kafka does not answer within this long")
	log, _, err := o.start(args, 0)
	if err != nil {
		return err
	}
	cl, err := newKafkaClient(kf.config("gamepulse-topics"), nil, log)
	if err != nil {
		return err
	}
	defer cl.Close()
	actx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var want []string
	if !*all {
		want = names.Names(*partials)
	}
	sums, lagErr, err := kafka.DescribeTopics(actx, kadm.NewClient(cl), want...)
	if err != nil {
		return unreachable(actx, "topics", kf.brokers, *timeout, err)
	}
	if lagErr != nil {
		fmt.Fprintf(env.Stderr, "gamepulse topics: consumer lag is incomplete: %v\n", lagErr)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sums)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION\tEND OFFSET\tRECORDS\tCONSUMER GROUPS (LAG)")
	for _, s := range sums {
		if !s.Exists {
			why := "does not exist"
			if s.Error != "" {
				why = s.Error
			}
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t(%s)\n", s.Name, why)
			continue
		}
		groups := "-"
		if len(s.Groups) > 0 {
			var gs []string
			for _, g := range s.Groups {
				gs = append(gs, fmt.Sprintf("%s (%d)", g.Group, g.Lag))
			}
			groups = strings.Join(gs, ", ")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", s.Name, s.Partitions, s.Replication, s.EndOffset, s.Records, groups)
	}
	return tw.Flush()
}

// addTopicNameFlags registers the names of every pipeline topic, with the
// flag names the other commands use for them: those of kafka.Topics, and the
// processor's internal partials topic.
func addTopicNameFlags(fs *flag.FlagSet) (*kafka.Topics, *string) {
	d := kafka.DefaultTopicConfig()
	t := &d
	addIngestTopicFlags(fs, t)
	addOutputTopicNames(fs, t)
	partials := new(string)
	addProcessorTopicFlags(fs, t, partials)
	return t, partials
}

// unreachable words a failed first request: Kafka refused the connection,
// or did not answer within the timeout; and where it was looked for.
func unreachable(actx context.Context, cmd, brokers string, timeout time.Duration, err error) error {
	var op *net.OpError
	switch {
	case errors.As(err, &op):
		return fmt.Errorf("%s: cannot reach Kafka at %s (is it running? check --brokers and the TLS/SASL flags): %w", cmd, brokers, err)
	case errors.Is(err, context.DeadlineExceeded) || actx.Err() != nil:
		return fmt.Errorf("%s: Kafka at %s did not answer within %s (is it running? check --brokers and the TLS/SASL flags): %w",
			cmd, brokers, timeout, err)
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// partitionsText lists partition numbers: "0, 1, 2".
func partitionsText(ps []int32) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}
