package oracle

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
)

// Dead-letter code of an event whose currency is not in the rates (the
// others are event.Code*).
const CodeUnknownCurrency = "unknown_currency"

// maxSeq bounds the seqs the completeness ledger counts: an event with a
// larger seq is left out of it.
const maxSeq = 1 << 40

// Params are the rule parameters. Zero fields take the design's defaults,
// except Rates, which is required.
type Params struct {
	DedupHorizon time.Duration      // rules 2 and 3: what a partition remembers, default 24h of event time
	SessionGap   time.Duration      // rule 5, default 30m of event time
	Lateness     time.Duration      // rule 7's allowed lateness (and rule 5's watermark), default 2m
	MaxFuture    time.Duration      // rule 1: client_time at most this after received_at, default 10m
	Partitions   int                // raw topic partitions; default 1
	Rates        map[string]float64 // USD per unit, by ISO 4217 code (either case); USD is always 1
	MaxDepth     int                // custom.properties nesting for event.Validate; 0 (the pipeline's): no bound
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
	if p.MaxFuture == 0 {
		p.MaxFuture = 10 * time.Minute
	}
	if p.Partitions == 0 {
		p.Partitions = 1
	}
}

// Validate reports the first problem with p.
func (p *Params) Validate() error {
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"dedup horizon", p.DedupHorizon}, {"session gap", p.SessionGap}, {"lateness", p.Lateness}} {
		if d.d <= 0 || d.d%time.Millisecond != 0 {
			return fmt.Errorf("oracle: %s %s: must be a positive whole number of milliseconds", d.name, d.d)
		}
	}
	switch {
	case p.MaxFuture <= 0:
		return fmt.Errorf("oracle: max future %s: must be positive", p.MaxFuture)
	case p.Partitions < 1:
		return fmt.Errorf("oracle: partitions must be >= 1, got %d", p.Partitions)
	case len(p.Rates) == 0:
		return fmt.Errorf("oracle: no FX rates")
	}
	for c, r := range p.Rates {
		if r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			return fmt.Errorf("oracle: FX rate of %q must be a finite number > 0, got %v", c, r)
		}
		if strings.EqualFold(c, "USD") && r != 1 {
			return fmt.Errorf("oracle: FX rate of USD must be 1, got %v", r)
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
	// Partition is the raw topic partition the record was read from, when
	// HasPartition; else it is computed from the key, the player_id, as the
	// gateway's producer partitions (see Partition). It must be below
	// Params.Partitions.
	Partition    int
	HasPartition bool
}

// Oracle computes the processor's outputs from records fed one at a time in
// arrival order, with plain maps: the "straightforward batch computation"
// the pipeline is compared with. Not safe for concurrent use.
type Oracle struct {
	p                      Params
	horizon, gap, lateness int64 // ms
	rates                  map[string]float64
	records                int64
	deadLetters            map[string]int64
	dupEvents, dupPurch    int64
	processed, late        int64
	parts                  []partition
	hasWM                  bool
	wm                     int64 // combined watermark (ms), never decreasing
	closed                 []Session
	completeness           map[completenessKey]*Completeness
	rows                   map[rowKey]*row
}

// partition is the state of one raw topic partition: the pipeline keeps
// all of its state per partition, and so does the oracle.
type partition struct {
	hasMax   bool
	max      int64            // largest event time (ms) of its valid events
	eventIDs map[string]int64 // event_id → event time of the accepted event that recorded it
	txIDs    map[string]int64 // a purchase's store_transaction_id → likewise
	ledger   map[sessionKey]*ledgerSession
	players  map[playerKey]*playerState
	open     map[playerKey]*openSession
	nextDue  int64 // ≤ min(last + gap) over open: no session can close by a watermark below it
}

type playerKey struct{ game, player string }

type sessionKey struct{ game, player, session string }

type completenessKey struct {
	game, platform, build string
	minute                int64 // Unix ms
}

// New returns an Oracle for p, after EnsureDefaults and Validate.
func New(p Params) (*Oracle, error) {
	p.EnsureDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	o := &Oracle{
		p:            p,
		horizon:      p.DedupHorizon.Milliseconds(),
		gap:          p.SessionGap.Milliseconds(),
		lateness:     p.Lateness.Milliseconds(),
		rates:        map[string]float64{"USD": 1},
		deadLetters:  make(map[string]int64),
		parts:        make([]partition, p.Partitions),
		completeness: make(map[completenessKey]*Completeness),
		rows:         make(map[rowKey]*row),
	}
	for c, r := range p.Rates {
		o.rates[strings.ToUpper(c)] = r
	}
	for i := range o.parts {
		o.parts[i] = partition{
			eventIDs: make(map[string]int64),
			txIDs:    make(map[string]int64),
			ledger:   make(map[sessionKey]*ledgerSession),
			players:  make(map[playerKey]*playerState),
			open:     make(map[playerKey]*openSession),
		}
	}
	return o, nil
}

