package stream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
)

// Codec encodes a store's values for its changelog. Encode must not fail:
// the values a store holds are the job's own state types. Decode may fail on
// bytes it does not recognise; a restore then stops with that error.
type Codec[V any] interface {
	Encode(v V) []byte
	Decode(b []byte) (V, error)
}

// ChangelogEntry is one record of a store's changelog: a key and the encoded
// value, or a tombstone. Value is nil exactly for a tombstone, the same
// convention as a Kafka record's null value (kgo.Record.Value == nil), so the
// engine maps entries to records and back without translation. A store never
// produces a nil Value for a live key, even if its codec encodes a value as
// nothing.
type ChangelogEntry struct {
	Key   string
	Value []byte
}

// Tombstone reports whether e deletes its key.
func (e ChangelogEntry) Tombstone() bool { return e.Value == nil }

// Store is an in-memory map from string keys to values of type V whose every
// change is also a changelog entry, so that the map can be rebuilt from its
// changelog (see the package documentation for the contract).
//
// Changes are encoded lazily: Put and Delete only mark the key, and Drain
// encodes the current value of each marked key once. A key changed many times
// between two drains costs one encoding and one changelog entry.
//
// A Store is not safe for concurrent use; each task owns its stores.
type Store[V any] struct {
	name  string
	codec Codec[V]
	m     map[string]storeEntry[V]
	dirty []string // keys changed since the last Drain, in order of first change
	live  int      // keys not deleted
	bytes int64    // Σ len(key)+len(encoded value), as of the last encoding of each key
}

type storeEntry[V any] struct {
	v       V
	size    int64 // len(key)+len(encoded value) when last encoded or restored; 0 before
	dirty   bool  // in Store.dirty
	deleted bool  // deleted, tombstone not yet drained
}

// NewStore returns an empty store. name identifies the store in errors, in
// metrics and in its changelog topic's name.
func NewStore[V any](name string, codec Codec[V]) *Store[V] {
	return &Store[V]{name: name, codec: codec, m: make(map[string]storeEntry[V])}
}

// Name returns the store's name.
func (s *Store[V]) Name() string { return s.name }

