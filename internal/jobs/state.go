package jobs

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gamepulse/gamepulse/internal/record"
)

// The state stores of a Stage. Each is a key → value map whose changes the
// engine writes to a changelog (Stage.Changes) and replays on restore
// (Stage.Restore). Values are the Encode form of the types named below,
// which starts with a format version byte (1); keys are described at each
// store.
const (
	// StoreClock holds one key, "max_event_time": a Clock.
	StoreClock = "clock"
	// StoreDedup: key the 16-byte hash of an event_id (MurmurHash3 x64-128
	// with seed 'e') or of a store_transaction_id (seed 't'); value a
	// DedupEntry.
	StoreDedup = "dedup"
	// StoreLedger: key lp(game_id) lp(player_id) followed by the 16-byte
	// hash of session_id (MurmurHash3 x64-128 with seed 's'); value a
	// LedgerSession. lp(s) is s prefixed with its length as a uvarint.
	StoreLedger = "ledger"
	// StorePlayers: key lp(game_id) player_id; value a PlayerState.
	StorePlayers = "players"
	// StoreFraud: key lp(game_id) lp(player_id) varint(window start, unix
	// ms); value a FraudCount.
	StoreFraud = "fraud"
)

// Stores returns the names of the stage's state stores.
func Stores() []string {
	return []string{StoreClock, StoreDedup, StoreLedger, StorePlayers, StoreFraud}
}

const stateVersion = 1

// Clock is the partition's event clock: the max event time (unix ms) of the
// valid events processed so far.
type Clock struct {
	MaxEventTime int64
}

// DedupEntry remembers one event id or store transaction id: the event time
// (unix ms) of the event that carried it.
type DedupEntry struct {
	Time int64
}

// LedgerSession is the completeness ledger's state of one session.
type LedgerSession struct {
	Highest uint64 // highest seq seen
	Last    int64  // max event time (unix ms) of the session's ledgered events
	// Missing are the seqs below Highest not seen yet, as disjoint ranges
	// sorted by Lo. Every seq ≤ Highest outside them has been seen: this is
	// the complement of the seen-set, exact and small (one range per hole).
	Missing []MissingRange
}

// MissingRange is a run of missing seqs [Lo, Hi] and the ledger row its gaps
// were counted in: the window and dimensions of the event that revealed
// them. When one of them arrives, that row's gaps go down by one.
type MissingRange struct {
	Lo, Hi   uint64
	Window   int64 // unix ms
	Platform string
	AppBuild string
}

// PlayerState is what the stage keeps per player: the enrichment state
// (rule 4) and the sessionizer's (rule 5).
type PlayerState struct {
	Events              int64 // accepted events, lifetime (0: not seen yet)
	FirstSeen           int64 // unix ms: min event time of the player's accepted events
	Purchases           int64 // accepted purchases, lifetime
	LifetimeSpendMicros int64 // purchases − refunds, micro-USD
	Sessions            int64 // sessions opened by the sessionizer
	Open                *OpenSession
	// The last session closed, to recognize its stragglers.
	LastClosedID  string
	LastClosedEnd int64 // unix ms

	lastClosedSH idHash // hash1('s', LastClosedID)
}

// OpenSession is a player's open session.
type OpenSession struct {
	ID            string
	Platform      string // normalized, of the event that opened it
	Country       string // normalized, of the event that opened it
	Start, Last   int64  // min and max event time (unix ms) of its events
	Events        int64
	RevenueMicros int64
	Levels        []int32 // distinct levels of its level_start events, sorted

	sh idHash // hash1('s', ID): compared instead of ID (no trip to the string's memory)
}

// FraudCount is the number of accepted purchases of one player in one
// minute window.
type FraudCount struct {
	Count int64
}

// Encode appends the binary form of c to b.
func (c *Clock) Encode(b []byte) []byte {
	b = append(b, stateVersion)
	return binary.AppendVarint(b, c.MaxEventTime)
}

// Decode replaces c with the decoded form of b.
func (c *Clock) Decode(b []byte) error {
	r := newReader(b)
	*c = Clock{MaxEventTime: r.varint()}
	return r.done("clock")
}

