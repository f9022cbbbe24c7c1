package kafka

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Names returns the names of the topics t names, with internal (the
// processor's partials topic, "" for none) in its place, in the order the
// data flows: raw, dead letters, enriched, late, sessions, internal, KPI,
// alerts. Empty names are left out.
func (t Topics) Names(internal string) []string {
	var out []string
	for _, n := range []string{t.Raw, t.DeadLetter, t.Enriched, t.Late, t.Sessions, internal, t.KPI, t.Alerts} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// TopicSummary is what `gamepulse topics` shows of one topic.
type TopicSummary struct {
	Name        string            `json:"name"`
	Exists      bool              `json:"exists"`
	Partitions  int               `json:"partitions"`
	Replication int               `json:"replication"`
	EndOffset   int64             `json:"end_offset"` // sum of the partitions' end offsets (high watermarks)
	Records     int64             `json:"records"`    // sum of end minus start offsets: records kept, transaction markers included
	Offsets     []PartitionOffset `json:"offsets"`
	Groups      []TopicGroupLag   `json:"groups"` // consumer groups with commits on (or members assigned to) the topic
	Error       string            `json:"error,omitempty"`
}

// PartitionOffset is one partition's start and end offsets.
type PartitionOffset struct {
	Partition int32 `json:"partition"`
	Start     int64 `json:"start"`
	End       int64 `json:"end"`
}

// TopicGroupLag is how far one consumer group is behind on one topic: the
// sum over partitions of end offset minus committed offset.
type TopicGroupLag struct {
	Group string `json:"group"`
	State string `json:"state"`
	Lag   int64  `json:"lag"`
}

// DescribeTopics summarizes the named topics (a missing one has Exists
// false), or every topic but the internal ones when names is empty: their
// partitions, replication factor, offsets, and the lag of every consumer
// group reading them. A failure to measure lag is returned as lagErr with
// the summaries; err means the cluster could not be asked at all.
func DescribeTopics(ctx context.Context, adm *kadm.Client, names ...string) (out []TopicSummary, lagErr, err error) {
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return nil, nil, fmt.Errorf("list topics: %w", err)
	}
	if len(names) == 0 {
		names = details.Names()
		sort.Strings(names)
	}
	var existing []string
	for _, n := range names {
		if d, ok := details[n]; ok && d.Err == nil {
			existing = append(existing, n)
		}
	}
	var starts, ends kadm.ListedOffsets
	if len(existing) > 0 {
		if starts, err = adm.ListStartOffsets(ctx, existing...); err != nil {
			return nil, nil, fmt.Errorf("list start offsets: %w", err)
		}
		if ends, err = adm.ListEndOffsets(ctx, existing...); err != nil {
			return nil, nil, fmt.Errorf("list end offsets: %w", err)
		}
	}
	lags, lagErr := adm.Lag(ctx) // every group
	if lagErr == nil {
		lagErr = lags.Error()
	}
	for _, n := range names {
		s := TopicSummary{Name: n, Offsets: []PartitionOffset{}, Groups: []TopicGroupLag{}}
		d, ok := details[n]
		switch {
		case !ok:
			out = append(out, s)
			continue
		case d.Err != nil:
			if !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
				s.Error = d.Err.Error()
			}
			out = append(out, s)
			continue
		}
		s.Exists, s.Partitions, s.Replication = true, len(d.Partitions), d.Partitions.NumReplicas()
		for _, p := range d.Partitions.Numbers() {
			po := PartitionOffset{Partition: p}
			if o, ok := starts.Lookup(n, p); ok && o.Err == nil {
				po.Start = o.Offset
			}
			if o, ok := ends.Lookup(n, p); ok && o.Err == nil {
				po.End = o.Offset
			} else if ok && s.Error == "" {
				s.Error = fmt.Sprintf("partition %d: %v", p, o.Err)
			}
			s.EndOffset += po.End
			s.Records += max(po.End-po.Start, 0)
			s.Offsets = append(s.Offsets, po)
		}
		for _, g := range lags.Sorted() {
			parts, ok := g.Lag[n]
			if !ok {
				continue
			}
			tl := TopicGroupLag{Group: g.Group, State: g.State}
			for _, l := range parts {
				if l.Lag > 0 {
					tl.Lag += l.Lag
				}
			}
			s.Groups = append(s.Groups, tl)
		}
		out = append(out, s)
	}
	return out, lagErr, nil
}