// Get returns the value of key and whether it is present.
func (s *Store[V]) Get(key string) (V, bool) {
	e, ok := s.m[key]
	if !ok || e.deleted {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put sets the value of key. If V holds pointers and the caller changes the
// value in place afterwards, the next Drain encodes the changed value; a
// change made after a Drain is logged only when the key is Put again.
func (s *Store[V]) Put(key string, v V) {
	e, ok := s.m[key]
	if !ok || e.deleted {
		s.live++
	}
	if !e.dirty {
		s.dirty = append(s.dirty, key)
	}
	s.m[key] = storeEntry[V]{v: v, size: e.size, dirty: true}
}

// Delete removes key and reports whether it was present. Deleting an absent
// key logs nothing. Callers expire state this way.
func (s *Store[V]) Delete(key string) bool {
	e, ok := s.m[key]
	if !ok || e.deleted {
		return false
	}
	s.live--
	s.bytes -= e.size
	if !e.dirty {
		s.dirty = append(s.dirty, key)
	}
	s.m[key] = storeEntry[V]{dirty: true, deleted: true}
	return true
}

// Len returns the number of keys present.
func (s *Store[V]) Len() int { return s.live }

// Bytes returns the approximate size of the state: the sum, over the keys
// present, of the key's length and its value's encoded length, as of the last
// Drain or restore (a value Put since counts its previous size). It is the
// size of the compacted changelog, not of the Go heap.
func (s *Store[V]) Bytes() int64 { return s.bytes }

// Pending returns the number of keys changed since the last Drain: the
// number of entries the next Drain returns (fewer if a Replay overwrote some).
func (s *Store[V]) Pending() int { return len(s.dirty) }

// All iterates over the keys present and their values, in no particular
// order. The loop body may Put and Delete; as with a Go map, a key added
// during the iteration may or may not be visited.
func (s *Store[V]) All() iter.Seq2[string, V] {
	return func(yield func(string, V) bool) {
		for k, e := range s.m {
			if e.deleted {
				continue
			}
			if !yield(k, e.v) {
				return
			}
		}
	}
}

// Drain returns the changelog entries of the changes since the last Drain,
// at most one per key (its latest value, or a tombstone), in the order the
// keys were first changed, and forgets them: the engine writes them in the
// transaction that commits the changes. The caller owns the returned slice
// and the encoded values. Drain returns nil when nothing changed.
func (s *Store[V]) Drain() []ChangelogEntry {
	if len(s.dirty) == 0 {
		return nil
	}
	out := make([]ChangelogEntry, 0, len(s.dirty))
	for _, k := range s.dirty {
		e, ok := s.m[k]
		if !ok || !e.dirty { // replayed over since it was changed
			continue
		}
		if e.deleted {
			delete(s.m, k)
			out = append(out, ChangelogEntry{Key: k})
			continue
		}
		b := s.codec.Encode(e.v)
		if b == nil {
			b = []byte{} // nil is a tombstone
		}
		size := int64(len(k) + len(b))
		s.bytes += size - e.size
		e.size, e.dirty = size, false
		s.m[k] = e
		out = append(out, ChangelogEntry{Key: k, Value: b})
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	return out
}

// Discard forgets the changes since the last Drain without logging them,
// after a transaction that would have carried them aborted. The state then
// holds changes that no changelog has: the caller must Restore it.
func (s *Store[V]) Discard() {
	for _, k := range s.dirty {
		e, ok := s.m[k]
		if !ok || !e.dirty {
			continue
		}
		if e.deleted {
			delete(s.m, k)
			continue
		}
		e.dirty = false
		s.m[k] = e
	}
	clear(s.dirty)
	s.dirty = s.dirty[:0]
}

// Reset empties the store and forgets pending changes.
func (s *Store[V]) Reset() {
	clear(s.m)
	clear(s.dirty)
	s.dirty = s.dirty[:0]
	s.live, s.bytes = 0, 0
}

// Restore rebuilds the store from its changelog: Reset, then Replay.
func (s *Store[V]) Restore(entries []ChangelogEntry) error {
	s.Reset()
	return s.Replay(entries)
}

// Replay applies changelog entries in order, as read from the changelog:
// a value sets its key (the last one wins), a tombstone deletes it. It
// logs nothing, so a restore read in several fetches is Reset followed by one
// Replay per fetch. The store keeps the entries' keys, not their values'
// bytes. On a value that does not decode Replay stops and returns the error;
// the state is then partial.
func (s *Store[V]) Replay(entries []ChangelogEntry) error {
	for _, c := range entries {
		e, ok := s.m[c.Key]
		if c.Value == nil {
			if ok {
				if !e.deleted {
					s.live--
				}
				s.bytes -= e.size
				delete(s.m, c.Key)
			}
			continue
		}
		v, err := s.codec.Decode(c.Value)
		if err != nil {
			return fmt.Errorf("stream: restore store %q, key %q: %w", s.name, c.Key, err)
		}
		if !ok || e.deleted {
			s.live++
		}
		size := int64(len(c.Key) + len(c.Value))
		s.bytes += size - e.size
		s.m[c.Key] = storeEntry[V]{v: v, size: size}
	}
	return nil
}

// Int64Codec encodes an int64 as a zig-zag varint (1 to 10 bytes), the
// encoding of encoding/binary.AppendVarint. Decode accepts only the canonical
// (shortest) encoding with no trailing bytes, so Encode(Decode(b)) == b.
// It suits counters and event times (as Unix nanoseconds).
type Int64Codec struct{}

var errBadVarint = errors.New("not a canonical varint")

// Encode implements Codec.
func (Int64Codec) Encode(v int64) []byte { return binary.AppendVarint(nil, v) }

// Decode implements Codec.
func (Int64Codec) Decode(b []byte) (int64, error) {
	v, n := binary.Varint(b)
	if n <= 0 || n != len(b) {
		return 0, errBadVarint
	}
	var buf [binary.MaxVarintLen64]byte
	if len(binary.AppendVarint(buf[:0], v)) != n {
		return 0, errBadVarint
	}
	return v, nil
}
