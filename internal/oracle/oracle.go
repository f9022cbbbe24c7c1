package oracle

import (
	"fmt"
	"math"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Dead-letter code of rule 4 (the others are event.Code*).
const CodeUnknownCurrency = "unknown_currency"

// Params are the rule parameters. Zero fields take the design's defaults,
// except Rates, which is required.
type Params struct {
	DedupHorizon time.Duration      // rule 2, default 24h of event time
	SessionGap   time.Duration      // rule 5, default 30m of event time
	Lateness     time.Duration      // rule 7's allowed lateness, default 2m
	Partitions   int                // raw topic partitions the watermark and dedup are per; default 1
	Rates        map[string]float64 // USD per unit, by upper-case ISO 4217 code
	MaxDepth     int                // custom.properties nesting for event.Validate; 0: no bound
}

// EnsureDefaults fills zero fields.
func (p *Params) EnsureDefaults() {
	if p.DedupHorizon == 0 {
		p.DedupHorizon = 24 * time.Hour
	}
	if p.SessionGap == 0 {
		p.SessionGap = 30 * time.Minute
	}
	if p.Lateness == 0 {
		p.Lateness = 2 * time.Minute
	}
	if p.Partitions == 0 {
		p.Partitions = 1
	}
}

// Validate reports the first problem with p.
func (p *Params) Validate() error {
	switch {
	case p.DedupHorizon < 0 || p.SessionGap < 0 || p.Lateness < 0:
		return fmt.Errorf("oracle: durations must be >= 0")
	case p.Partitions < 1:
		return fmt.Errorf("oracle: partitions must be >= 1, got %d", p.Partitions)
	case len(p.Rates) == 0:
		return fmt.Errorf("oracle: no FX rates")
	}
	for c, r := range p.Rates {
		if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return fmt.Errorf("oracle: FX rate of %q must be a finite number > 0, got %v", c, r)
		}
	}
	return nil
}

// Record is one record of the raw topic, in arrival order.
type Record struct {
	// Event is the decoded event, nil when the record did not decode.
	Event *event.Event
	// Code is the rejection code of a record that did not decode.
	Code string
	// Game and ReceivedAt are the server-side fields (the gateway's); when
	// empty, the event's own game_id and received_at count.
	Game       string
	ReceivedAt time.Time
}

// Oracle computes the processor's outputs from records fed one at a time in
// arrival order, with plain maps and no expiry: the "straightforward batch
// computation" the pipeline is compared with. Not safe for concurrent use.
type Oracle struct {
	p Params

	records     int64
	deadLetters map[string]int64
	dupEvents   int64
	dupPurch    int64
	processed   int64
	late        int64

	parts   []partition
	wm      time.Time // combined watermark, never decreasing
	players map[string]bool

	ledger       map[sessionKey]*ledgerSession
	completeness map[completenessKey]*Completeness
	sessions     map[sessionKey][]sessionEvent
	rows         map[rowKey]*row
}

// partition is the per-partition state of rules 2 and 7.
type partition struct {
	maxTime  time.Time            // newest event time of a validated event; zero before one
	eventIDs map[string]time.Time // event_id → event time of the event that recorded it
	txIDs    map[string]time.Time // purchase store_transaction_id → likewise
}

type sessionKey struct{ game, player, session string }

type ledgerSession struct {
	highest uint64
	seen    map[uint64]bool
}

type completenessKey struct {
	game, platform, build string
	minute                int64 // Unix seconds
}

type sessionEvent struct {
	t       time.Time
	arrival int64
	revenue int64
	level   int32
	isStart bool // a level_start
}

// New returns an Oracle for p, after EnsureDefaults and Validate.
func New(p Params) (*Oracle, error) {
	p.EnsureDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o := &Oracle{
		p:            p,
		deadLetters:  make(map[string]int64),
		parts:        make([]partition, p.Partitions),
		players:      make(map[string]bool),
		ledger:       make(map[sessionKey]*ledgerSession),
		completeness: make(map[completenessKey]*Completeness),
		sessions:     make(map[sessionKey][]sessionEvent),
		rows:         make(map[rowKey]*row),
	}
	for i := range o.parts {
		o.parts[i].eventIDs = make(map[string]time.Time)
		o.parts[i].txIDs = make(map[string]time.Time)
	}
	return o, nil
}

