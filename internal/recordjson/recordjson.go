package recordjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Kind is how a topic's values are encoded.
type Kind int

// The encodings of the pipeline's topics.
const (
	Unknown  Kind = iota // not a pipeline topic: JSON if it is JSON
	Event                // an event.Event, binary Protobuf or JSON by the content-type header (raw events, dead letters)
	JSON                 // the processor's JSON outputs (enriched, late, sessions, KPI, alerts)
	Internal             // the processor's stage 1 → stage 2 records (record.DecodePartials: KPI partials, watermark marks, ledger deltas)
)

// KindOf returns the encoding of topic's values, by its name in t or, for
// the processor's internal topic, partials.
func KindOf(t kafka.Topics, partials, topic string) Kind {
	switch topic {
	case t.Raw, t.DeadLetter:
		return Event
	case t.Enriched, t.Late, t.Sessions, t.KPI, t.Alerts:
		return JSON
	case partials:
		return Internal
	}
	return Unknown
}

// DecodeValue decodes a record value of kind k into JSON: an event through
// the event schema (the JSON form the gateway takes and the warehouse
// shows), read in encoding enc (record.RawEncoding of the record's headers:
// binary Protobuf or JSON), a JSON value as it is. A nil value (a
// tombstone) is JSON null. The error says why the value could not be
// decoded.
func DecodeValue(k Kind, enc record.Encoding, v []byte) (json.RawMessage, error) {
	if v == nil {
		return json.RawMessage("null"), nil
	}
	switch k {
	case Event:
		var e *event.Event
		switch enc {
		case record.EncodingProtobuf:
			var err error
			if e, err = event.Unmarshal(v); err != nil {
				return nil, fmt.Errorf("not a Protobuf event: %w", err)
			}
		case record.EncodingJSON:
			it := event.DecodeJSONEvent(v, event.Limits{})
			if it.Rejection != nil {
				return nil, fmt.Errorf("not a JSON event: %s", it.Rejection.Reason)
			}
			e = it.Event
		default:
			return nil, errors.New("the " + record.HeaderContentType + " header names no event encoding")
		}
		b, err := event.MarshalJSON(e)
		if err != nil {
			return nil, fmt.Errorf("event has no JSON form: %w", err)
		}
		return b, nil
	case Internal:
		return decodePartials(v)
	case JSON:
		if !json.Valid(v) {
			return nil, errors.New("not JSON, though the topic holds JSON")
		}
		return v, nil
	}
	if !json.Valid(v) {
		return nil, errors.New("not JSON, and not a topic of the pipeline whose encoding is known")
	}
	return v, nil
}

// partialJSON is the JSON form of a partials record: kind "partial" (with
// the minute row as far as it goes: its figures from this source), "mark"
// or "ledger".
type partialJSON struct {
	Kind      string      `json:"kind"`
	Source    int32       `json:"source"`
	Row       *kpi.Result `json:"row,omitempty"`
	Watermark *time.Time  `json:"watermark,omitempty"`
	Idle      *bool       `json:"idle,omitempty"`
	Ledger    *ledgerJSON `json:"ledger,omitempty"`
}

type ledgerJSON struct {
	Start      time.Time `json:"start"`
	Game       string    `json:"game"`
	Platform   string    `json:"platform"`
	AppBuild   string    `json:"app_build"`
	Gaps       int64     `json:"gaps"`
	Duplicates int64     `json:"duplicates"`
	OutOfOrder int64     `json:"out_of_order"`
}