// Encode appends the binary form of d to b.
func (d *DedupEntry) Encode(b []byte) []byte {
	b = append(b, stateVersion)
	return binary.AppendVarint(b, d.Time)
}

// Decode replaces d with the decoded form of b.
func (d *DedupEntry) Decode(b []byte) error {
	r := newReader(b)
	*d = DedupEntry{Time: r.varint()}
	return r.done("dedup entry")
}

// Encode appends the binary form of f to b.
func (f *FraudCount) Encode(b []byte) []byte {
	b = append(b, stateVersion)
	return binary.AppendVarint(b, f.Count)
}

// Decode replaces f with the decoded form of b.
func (f *FraudCount) Decode(b []byte) error {
	r := newReader(b)
	*f = FraudCount{Count: r.varint()}
	return r.done("fraud count")
}

// Encode appends the binary form of s to b.
func (s *LedgerSession) Encode(b []byte) []byte {
	b = append(b, stateVersion)
	b = binary.AppendUvarint(b, s.Highest)
	b = binary.AppendVarint(b, s.Last)
	b = binary.AppendUvarint(b, uint64(len(s.Missing)))
	for _, m := range s.Missing {
		b = binary.AppendUvarint(b, m.Lo)
		b = binary.AppendUvarint(b, m.Hi-m.Lo)
		b = binary.AppendVarint(b, m.Window)
		b = appendString(b, m.Platform)
		b = appendString(b, m.AppBuild)
	}
	return b
}

// Decode replaces s with the decoded form of b.
func (s *LedgerSession) Decode(b []byte) error {
	r := newReader(b)
	*s = LedgerSession{Highest: r.uvarint(), Last: r.varint()}
	n := r.count(4)
	if n > 0 {
		s.Missing = make([]MissingRange, n)
	}
	for i := range s.Missing {
		m := &s.Missing[i]
		m.Lo = r.uvarint()
		m.Hi = m.Lo + r.uvarint()
		m.Window = r.varint()
		m.Platform = r.str()
		m.AppBuild = r.str()
		if r.r.Err() == nil && (m.Hi < m.Lo || m.Hi >= s.Highest || (i > 0 && m.Lo <= s.Missing[i-1].Hi)) {
			r.fail(errors.New("missing seq ranges out of order"))
		}
	}
	return r.done("ledger session")
}

// Encode appends the binary form of p to b.
func (p *PlayerState) Encode(b []byte) []byte {
	b = append(b, stateVersion)
	b = binary.AppendVarint(b, p.Events)
	b = binary.AppendVarint(b, p.FirstSeen)
	b = binary.AppendVarint(b, p.Purchases)
	b = binary.AppendVarint(b, p.LifetimeSpendMicros)
	b = binary.AppendVarint(b, p.Sessions)
	b = appendString(b, p.LastClosedID)
	b = binary.AppendVarint(b, p.LastClosedEnd)
	if p.Open == nil {
		return append(b, 0)
	}
	o := p.Open
	b = append(b, 1)
	b = appendString(b, o.ID)
	b = appendString(b, o.Platform)
	b = appendString(b, o.Country)
	b = binary.AppendVarint(b, o.Start)
	b = binary.AppendVarint(b, o.Last-o.Start)
	b = binary.AppendVarint(b, o.Events)
	b = binary.AppendVarint(b, o.RevenueMicros)
	b = binary.AppendUvarint(b, uint64(len(o.Levels)))
	prev := int64(0)
	for _, l := range o.Levels { // sorted: deltas are small
		b = binary.AppendVarint(b, int64(l)-prev)
		prev = int64(l)
	}
	return b
}

