package event

import (
	"bytes"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// Format is the encoding of a posted batch.
type Format int

// The batch formats the gateway accepts.
const (
	FormatJSON     Format = iota // a JSON array of events (or one JSON object)
	FormatNDJSON                 // one JSON event per line
	FormatProtobuf               // a binary EventBatch
)

func (f Format) String() string {
	switch f {
	case FormatJSON:
		return "json"
	case FormatNDJSON:
		return "ndjson"
	case FormatProtobuf:
		return "protobuf"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Limits bound what one batch may hold.
type Limits struct {
	MaxEvents     int // events per batch
	MaxEventBytes int // encoded size of one event
	MaxDepth      int // JSON nesting depth of one event (the event object is level 1)
}

// Batch-level error codes: the whole batch is refused.
const (
	BatchMalformed = "malformed_batch"
	BatchTooMany   = "too_many_events"
)

// BatchError refuses a whole batch: its structure could not be split into
// events, or it holds more events than allowed.
type BatchError struct {
	Code   string
	Reason string
}

func (e *BatchError) Error() string { return e.Reason }

// Item is one event of a batch: decoded, or refused with a reason.
type Item struct {
	Event     *Event
	Rejection *Rejection
	Size      int    // encoded bytes of this event in the batch
	Raw       []byte // the event's binary encoding as received (Protobuf batches only)
}

// DecodeBatch splits body into events and decodes each on its own. A
// malformed or oversized event becomes an Item with a Rejection; only a body
// whose structure cannot be split (or that holds too many events) returns a
// *BatchError. Items are not validated: call Validate on each decoded Event.
func DecodeBatch(f Format, body []byte, lim Limits) ([]Item, error) {
	switch f {
	case FormatJSON:
		return decodeJSON(body, lim)
	case FormatNDJSON:
		return decodeNDJSON(body, lim)
	case FormatProtobuf:
		return decodeProtobuf(body, lim)
	}
	return nil, &BatchError{Code: BatchMalformed, Reason: "unsupported format " + f.String()}
}

type span struct {
	start, end int // body[start:end] is the element
	depth      int // deepest nesting inside it
}

func tooMany(lim Limits) error {
	return &BatchError{Code: BatchTooMany, Reason: fmt.Sprintf("batch holds more than %d events", lim.MaxEvents)}
}

func decodeJSON(body []byte, lim Limits) ([]Item, error) {
	i := skipSpace(body, 0)
	if i == len(body) {
		return nil, &BatchError{Code: BatchMalformed, Reason: "empty body: expected a JSON array of events"}
	}
	var spans []span
	switch body[i] {
	case '{': // a single event
		s, next, err := scanValue(body, i)
		if err != nil {
			return nil, err
		}
		if j := skipSpace(body, next); j != len(body) {
			return nil, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("unexpected data after the JSON object at byte %d", j)}
		}
		spans = append(spans, s)
	case '[':
		i = skipSpace(body, i+1)
		if i < len(body) && body[i] == ']' {
			i++
		} else {
			for {
				s, next, err := scanValue(body, i)
				if err != nil {
					return nil, err
				}
				if lim.MaxEvents > 0 && len(spans) == lim.MaxEvents {
					return nil, tooMany(lim)
				}
				spans = append(spans, s)
				i = skipSpace(body, next)
				if i == len(body) {
					return nil, &BatchError{Code: BatchMalformed, Reason: "unterminated JSON array"}
				}
				if body[i] == ']' {
					i++
					break
				}
				if body[i] != ',' {
					return nil, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("expected ',' or ']' at byte %d", i)}
				}
				i = skipSpace(body, i+1)
			}
		}
		if j := skipSpace(body, i); j != len(body) {
			return nil, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("unexpected data after the JSON array at byte %d", j)}
		}
	default:
		return nil, &BatchError{Code: BatchMalformed, Reason: "body is not JSON: expected a JSON array of events"}
	}
	items := make([]Item, len(spans))
	evs := make([]Event, len(spans))
	for k, s := range spans {
		items[k] = decodeJSONEvent(body[s.start:s.end], s.depth, lim, &evs[k])
	}
	return items, nil
}

