package record

import (
	"encoding/binary"
	"errors"
)

// ErrTruncated is the error of a Reader that ran out of bytes or met a
// malformed varint.
var ErrTruncated = errors.New("truncated or malformed value")

// ErrTrailing is the error of Done when bytes are left.
var ErrTrailing = errors.New("trailing bytes")

// Reader decodes the binary forms (the partials topic, and the state
// changelogs of jobs, kpi and pipeline): varints, uvarints, bytes and
// length-prefixed strings. The first error sticks; every read after it
// returns zero, so a decoder reads all its fields and checks Err once.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader of b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Fail sets err as the Reader's error unless it has one.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Len returns the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) }

// Rest returns the unread bytes and consumes them.
func (r *Reader) Rest() []byte {
	b := r.b
	r.b = r.b[len(r.b):]
	return b
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = ErrTruncated
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// Varint reads a signed varint (binary.AppendVarint).
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrTruncated
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Uvarint reads an unsigned varint (binary.AppendUvarint).
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = ErrTruncated
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bytes reads n bytes; the result aliases the Reader's input.
func (r *Reader) Bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = ErrTruncated
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// Str reads a string prefixed with its length as a uvarint (AppendString).
func (r *Reader) Str() string { return string(r.Bytes(r.Uvarint())) }

// Count reads an element count (a uvarint) whose elements take at least
// min bytes each: a count the rest of the input cannot hold is an error, so
// a corrupt count allocates nothing.
func (r *Reader) Count(min int) int {
	n := r.Uvarint()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)/max(min, 1)) {
		r.err = ErrTruncated
		return 0
	}
	return int(n)
}

// Done returns Err, or ErrTrailing when no error occurred but bytes are
// left.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = ErrTrailing
	}
	return r.err
}

// AppendString appends s prefixed with its length as a uvarint.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
