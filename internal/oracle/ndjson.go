package oracle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// ScanNDJSON reads NDJSON in the gateway's JSON form, one item per line in
// arrival order (as simulate.FileSink writes it), and calls fn with each
// line's Record: the decoded event, or the decoder's rejection code
// (malformed, not_an_object). Blank lines are skipped. Every record gets
// ReceivedAt = received, since the file carries no server fields; its game
// is the event's game_id (the generator sets it to the game whose API key
// it would send with).
func ScanNDJSON(r io.Reader, received time.Time, fn func(Record)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			items, derr := event.DecodeBatch(event.FormatNDJSON, line, event.Limits{})
			if derr != nil || len(items) != 1 {
				return fmt.Errorf("oracle: line %d: cannot split: %v", n, derr)
			}
			rec := Record{Event: items[0].Event, ReceivedAt: received}
			if items[0].Rejection != nil {
				rec.Code = items[0].Rejection.Code
			}
			fn(rec)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("oracle: read: %w", err)
		}
	}
}

// ReadNDJSON returns ScanNDJSON's records.
func ReadNDJSON(r io.Reader, received time.Time) ([]Record, error) {
	var recs []Record
	err := ScanNDJSON(r, received, func(rec Record) { recs = append(recs, rec) })
	return recs, err
}

// RunNDJSON runs the oracle over NDJSON without keeping the events.
func RunNDJSON(r io.Reader, received time.Time, p Params) (*Report, error) {
	o, err := New(p)
	if err != nil {
		return nil, err
	}
	if err := ScanNDJSON(r, received, o.Add); err != nil {
		return nil, err
	}
	return o.Report(), nil
}

// DecodeRaw returns the Record of a raw topic record's value in encoding
// enc (record.RawEncoding of its headers): the event, or the code malformed
// when it does not decode — in either encoding, and for a content type that
// names neither — as the pipeline dead-letters it. A JSON value is decoded
// with the event package's JSON event decoder (the schema's, as the
// Protobuf value is decoded with the schema's Protobuf decoder). Partition
// and the server fields are left for the caller.
func DecodeRaw(value []byte, enc record.Encoding) Record {
	switch enc {
	case record.EncodingProtobuf:
		if e, err := event.Unmarshal(value); err == nil {
			return Record{Event: e}
		}
	case record.EncodingJSON:
		if it := event.DecodeJSONEvent(value, event.Limits{}); it.Rejection == nil {
			return Record{Event: it.Event}
		}
	}
	return Record{Code: event.CodeMalformed}
}
