package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrCorruptPartial is wrapped by every DecodePartials error.
var ErrCorruptPartial = errors.New("record: corrupt partials record")

// PartialsKind is the first byte of a partials record's value.
type PartialsKind byte

// The kinds of record on the internal partials topic. Stage 1 writes them,
// stage 2 reads them.
const (
	KindPartial PartialsKind = 1 // a minute KPI row's partial aggregate
	KindMark    PartialsKind = 2 // a source partition's watermark mark
	KindLedger  PartialsKind = 3 // a completeness-ledger delta
)

// PartialsVersion is the second byte of every partials record's value.
const PartialsVersion byte = 1

// Partial is a minute KPI row's partial aggregate from one source
// partition. Record key: PartialKey of the row.
type Partial struct {
	Source int32
	Key    string // the minute row's KPIKey
	// Aggregate is the row's aggregate in kpi's binary form
	// (kpi.Aggregate.AppendEncode: version 1, counters, levels, sketches).
	Aggregate []byte
}

// Mark is a source partition's watermark mark. Record key: MarkKey; stage 1
// writes each mark to every partition of the topic.
type Mark struct {
	Source    int32
	Watermark time.Time // the partition's effective watermark; zero: none yet
	Idle      bool
}

// LedgerDelta is a change to one completeness row (design rule 3). Record
// key: Row.PartitionKey().
type LedgerDelta struct {
	Source int32
	Row    CompletenessKey
	Counts CompletenessCounts
}

// PartialKey is the partials topic's record key of a partial for the row
// (game, platform, country): "game|platform|country", so that all of a
// game's minutes of one row meet in one stage-2 task.
func PartialKey(game, platform, country string) string { return game + "|" + platform + "|" + country }

// MarkKey is the record key of every mark.
const MarkKey = "mark"

func appendPartialsHeader(b []byte, kind PartialsKind, source int32) []byte {
	b = append(b, byte(kind), PartialsVersion)
	return binary.AppendVarint(b, int64(source))
}

// AppendEncode appends the value of p:
//
//	kind 1, version 1, varint source, uvarint-prefixed key, aggregate bytes
func (p *Partial) AppendEncode(b []byte) []byte {
	b = appendPartialsHeader(b, KindPartial, p.Source)
	b = AppendString(b, p.Key)
	return append(b, p.Aggregate...)
}

// AppendEncode appends the value of m:
//
//	kind 2, version 1, varint source, varint watermark (Unix ms; the zero
//	time's Unix ms for none), idle byte 0 or 1
func (m *Mark) AppendEncode(b []byte) []byte {
	b = appendPartialsHeader(b, KindMark, m.Source)
	b = AppendWatermark(b, m.Watermark)
	if m.Idle {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendEncode appends the value of l:
//
//	kind 3, version 1, varint source, then AppendCompleteness of the row
func (l *LedgerDelta) AppendEncode(b []byte) []byte {
	b = appendPartialsHeader(b, KindLedger, l.Source)
	return AppendCompleteness(b, l.Row, l.Counts)
}

// AppendWatermark appends a watermark as a varint of Unix milliseconds.
func AppendWatermark(b []byte, t time.Time) []byte { return binary.AppendVarint(b, t.UnixMilli()) }

// ReadWatermark reads what AppendWatermark wrote: UTC, and the zero time
// for the zero time's milliseconds (no watermark yet).
func (r *Reader) ReadWatermark() time.Time { return UnixMilli(r.Varint()) }

// UnixMilli is time.UnixMilli in UTC, with the zero time's milliseconds as
// the zero time.
func UnixMilli(ms int64) time.Time {
	if ms == (time.Time{}).UnixMilli() {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// AppendCompleteness appends a completeness row and its counts: three
// uvarint-prefixed strings (game, platform, build), then varints minute
// (Unix ms), gaps, duplicates, out_of_order.
func AppendCompleteness(b []byte, k CompletenessKey, c CompletenessCounts) []byte {
	b = AppendString(b, k.Game)
	b = AppendString(b, k.Platform)
	b = AppendString(b, k.Build)
	b = binary.AppendVarint(b, k.Minute)
	b = binary.AppendVarint(b, c.Gaps)
	b = binary.AppendVarint(b, c.Duplicates)
	return binary.AppendVarint(b, c.OutOfOrder)
}

// ReadCompleteness reads what AppendCompleteness wrote.
func (r *Reader) ReadCompleteness() (CompletenessKey, CompletenessCounts) {
	k := CompletenessKey{Game: r.Str(), Platform: r.Str(), Build: r.Str(), Minute: r.Varint()}
	c := CompletenessCounts{Gaps: r.Varint(), Duplicates: r.Varint(), OutOfOrder: r.Varint()}
	return k, c
}

// Partials is one decoded partials record: exactly one field is set.
type Partials struct {
	Partial *Partial
	Mark    *Mark
	Ledger  *LedgerDelta
}

// DecodePartials parses a partials-topic value. A Partial's Aggregate
// aliases v and is not checked (kpi.Decode does). Errors wrap
// ErrCorruptPartial.
func DecodePartials(v []byte) (Partials, error) {
	r := NewReader(v)
	kind := PartialsKind(r.Byte())
	ver := r.Byte()
	src := r.Varint()
	if err := r.Err(); err != nil {
		return Partials{}, fmt.Errorf("%w: header: %v", ErrCorruptPartial, err)
	}
	if ver != PartialsVersion {
		return Partials{}, fmt.Errorf("%w: version %d, want %d", ErrCorruptPartial, ver, PartialsVersion)
	}
	if src < 0 || src > 1<<31-1 {
		return Partials{}, fmt.Errorf("%w: source %d", ErrCorruptPartial, src)
	}
	var out Partials
	switch kind {
	case KindPartial:
		k := r.Str()
		if err := r.Err(); err != nil {
			return Partials{}, fmt.Errorf("%w: partial key: %v", ErrCorruptPartial, err)
		}
		out.Partial = &Partial{Source: int32(src), Key: k, Aggregate: r.Rest()}
	case KindMark:
		wm := r.ReadWatermark()
		idle := r.Byte()
		if r.Err() == nil && idle > 1 {
			r.Fail(fmt.Errorf("idle byte %d", idle))
		}
		if err := r.Done(); err != nil {
			return Partials{}, fmt.Errorf("%w: mark: %v", ErrCorruptPartial, err)
		}
		out.Mark = &Mark{Source: int32(src), Watermark: wm, Idle: idle == 1}
	case KindLedger:
		k, c := r.ReadCompleteness()
		if err := r.Done(); err != nil {
			return Partials{}, fmt.Errorf("%w: ledger: %v", ErrCorruptPartial, err)
		}
		out.Ledger = &LedgerDelta{Source: int32(src), Row: k, Counts: c}
	default:
		return Partials{}, fmt.Errorf("%w: unknown kind %d", ErrCorruptPartial, kind)
	}
	return out, nil
}
