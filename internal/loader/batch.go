package loader

import (
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// batch is what the loader read since its last apply.
type batch struct {
	b        warehouse.Batch
	next     map[warehouse.TopicPartition]int64
	last     []*kgo.Record // the newest record per partition, for the Kafka commit
	lastIdx  map[warehouse.TopicPartition]int
	bytes    int
	accepted []time.Time // received_at of the events, for freshness
}

func (b *batch) empty() bool { return len(b.next) == 0 }

func (b *batch) rows() int { return b.b.Rows() }

// add maps one record to its row. A record that does not decode becomes a
// dead_letters row with the reason, so that nothing is dropped silently.
func (l *Loader) add(b *batch, r *kgo.Record) {
	if b.next == nil {
		b.next = map[warehouse.TopicPartition]int64{}
		b.lastIdx = map[warehouse.TopicPartition]int{}
	}
	tp := warehouse.TopicPartition{Topic: r.Topic, Partition: r.Partition}
	b.next[tp] = r.Offset + 1
	if i, ok := b.lastIdx[tp]; ok {
		b.last[i] = r
	} else {
		b.lastIdx[tp] = len(b.last)
		b.last = append(b.last, r)
	}
	b.bytes += len(r.Value)
	pos := warehouse.Position{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	t := &l.cfg.Topics
	var err error
	switch r.Topic {
	case t.Enriched:
		var row warehouse.EventRow
		if row, err = warehouse.DecodeEnriched(r.Value); err == nil {
			row.Pos = pos
			b.b.Events = append(b.b.Events, row)
			if !row.ReceivedAt.IsZero() {
				b.accepted = append(b.accepted, row.ReceivedAt)
			}
		}
	case t.Sessions:
		var row warehouse.SessionRow
		if row, err = warehouse.DecodeSession(r.Value); err == nil {
			row.Pos = pos
			b.b.Sessions = append(b.b.Sessions, row)
		}
	case t.KPI:
		var k *warehouse.KPIRow
		var c *warehouse.CompletenessRow
		if k, c, err = warehouse.DecodeKPI(r.Key, r.Value); err == nil {
			if k != nil {
				k.Pos = pos
				b.b.KPIs = append(b.b.KPIs, *k)
			}
			if c != nil {
				c.Pos = pos
				b.b.Completeness = append(b.b.Completeness, *c)
			}
		}
	case t.Alerts:
		var row warehouse.AlertRow
		if row, err = warehouse.DecodeAlert(r.Value); err == nil {
			row.Pos = pos
			b.b.Alerts = append(b.b.Alerts, row)
		}
	case t.DeadLetter:
		hs := make([]warehouse.Header, len(r.Headers))
		for i, h := range r.Headers {
			hs[i] = warehouse.Header{Key: h.Key, Value: h.Value}
		}
		var row warehouse.DeadLetterRow
		if row, err = warehouse.DecodeDeadLetter(r.Value, hs); err == nil {
			row.Pos = pos
			b.b.DeadLetters = append(b.b.DeadLetters, row)
		}
	default:
		err = fmt.Errorf("record of unexpected topic %s", r.Topic)
	}
	if err != nil {
		l.m.rejected.WithLabelValues(r.Topic).Inc()
		l.log.Warn("record the warehouse cannot take; stored in dead_letters", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", err)
		b.b.DeadLetters = append(b.b.DeadLetters, warehouse.DeadLetterRow{Code: "load_rejected", Reason: err.Error(),
			Original: append([]byte(nil), r.Value...), SourceTopic: r.Topic, SourcePartition: r.Partition, SourceOffset: r.Offset, Pos: pos})
	}
}

// warehouse returns the batch with its offsets, in a stable order.
func (b *batch) warehouse() warehouse.Batch {
	out := b.b
	out.Offsets = make([]warehouse.Offset, 0, len(b.next))
	for tp, n := range b.next {
		out.Offsets = append(out.Offsets, warehouse.Offset{Topic: tp.Topic, Partition: tp.Partition, Next: n})
	}
	sort.Slice(out.Offsets, func(i, j int) bool {
		if out.Offsets[i].Topic != out.Offsets[j].Topic {
			return out.Offsets[i].Topic < out.Offsets[j].Topic
		}
		return out.Offsets[i].Partition < out.Offsets[j].Partition
	})
	return out
}