// Decode replaces p with the decoded form of b.
func (p *PlayerState) Decode(b []byte) error {
	r := newReader(b)
	*p = PlayerState{
		Events:              r.varint(),
		FirstSeen:           r.varint(),
		Purchases:           r.varint(),
		LifetimeSpendMicros: r.varint(),
		Sessions:            r.varint(),
		LastClosedID:        r.str(),
		LastClosedEnd:       r.varint(),
	}
	p.lastClosedSH = hash1('s', p.LastClosedID)
	switch r.byte() {
	case 0:
	case 1:
		o := &OpenSession{ID: r.str(), Platform: r.str(), Country: r.str(), Start: r.varint()}
		o.sh = hash1('s', o.ID)
		o.Last = o.Start + r.varint()
		o.Events = r.varint()
		o.RevenueMicros = r.varint()
		if n := r.count(1); n > 0 {
			o.Levels = make([]int32, n)
			prev := int64(0)
			for i := range o.Levels {
				prev += r.varint()
				o.Levels[i] = int32(prev)
			}
		}
		p.Open = o
	default:
		r.fail(errors.New("bad open-session flag"))
	}
	return r.done("player state")
}

func appendString(b []byte, s string) []byte { return record.AppendString(b, s) }

// reader decodes the binary state forms with record.Reader, after the
// format version byte; the first error sticks.
type reader struct{ r *record.Reader }

func newReader(b []byte) *reader {
	r := &reader{r: record.NewReader(b)}
	switch {
	case len(b) == 0:
		r.r.Fail(errors.New("empty value"))
	case b[0] != stateVersion:
		r.r.Fail(fmt.Errorf("unknown format version %d", b[0]))
	default:
		r.r.Byte()
	}
	return r
}

// keyReader reads a store key (no version byte).
func keyReader(b []byte) *reader { return &reader{r: record.NewReader(b)} }

func (r *reader) uvarint() uint64 { return r.r.Uvarint() }
func (r *reader) varint() int64   { return r.r.Varint() }
func (r *reader) byte() byte      { return r.r.Byte() }
func (r *reader) str() string     { return r.r.Str() }

// count reads an element count; each element takes at least min bytes, so a
// count the rest of the value cannot hold is an error (no huge allocation).
func (r *reader) count(min int) int { return r.r.Count(min) }

func (r *reader) fail(err error) { r.r.Fail(err) }

func (r *reader) done(what string) error {
	if err := r.r.Done(); err != nil {
		return fmt.Errorf("jobs: decode %s: %w", what, err)
	}
	return nil
}

// Keys.

func appendLP(b []byte, s string) []byte { return appendString(b, s) }

func appendPlayerStoreKey(b []byte, k playerKey) []byte {
	b = appendLP(b, k.game)
	return append(b, k.player...)
}

func parsePlayerStoreKey(b []byte) (playerKey, error) {
	r := keyReader(b)
	g := r.str()
	if r.r.Err() != nil {
		return playerKey{}, fmt.Errorf("jobs: bad players key %q", b)
	}
	return playerKey{game: g, player: string(r.r.Rest())}, nil
}

func appendLedgerStoreKey(b []byte, k playerKey, sh idHash) []byte {
	b = appendLP(b, k.game)
	b = appendLP(b, k.player)
	return append(b, sh[:]...)
}

func parseLedgerStoreKey(b []byte) (playerKey, idHash, error) {
	r := keyReader(b)
	k := playerKey{game: r.str(), player: r.str()}
	var sh idHash
	if r.r.Err() != nil || r.r.Len() != len(sh) {
		return k, sh, fmt.Errorf("jobs: bad ledger key %q", b)
	}
	copy(sh[:], r.r.Rest())
	return k, sh, nil
}

func parseHashStoreKey(store string, b []byte) (idHash, error) {
	var k idHash
	if len(b) != len(k) {
		return k, fmt.Errorf("jobs: bad %s key %q: want %d bytes", store, b, len(k))
	}
	copy(k[:], b)
	return k, nil
}

func appendFraudStoreKey(b []byte, k fraudKey) []byte {
	b = appendLP(b, k.game)
	b = appendLP(b, k.player)
	return binary.AppendVarint(b, k.window)
}

func parseFraudStoreKey(b []byte) (fraudKey, error) {
	r := keyReader(b)
	k := fraudKey{game: r.str(), player: r.str(), window: r.varint()}
	if r.r.Done() != nil {
		return fraudKey{}, fmt.Errorf("jobs: bad fraud key %q", b)
	}
	return k, nil
}

const clockKey = "max_event_time"
