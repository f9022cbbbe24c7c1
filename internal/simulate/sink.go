package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Sink delivers batches of items. There are three: FileSink (NDJSON),
// HTTPSink (the gateway) and KafkaSink (straight to the topic, as the gateway
// would write it).
type Sink interface {
	// Send delivers items and reports how many of them the receiver
	// accepted and refused. An error means the fate of the items not
	// counted in accepted or rejected is unknown. Send must not keep items
	// after it returns.
	Send(ctx context.Context, items []Item) (accepted, rejected int, err error)
	// Close flushes what Send may have buffered. It does not close what
	// the sink was built on (writer, client).
	Close(ctx context.Context) error
}

// FileSink writes items as NDJSON in the gateway's JSON form, one item per
// line: events as event.AppendJSON writes them, malformed items as their Raw
// bytes. It counts every written item as accepted. It is not safe for
// concurrent use.
type FileSink struct {
	w   *bufio.Writer
	buf []byte
}

// NewFileSink returns a FileSink writing to w. Each Send ends with a flush,
// so a reader of w sees whole batches as they come.
func NewFileSink(w io.Writer) *FileSink {
	return &FileSink{w: bufio.NewWriterSize(w, 64<<10)}
}

// Send writes items.
func (s *FileSink) Send(_ context.Context, items []Item) (int, int, error) {
	for i, it := range items {
		var err error
		s.buf, err = appendJSON(s.buf[:0], it)
		if err != nil {
			return i, 0, fmt.Errorf("simulate: file sink: %w", err)
		}
		s.buf = append(s.buf, '\n')
		if _, err := s.w.Write(s.buf); err != nil {
			return i, 0, fmt.Errorf("simulate: file sink: %w", err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("simulate: file sink: %w", err)
	}
	return len(items), 0, nil
}

// Close flushes the buffer; it does not close the writer.
func (s *FileSink) Close(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("simulate: file sink: %w", err)
	}
	return nil
}

// appendJSON appends the JSON form of it: Raw for malformed items, else the
// event.
func appendJSON(b []byte, it Item) ([]byte, error) {
	if it.Raw != nil || it.Event == nil {
		return append(b, it.Raw...), nil
	}
	return event.AppendJSON(b, it.Event)
}
