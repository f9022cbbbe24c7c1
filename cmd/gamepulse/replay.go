package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/loader"
)

// ReplayCommand is "gamepulse replay":
// re-load an offset or time range of a topic into the warehouse, idempotently.
type ReplayCommand struct{}

func (*ReplayCommand) Name() string { return "replay" }
func (*ReplayCommand) Summary() string {
	return "re-load an offset or time range of a topic into the warehouse, idempotently"
}
func (*ReplayCommand) Usage() string {
	return `Usage: gamepulse replay --topic T --from FROM [--to TO] [--replay-partitions P,...] [flags]

Re-reads a range of one of the loader's topics from Kafka (read_committed) and
rewrites what the warehouse holds from it: in one warehouse transaction per
chunk of --batch-rows rows, the rows of events, sessions, alerts and
dead_letters read from the chunk's offsets are deleted and inserted again, and
KPI and completeness rows are upserted (a version is never lowered). So a
replay never duplicates or skips a row, and running it twice, or again after
it was interrupted, gives the same warehouse. Use it to restore rows lost or
damaged in the warehouse, or after fixing a decoding bug.

FROM and TO are offsets (the same in every partition), RFC 3339 times (the
first record at or after the time, by record timestamp, per partition), or
"start" (FROM: the oldest offset Kafka still holds) and "loaded" (TO, the default: the end of what the loader has
loaded). The range always ends at what the loader has loaded: the rest is the
loader's to load. A range that starts before what Kafka still holds
(retention) is refused. It needs no consumer group and can run beside a live
loader on Snowflake; a DuckDB file is open to one process at a time, so stop
load or demo first. The warehouse must exist (load and demo create it).

Examples:
  gamepulse replay --topic gamepulse.events.enriched --from 2026-11-25T18:00:00Z --to 2026-11-25T19:00:00Z
  gamepulse replay --topic gamepulse.sessions --replay-partitions 3 --from start`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *ReplayCommand) Run(ctx context.Context, env *Env, args []string) error {
	o := newOpening(env, c)
	fs := o.fs
	kf := o.addKafka(kafka.DefaultBrokers)
	tf := o.addTopics()
	addOutputTopicFlags(fs, tf)
	wh := fs.String("warehouse", defaultWarehouse, warehouseHelp)
	topic := fs.String("topic", "", "the topic to replay: the enriched events, sessions, KPI, alerts or dead-letter topic")
	parts := fs.String("replay-partitions", "", "comma-separated partitions of --topic to replay; empty: all")
	from := fs.String("from", "", `first offset, RFC 3339 time or "start"`)
	to := fs.String("to", "loaded", `end offset (exclusive), RFC 3339 time or "loaded"`)
	rows := fs.Int("batch-rows", 50000, "rows per warehouse transaction")
	log, topics, err := o.start(args, 0)
	if err != nil {
		return err
	}
	req := loader.ReplayRequest{Topic: *topic}
	if *topic == "" {
		return usagef("replay: --topic is required")
	}
	if *from == "" {
		return usagef(`replay: --from is required (an offset, an RFC 3339 time or "start")`)
	}
	if req.From, err = parseBound(*from, "start"); err != nil {
		return usagef("replay: --from: %w", err)
	}
	if req.To, err = parseBound(*to, "loaded"); err != nil {
		return usagef("replay: --to: %w", err)
	}
	if emptyRange(req.From, req.To) {
		return usagef("the range is empty: --from %s is not before --to %s", *from, *to)
	}
	for _, p := range splitComma(*parts) {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil || n < 0 {
			return usagef("replay: --replay-partitions: %q is not a partition number", p)
		}
		req.Partitions = append(req.Partitions, int32(n))
	}
	w, err := openWarehouse(ctx, *wh, writeWarehouse)
	if err != nil {
		return err
	}
	defer w.Close()
	base, err := kf.config("gamepulse-replay").Opts(log)
	if err != nil {
		return err
	}
	l, err := loader.New(loader.Config{Topics: topics, BatchRows: *rows}, base, w, nil, log)
	if err != nil {
		return err
	}
	start := time.Now()
	progress, clear := replayProgress(env.Stderr, start)
	st, err := l.Replay(ctx, req, progress)
	clear()
	if err != nil {
		return err
	}
	for _, r := range st.Ranges {
		fmt.Fprintf(env.Stdout, "%s/%d\toffsets [%d, %d)\n", r.Topic, r.Partition, r.From, r.To)
	}
	fmt.Fprintf(env.Stdout, "replayed %d records into %d rows in %d transactions (%s)\n",
		st.Records, st.Rows, st.Transactions, time.Since(start).Round(time.Millisecond))
	return nil
}

// replayProgress returns the replay's progress report: a line on w rewritten
// in place when w is a terminal, nothing otherwise, and a func that erases
// the line, since the summary follows on stdout.
func replayProgress(w io.Writer, start time.Time) (report func(loader.ReplayStats), clear func()) {
	p := newProgress(w)
	report = func(s loader.ReplayStats) {
		if p.tty {
			p.line(fmt.Sprintf("replay: %d records re-read, %d rows rewritten in %d transactions (%s)",
				s.Records, s.Rows, s.Transactions, time.Since(start).Round(time.Millisecond)))
		}
	}
	return report, p.clear
}

// emptyRange reports whether from is not before to, when both are offsets or
// both are times (other bounds are known only to Kafka and the warehouse).
func emptyRange(from, to loader.Bound) bool {
	isOffset := func(b loader.Bound) bool { return !b.Start && !b.Loaded && b.Time.IsZero() }
	switch {
	case isOffset(from) && isOffset(to):
		return from.Offset >= to.Offset
	case !from.Time.IsZero() && !to.Time.IsZero():
		return !from.Time.Before(to.Time)
	}
	return false
}

// parseBound parses an offset, an RFC 3339 time, or the keyword: "start"
// (the oldest offset Kafka holds) or "loaded".
func parseBound(s, keyword string) (loader.Bound, error) {
	switch {
	case s == keyword && keyword == "start":
		return loader.Bound{Start: true}, nil
	case s == keyword && keyword == "loaded":
		return loader.Bound{Loaded: true}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return loader.Bound{Offset: n}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return loader.Bound{Time: t}, nil
	}
	return loader.Bound{}, fmt.Errorf("%q is not an offset, an RFC 3339 time (2026-11-25T18:00:00Z) or %q", s, keyword)
}