// decodePartials decodes a partials record (record.DecodePartials), a
// partial's aggregate through kpi.
func decodePartials(v []byte) (json.RawMessage, error) {
	d, err := record.DecodePartials(v)
	if err != nil {
		return nil, fmt.Errorf("not a partials record: %w", err)
	}
	var j partialJSON
	switch {
	case d.Partial != nil:
		k, err := kpi.ParseKey(d.Partial.Key)
		if err != nil {
			return nil, fmt.Errorf("partial: %w", err)
		}
		a, err := kpi.Decode(d.Partial.Aggregate)
		if err != nil {
			return nil, fmt.Errorf("partial: %w", err)
		}
		r := a.Result(k)
		j = partialJSON{Kind: "partial", Source: d.Partial.Source, Row: &r}
	case d.Mark != nil:
		wm, idle := d.Mark.Watermark, d.Mark.Idle
		j = partialJSON{Kind: "mark", Source: d.Mark.Source, Watermark: &wm, Idle: &idle}
	case d.Ledger != nil:
		l := d.Ledger
		j = partialJSON{Kind: "ledger", Source: l.Source, Ledger: &ledgerJSON{Start: time.UnixMilli(l.Row.Minute).UTC(),
			Game: l.Row.Game, Platform: l.Row.Platform, AppBuild: l.Row.Build,
			Gaps: l.Counts.Gaps, Duplicates: l.Counts.Duplicates, OutOfOrder: l.Counts.OutOfOrder}}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("partials record has no JSON form: %w", err)
	}
	return b, nil
}

// Line is one record as AppendLine prints it.
type Line struct {
	Topic       string          `json:"topic"`
	Partition   int32           `json:"partition"`
	Offset      int64           `json:"offset"`
	Timestamp   string          `json:"timestamp"`            // RFC 3339, UTC
	Key         *string         `json:"key"`                  // null when the record has no key
	KeyBase64   string          `json:"key_base64,omitempty"` // instead of key, when the key is not UTF-8
	Headers     []Header        `json:"headers"`
	Value       json.RawMessage `json:"value"`                  // decoded; null for a tombstone or when not decoded
	ValueBase64 string          `json:"value_base64,omitempty"` // the value's bytes, when not decoded
	DecodeError string          `json:"decode_error,omitempty"` // why the value was not decoded
}

// Header is a record header.
type Header struct {
	Key         string `json:"key"`
	Value       string `json:"value,omitempty"`
	ValueBase64 string `json:"value_base64,omitempty"` // instead of value, when it is not UTF-8
}

// AppendLine appends r as one line of JSON, ending in a newline, with its
// value decoded as kind k, or in base64 with the reason it could not be.
func AppendLine(b []byte, r *kgo.Record, k Kind) []byte {
	l := Line{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Timestamp: r.Timestamp.UTC().Format(time.RFC3339Nano), Headers: []Header{}}
	if r.Key != nil {
		if utf8.Valid(r.Key) {
			key := string(r.Key)
			l.Key = &key
		} else {
			l.KeyBase64 = base64.StdEncoding.EncodeToString(r.Key)
		}
	}
	for _, h := range r.Headers {
		th := Header{Key: strings.ToValidUTF8(h.Key, "\uFFFD")}
		if utf8.Valid(h.Value) {
			th.Value = string(h.Value)
		} else {
			th.ValueBase64 = base64.StdEncoding.EncodeToString(h.Value)
		}
		l.Headers = append(l.Headers, th)
	}
	v, err := DecodeValue(k, record.RawEncoding(r.Headers), r.Value)
	if err == nil {
		l.Value = v
		if out, err := marshalLine(l); err == nil {
			return append(b, out...)
		}
		err = errors.New("decoded value is not valid JSON")
	}
	l.Value, l.ValueBase64, l.DecodeError = json.RawMessage("null"), base64.StdEncoding.EncodeToString(r.Value), err.Error()
	out, _ := marshalLine(l) // every member is now a string or null
	return append(b, out...)
}

// marshalLine encodes l on one line: the encoder compacts the raw value (a
// record pretty-printed over lines stays on one) and ends it with a newline.
// It leaves <, > and & as they are, so that values stay readable.
func marshalLine(l Line) ([]byte, error) {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return []byte(sb.String()), nil
}
