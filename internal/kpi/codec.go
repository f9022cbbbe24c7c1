package kpi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/axiomhq/hyperloglog"
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
	d := decoder{b: data}
	if v := d.byte(); v != codecVersion {
		return nil, d.fail("version %d", v)
	}
	a := &Aggregate{}
	for _, v := range a.counters() {
		*v = d.varint()
	}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b))/4 { // a level takes at least 4 bytes
		return nil, d.fail("%d levels in %d bytes", n, len(d.b))
	}
	if n > 0 {
		a.Levels = make(map[int32]LevelCounts, n)
	}
	prev := int64(-1 << 31)
	for i := uint64(0); i < n && d.err == nil; i++ {
		l := d.varint()
		if l < prev || (i > 0 && l == prev) || l > 1<<31-1 {
			return nil, d.fail("level %d out of order or range", l)
		}
		prev = l
		a.Levels[int32(l)] = LevelCounts{Starts: d.varint(), Completions: d.varint(), Fails: d.varint()}
	}
	a.active = d.sketch()
	a.payers = d.sketch()
	if d.err == nil && len(d.b) > 0 {
		return nil, d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	return a, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) error {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	return d.err
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) sketch() *hyperloglog.Sketch {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail("sketch of %d bytes in %d", n, len(d.b))
		return nil
	}
	raw := d.b[:n]
	d.b = d.b[n:]
	if len(raw) < 2 || raw[1] != Precision {
		d.fail("sketch is not of precision %d", Precision)
		return nil
	}
	sk := &hyperloglog.Sketch{}
	if err := sk.UnmarshalBinary(raw); err != nil {
		d.err = fmt.Errorf("%w: sketch: %w", ErrCorrupt, err)
		return nil
	}
	return sk
}
