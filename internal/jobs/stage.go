package jobs

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Drop says why dedup dropped an event (rule 2).
type Drop uint8

// Drop kinds.
const (
	NotDropped           Drop = iota
	DropEventID               // its event_id was seen within the horizon
	DropStoreTransaction      // a purchase whose store_transaction_id was seen within the horizon
)

func (d Drop) String() string {
	switch d {
	case NotDropped:
		return "not_dropped"
	case DropEventID:
		return "event_id"
	case DropStoreTransaction:
		return "store_transaction_id"
	}
	return fmt.Sprintf("Drop(%d)", uint8(d))
}

// Result is what one record produced. Exactly one of DeadLetter, Drop and
// Enriched applies (see Accepted); Sessions and Alerts may be set with any
// of them (a duplicate still advances the partition's event clock, which may
// close idle sessions). A Stage reuses the Result passed to it: copy what
// must outlive the next call.
type Result struct {
	Event      *event.Event // nil when the record did not decode
	DeadLetter *DeadLetter
	Drop       Drop
	Enriched   Enriched // valid when Accepted()
	// Stray: an accepted event with a session_id that no session took (a
	// session_end with no open session of its id, or a straggler of an
	// earlier session). See the package documentation.
	Stray    bool
	Sessions []Session // sessions closed while processing this record, in close order
	Alerts   []Alert
	// Late: an accepted event whose minute had closed at LateWatermark, the
	// watermark in force when it arrived (rule 7; see SetWatermark).
	Late          bool
	LateWatermark time.Time
}

// Accepted reports whether the event passed validation and dedup.
func (r *Result) Accepted() bool { return r.DeadLetter == nil && r.Drop == NotDropped }

func (r *Result) reset() {
	sessions, alerts := r.Sessions[:0], r.Alerts[:0]
	*r = Result{Sessions: sessions, Alerts: alerts}
}

// Stats are counts since the Stage was made (not state: they restart at zero
// after a restore).
type Stats struct {
	Records                 int64
	DeadLetters             map[string]int64 // by code
	DroppedEventID          int64
	DroppedStoreTransaction int64
	Accepted                int64
	Stray                   int64
	SessionsClosed          int64
	Alerts                  int64
	Late                    int64
}

// Stage is stage 1 of the processor for one partition: validate → ledger →
// dedup → enrich → sessionize → per-player fraud rule, over in-memory state
// that it reports as changelog records (Changes) and rebuilds from them
// (Restore). Not safe for concurrent use: one Stage per partition.
type Stage struct {
	cfg                    Config
	horizon, gap, lateness int64 // ms
	maxPurchases           int64
	val                    *Validator
	hasMax                 bool
	max                    int64 // max event time, unix ms
	clockDirty             bool
	dedup                  dedupTable
	ledger                 ledgerTable
	players                playerTable
	fraud                  fraudTable
	stats                  Stats
	watermark              time.Time                  // in force, for rule 7 (SetWatermark)
	partials               map[kpi.Key]*kpi.Aggregate // rule 6, since the last DrainPartials
}

// NewStage applies cfg's defaults, validates it and returns an empty Stage.
func NewStage(cfg Config) (*Stage, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Stage{
		cfg:          cfg,
		horizon:      cfg.DedupHorizon.Milliseconds(),
		gap:          cfg.SessionGap.Milliseconds(),
		lateness:     cfg.AllowedLateness.Milliseconds(),
		maxPurchases: int64(cfg.FraudMaxPurchases),
		val:          newValidator(cfg.Rates, cfg.MaxFuture),
	}
	s.dedup.m = newIDTable(0)
	s.ledger.rows = make(map[rowKey]*rowCounts)
	s.players.m = make(map[idHash]*player)
	s.fraud.m = make(map[fraudKey]*fraudEntry)
	s.stats.DeadLetters = make(map[string]int64)
	s.partials = make(map[kpi.Key]*kpi.Aggregate)
	return s, nil
}

// Config returns the configuration in use, defaults applied.
func (s *Stage) Config() Config { return s.cfg }

// Process handles one raw record value in encoding enc (record.RawEncoding
// of the record's headers: binary Protobuf or JSON).
func (s *Stage) Process(value []byte, enc record.Encoding, r *Result) {
	e, dl := decodeRaw(value, enc)
	if dl != nil {
		r.reset()
		s.stats.Records++
		s.deadLetter(r, dl)
		return
	}
	s.ProcessEvent(e, r)
}

