package stream

import (
	"bytes"
	"fmt"
	"maps"
	"testing"
)

// FuzzInt64Codec: Decode never panics, accepts only what Encode produces
// (Encode(Decode(b)) == b), and Encode round-trips every value.
func FuzzInt64Codec(f *testing.F) {
	var c Int64Codec
	for _, s := range [][]byte{nil, {0}, {1}, {0x80, 0x00}, c.Encode(-1 << 63), c.Encode(1<<63 - 1), {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}} {
		f.Add(s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, b []byte, v int64) {
		if got, err := c.Decode(b); err == nil && !bytes.Equal(c.Encode(got), b) {
			t.Fatalf("Decode(% x) = %d, which encodes as % x", b, got, c.Encode(got))
		}
		if got, err := c.Decode(c.Encode(v)); err != nil || got != v {
			t.Fatalf("round trip of %d: %d, %v", v, got, err)
		}
	})
}

// FuzzStore reads its input as a sequence of operations on a store — put,
// delete, commit (Drain into a log), abort (Discard and Restore from the
// log) — and checks after each commit or abort that the state equals a store
// restored from the log, and at the end that the log restores it.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0x01, 0x12, 0x03, 0x11, 0x04, 0x21, 0x03})
	f.Add([]byte{0x05, 0x15, 0x03, 0x05, 0x25, 0x04, 0x35, 0x03})
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := NewStore[int64]("fuzz", Int64Codec{})
		var log []ChangelogEntry
		check := func() {
			r := NewStore[int64]("fuzz", Int64Codec{})
			if err := r.Restore(log); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(contents(r), contents(s)) || r.Len() != s.Len() || r.Bytes() != s.Bytes() {
				t.Fatalf("restored %v (Len %d, Bytes %d), live %v (Len %d, Bytes %d)",
					contents(r), r.Len(), r.Bytes(), contents(s), s.Len(), s.Bytes())
			}
		}
		for i, op := range ops {
			key := fmt.Sprintf("k%d", op&0x0f)
			switch op >> 4 {
			case 0, 1, 2, 3, 4, 5, 6, 7:
				s.Put(key, int64(op)*int64(i+1)-300)
			case 8, 9, 10, 11:
				s.Delete(key)
			case 12, 13, 14:
				log = append(log, s.Drain()...)
				check()
			case 15:
				s.Discard()
				if err := s.Restore(log); err != nil {
					t.Fatal(err)
				}
				check()
			}
		}
		log = append(log, s.Drain()...)
		check()
	})
}