func decodeNDJSON(body []byte, lim Limits) ([]Item, error) {
	var lines [][]byte
	for len(body) > 0 {
		line := body
		if nl := bytes.IndexByte(body, '\n'); nl >= 0 {
			line, body = body[:nl], body[nl+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if lim.MaxEvents > 0 && len(lines) == lim.MaxEvents {
			return nil, tooMany(lim)
		}
		lines = append(lines, line)
	}
	items := make([]Item, len(lines))
	evs := make([]Event, len(lines))
	for k, line := range lines {
		s, next, err := scanValue(line, 0)
		switch {
		case err != nil:
			items[k] = Item{Size: len(line), Rejection: reject(CodeMalformed, "invalid JSON: %s", err.(*BatchError).Reason)}
		case skipSpace(line, next) != len(line):
			items[k] = Item{Size: len(line), Rejection: reject(CodeMalformed, "invalid JSON: more than one value on the line")}
		default:
			items[k] = decodeJSONEvent(line, s.depth, lim, &evs[k])
		}
	}
	return items, nil
}

// DecodeJSONEvent decodes one event in the gateway's JSON form, as one line
// of an NDJSON batch is decoded (the same decoder, so the same rejection
// codes): a value that is not JSON, more than one value, or JSON that is not
// an event is an Item with a Rejection (malformed, not_an_object, and with
// lim's bounds too_large, too_deep). It is the reader of a raw record in the
// JSON encoding. The event is not validated: call Validate.
func DecodeJSONEvent(b []byte, lim Limits) Item {
	line := bytes.TrimSpace(b)
	if len(line) == 0 {
		return Item{Size: len(b), Rejection: reject(CodeMalformed, "invalid JSON: empty value")}
	}
	s, next, err := scanValue(line, 0)
	switch {
	case err != nil:
		return Item{Size: len(line), Rejection: reject(CodeMalformed, "invalid JSON: %s", err.(*BatchError).Reason)}
	case skipSpace(line, next) != len(line):
		return Item{Size: len(line), Rejection: reject(CodeMalformed, "invalid JSON: more than one value")}
	}
	return decodeJSONEvent(line, s.depth, lim, new(Event))
}

func decodeJSONEvent(raw []byte, depth int, lim Limits, ev *Event) Item {
	it := Item{Size: len(raw)}
	switch {
	case lim.MaxEventBytes > 0 && len(raw) > lim.MaxEventBytes:
		it.Rejection = reject(CodeTooLarge, "event is %d bytes; the limit is %d", len(raw), lim.MaxEventBytes)
	case raw[0] != '{':
		it.Rejection = reject(CodeNotObject, "event is not a JSON object")
	case lim.MaxDepth > 0 && depth > lim.MaxDepth:
		it.Rejection = reject(CodeTooDeep, "event nests deeper than %d levels", lim.MaxDepth)
	default:
		if decodeJSONFast(raw, ev) == nil {
			it.Event = ev
			return it
		}
		ev.Reset()
		if err := jsonIn.Unmarshal(raw, ev); err != nil {
			it.Rejection = reject(CodeMalformed, "invalid event: %s", cleanProtoErr(err))
		} else {
			it.Event = ev
		}
	}
	return it
}

func decodeProtobuf(body []byte, lim Limits) ([]Item, error) {
	var raws [][]byte
	for len(body) > 0 {
		num, typ, n := protowire.ConsumeTag(body)
		if n < 0 {
			return nil, &BatchError{Code: BatchMalformed, Reason: "invalid Protobuf EventBatch: " + protowire.ParseError(n).Error()}
		}
		body = body[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(body)
			if m < 0 {
				return nil, &BatchError{Code: BatchMalformed, Reason: "invalid Protobuf EventBatch: " + protowire.ParseError(m).Error()}
			}
			if lim.MaxEvents > 0 && len(raws) == lim.MaxEvents {
				return nil, tooMany(lim)
			}
			raws = append(raws, v)
			body = body[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, body) // unknown batch field: skip
		if m < 0 {
			return nil, &BatchError{Code: BatchMalformed, Reason: "invalid Protobuf EventBatch: " + protowire.ParseError(m).Error()}
		}
		body = body[m:]
	}
	items := make([]Item, len(raws))
	evs := make([]Event, len(raws))
	for k, raw := range raws {
		items[k].Size = len(raw)
		if lim.MaxEventBytes > 0 && len(raw) > lim.MaxEventBytes {
			items[k].Rejection = reject(CodeTooLarge, "event is %d bytes; the limit is %d", len(raw), lim.MaxEventBytes)
			continue
		}
		if err := proto.Unmarshal(raw, &evs[k]); err != nil {
			items[k].Rejection = reject(CodeMalformed, "invalid event: %s", cleanProtoErr(err))
			continue
		}
		items[k].Event = &evs[k]
		items[k].Raw = raw
	}
	return items, nil
}

func cleanProtoErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.TrimPrefix(s, "proto:\u00a0")
	return s
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue finds the end of the JSON value starting at b[i] without decoding
// it: it tracks strings (with escapes) and bracket nesting only, which is
// enough to split a batch; the event decoder checks the rest.
func scanValue(b []byte, i int) (span, int, error) {
	s := span{start: i}
	depth := 0
	for j := i; j < len(b); j++ {
		switch c := b[j]; c {
		case '"':
			j++
			for j < len(b) && b[j] != '"' {
				if b[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(b) {
				return s, 0, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("unterminated string starting in the value at byte %d", i)}
			}
			if depth == 0 {
				s.end = j + 1
				return s, j + 1, nil
			}
		case '{', '[':
			depth++
			if depth > s.depth {
				s.depth = depth
			}
		case '}', ']':
			if depth == 0 { // end of the enclosing array
				if j > i { // ...which also ends a scalar element
					s.end = j
					return s, j, nil
				}
				return s, 0, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("unexpected %q at byte %d", c, j)}
			}
			depth--
			if depth == 0 {
				s.end = j + 1
				return s, j + 1, nil
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 { // end of a scalar
				if j == i {
					return s, 0, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("missing value at byte %d", j)}
				}
				s.end = j
				return s, j, nil
			}
		}
	}
	if depth == 0 && len(b) > i {
		s.end = len(b)
		return s, len(b), nil
	}
	return s, 0, &BatchError{Code: BatchMalformed, Reason: fmt.Sprintf("unterminated JSON value starting at byte %d", i)}
}
