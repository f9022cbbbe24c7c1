package pipeline

import (
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/engine"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/record"
)

// markEvery is how often a source re-sends an unchanged watermark mark, so
// that stage 2 sees it is alive (and a new stage-2 owner learns it soon).
const markEvery = time.Second

// watermarks is the process-wide watermark tracker of stage 1: the
// engine.Watermarks of the raw partitions this instance owns, behind a
// mutex, with the combined watermark in force published for lock-free reads
// by every task.
type watermarks struct {
	mu      sync.Mutex
	w       *engine.Watermarks
	current atomic.Int64 // Unix ms of the combined watermark in force; math.MinInt64: none yet
}

func newWatermarks(cfg engine.WatermarkConfig) (*watermarks, error) {
	w, err := engine.NewWatermarks(cfg)
	if err != nil {
		return nil, err
	}
	wm := &watermarks{w: w}
	wm.current.Store(math.MinInt64)
	return wm, nil
}

// Current returns the combined watermark in force (zero before there is one).
func (w *watermarks) Current() time.Time {
	ms := w.current.Load()
	if ms == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// stage1 is the task of one raw partition: it runs jobs.Stage (every
// stage-1 rule: validation, ledger, dedup, enrichment, sessions, the
// per-player fraud rule, late events and KPI partials) and writes what it
// produced to the topics, feeds the partition's progress to the
// process-wide watermarks, sends watermark marks to stage 2, and writes the
// changelog of the stage's stores.
type stage1 struct {
	p     *Pipeline
	part  int32
	stage *jobs.Stage
	wm    *watermarks

	started bool // the partition's restored clock has been observed
	active  bool // records since the last flush

	sizedAt   time.Time // the last state size report
	nAccepted int       // events accepted since the last Flush

	res      jobs.Result
	partials []jobs.Partial
	ledger   []jobs.LedgerCount
	sessions []jobs.Session
	buf      []byte

	lastMark   mark
	lastMarkAt time.Time
}

func (p *Pipeline) newStage1(_ string, part int32) (engine.Task, error) {
	st, err := jobs.NewStage(p.cfg.Jobs)
	if err != nil {
		return nil, err
	}
	p.wm.mu.Lock()
	p.wm.w.Assign(part, time.Now())
	p.wm.mu.Unlock()
	return &stage1{p: p, part: part, stage: st, wm: p.wm}, nil
}

// Close stops tracking the partition's watermark and state size.
func (t *stage1) Close() {
	t.wm.mu.Lock()
	t.wm.w.Revoke(t.part)
	t.wm.mu.Unlock()
	t.p.metrics.state.remove(t.taskName())
}

func (t *stage1) taskName() string { return stage1Name + "/" + strconv.Itoa(int(t.part)) }

// Restore applies one changelog record of a stage-1 store.
func (t *stage1) Restore(store string, key, value []byte) error {
	return t.stage.Restore(t.p.storeOf(stage1Name, store), key, value)
}

// Process runs one raw record through the jobs and emits what it produced.
func (t *stage1) Process(rec *kgo.Record, out *engine.Outputs) error {
	t.active = true
	r := &t.res
	t.stage.SetWatermark(t.wm.Current())
	t.stage.Process(rec.Value, record.RawEncoding(rec.Headers), r)
	m := t.p.metrics
	topics := &t.p.cfg.Topics
	switch {
	case r.DeadLetter != nil:
		dl := record.DeadLetter{Code: r.DeadLetter.Code, Reason: r.DeadLetter.Reason,
			SourceTopic: rec.Topic, SourcePartition: rec.Partition, SourceOffset: rec.Offset}
		hs := kgoHeaders(dl.Headers())
		for _, h := range rec.Headers { // the value's encoding travels with it
			if h.Key == record.HeaderContentType {
				hs = append(hs, h)
			}
		}
		out.Add(topics.DeadLetter, t.part, rec.Key, rec.Value, hs...)
		m.deadLetters.WithLabelValues(r.DeadLetter.Code).Inc()
		m.stats.DeadLetters.Add(1)
	case r.Drop != jobs.NotDropped:
		m.duplicates.WithLabelValues(r.Drop.String()).Inc()
		m.stats.Duplicates.Add(1)
	default:
		if err := t.accepted(rec, out); err != nil {
			return err
		}
	}
	t.emitSessions(r.Sessions, out)
	for i := range r.Alerts {
		a := &r.Alerts[i]
		v, err := a.AppendJSON(nil)
		if err != nil {
			return err
		}
		out.Add(topics.Alerts, -1, []byte(a.Key()), v)
		m.alerts.WithLabelValues(a.Rule).Inc()
	}
	return nil
}

func (t *stage1) accepted(rec *kgo.Record, out *engine.Outputs) error {
	x := &t.res.Enriched
	m := t.p.metrics
	var err error
	t.buf, err = x.AppendJSON(t.buf[:0])
	if err != nil {
		return err
	}
	v := append([]byte(nil), t.buf...)
	key := []byte(x.Key())
	out.Add(t.p.cfg.Topics.Enriched, -1, key, v)
	t.nAccepted++ // added to the counter once per transaction (Flush)
	m.stats.Accepted.Add(1)
	if t.res.Late {
		out.Add(t.p.cfg.Topics.Late, -1, key, v, kgoHeaders(record.LateHeaders(t.res.LateWatermark))...)
		m.late.Inc()
		m.stats.Late.Add(1)
	}
	return nil
}

func (t *stage1) emitSessions(ss []jobs.Session, out *engine.Outputs) {
	for i := range ss {
		s := &ss[i]
		v, err := s.AppendJSON(nil)
		if err != nil { // a Session always marshals
			panic(err)
		}
		out.Add(t.p.cfg.Topics.Sessions, -1, []byte(s.Key()), v)
	}
	t.p.metrics.sessions.Add(float64(len(ss)))
	t.p.metrics.stats.Sessions.Add(int64(len(ss)))
}

// Flush advances the watermarks, closes the sessions of an idle partition,
// and emits this transaction's partials, ledger deltas, the watermark mark
// and the changelog.
func (t *stage1) Flush(now time.Time, out *engine.Outputs) error {
	if t.nAccepted > 0 {
		t.p.metrics.accepted.Add(float64(t.nAccepted))
		t.nAccepted = 0
	}
	if now.Sub(t.sizedAt) >= stateEvery {
		t.sizedAt = now
		t.p.metrics.state.set(t.taskName(), t.stage.StateSizes())
	}
	pw := t.advance(now)
	if pw.Idle && !pw.Effective.IsZero() {
		// Only an idle partition is advanced past its own watermark (see
		// jobs.Stage.Advance): its open sessions close on the combined one.
		t.sessions = t.stage.Advance(pw.Effective, t.sessions[:0])
		t.emitSessions(t.sessions, out)
	}
	partials := t.p.cfg.PartialsTopic
	t.ledger = t.stage.DrainLedger(t.ledger[:0])
	for _, l := range t.ledger {
		d := ledgerDelta{Source: t.part, Row: completenessKey{Game: l.GameID, Platform: l.Platform, Build: l.AppBuild, Minute: l.Window.UnixMilli()},
			Counts: completeness{Gaps: l.Gaps, Duplicates: l.Duplicates, OutOfOrder: l.OutOfOrder}}
		out.Add(partials, -1, []byte(d.Row.partitionKey()), d.appendEncode(nil))
	}
	t.partials = t.stage.DrainPartials(t.partials[:0])
	for _, pa := range t.partials {
		k := pa.Key
		v := partial{Source: t.part, Key: k, Agg: pa.Agg}.appendEncode(nil)
		out.Add(partials, -1, []byte(record.PartialKey(k.Game, k.Platform, k.Country)), v)
	}
	t.p.metrics.partials.Add(float64(len(t.partials)))
	clear(t.partials) // drop the aggregates until the next flush
	// An active partition reports its own watermark: the combined one may
	// be ahead of it (a partition just taken over with a backlog starts
	// behind the partitions this instance already had), and claiming it
	// would let stage 2 finalize, and expire, rows the backlog still adds to.
	// An idle partition reports the combined one, so it does not hold stage 2
	// back. Stage 2 keeps each source's highest mark.
	mk := mark{Source: t.part, Watermark: pw.Watermark, Idle: pw.Idle}
	if pw.Idle {
		mk.Watermark = pw.Effective
	}
	if mk != t.lastMark || now.Sub(t.lastMarkAt) >= markEvery {
		v := mk.appendEncode(nil)
		for q := int32(0); q < t.p.partialsPartitions; q++ {
			out.Add(partials, q, []byte(record.MarkKey), v)
		}
		t.lastMark, t.lastMarkAt = mk, now
	}
	t.stage.Changes(func(store string, key, value []byte) {
		out.Changelog(t.p.storeName(stage1Name, store), t.part, key, value)
	})
	return nil
}

// advance feeds the partition's progress to the process-wide tracker and
// returns the partition's watermark as of now.
func (t *stage1) advance(now time.Time) engine.PartitionWatermark {
	max, ok := t.stage.MaxEventTime()
	t.wm.mu.Lock()
	defer t.wm.mu.Unlock()
	if ok && (t.active || !t.started) {
		// The first flush after a restore resumes from the restored clock.
		t.wm.w.Observe(t.part, max, now)
	}
	t.started, t.active = true, false
	comb := t.wm.w.Combined(now)
	if !comb.IsZero() {
		t.wm.current.Store(comb.UnixMilli())
	}
	pw, _ := t.wm.w.Partition(t.part, now)
	return pw
}
