package simulate

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// KafkaSink produces items straight to the events topic, in the form the
// gateway writes in the sink's raw encoding: the event (binary Protobuf, or
// its JSON form as event.AppendJSON writes it), keyed by player_id, with
// received_at set to the time of Send (game_id is already set by the
// generator), and the content-type header of the encoding
// (record.RawHeaders). It bypasses the gateway's validation, so what a
// consumer must survive reaches it: malformed items that are events
// (Item.Event set) go in the encoding like the others, the rest as their
// raw bytes (broken JSON, or JSON that is no event object), without a key,
// under the same header: undecodable in either encoding.
//
// Kafka refuses nothing per record: Send reports every acknowledged record
// as accepted. A KafkaSink is not safe for concurrent use.
type KafkaSink struct {
	cl      *kgo.Client
	topic   string
	enc     record.Encoding
	headers []kgo.RecordHeader
	now     func() time.Time
	recs    []*kgo.Record
}

// NewKafkaSink returns a sink producing to topic with cl, which the caller
// configures (acks, idempotence, compression) and closes, in raw encoding
// enc (record.EncodingProtobuf or record.EncodingJSON).
func NewKafkaSink(cl *kgo.Client, topic string, enc record.Encoding) *KafkaSink {
	s := &KafkaSink{cl: cl, topic: topic, enc: enc, now: time.Now}
	for _, h := range record.RawHeaders(enc) {
		s.headers = append(s.headers, kgo.RecordHeader(h))
	}
	return s
}

// Send produces items and waits until Kafka acknowledged all of them.
func (s *KafkaSink) Send(ctx context.Context, items []Item) (accepted, rejected int, err error) {
	received := s.now()
	s.recs = s.recs[:0]
	for _, it := range items {
		r := &kgo.Record{Topic: s.topic, Headers: s.headers}
		if it.Event == nil {
			r.Value = it.Raw
		} else {
			v, err := s.encode(it.Event, received)
			if err != nil {
				return 0, 0, fmt.Errorf("simulate: kafka sink: %w", err)
			}
			r.Key = []byte(it.Event.GetPlayerId())
			r.Value = v
		}
		s.recs = append(s.recs, r)
	}
	res := s.cl.ProduceSync(ctx, s.recs...)
	for _, r := range res {
		if r.Err == nil {
			accepted++
		}
	}
	clear(s.recs)
	if err := res.FirstErr(); err != nil {
		return accepted, 0, fmt.Errorf("simulate: kafka sink: produce to %s: %w", s.topic, err)
	}
	return accepted, 0, nil
}

// encode returns ev's raw record value with received_at set to received,
// leaving ev as it was.
func (s *KafkaSink) encode(ev *event.Event, received time.Time) ([]byte, error) {
	if s.enc == record.EncodingJSON {
		was := ev.ReceivedAt
		ev.ReceivedAt = timestamppb.New(received)
		b, err := event.AppendJSON(make([]byte, 0, 512), ev)
		ev.ReceivedAt = was
		return b, err
	}
	b, err := event.AppendBinary(make([]byte, 0, 256), ev)
	if err != nil {
		return nil, err
	}
	return appendReceivedAt(b, received), nil
}

// Close flushes the client's buffered records.
func (s *KafkaSink) Close(ctx context.Context) error {
	if err := s.cl.Flush(ctx); err != nil {
		return fmt.Errorf("simulate: kafka sink: flush: %w", err)
	}
	return nil
}

// appendReceivedAt appends Event.received_at (field 9, a Timestamp) to an
// encoded Event. Protobuf parsers merge a repeated occurrence of a message
// field into the earlier one, so this sets the field without decoding or
// copying the caller's event.
func appendReceivedAt(b []byte, t time.Time) []byte {
	var ts []byte
	if s := t.Unix(); s != 0 {
		ts = protowire.AppendTag(ts, 1, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(s))
	}
	if n := t.Nanosecond(); n != 0 {
		ts = protowire.AppendTag(ts, 2, protowire.VarintType)
		ts = protowire.AppendVarint(ts, uint64(n))
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, ts)
}
