package kafka

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Offsets are offsets by topic and partition.
type Offsets map[string]map[int32]int64

// Ends returns the end offsets (high watermarks) of topics.
func Ends(ctx context.Context, adm *kadm.Client, topics ...string) (Offsets, error) {
	listed, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	out := Offsets{}
	var ferr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			ferr = fmt.Errorf("list end offsets: %s/%d: %w", o.Topic, o.Partition, o.Err)
			return
		}
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.Offset
	})
	return out, ferr
}

// GroupOffsets returns the offsets group has committed (the next offset it
// reads), by topic and partition.
func GroupOffsets(ctx context.Context, adm *kadm.Client, group string) (Offsets, error) {
	resp, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	out := Offsets{}
	resp.Each(func(o kadm.OffsetResponse) {
		if out[o.Topic] == nil {
			out[o.Topic] = map[int32]int64{}
		}
		out[o.Topic][o.Partition] = o.At
	})
	return out, nil
}

// probeWait is how long Unconsumed waits for records it may have to count.
const probeWait = time.Second

// Unconsumed counts the records before ends that a reader positioned at
// from (the next offset it reads; a partition missing from from is read
// from its start) has yet to read, as a read_committed consumer sees them.
// Transaction markers take an offset but are never delivered, so a consumer
// of a transactional topic that read everything stays one offset or more
// short of the end: comparing offsets would call it behind forever. So
// where from is short of the end, Unconsumed reads from there (at most
// probeWait) and counts the records it gets. opts are the connection
// options.
func Unconsumed(ctx context.Context, opts []kgo.Opt, from, ends Offsets) (int64, error) {
	probe := map[string]map[int32]kgo.Offset{}
	for t, parts := range ends {
		for p, end := range parts {
			at, ok := from[t][p]
			if !ok || at < 0 {
				at = 0
			}
			if at >= end {
				continue
			}
			if probe[t] == nil {
				probe[t] = map[int32]kgo.Offset{}
			}
			probe[t][p] = kgo.NewOffset().At(at)
		}
	}
	if len(probe) == 0 {
		return 0, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...),
		kgo.ConsumePartitions(probe),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		return 0, fmt.Errorf("unconsumed records: %w", err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	var n int64
	for n == 0 && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Topic][r.Partition] {
				n++
			}
		})
	}
	if n == 0 && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return n, nil
}
