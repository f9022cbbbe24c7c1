package loader

import (
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/record"
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
// The rows of an at-least-once producer's records (record.AtLeastOnce: the
// delivery header) go to Batch.AtLeastOnce, which the warehouse appends by
// key, so that a copy the producer wrote again at another offset is loaded
// once; their KPI and completeness rows are upserts by key already. A
// record that does not decode has no key to tell its copies by: its dead
// letter takes the plain path.
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
	alo := record.AtLeastOnce(r.Headers)
	k := &b.b.AtLeastOnce
	var err error
	switch r.Topic {
	case t.Enriched:
		var row warehouse.EventRow
		if row, err = warehouse.DecodeEnriched(r.Value); err == nil {
			row.Pos = pos
			dst := pick(alo, &b.b.Events, &k.Events)
			*dst = append(*dst, row)
			if !row.ReceivedAt.IsZero() {
				b.accepted = append(b.accepted, row.ReceivedAt)
			}
		}
	case t.Sessions:
		var row warehouse.SessionRow
		if row, err = warehouse.DecodeSession(r.Value); err == nil {
			row.Pos = pos
			dst := pick(alo, &b.b.Sessions, &k.Sessions)
			*dst = append(*dst, row)
		}
	case t.KPI:
		var kr *warehouse.KPIRow
		var c *warehouse.CompletenessRow
		if kr, c, err = warehouse.DecodeKPI(r.Key, r.Value); err == nil {
			if kr != nil {
				kr.Pos = pos
				b.b.KPIs = append(b.b.KPIs, *kr)
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
			dst := pick(alo, &b.b.Alerts, &k.Alerts)
			*dst = append(*dst, row)
		}
	case t.DeadLetter:
		hs := make([]warehouse.Header, len(r.Headers))
		for i, h := range r.Headers {
			hs[i] = warehouse.Header{Key: h.Key, Value: h.Value}
		}
		var row warehouse.DeadLetterRow
		if row, err = warehouse.DecodeDeadLetter(r.Value, hs); err == nil {
			row.Pos = pos
			dst := pick(alo, &b.b.DeadLetters, &k.DeadLetters)
			*dst = append(*dst, row)
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

// pick returns keyed when atLeastOnce, else plain.
func pick[T any](atLeastOnce bool, plain, keyed *T) *T {
	if atLeastOnce {
		return keyed
	}
	return plain
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
