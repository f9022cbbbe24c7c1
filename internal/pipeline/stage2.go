package pipeline

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/engine"
	"github.com/gamepulse/gamepulse/internal/kpi"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Stage-2 store names (prefixed by the application id).
const (
	storeWindows      = "windows"      // key: kpi.Key string; value: kpi.WindowState
	storeMarks        = "marks"        // key: "source/N" (a mark) or "global" (the watermark)
	storeCompleteness = "completeness" // key: completenessKey string; value: its counts
)

func stage2Stores() []string { return []string{storeWindows, storeMarks, storeCompleteness} }

// stage2 is the task of one partials partition: it runs the stage-2 rules,
// kpi.Merger (final rows, corrections, hours, game-level alerts) and
// kpi.Completeness (completeness rows), and writes what they produce to the
// KPI and alerts topics, with their changelogs.
type stage2 struct {
	p      *Pipeline
	part   int32
	merger *kpi.Merger

	restored bool
	rWindows map[kpi.Key]kpi.WindowState
	rMarks   []kpi.Mark
	rWM      time.Time
	rComp    map[string]kpi.CompletenessRow // by completenessKey.String()

	comp        *kpi.Completeness
	compUpserts []kpi.CompletenessRow
	compExpired []kpi.CompletenessKey
	touched     map[kpi.Key]bool
	marksDirty  bool
	sizedAt     time.Time // the last state size report
}

// Close stops reporting the partition's state size.
func (t *stage2) Close() { t.p.metrics.state.remove(t.taskName()) }

func (t *stage2) taskName() string { return stage2Name + "/" + strconv.Itoa(int(t.part)) }

func (p *Pipeline) newStage2(_ string, part int32) (engine.Task, error) {
	return &stage2{p: p, part: part, rWindows: map[kpi.Key]kpi.WindowState{},
		rComp: map[string]kpi.CompletenessRow{}, touched: map[kpi.Key]bool{}}, nil
}

// Restore applies one changelog record of a stage-2 store.
func (t *stage2) Restore(store string, key, value []byte) error {
	k := string(key)
	switch t.p.storeOf(stage2Name, store) {
	case storeWindows:
		rk, err := kpi.ParseKey(k)
		if err != nil {
			return err
		}
		if value == nil {
			delete(t.rWindows, rk)
			return nil
		}
		st, err := kpi.DecodeWindowState(value)
		if err != nil {
			return err
		}
		t.rWindows[rk] = st
	case storeMarks:
		if k == "global" {
			r := &reader{b: value}
			t.rWM = unixMilli(r.varint("watermark"))
			return r.err
		}
		d, err := decodeRecord(value)
		if err != nil {
			return err
		}
		if d.mark == nil {
			return fmt.Errorf("%w: marks store holds a non-mark", ErrCorrupt)
		}
		t.rMarks = append(t.rMarks, kpi.Mark{Source: d.mark.Source, Watermark: d.mark.Watermark, Idle: d.mark.Idle})
	case storeCompleteness:
		if value == nil {
			delete(t.rComp, k)
			return nil
		}
		r := &reader{b: value}
		ck, c := r.completeness()
		if r.err != nil {
			return r.err
		}
		t.rComp[k] = kpi.CompletenessRow{Key: kpi.CompletenessKey(ck), Counts: kpi.CompletenessCounts(c)}
	default:
		return fmt.Errorf("pipeline: unknown stage-2 store %q", store)
	}
	return nil
}

// ensureMerger builds the merger and the completeness rows from the
// restored state, once.
func (t *stage2) ensureMerger() error {
	if t.restored {
		return nil
	}
	m, err := kpi.NewMerger(t.p.cfg.Merger)
	if err != nil {
		return err
	}
	// Marks of one source may have been logged several times (a compacted
	// changelog keeps the last): keep the last of each.
	last := map[int32]kpi.Mark{}
	for _, mk := range t.rMarks {
		last[mk.Source] = mk
	}
	marks := make([]kpi.Mark, 0, len(last))
	for _, mk := range last {
		marks = append(marks, mk)
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i].Source < marks[j].Source })
	m.Restore(t.rWindows, marks, t.rWM)
	rows := make([]kpi.CompletenessRow, 0, len(t.rComp))
	for _, r := range t.rComp {
		rows = append(rows, r)
	}
	t.comp = kpi.NewCompleteness(t.p.cfg.Merger.Retention, rows)
	t.merger, t.restored, t.rWindows, t.rMarks, t.rComp = m, true, nil, nil, nil
	return nil
}

// Process merges one partials record.
func (t *stage2) Process(rec *kgo.Record, out *engine.Outputs) error {
	if err := t.ensureMerger(); err != nil {
		return err
	}
	d, err := decodeRecord(rec.Value)
	if err != nil {
		// An internal record that does not decode is a bug of the writer; it
		// is counted and logged, not allowed to stop the pipeline.
		t.p.metrics.corrupt.Inc()
		t.p.log.Error("skipping a corrupt partials record", "partition", rec.Partition, "offset", rec.Offset, "err", err)
		return nil
	}
	switch {
	case d.partial != nil:
		o, err := t.merger.AddPartial(d.partial.Source, d.partial.Key, d.partial.Agg)
		if err != nil {
			return err
		}
		return t.handle(o, out, time.Time{})
	case d.mark != nil:
		t.marksDirty = true
		return t.handle(t.merger.Mark(kpi.Mark{Source: d.mark.Source, Watermark: d.mark.Watermark, Idle: d.mark.Idle}), out, rec.Timestamp)
	default:
		l := d.ledger
		t.comp.Add(kpi.CompletenessKey(l.Row), kpi.CompletenessCounts(l.Counts))
		t.p.metrics.completeness(l.Row.Game, l.Row.Platform, l.Counts)
	}
	return nil
}

