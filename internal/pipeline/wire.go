package pipeline

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

// ErrCorrupt is wrapped by every decoding error of the partials topic's
// records and of the stores' values.
var ErrCorrupt = errors.New("pipeline: corrupt record")

// The partials topic's records (stage 1 → stage 2) are defined in package
// record (record.Partial, record.Mark, record.LedgerDelta); the types below
// hold them with their KPI row and aggregate decoded.

// partial is a minute row's partial aggregate from one source partition.
type partial struct {
	Source int32
	Key    kpi.Key
	Agg    *kpi.Aggregate
}

// mark is a source partition's watermark mark.
type mark record.Mark

// ledgerDelta is a change to one completeness row (design rule 3).
type ledgerDelta struct {
	Source int32
	Row    completenessKey
	Counts completeness
}

// completenessKey names a completeness row: (game, platform, app build,
// minute); record.CompletenessKey defines its record keys.
type completenessKey record.CompletenessKey

// String is the KPI topic's record key of the row.
func (k completenessKey) String() string { return record.CompletenessKey(k).String() }

// partitionKey is the record key a completeness delta is partitioned by.
func (k completenessKey) partitionKey() string { return record.CompletenessKey(k).PartitionKey() }

// completeness are a row's counts.
type completeness record.CompletenessCounts

func (p partial) appendEncode(b []byte) []byte {
	r := record.Partial{Source: p.Source, Key: p.Key.String()}
	b = r.AppendEncode(b)
	return p.Agg.AppendEncode(b)
}

func (m mark) appendEncode(b []byte) []byte {
	r := record.Mark(m)
	return r.AppendEncode(b)
}

func (l ledgerDelta) appendEncode(b []byte) []byte {
	r := record.LedgerDelta{Source: l.Source, Row: record.CompletenessKey(l.Row), Counts: record.CompletenessCounts(l.Counts)}
	return r.AppendEncode(b)
}

// appendCompleteness is the completeness store's value of a row.
func appendCompleteness(b []byte, k completenessKey, c completeness) []byte {
	return record.AppendCompleteness(b, record.CompletenessKey(k), record.CompletenessCounts(c))
}

// reader decodes the values of stage 2's stores (record.Reader), the
// first error wrapping ErrCorrupt.
type reader struct {
	b   []byte
	r   *record.Reader
	err error
}

func (r *reader) rd() *record.Reader {
	if r.r == nil {
		r.r = record.NewReader(r.b)
	}
	return r.r
}

func (r *reader) check(what string) {
	if r.err == nil && r.rd().Err() != nil {
		r.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
}

func (r *reader) varint(what string) int64 {
	v := r.rd().Varint()
	r.check(what)
	return v
}

func (r *reader) completeness() (completenessKey, completeness) {
	k, c := r.rd().ReadCompleteness()
	r.check("completeness")
	return completenessKey(k), completeness(c)
}

// decodedRecord is one partials record: exactly one field is set.
type decodedRecord struct {
	partial *partial
	mark    *mark
	ledger  *ledgerDelta
}

// decodeRecord parses a partials-topic value (record.DecodePartials), with
// a partial's key and aggregate decoded. Errors wrap ErrCorrupt.
func decodeRecord(v []byte) (decodedRecord, error) {
	d, err := record.DecodePartials(v)
	if err != nil {
		return decodedRecord{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var out decodedRecord
	switch {
	case d.Partial != nil:
		k, err := kpi.ParseKey(d.Partial.Key)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if k.Window != kpi.Minute {
			return out, fmt.Errorf("%w: partial for %s, only minutes are sent", ErrCorrupt, k)
		}
		a, err := kpi.Decode(d.Partial.Aggregate)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		out.partial = &partial{Source: d.Partial.Source, Key: k, Agg: a}
	case d.Mark != nil:
		m := mark(*d.Mark)
		out.mark = &m
	case d.Ledger != nil:
		out.ledger = &ledgerDelta{Source: d.Ledger.Source, Row: completenessKey(d.Ledger.Row), Counts: completeness(d.Ledger.Counts)}
	}
	return out, nil
}

// kgoHeaders converts record headers for processor.Outputs.
func kgoHeaders(hs []record.Header) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader(h)
	}
	return out
}

// unixMilli is time.UnixMilli in UTC, with 0 as the zero time (no
// watermark yet).
func unixMilli(ms int64) time.Time { return record.UnixMilli(ms) }