// Add processes the next record in arrival order.
func (o *Oracle) Add(rec Record) {
	o.records++
	ev := rec.Event
	if ev == nil {
		code := rec.Code
		if code == "" {
			code = event.CodeMalformed
		}
		o.deadLetters[code]++
		return
	}

	// Rule 1: validation.
	game := rec.Game
	if game == "" {
		game = ev.GetGameId()
	}
	if rej := event.Validate(ev, event.Rules{MaxDepth: o.p.MaxDepth}); rej != nil {
		o.deadLetters[rej.Code]++
		return
	}
	if game == "" || (rec.ReceivedAt.IsZero() && ev.GetReceivedAt() == nil) {
		o.deadLetters[event.CodeMissingField]++
		return
	}
	t := ev.GetClientTime().AsTime().UTC()
	player := ev.GetPlayerId()
	part := &o.parts[Partition(player, o.p.Partitions)]

	// Rule 7's watermark as it stands when this event arrives, then this
	// event's part in it. (The order cannot make the event itself late: it
	// only raises its partition's watermark to t − lateness < its window's
	// end.)
	wm := o.wm
	if t.After(part.maxTime) {
		part.maxTime = t
		o.advanceWatermark()
	}
	platform := NormalizePlatform(ev.GetPlatform())

	// Rule 3: completeness ledger, before dedup.
	if ev.GetSessionId() != "" && ev.GetSeq() > 0 {
		o.ledgerAdd(sessionKey{game, player, ev.GetSessionId()}, ev.GetSeq(),
			completenessKey{game, platform, ev.GetAppBuild(), minuteOf(t).Unix()})
	}

	// Rule 2: dedup, against the partition's max event time.
	oldest := part.maxTime.Add(-o.p.DedupHorizon)
	seen := func(m map[string]time.Time, id string) bool {
		at, ok := m[id]
		return ok && !at.Before(oldest)
	}
	if seen(part.eventIDs, ev.GetEventId()) {
		o.dupEvents++
		return
	}
	tx := ev.GetPurchase().GetStoreTransactionId()
	if ev.GetEventType() == event.TypePurchase && seen(part.txIDs, tx) {
		o.dupPurch++
		return
	}
	part.eventIDs[ev.GetEventId()] = t
	if ev.GetEventType() == event.TypePurchase {
		part.txIDs[tx] = t
	}

	// Rule 4: enrichment.
	revenue, ok := revenueOf(ev, o.p.Rates)
	if !ok {
		o.deadLetters[CodeUnknownCurrency]++
		return
	}
	country := NormalizeCountry(ev.GetCountry())
	newPlayer := !o.players[player]
	o.players[player] = true
	o.processed++

	// Rule 7: lateness.
	if !wm.IsZero() && !minuteOf(t).Add(time.Minute).After(wm) {
		o.late++
	}

	// Rule 6: KPIs.
	c := contribution{player: player, typ: ev.GetEventType(), revenue: revenue, newPlayer: newPlayer, level: levelOf(ev)}
	for _, k := range rowKeys(t, game, platform, country) {
		r := o.rows[k]
		if r == nil {
			r = newRow()
			o.rows[k] = r
		}
		r.add(c)
	}

	// Rule 5: sessions.
	if sid := ev.GetSessionId(); sid != "" {
		k := sessionKey{game, player, sid}
		o.sessions[k] = append(o.sessions[k], sessionEvent{t: t, arrival: o.records, revenue: revenue,
			level: c.level, isStart: c.typ == event.TypeLevelStart})
	}
}

// advanceWatermark recomputes the combined watermark: the minimum over the
// partitions of max event time − lateness, never decreasing. A partition
// without an event yet holds it where it is, as the engine's assigned
// partitions do until they turn idle (the oracle has no wall clock, so no
// partition is ever idle).
func (o *Oracle) advanceWatermark() {
	var low time.Time
	for _, p := range o.parts {
		if p.maxTime.IsZero() {
			return
		}
		if w := p.maxTime.Add(-o.p.Lateness); low.IsZero() || w.Before(low) {
			low = w
		}
	}
	if low.After(o.wm) {
		o.wm = low
	}
}

func (o *Oracle) ledgerAdd(sk sessionKey, seq uint64, ck completenessKey) {
	s := o.ledger[sk]
	if s == nil {
		s = &ledgerSession{seen: make(map[uint64]bool)}
		o.ledger[sk] = s
	}
	c := o.completeness[ck]
	if c == nil {
		c = &Completeness{Game: ck.game, Platform: ck.platform, AppBuild: ck.build, Minute: time.Unix(ck.minute, 0).UTC()}
		o.completeness[ck] = c
	}
	switch {
	case s.seen[seq]:
		c.Duplicates++
	case seq < s.highest: // missing until now: counted as a gap when the jump was seen
		c.OutOfOrder++
		c.Gaps--
	default:
		c.Gaps += int64(seq - s.highest - 1)
		s.highest = seq
	}
	s.seen[seq] = true
}

// revenueOf is rule 4's revenue_usd_micros, and false for an unknown
// currency.
func revenueOf(ev *event.Event, rates map[string]float64) (int64, bool) {
	switch p := ev.GetPayload().(type) {
	case *event.Event_Purchase:
		return USDMicros(p.Purchase.GetPrice(), p.Purchase.GetCurrency(), rates)
	case *event.Event_Refund:
		v, ok := USDMicros(p.Refund.GetAmount(), p.Refund.GetCurrency(), rates)
		return -v, ok
	case *event.Event_AdImpression:
		return USDMicros(p.AdImpression.GetRevenue(), p.AdImpression.GetCurrency(), rates)
	}
	return 0, true
}

func levelOf(ev *event.Event) int32 {
	switch p := ev.GetPayload().(type) {
	case *event.Event_LevelStart:
		return p.LevelStart.GetLevel()
	case *event.Event_LevelComplete:
		return p.LevelComplete.GetLevel()
	case *event.Event_LevelFail:
		return p.LevelFail.GetLevel()
	}
	return 0
}

// Run feeds records to a new Oracle and returns its report.
func Run(records []Record, p Params) (*Report, error) {
	o, err := New(p)
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		o.Add(r)
	}
	return o.Report(), nil
}