func (s *Stage) deadLetter(r *Result, dl *DeadLetter) {
	r.DeadLetter = dl
	s.stats.DeadLetters[dl.Code]++
}

// ProcessEvent handles one decoded event (Process without the decoding).
// The Stage keeps e only through r; its state copies what it keeps of e.
func (s *Stage) ProcessEvent(e *event.Event, r *Result) {
	r.reset()
	r.Event = e
	s.stats.Records++
	revenue, dl := s.val.check(e)
	if dl != nil {
		s.deadLetter(r, dl)
		return
	}
	ct := e.GetClientTime()
	t := ct.GetSeconds()*1000 + int64(ct.GetNanos())/1_000_000
	s.observe(t)
	cutoff := s.max - s.horizon
	platform := NormalizePlatform(e.GetPlatform())
	game, playerID := e.GetGameId(), e.GetPlayerId()
	p := s.players.get(game, playerID)

	var sh idHash
	sid := e.GetSessionId()
	if sid != "" {
		sh = hash1('s', sid)
	}

	// Rule 3: the ledger sees every valid event, duplicates included.
	if seq := e.GetSeq(); sid != "" && seq >= 1 && seq <= maxLedgerSeq && t >= cutoff {
		s.ledger.observe(p, sh, seq, t, cutoff, platform, e.GetAppBuild())
	}

	// Rule 2.
	idKey := hash1('e', e.GetEventId())
	var txKey dedupKey
	purchase := e.GetPurchase()
	if purchase != nil {
		txKey = hash1('t', purchase.GetStoreTransactionId())
	}
	switch {
	case s.dedup.seen(idKey, cutoff):
		r.Drop = DropEventID
		s.stats.DroppedEventID++
	case purchase != nil && s.dedup.seen(txKey, cutoff):
		r.Drop = DropStoreTransaction
		s.stats.DroppedStoreTransaction++
	}
	if r.Drop != NotDropped {
		s.advance(s.max-s.lateness, &r.Sessions)
		return
	}
	if t >= cutoff {
		s.dedup.put(idKey, t)
		if purchase != nil {
			s.dedup.put(txKey, t)
		}
	}
	s.stats.Accepted++

	// Rule 4: player state.
	isNew := p.Events == 0
	if isNew || t < p.FirstSeen {
		p.FirstSeen = t
	}
	p.Events++
	switch e.GetPayload().(type) {
	case *event.Event_Purchase:
		p.Purchases++
		p.LifetimeSpendMicros += revenue
	case *event.Event_Refund:
		p.LifetimeSpendMicros += revenue // negative
	}
	s.players.markDirty(p)
	country := NormalizeCountry(e.GetCountry())

	// Rule 5.
	if !s.sessionize(p, e, sh, t, revenue, platform, country, &r.Sessions) {
		r.Stray = true
		s.stats.Stray++
	}

	r.Enriched = Enriched{
		Event:                  e,
		EventTime:              time.UnixMilli(t).UTC(),
		PlatformNorm:           platform,
		CountryNorm:            country,
		RevenueUSDMicros:       revenue,
		FirstSeen:              time.UnixMilli(p.FirstSeen).UTC(),
		DaysSinceInstall:       (t - p.FirstSeen) / dayMs,
		LifetimeSpendUSDMicros: p.LifetimeSpendMicros,
		Payer:                  p.Purchases > 0,
		SessionCount:           p.Sessions,
		NewPlayer:              isNew,
	}
	s.judgeLate(r)             // rule 7
	s.addPartials(&r.Enriched) // rule 6

	// Rule 8, per player.
	if purchase != nil && t >= cutoff {
		if n, alert := s.fraud.purchase(p.key.game, p.key.player, t, s.maxPurchases); alert {
			r.Alerts = append(r.Alerts, purchaseAlert(game, playerID, windowOf(t), n, s.maxPurchases))
			s.stats.Alerts++
		}
	}

	s.advance(s.max-s.lateness, &r.Sessions)
}

