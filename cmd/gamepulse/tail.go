package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/recordjson"
)

// TailCommand is "gamepulse tail" (print a topic's records as JSON lines, decoded).
type TailCommand struct{}

func (*TailCommand) Name() string    { return "tail" }
func (*TailCommand) Summary() string { return "print a topic's records as JSON lines, decoded" }
func (*TailCommand) Usage() string {
	return `Usage: gamepulse tail TOPIC [--from-beginning] [--max N] [--partition P] [--follow] --brokers ADDRS

Prints the records of TOPIC, one JSON object per line and exactly one line
per record: topic, partition, offset, timestamp, key, headers and the
decoded value. Raw events (binary Protobuf) and dead letters are decoded
through the event schema into the JSON the warehouse shows; the processor's
JSON topics are passed through as objects; anything else that is JSON too.
The internal partials topic is decoded into {"kind":"partial"|"mark"|"ledger",
"source":...}. A value that cannot be decoded (a malformed event, a binary
topic outside the pipeline) is printed as "value_base64" with a
"decode_error" saying why — tail never stops on a bad record.

By default tail prints the last --last records of each partition and stops at
the end it saw when it started; --from-beginning starts at the first record,
--follow keeps waiting for new ones (Ctrl-C stops). Records of aborted
transactions are not shown (read_committed; --isolation read_uncommitted
shows them, and records of open transactions too).

Examples:
  gamepulse tail gamepulse.events.raw --brokers 127.0.0.1:9092
  gamepulse tail gamepulse.events.deadletter --from-beginning --max 5
  gamepulse tail gamepulse.alerts --follow
  gamepulse tail gamepulse.events.raw --from-beginning --partition 3 | jq -c .value.event_type

To see which topics there are and how many records they hold: gamepulse topics.`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *TailCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	names, partials := addTopicNameFlags(fs)
	fromStart := fs.Bool("from-beginning", false, "start at each partition's first record")
	last := fs.Int64("last", 10, "without --from-beginning: start this many offsets before each partition's end")
	maxN := fs.Int("max", 0, "stop after printing this many records (0: no limit)")
	partition := fs.Int("partition", -1, "read only this partition (-1: all)")
	follow := fs.Bool("follow", false, "keep waiting for new records instead of stopping at the end")
	isolation := fs.String("isolation", "read_committed", "read_committed (aborted transactions hidden) or read_uncommitted")
	timeout := fs.Duration("timeout", 10*time.Second, "give up when Kafka does not answer within this long")
	log, _, err := o.start(args, 1)
	if err != nil {
		return err
	}
	topic := fs.Arg(0)
	if topic == "" {
		return usagef("name the topic to read: gamepulse tail TOPIC (gamepulse topics lists them)")
	}
	iso := kgo.ReadCommitted() // --isolation is one of flagChoices'
	if *isolation == "read_uncommitted" {
		iso = kgo.ReadUncommitted()
	}
	kc := kf.config("gamepulse-tail")

	// Where to start and where the end is, asked once with a timeout.
	meta, err := newKafkaClient(kc, nil, log)
	if err != nil {
		return err
	}
	defer meta.Close()
	adm := kadm.NewClient(meta)
	actx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	all, err := adm.ListTopics(actx)
	if err != nil {
		return unreachable(actx, "tail", kf.brokers, *timeout, err)
	}
	td, ok := all[topic]
	if !ok || td.Err != nil {
		existing := all.Names()
		slices.Sort(existing)
		if len(existing) == 0 {
			return fmt.Errorf("tail: topic %q does not exist; the cluster has no topics", topic)
		}
		return fmt.Errorf("tail: topic %q does not exist; existing topics: %s", topic, strings.Join(existing, ", "))
	}
	parts := td.Partitions.Numbers()
	if *partition >= 0 {
		if _, ok := td.Partitions[int32(*partition)]; !ok {
			return fmt.Errorf("tail: topic %s has no partition %d; its partitions: %s", topic, *partition, partitionsText(parts))
		}
		parts = []int32{int32(*partition)}
	}
	starts, err := adm.ListStartOffsets(actx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return unreachable(actx, "tail", kf.brokers, *timeout, err)
	}
	listEnds := adm.ListCommittedOffsets // the last stable offsets: read_committed's end
	if *isolation == "read_uncommitted" {
		listEnds = adm.ListEndOffsets
	}
	ends, err := listEnds(actx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return unreachable(actx, "tail", kf.brokers, *timeout, err)
	}
	cancel()
	from := map[int32]kgo.Offset{}
	left := map[int32]int64{} // partition → end offset still to reach
	endOf := map[int32]int64{}
	for _, p := range parts {
		s, _ := starts.Lookup(topic, p)
		e, _ := ends.Lookup(topic, p)
		at := s.Offset
		if !*fromStart {
			at = max(s.Offset, e.Offset-*last)
		}
		from[p], endOf[p] = kgo.NewOffset().At(at), e.Offset
		if at < e.Offset {
			left[p] = e.Offset
		}
	}
	if !*follow && len(left) == 0 {
		return nil
	}

	cl, err := newKafkaClient(kc, nil, log,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	kind := recordjson.KindOf(*names, *partials, topic)
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	printed := 0
	var line []byte
	for *follow || len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil // interrupted: what was printed stands
		}
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.Canceled) {
				return fmt.Errorf("tail: fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
			}
		}
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if done {
				return
			}
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
			if r.Attrs.IsControl() || (!*follow && r.Offset >= endOf[r.Partition]) {
				return // a marker, or written after tail started
			}
			line = recordjson.AppendLine(line[:0], r, kind)
			w.Write(line)
			printed++
			done = *maxN > 0 && printed >= *maxN
		})
		if err := w.Flush(); err != nil {
			return fmt.Errorf("tail: %w", err)
		}
		if done {
			return nil
		}
	}
	return nil
}
