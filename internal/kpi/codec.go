package kpi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/axiomhq/hyperloglog"

	"github.com/gamepulse/gamepulse/internal/record"
)

// codecVersion is the first byte of an encoded Aggregate.
const codecVersion = 1

// ErrCorrupt is wrapped by Decode errors: the bytes are not an encoded
// Aggregate of a version this build reads.
var ErrCorrupt = errors.New("kpi: corrupt aggregate")

// Encode returns the binary form of a, for state changelogs and the internal
// partials topic.
func (a *Aggregate) Encode() []byte { return a.AppendEncode(nil) }

// AppendEncode appends the binary form of a to b:
//
//	version byte (1)
//	12 signed varints: NewPlayers, SessionsStarted, Purchases, RevenueMicros,
//	  PurchaseRevenueMicros, Refunds, RefundMicros, AdImpressions,
//	  AdRevenueMicros, Gaps, Duplicates, OutOfOrder
//	uvarint n, then n × (varint level, varint starts, completions, fails),
//	  levels strictly increasing
//	2 × (uvarint length, sketch bytes): active players, payers; length 0 =
//	  empty sketch, else the sketch's MarshalBinary form
func (a *Aggregate) AppendEncode(b []byte) []byte {
	b = append(b, codecVersion)
	for _, v := range a.counters() {
		b = binary.AppendVarint(b, *v)
	}
	b = binary.AppendUvarint(b, uint64(len(a.Levels)))
	for _, l := range slices.Sorted(maps.Keys(a.Levels)) {
		c := a.Levels[l]
		b = binary.AppendVarint(b, int64(l))
		b = binary.AppendVarint(b, c.Starts)
		b = binary.AppendVarint(b, c.Completions)
		b = binary.AppendVarint(b, c.Fails)
	}
	b = appendSketch(b, a.active)
	return appendSketch(b, a.payers)
}

// counters lists the plain counters in encoding order.
func (a *Aggregate) counters() [12]*int64 {
	return [12]*int64{&a.NewPlayers, &a.SessionsStarted, &a.Purchases, &a.RevenueMicros,
		&a.PurchaseRevenueMicros, &a.Refunds, &a.RefundMicros, &a.AdImpressions,
		&a.AdRevenueMicros, &a.Gaps, &a.Duplicates, &a.OutOfOrder}
}

func appendSketch(b []byte, sk *hyperloglog.Sketch) []byte {
	if sk == nil {
		return append(b, 0)
	}
	raw, err := sk.MarshalBinary()
	if err != nil {
		panic(err) // unreachable: only a zero-value Sketch fails, and none is stored
	}
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...)
}

// Decode parses the binary form written by Encode. Errors wrap ErrCorrupt.
func Decode(data []byte) (*Aggregate, error) {
	r := record.NewReader(data)
	fail := func(format string, args ...any) (*Aggregate, error) {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	if v := r.Byte(); r.Err() != nil || v != codecVersion {
		if r.Err() != nil {
			return fail("truncated")
		}
		return fail("version %d", v)
	}
	a := &Aggregate{}
	for _, v := range a.counters() {
		*v = r.Varint()
	}
	n := r.Uvarint()
	if r.Err() == nil && n > uint64(r.Len())/4 { // a level takes at least 4 bytes
		return fail("%d levels in %d bytes", n, r.Len())
	}
	if n > 0 {
		a.Levels = make(map[int32]LevelCounts, n)
	}
	prev := int64(-1 << 31)
	for i := uint64(0); i < n && r.Err() == nil; i++ {
		l := r.Varint()
		if l < prev || (i > 0 && l == prev) || l > 1<<31-1 {
			return fail("level %d out of order or range", l)
		}
		prev = l
		a.Levels[int32(l)] = LevelCounts{Starts: r.Varint(), Completions: r.Varint(), Fails: r.Varint()}
	}
	var err error
	if a.active, err = readSketch(r); err != nil {
		return nil, err
	}
	if a.payers, err = readSketch(r); err != nil {
		return nil, err
	}
	if r.Err() == nil && r.Len() > 0 {
		return fail("%d trailing bytes", r.Len())
	}
	if err := r.Err(); err != nil {
		return fail("%v", err)
	}
	return a, nil
}

// readSketch reads what appendSketch wrote: nil for length 0.
func readSketch(r *record.Reader) (*hyperloglog.Sketch, error) {
	n := r.Uvarint()
	if r.Err() != nil || n == 0 {
		return nil, nil
	}
	if n > uint64(r.Len()) {
		return nil, fmt.Errorf("%w: sketch of %d bytes in %d", ErrCorrupt, n, r.Len())
	}
	raw := r.Bytes(n)
	if len(raw) < 2 || raw[1] != Precision {
		return nil, fmt.Errorf("%w: sketch is not of precision %d", ErrCorrupt, Precision)
	}
	sk := &hyperloglog.Sketch{}
	if err := sk.UnmarshalBinary(raw); err != nil {
		return nil, fmt.Errorf("%w: sketch: %w", ErrCorrupt, err)
	}
	return sk, nil
}