// observe moves the partition's event clock to t if later, and expires what
// fell out of the horizon.
func (s *Stage) observe(t int64) {
	if s.hasMax && t <= s.max {
		return
	}
	s.hasMax, s.max, s.clockDirty = true, t, true
	cutoff := s.max - s.horizon
	if s.dedup.exp.due(cutoff) {
		s.dedup.expire(cutoff)
	}
	if s.ledger.exp.due(cutoff) {
		s.ledger.expire(cutoff)
	}
	if s.fraud.exp.due(cutoff) {
		s.fraud.expire(cutoff)
	}
}

// Advance closes the sessions whose last event + SessionGap ≤ watermark, in
// order of their last event (ties: game, then player), and appends them to
// dst. Process already does this after each record with the partition's
// own watermark (max event time − AllowedLateness). Call Advance with the
// combined watermark only for an idle partition (see the package
// documentation: a later watermark makes sessions depend on timing).
func (s *Stage) Advance(watermark time.Time, dst []Session) []Session {
	s.advance(watermark.UnixMilli(), &dst)
	return dst
}

// MaxEventTime returns the partition's max event time, and false before the
// first valid event.
func (s *Stage) MaxEventTime() (time.Time, bool) {
	if !s.hasMax {
		return time.Time{}, false
	}
	return time.UnixMilli(s.max).UTC(), true
}

// DrainLedger appends the ledger rows changed since the last drain (non-zero
// deltas only, sorted by game, platform, app_build, window) and resets them.
// Call it once per transaction and emit the rows with that transaction's
// outputs: the rows are outputs, not state.
func (s *Stage) DrainLedger(dst []LedgerCount) []LedgerCount { return s.ledger.drain(dst) }

// Stats returns a copy of the counters.
func (s *Stage) Stats() Stats {
	st := s.stats
	st.DeadLetters = maps.Clone(s.stats.DeadLetters)
	return st
}

// Changes reports every state change since the last call, one call of fn
// per changed key with its current encoded value (nil: the key was deleted,
// a tombstone). Store names are the Store* constants; fn may keep key and
// value (they are never reused). Call it once per transaction and write the
// records to the stores' changelogs in the same transaction.
func (s *Stage) Changes(fn func(store string, key, value []byte)) {
	n := len(s.dedup.dirty) + len(s.ledger.dirty) + len(s.players.dirty) + len(s.fraud.dirty) + 1
	// One arena for all keys and values of this call: each record is a
	// capacity-limited window of it, and nothing is written twice.
	a := arena{b: make([]byte, 0, 64*n)}
	if s.clockDirty {
		c := Clock{MaxEventTime: s.max}
		a.mark()
		a.b = append(a.b, clockKey...)
		k := a.take()
		a.b = c.Encode(a.b)
		fn(StoreClock, k, a.take())
		s.clockDirty = false
	}
	for _, k := range s.dedup.dirty {
		v, ok := s.dedup.m.get(k)
		if ok && v&1 == 0 {
			continue // reported already in this call
		}
		a.mark()
		a.b = append(a.b, k[:]...)
		key := a.take()
		if !ok {
			fn(StoreDedup, key, nil)
			continue
		}
		s.dedup.m.put(k, v&^1)
		d := DedupEntry{Time: v >> 1}
		a.b = d.Encode(a.b)
		fn(StoreDedup, key, a.take())
	}
	clear(s.dedup.dirty)
	s.dedup.dirty = s.dedup.dirty[:0]
	for _, r := range s.ledger.dirty {
		i := r.p.ledgerIndex(r.sh)
		if i >= 0 && !r.p.ledger[i].dirty {
			continue
		}
		a.mark()
		a.b = appendLedgerStoreKey(a.b, r.p.key, r.sh)
		key := a.take()
		if i < 0 {
			fn(StoreLedger, key, nil)
			continue
		}
		e := &r.p.ledger[i]
		e.dirty = false
		ls := e.state()
		a.b = ls.Encode(a.b)
		fn(StoreLedger, key, a.take())
	}
	clear(s.ledger.dirty)
	s.ledger.dirty = s.ledger.dirty[:0]
	for _, p := range s.players.dirty {
		p.dirty = false
		a.mark()
		a.b = appendPlayerStoreKey(a.b, p.key)
		key := a.take()
		a.b = p.PlayerState.Encode(a.b)
		fn(StorePlayers, key, a.take())
	}
	clear(s.players.dirty)
	s.players.dirty = s.players.dirty[:0]
	for _, k := range s.fraud.dirty {
		e, ok := s.fraud.m[k]
		if ok && !e.dirty {
			continue
		}
		a.mark()
		a.b = appendFraudStoreKey(a.b, k)
		key := a.take()
		if !ok {
			fn(StoreFraud, key, nil)
			continue
		}
		e.dirty = false
		c := FraudCount{Count: e.n}
		a.b = c.Encode(a.b)
		fn(StoreFraud, key, a.take())
	}
	clear(s.fraud.dirty)
	s.fraud.dirty = s.fraud.dirty[:0]
}

