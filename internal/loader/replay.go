package loader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Bound is one end of a replay: an offset, a time (the first record at or
// after it, by record timestamp), the oldest offset Kafka holds, or the end
// of what the warehouse loaded.
type Bound struct {
	Offset int64     // when the others are unset
	Time   time.Time // non-zero: resolved per partition with ListOffsets
	Start  bool      // the partition's log start offset (a From)
	Loaded bool      // the warehouse's next offset for the partition (a To)
}

// ReplayRequest names what to replay: a topic (one of the loader's),
// optionally some of its partitions, and [From, To).
type ReplayRequest struct {
	Topic      string
	Partitions []int32 // nil: every partition
	From, To   Bound
}

// ReplayStats is what a replay did.
type ReplayStats struct {
	Ranges       []warehouse.Range // per partition, after resolving and clamping
	Records      int64             // data records re-read
	Rows         int64             // rows rewritten
	Transactions int64
}

// Replay re-loads a range of one topic into the warehouse idempotently:
// each chunk of at most BatchRows rows replaces the rows of its offset
// range in one warehouse transaction (warehouse.Sink.Replay), so a replay
// leaves no duplicates and skips no rows, and running it twice, or after it
// was interrupted, gives the same warehouse. The range ends at the
// warehouse's loaded offsets at most: what the loader has not loaded yet is
// its to load. A range that starts before what Kafka still holds
// (retention) is refused, since its rows could be deleted but not re-read.
//
// It needs no consumer group and can run beside a live loader.
func (l *Loader) Replay(ctx context.Context, req ReplayRequest, progress func(ReplayStats)) (ReplayStats, error) {
	var st ReplayStats
	if !slices.Contains(l.topics(), req.Topic) {
		return st, fmt.Errorf("replay: topic %q is not one the loader loads (%v)", req.Topic, l.topics())
	}
	ranges, err := l.resolve(ctx, req)
	if err != nil {
		return st, err
	}
	st.Ranges = ranges
	todo := map[int32]kgo.Offset{}
	for _, r := range ranges {
		if r.From < r.To {
			todo[r.Partition] = kgo.NewOffset().At(r.From)
		}
	}
	if len(todo) == 0 {
		return st, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, l.base...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{req.Topic: todo}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records (transaction markers) come through too, so that
		// the end of a range is seen even when its last offset is a marker.
		kgo.KeepControlRecords(),
	)...)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	defer cl.Close()

	to := map[int32]int64{}
	start := map[int32]int64{} // the start of the chunk being read
	seen := map[int32]int64{}  // the next offset after the last record seen
	for _, r := range ranges {
		if r.From < r.To {
			to[r.Partition], start[r.Partition], seen[r.Partition] = r.To, r.From, r.From
		}
	}
	var b batch
	apply := func(final bool) error {
		var rs []warehouse.Range
		for p, s := range start {
			end := seen[p]
			if final || end >= to[p] {
				end = to[p]
			}
			if end > s {
				rs = append(rs, warehouse.Range{Topic: req.Topic, Partition: p, From: s, To: end})
			}
		}
		if len(rs) == 0 {
			return nil
		}
		slices.SortFunc(rs, func(a, b warehouse.Range) int { return int(a.Partition - b.Partition) })
		if err := l.sink.Replay(ctx, rs, b.b); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		for _, r := range rs {
			start[r.Partition] = r.To
		}
		st.Rows += int64(b.rows())
		st.Transactions++
		b = batch{}
		if progress != nil {
			progress(st)
		}
		return nil
	}
	done := func() bool {
		for p := range to {
			if seen[p] < to[p] {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollRecords(ctx, l.cfg.BatchRows)
		if err := ctx.Err(); err != nil {
			return st, err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("replay: fetch %s/%d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return st, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= to[r.Partition] {
				seen[r.Partition] = to[r.Partition]
				return
			}
			seen[r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() {
				return
			}
			st.Records++
			l.add(&b, r)
		})
		if b.rows() >= l.cfg.BatchRows {
			if err := apply(false); err != nil {
				return st, err
			}
		}
	}
	return st, apply(true)
}

// resolve turns a request into one range per partition: bounds resolved
// with ListOffsets, the end clamped to the warehouse's loaded offsets, the
// start checked against the log start offsets.
func (l *Loader) resolve(ctx context.Context, req ReplayRequest) ([]warehouse.Range, error) {
	cl, err := kgo.NewClient(l.base...)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, req.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("replay: list the start offsets of %s: %w", req.Topic, err)
	}
	bound := func(b Bound) (map[int32]int64, error) {
		out := map[int32]int64{}
		if b.Time.IsZero() {
			return out, nil
		}
		lo, err := adm.ListOffsetsAfterMilli(ctx, b.Time.UnixMilli(), req.Topic)
		if err == nil {
			err = lo.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("replay: offsets of %s after %s: %w", req.Topic, b.Time.Format(time.RFC3339), err)
		}
		lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		return out, nil
	}
	fromT, err := bound(req.From)
	if err != nil {
		return nil, err
	}
	toT, err := bound(req.To)
	if err != nil {
		return nil, err
	}
	loaded, err := l.sink.Offsets(ctx, []string{req.Topic})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	var out []warehouse.Range
	var rerr error
	starts.Each(func(o kadm.ListedOffset) {
		p := o.Partition
		if rerr != nil || (req.Partitions != nil && !slices.Contains(req.Partitions, p)) {
			return
		}
		r := warehouse.Range{Topic: req.Topic, Partition: p, From: req.From.Offset, To: req.To.Offset}
		if !req.From.Time.IsZero() {
			r.From = fromT[p]
		}
		if req.From.Start {
			r.From = o.Offset
		}
		if !req.To.Time.IsZero() {
			r.To = toT[p]
		}
		n := loaded[warehouse.TopicPartition{Topic: req.Topic, Partition: p}]
		if req.To.Loaded || r.To > n {
			r.To = n
		}
		if r.From < r.To && r.From < o.Offset {
			rerr = fmt.Errorf("replay: %s/%d from offset %d: Kafka holds this partition from offset %d only (retention); replay from there",
				req.Topic, p, r.From, o.Offset)
			return
		}
		r.From = min(r.From, r.To)
		out = append(out, r)
	})
	if rerr != nil {
		return nil, rerr
	}
	for _, p := range req.Partitions {
		if !slices.ContainsFunc(out, func(r warehouse.Range) bool { return r.Partition == p }) {
			return nil, fmt.Errorf("replay: %s has no partition %d", req.Topic, p)
		}
	}
	slices.SortFunc(out, func(a, b warehouse.Range) int { return int(a.Partition - b.Partition) })
	return out, nil
}
