package record

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// Header is a Kafka record header (the shape of kgo.RecordHeader, to which
// it converts).
type Header struct {
	Key   string
	Value []byte
}

// The headers of a dead letter.
const (
	HeaderCode            = "code"
	HeaderReason          = "reason"
	HeaderSourceTopic     = "source_topic"
	HeaderSourcePartition = "source_partition"
	HeaderSourceOffset    = "source_offset"
)

// DeadLetter is why and where from a record went to the dead-letter topic.
// The record's key and value are the original record's, unchanged (a raw
// event's bytes); these fields travel as headers.
type DeadLetter struct {
	Code            string // a validation code (event.Validate's), e.g. "invalid_value"
	Reason          string // for a person
	SourceTopic     string
	SourcePartition int32 // -1: unknown
	SourceOffset    int64 // -1: unknown
}

// Headers returns d's record headers, in the order code, reason,
// source_topic, source_partition, source_offset.
func (d *DeadLetter) Headers() []Header {
	return []Header{
		{Key: HeaderCode, Value: []byte(d.Code)},
		{Key: HeaderReason, Value: []byte(d.Reason)},
		{Key: HeaderSourceTopic, Value: []byte(d.SourceTopic)},
		{Key: HeaderSourcePartition, Value: strconv.AppendInt(nil, int64(d.SourcePartition), 10)},
		{Key: HeaderSourceOffset, Value: strconv.AppendInt(nil, d.SourceOffset, 10)},
	}
}

// DecodeDeadLetter reads a dead letter's headers. Missing headers leave
// empty strings and -1; a malformed or negative number is an error; other
// headers are ignored.
func DecodeDeadLetter(headers []Header) (DeadLetter, error) {
	d := DeadLetter{SourcePartition: -1, SourceOffset: -1}
	for _, h := range headers {
		switch h.Key {
		case HeaderCode:
			d.Code = string(h.Value)
		case HeaderReason:
			d.Reason = string(h.Value)
		case HeaderSourceTopic:
			d.SourceTopic = string(h.Value)
		case HeaderSourcePartition:
			p, err := strconv.ParseInt(string(h.Value), 10, 32)
			if err != nil || p < 0 {
				return DeadLetter{}, fmt.Errorf("dead letter: source_partition %q", h.Value)
			}
			d.SourcePartition = int32(p)
		case HeaderSourceOffset:
			o, err := strconv.ParseInt(string(h.Value), 10, 64)
			if err != nil || o < 0 {
				return DeadLetter{}, fmt.Errorf("dead letter: source_offset %q", h.Value)
			}
			d.SourceOffset = o
		}
	}
	return d, nil
}

// LateHeader is the header of a record on the late topic: the watermark
// (RFC 3339, UTC) the event's time was behind by more than a minute. The
// record's key and value are the enriched event's.
const LateHeader = "watermark"

// LateHeaders returns the headers of a late record at watermark wm.
func LateHeaders(wm time.Time) []Header {
	return []Header{{Key: LateHeader, Value: wm.UTC().AppendFormat(nil, time.RFC3339Nano)}}
}

// DecodeLate reads the watermark header of a late record.
func DecodeLate(headers []Header) (time.Time, error) {
	for _, h := range headers {
		if h.Key == LateHeader {
			t, err := time.Parse(time.RFC3339Nano, string(bytes.TrimSpace(h.Value)))
			if err != nil {
				return time.Time{}, fmt.Errorf("late: watermark: %w", err)
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("late: no %s header", LateHeader)
}