// arena hands out consecutive windows of one growing buffer. A window stays
// valid when the buffer grows (it keeps the old array) and is capacity-
// limited, so an append to it never touches a neighbour.
type arena struct {
	b   []byte
	off int
}

func (a *arena) mark() { a.off = len(a.b) }

func (a *arena) take() []byte {
	w := a.b[a.off:len(a.b):len(a.b)]
	a.off = len(a.b)
	return w
}

// Restore applies one changelog record (value nil: a tombstone), in
// changelog order, to a Stage that has processed nothing yet.
func (s *Stage) Restore(store string, key, value []byte) error {
	switch store {
	case StoreClock:
		if string(key) != clockKey {
			return fmt.Errorf("jobs: restore %s: unknown key %q", store, key)
		}
		if value == nil {
			s.hasMax, s.max = false, 0
			return nil
		}
		var c Clock
		if err := c.Decode(value); err != nil {
			return err
		}
		s.hasMax, s.max = true, c.MaxEventTime
	case StoreDedup:
		k, err := parseHashStoreKey(store, key)
		if err != nil {
			return err
		}
		if value == nil {
			s.dedup.m.delete(k)
			return nil
		}
		var d DedupEntry
		if err := d.Decode(value); err != nil {
			return err
		}
		if d.Time < -1<<61 || d.Time >= 1<<61 {
			return fmt.Errorf("jobs: restore %s: event time %d out of range", store, d.Time)
		}
		s.dedup.m.put(k, d.Time<<1)
		s.dedup.exp.add(d.Time, k)
	case StoreLedger:
		pk, sh, err := parseLedgerStoreKey(key)
		if err != nil {
			return err
		}
		p := s.players.get(pk.game, pk.player)
		if value == nil {
			if i := p.ledgerIndex(sh); i >= 0 {
				p.ledger = slices.Delete(p.ledger, i, i+1)
			}
			return nil
		}
		var ls LedgerSession
		if err := ls.Decode(value); err != nil {
			return err
		}
		s.ledger.set(p, sh, &ls)
	case StorePlayers:
		k, err := parsePlayerStoreKey(key)
		if err != nil {
			return err
		}
		p := s.players.get(k.game, k.player)
		if p.hi >= 0 {
			s.removeOpen(p)
		}
		if value == nil { // never written by a Stage: players are lifetime state
			p.PlayerState = PlayerState{}
			return nil
		}
		if err := p.PlayerState.Decode(value); err != nil {
			p.PlayerState = PlayerState{}
			return err
		}
		if p.Open != nil {
			s.schedule(p)
		}
	case StoreFraud:
		k, err := parseFraudStoreKey(key)
		if err != nil {
			return err
		}
		if value == nil {
			delete(s.fraud.m, k)
			return nil
		}
		var c FraudCount
		if err := c.Decode(value); err != nil {
			return err
		}
		s.fraud.m[k] = &fraudEntry{n: c.Count}
		s.fraud.exp.add(k.window, k)
	default:
		return fmt.Errorf("jobs: restore: unknown store %q", store)
	}
	return nil
}

// StateSizes returns the number of entries in each store: event ids
// remembered (dedup), players, sessions tracked by the ledger, fraud
// windows, and the clock.
func (s *Stage) StateSizes() map[string]int {
	ledger := 0
	for _, p := range s.players.m {
		ledger += len(p.ledger)
	}
	return map[string]int{StoreClock: 1, StoreDedup: s.dedup.m.n, StorePlayers: len(s.players.m), StoreLedger: ledger, StoreFraud: len(s.fraud.m)}
}