// Add processes the next record in arrival order. It panics when
// rec.HasPartition and rec.Partition is not below Params.Partitions.
func (o *Oracle) Add(rec Record) {
	o.records++
	if rec.HasPartition && (rec.Partition < 0 || rec.Partition >= len(o.parts)) {
		panic(fmt.Sprintf("oracle: record of partition %d, but Params.Partitions is %d", rec.Partition, len(o.parts)))
	}
	ev := rec.Event
	if ev == nil {
		code := rec.Code
		if code == "" {
			code = event.CodeMalformed
		}
		o.deadLetters[code]++
		return
	}

	// Rule 1: validation. A dead letter touches no state.
	revenue, code := o.validate(rec)
	if code != "" {
		o.deadLetters[code]++
		return
	}
	game := rec.Game
	if game == "" {
		game = ev.GetGameId()
	}
	player := ev.GetPlayerId()
	pi := rec.Partition
	if !rec.HasPartition {
		pi = Partition(player, len(o.parts))
	}
	part := &o.parts[pi]
	t := eventTime(ev)

	// The partition's clock, and rule 7's combined watermark as it stood
	// before this event (which cannot make the event itself late: it only
	// raises its partition's watermark to t − lateness, before its
	// window's end).
	hadWM, wm := o.hasWM, o.wm
	if !part.hasMax || t > part.max {
		part.hasMax, part.max = true, t
		o.advanceWatermark()
	}
	cutoff := part.max - o.horizon
	platform := NormalizePlatform(ev.GetPlatform())
	pk := playerKey{game, player}
	sid := ev.GetSessionId()

	// Rule 3: completeness ledger, before dedup.
	if seq := ev.GetSeq(); sid != "" && seq >= 1 && seq <= maxSeq && t >= cutoff {
		o.ledgerAdd(part, sessionKey{game, player, sid}, seq, t, cutoff,
			completenessKey{game, platform, ev.GetAppBuild(), floorTo(t, minuteMs)})
	}

	// Rule 2: dedup. A dropped event records nothing, and only lets the
	// partition's watermark close sessions.
	seen := func(m map[string]int64, id string) bool {
		at, ok := m[id]
		return ok && at >= cutoff
	}
	isPurchase := ev.GetEventType() == event.TypePurchase
	tx := ev.GetPurchase().GetStoreTransactionId()
	switch {
	case seen(part.eventIDs, ev.GetEventId()):
		o.dupEvents++
		o.closeIdle(part)
		return
	case isPurchase && seen(part.txIDs, tx):
		o.dupPurch++
		o.closeIdle(part)
		return
	}
	if t >= cutoff {
		part.eventIDs[ev.GetEventId()] = t
		if isPurchase {
			part.txIDs[tx] = t
		}
	}
	o.processed++

	// Rule 4: enrichment and player state.
	country := NormalizeCountry(ev.GetCountry())
	ps := part.players[pk]
	if ps == nil {
		ps = &playerState{}
		part.players[pk] = ps
	}
	newPlayer := ps.events == 0
	ps.events++

	// Rule 7: lateness.
	if hadWM && floorTo(t, minuteMs)+minuteMs <= wm {
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

	// Rule 5: sessions, then the partition's watermark.
	if sid != "" {
		o.sessionize(part, pk, ps, ev, t, revenue, platform, country)
	}
	o.closeIdle(part)
}

// validate applies rule 1 and returns the event's revenue in micro-USD, or
// the dead-letter code.
func (o *Oracle) validate(rec Record) (revenue int64, code string) {
	ev := rec.Event
	if rej := event.Validate(ev, event.Rules{MaxDepth: o.p.MaxDepth}); rej != nil {
		return 0, rej.Code
	}
	if rec.Game == "" && ev.GetGameId() == "" {
		return 0, event.CodeMissingField
	}
	received := rec.ReceivedAt
	if received.IsZero() {
		ra := ev.GetReceivedAt()
		if ra == nil {
			return 0, event.CodeMissingField
		}
		if ra.CheckValid() != nil {
			return 0, event.CodeInvalidValue
		}
		received = ra.AsTime()
	}
	var amount, sign float64
	var currency string
	switch p := ev.GetPayload().(type) {
	case *event.Event_Purchase:
		amount, sign, currency = p.Purchase.GetPrice(), 1, p.Purchase.GetCurrency()
	case *event.Event_Refund:
		amount, sign, currency = p.Refund.GetAmount(), -1, p.Refund.GetCurrency()
	case *event.Event_AdImpression:
		amount, sign, currency = p.AdImpression.GetRevenue(), 1, p.AdImpression.GetCurrency()
	}
	if sign != 0 {
		v, known, inRange := USDMicros(amount, currency, o.rates)
		switch {
		case !known:
			return 0, CodeUnknownCurrency
		case !inRange:
			return 0, event.CodeInvalidValue
		}
		revenue = int64(sign) * v
	}
	if time.UnixMilli(eventTime(ev)).After(received.Add(o.p.MaxFuture)) {
		return 0, event.CodeClockSkew
	}
	return revenue, ""
}

// eventTime is an event's client_time truncated to the millisecond (floor),
// in Unix ms.
func eventTime(ev *event.Event) int64 {
	return ev.GetClientTime().AsTime().UnixMilli()
}

// advanceWatermark recomputes the combined watermark: the minimum over the
// partitions of max event time − lateness, never decreasing. A partition
// without an event yet holds it where it is, as the engine's assigned
// partitions do until they turn idle (the oracle has no wall clock, so no
// partition is ever idle).
func (o *Oracle) advanceWatermark() {
	var low int64
	for i, p := range o.parts {
		if !p.hasMax {
			return
		}
		if w := p.max - o.lateness; i == 0 || w < low {
			low = w
		}
	}
	if !o.hasWM || low > o.wm {
		o.hasWM, o.wm = true, low
	}
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
