package pipeline

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/gamepulse/gamepulse/internal/kpi"
)

// ErrCorrupt is wrapped by every decoding error of the partials topic's
// records and of the stores' values.
var ErrCorrupt = errors.New("pipeline: corrupt record")

// The kinds of record on the internal partials topic (the first byte of the
// value). Stage 1 writes them, stage 2 reads them.
const (
	kindPartial byte = 1 // a minute row's partial aggregate
	kindMark    byte = 2 // a source partition's watermark mark
	kindLedger  byte = 3 // a completeness-ledger delta
)

// wireVersion is the second byte of every partials record.
const wireVersion byte = 1

// partial is a minute row's partial aggregate from one source partition.
type partial struct {
	Source int32
	Key    kpi.Key
	Agg    *kpi.Aggregate
}

// mark is a source partition's watermark mark.
type mark struct {
	Source    int32
	Watermark time.Time // the partition's effective watermark
	Idle      bool
}

// ledgerDelta is a change to one completeness row (design rule 3).
type ledgerDelta struct {
	Source int32
	Row    completenessKey
	Counts completeness
}

// completenessKey names a completeness row: (game, platform, app build,
// minute).
type completenessKey struct {
	Game, Platform, Build string
	Minute                int64 // Unix milliseconds of the window start
}

// completeness are a row's counts.
type completeness struct {
	Gaps, Duplicates, OutOfOrder int64
}

func (c completeness) add(d completeness) completeness {
	return completeness{c.Gaps + d.Gaps, c.Duplicates + d.Duplicates, c.OutOfOrder + d.OutOfOrder}
}

// String is the KPI topic's record key of a completeness row:
// "completeness|minute|2026-11-25T18:04:00Z|game|platform|build".
func (k completenessKey) String() string {
	return "completeness|minute|" + time.UnixMilli(k.Minute).UTC().Format(time.RFC3339) + "|" + k.Game + "|" + k.Platform + "|" + k.Build
}

// partitionKey is the record key a completeness delta is partitioned by.
func (k completenessKey) partitionKey() string { return k.Game + "|" + k.Platform + "|" + k.Build }

func appendHeader(b []byte, kind byte, source int32) []byte {
	b = append(b, kind, wireVersion)
	return binary.AppendVarint(b, int64(source))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (p partial) appendEncode(b []byte) []byte {
	b = appendHeader(b, kindPartial, p.Source)
	b = appendString(b, p.Key.String())
	return p.Agg.AppendEncode(b)
}

func (m mark) appendEncode(b []byte) []byte {
	b = appendHeader(b, kindMark, m.Source)
	b = binary.AppendVarint(b, m.Watermark.UnixMilli())
	if m.Idle {
		return append(b, 1)
	}
	return append(b, 0)
}

func (l ledgerDelta) appendEncode(b []byte) []byte {
	b = appendHeader(b, kindLedger, l.Source)
	b = appendCompleteness(b, l.Row, l.Counts)
	return b
}

func appendCompleteness(b []byte, k completenessKey, c completeness) []byte {
	b = appendString(b, k.Game)
	b = appendString(b, k.Platform)
	b = appendString(b, k.Build)
	b = binary.AppendVarint(b, k.Minute)
	b = binary.AppendVarint(b, c.Gaps)
	b = binary.AppendVarint(b, c.Duplicates)
	return binary.AppendVarint(b, c.OutOfOrder)
}

// reader decodes the fields of a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
}

func (r *reader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(what)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) string(what string) string {
	if r.err != nil {
		return ""
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.fail(what)
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

func (r *reader) completeness() (completenessKey, completeness) {
	k := completenessKey{Game: r.string("game"), Platform: r.string("platform"), Build: r.string("build"), Minute: r.varint("minute")}
	c := completeness{Gaps: r.varint("gaps"), Duplicates: r.varint("duplicates"), OutOfOrder: r.varint("out_of_order")}
	return k, c
}

func (r *reader) source() int32 {
	s := r.varint("source")
	if s < 0 || s > 1<<31-1 {
		r.fail("source")
	}
	return int32(s)
}

// decodedRecord is one partials record: exactly one field is set.
type decodedRecord struct {
	partial *partial
	mark    *mark
	ledger  *ledgerDelta
}

// decodeRecord parses a partials-topic value. Errors wrap ErrCorrupt.
func decodeRecord(v []byte) (decodedRecord, error) {
	r := &reader{b: v}
	kind := r.byte("kind")
	if ver := r.byte("version"); r.err == nil && ver != wireVersion {
		return decodedRecord{}, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, ver, wireVersion)
	}
	src := r.source()
	var out decodedRecord
	switch kind {
	case kindPartial:
		ks := r.string("key")
		if r.err != nil {
			return out, r.err
		}
		k, err := kpi.ParseKey(ks)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if k.Window != kpi.Minute {
			return out, fmt.Errorf("%w: partial for %s, only minutes are sent", ErrCorrupt, k)
		}
		a, err := kpi.Decode(r.b)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		out.partial = &partial{Source: src, Key: k, Agg: a}
		return out, nil
	case kindMark:
		ms := r.varint("watermark")
		idle := r.byte("idle")
		if r.err == nil && (idle > 1 || len(r.b) != 0) {
			r.fail("mark")
		}
		if r.err != nil {
			return out, r.err
		}
		out.mark = &mark{Source: src, Watermark: unixMilli(ms), Idle: idle == 1}
		return out, nil
	case kindLedger:
		k, c := r.completeness()
		if r.err == nil && len(r.b) != 0 {
			r.fail("ledger trailer")
		}
		if r.err != nil {
			return out, r.err
		}
		out.ledger = &ledgerDelta{Source: src, Row: k, Counts: c}
		return out, nil
	}
	if r.err != nil {
		return out, r.err
	}
	return out, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, kind)
}

// unixMilli is time.UnixMilli in UTC, with 0 as the zero time (no
// watermark yet).
func unixMilli(ms int64) time.Time {
	if ms == (time.Time{}).UnixMilli() {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