// handle emits what the merger returned. closedAt is when stage 1 wrote
// the mark that made the merger emit (zero for a partial): the start of
// the rows' result latency.
func (t *stage2) handle(o kpi.Output, out *engine.Outputs, closedAt time.Time) error {
	m := t.p.metrics
	topics := &t.p.cfg.Topics
	now := time.Now()
	for i := range o.Results {
		r := &o.Results[i]
		if r.Version == 1 && !closedAt.IsZero() {
			m.resultLatency.Observe(max(0, now.Sub(closedAt)).Seconds())
		}
		m.business.observe(r)
		v, err := json.Marshal(r)
		if err != nil {
			return err
		}
		out.Add(topics.KPI, -1, []byte(r.Key), v)
		if r.Version > 1 {
			m.corrections.Inc()
			m.stats.Corrections.Add(1)
		}
		m.results.WithLabelValues(string(r.Window)).Inc()
		m.stats.Results.Add(1)
	}
	for i := range o.Alerts {
		a := &o.Alerts[i]
		v, err := json.Marshal(a)
		if err != nil {
			return err
		}
		out.Add(topics.Alerts, -1, []byte(a.Key()), v)
		m.alerts.WithLabelValues(a.Rule).Inc()
	}
	if len(o.Dropped) > 0 {
		m.droppedPartials.Add(float64(len(o.Dropped)))
		t.p.log.Warn("partials for windows past retention dropped", "partition", t.part, "rows", len(o.Dropped), "first", o.Dropped[0].String())
	}
	for _, k := range o.Touched {
		t.touched[k] = true
	}
	return nil
}

// completenessResult is a completeness row as written to the KPI topic.
type completenessResult = record.Completeness

// Flush writes the changelog of what changed, the completeness upserts, and
// expires completeness rows past retention.
func (t *stage2) Flush(now time.Time, out *engine.Outputs) error {
	if err := t.ensureMerger(); err != nil {
		return err
	}
	if now.Sub(t.sizedAt) >= stateEvery {
		t.sizedAt = now
		t.p.metrics.state.set(t.taskName(), map[string]int{storeWindows: t.merger.Rows(), storeMarks: t.merger.Sources(), storeCompleteness: t.comp.Len()})
	}
	windows, marks, comps := t.p.storeName(stage2Name, storeWindows), t.p.storeName(stage2Name, storeMarks), t.p.storeName(stage2Name, storeCompleteness)
	if len(t.touched) > 0 {
		keys := make([]kpi.Key, 0, len(t.touched))
		for k := range t.touched {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		for _, k := range keys {
			if st, ok := t.merger.Window(k); ok {
				out.Changelog(windows, t.part, []byte(k.String()), st.AppendEncode(nil))
			} else {
				out.Changelog(windows, t.part, []byte(k.String()), nil)
			}
		}
		clear(t.touched)
	}
	wm := t.merger.Watermark()
	if t.marksDirty {
		for _, mk := range t.merger.Marks() {
			v := mark{Source: mk.Source, Watermark: mk.Watermark, Idle: mk.Idle}.appendEncode(nil)
			out.Changelog(marks, t.part, []byte("source/"+strconv.Itoa(int(mk.Source))), v)
		}
		out.Changelog(marks, t.part, []byte("global"), binary.AppendVarint(nil, wm.UnixMilli()))
		t.marksDirty = false
		t.p.metrics.observeWatermark(t.part, wm)
	}
	t.compUpserts, t.compExpired = t.comp.Flush(wm, t.compUpserts[:0], t.compExpired[:0])
	sort.Slice(t.compUpserts, func(i, j int) bool {
		return completenessKey(t.compUpserts[i].Key).String() < completenessKey(t.compUpserts[j].Key).String()
	})
	for _, row := range t.compUpserts {
		k, c := completenessKey(row.Key), completeness(row.Counts)
		v, err := json.Marshal(completenessResult{Key: k.String(), Window: "minute", Start: time.UnixMilli(k.Minute).UTC(),
			Game: k.Game, Platform: k.Platform, AppBuild: k.Build, Gaps: c.Gaps, Duplicates: c.Duplicates, OutOfOrder: c.OutOfOrder, Watermark: wm})
		if err != nil {
			return err
		}
		out.Add(t.p.cfg.Topics.KPI, -1, []byte(k.String()), v)
		out.Changelog(comps, t.part, []byte(k.String()), appendCompleteness(nil, k, c))
	}
	for _, ek := range t.compExpired {
		out.Changelog(comps, t.part, []byte(completenessKey(ek).String()), nil)
	}
	return nil
}

// storeOf strips the application prefix of a changelog store name.
func (p *Pipeline) storeOf(stage, store string) string {
	return strings.TrimPrefix(store, p.cfg.AppID+"."+stage+".")
}

// storeName is the full name of a stage's store (its changelog topic is
// engine.ChangelogTopic of it).
func (p *Pipeline) storeName(stage, store string) string {
	return p.cfg.AppID + "." + stage + "." + store
}
