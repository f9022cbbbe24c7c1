package kpi

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"
)

// MergerConfig configures a Merger. Zero fields take defaults.
type MergerConfig struct {
	// Sources are the source (stage-1) partitions whose partials and marks
	// this merger receives. Required: until every one of them has sent a
	// mark, the global watermark does not move.
	Sources []int32
	// Retention is how long past its end a window's state is kept for
	// corrections (default 2 h of watermark time). A partial for a window
	// older than that is dropped and reported in Output.Dropped.
	Retention time.Duration
	// Alerts are the game-level alert rules; History minutes must fit in
	// Retention.
	Alerts AlertConfig
}

// DefaultRetention is MergerConfig.Retention's default.
const DefaultRetention = 2 * time.Hour

// EnsureDefaults fills zero fields.
func (c *MergerConfig) EnsureDefaults() {
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	c.Alerts.EnsureDefaults()
}

// Validate reports the first problem with c.
func (c *MergerConfig) Validate() error {
	if len(c.Sources) == 0 {
		return fmt.Errorf("kpi: merger: no source partitions")
	}
	if c.Retention < time.Hour {
		return fmt.Errorf("kpi: merger: retention must be >= 1h (an hour row needs its minutes), got %v", c.Retention)
	}
	if err := c.Alerts.Validate(); err != nil {
		return err
	}
	if time.Duration(c.Alerts.History+1)*time.Minute > c.Retention {
		return fmt.Errorf("kpi: merger: %d minutes of alert history do not fit in a retention of %v", c.Alerts.History, c.Retention)
	}
	return nil
}

// Mark is a source partition's watermark mark: its watermark (the engine's
// effective per-partition watermark) and whether it is idle.
type Mark struct {
	Source    int32
	Watermark time.Time
	Idle      bool
}

// WindowState is the merger's state of one row: the aggregate of every
// partial received for it, and how many times it was emitted final (0: not
// final yet). It is what the caller changelogs for each Output.Touched key.
type WindowState struct {
	Agg     *Aggregate
	Version int64

	figures *minuteFigures // cached alert figures of a final game-level minute
}

// Final reports whether the row was emitted final.
func (s *WindowState) Final() bool { return s.Version > 0 }

// AppendEncode appends the binary form of s: uvarint Version, then the
// Aggregate's form.
func (s *WindowState) AppendEncode(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.Version))
	return s.Agg.AppendEncode(b)
}

// DecodeWindowState parses AppendEncode's form. Errors wrap ErrCorrupt.
func DecodeWindowState(data []byte) (WindowState, error) {
	v, n := binary.Uvarint(data)
	if n <= 0 || v > 1<<62 {
		return WindowState{}, fmt.Errorf("%w: window state version", ErrCorrupt)
	}
	a, err := Decode(data[n:])
	if err != nil {
		return WindowState{}, err
	}
	return WindowState{Agg: a, Version: int64(v)}, nil
}

// Output is what one Merger call produces.
type Output struct {
	// Results are the rows emitted final: first emissions (Version 1) and
	// corrections (Version > 1), minutes before the hours that close with
	// them, each group by window end then key.
	Results []Result
	// Alerts fired by the game-level rules, by minute, game, rule.
	Alerts []Alert
	// Dropped are the keys of partials refused because their window is past
	// retention.
	Dropped []Key
	// Touched are the rows whose state changed or was deleted: for each, the
	// caller writes Window(k) to its changelog, or a tombstone when Window
	// reports false.
	Touched []Key
}

// Merger is stage 2 of the processor for one partials partition: it merges
// the partial aggregates the source partitions send for each minute row,
// rolls minutes up to hours, tracks the global watermark from the sources'
// marks, emits rows final when the global watermark passes their end and
// corrections after, and applies the game-level alert rules to final
// minutes. It is pure: partials and marks are method calls and everything it
// produces is returned. It is not safe for concurrent use.
type Merger struct {
	cfg       MergerConfig
	expected  map[int32]bool
	marks     map[int32]Mark
	wm        time.Time
	windows   map[id]*WindowState
	firstSeen map[string]time.Time // game → start of its first game-level minute seen
}

// NewMerger returns a Merger for cfg, after EnsureDefaults and Validate.
func NewMerger(cfg MergerConfig) (*Merger, error) {
	cfg.Sources = slices.Clone(cfg.Sources)
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Merger{cfg: cfg, expected: make(map[int32]bool), marks: make(map[int32]Mark),
		windows: make(map[id]*WindowState), firstSeen: make(map[string]time.Time)}
	for _, s := range cfg.Sources {
		m.expected[s] = true
	}
	return m, nil
}

// Watermark returns the global watermark: zero until every source has sent
// a mark, then the minimum of the marks of the sources that are not idle
// (of all sources when every one is idle), never decreasing.
func (m *Merger) Watermark() time.Time { return m.wm }

// AddPartial merges a, a partial aggregate of minute row k from source
// partition source, into k and into k's hour. Partials are deltas: each
// event's contribution must reach the merger exactly once. AddPartial takes
// ownership of a.
//
// A partial for a row that is already final yields a correction; one for a
// row whose end the watermark has passed but that was never emitted yields
// its first final emission at once; one for a row past retention is dropped.
func (m *Merger) AddPartial(source int32, k Key, a *Aggregate) (Output, error) {
	var out Output
	if err := k.Validate(); err != nil {
		return out, err
	}
	if k.Window != Minute {
		return out, fmt.Errorf("kpi: merger: partial for %s: partials are minute rows", k)
	}
	_ = source // partials are deltas: whoever sent one, it adds the same way
	if m.expired(k) {
		out.Dropped = append(out.Dropped, k)
		return out, nil
	}
	// The minute may keep a as its state; the hour only reads it, and a
	// still holds just this partial when it does.
	m.merge(&out, k, a)
	m.merge(&out, k.Hour(), a)
	if k.GameLevel() {
		if fs, ok := m.firstSeen[k.Game]; !ok || k.Start.Before(fs) {
			m.firstSeen[k.Game] = k.Start
		}
	}
	return out, nil
}

// merge adds a into row k, and emits k if it is due.
func (m *Merger) merge(out *Output, k Key, a *Aggregate) {
	i := k.id()
	st := m.windows[i]
	switch {
	case st == nil && k.Window == Minute:
		st = &WindowState{Agg: a}
		m.windows[i] = st
	case st == nil:
		st = &WindowState{Agg: a.Clone()}
		m.windows[i] = st
	default:
		st.Agg.Merge(a)
		st.figures = nil
	}
	out.Touched = append(out.Touched, k)
	if st.Final() || m.due(k) {
		st.Version++
		out.Results = append(out.Results, m.result(k, st))
	}
}

func (m *Merger) due(k Key) bool { return !m.wm.IsZero() && !k.End().After(m.wm) }

func (m *Merger) expired(k Key) bool {
	return !m.wm.IsZero() && !k.End().Add(m.cfg.Retention).After(m.wm)
}

func (m *Merger) result(k Key, st *WindowState) Result {
	r := st.Agg.Result(k)
	r.Final, r.Version, r.Watermark = true, st.Version, m.wm
	return r
}

// Mark records a source's watermark mark. When the global watermark
// advances, the rows whose end it passed are emitted final, the alert rules
// run over the minutes that closed, and rows past retention are deleted.
// Marks from sources not in MergerConfig.Sources are ignored; a source's
// watermark never moves back (an older mark only updates its idleness).
func (m *Merger) Mark(mk Mark) Output {
	if !m.expected[mk.Source] {
		return Output{}
	}
	if old, ok := m.marks[mk.Source]; ok && old.Watermark.After(mk.Watermark) {
		mk.Watermark = old.Watermark
	}
	mk.Watermark = mk.Watermark.UTC()
	m.marks[mk.Source] = mk
	wm, ok := m.global()
	if !ok || !wm.After(m.wm) {
		return Output{}
	}
	prev := m.wm
	m.wm = wm
	return m.advance(prev)
}

// global computes the watermark the marks allow, and false while a source
// has sent none.
func (m *Merger) global() (time.Time, bool) {
	var low, lowAll time.Time
	active := false
	for s := range m.expected {
		mk, ok := m.marks[s]
		if !ok {
			return time.Time{}, false
		}
		if lowAll.IsZero() || mk.Watermark.Before(lowAll) {
			lowAll = mk.Watermark
		}
		if !mk.Idle && (!active || mk.Watermark.Before(low)) {
			low, active = mk.Watermark, true
		}
	}
	if !active {
		return lowAll, true
	}
	return low, true
}

// advance emits what the watermark's move from prev to m.wm makes due.
func (m *Merger) advance(prev time.Time) Output {
	var out Output
	var due []Key
	for i, st := range m.windows {
		if k := i.key(); !st.Final() && m.due(k) {
			due = append(due, k)
		}
	}
	slices.SortFunc(due, compareKeys)
	for _, k := range due {
		st := m.windows[k.id()]
		st.Version = 1
		out.Results = append(out.Results, m.result(k, st))
		out.Touched = append(out.Touched, k)
	}
	if !m.cfg.Alerts.Disabled {
		out.Alerts = m.alerts(prev)
	}
	var gone []Key
	games := make(map[string]bool)
	for i := range m.windows {
		if k := i.key(); m.expired(k) {
			gone = append(gone, k)
		} else if k.GameLevel() {
			games[k.Game] = true
		}
	}
	slices.SortFunc(gone, compareKeys)
	for _, k := range gone {
		delete(m.windows, k.id())
		out.Touched = append(out.Touched, k)
	}
	for g := range m.firstSeen {
		if !games[g] {
			delete(m.firstSeen, g)
		}
	}
	return out
}

// compareKeys orders rows by end, then shorter windows first, then by key.
func compareKeys(a, b Key) int {
	if c := a.End().Compare(b.End()); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Window.Size(), b.Window.Size()); c != 0 {
		return c
	}
	return cmp.Compare(a.String(), b.String())
}

// alerts runs the rules over every game's minutes that closed as the
// watermark moved from prev to m.wm. A minute without a row counts as zero;
// the rules start once a game has History minutes before the minute.
func (m *Merger) alerts(prev time.Time) []Alert {
	var out []Alert
	k := m.cfg.Alerts.History
	for _, game := range slices.Sorted(maps.Keys(m.firstSeen)) {
		first := m.firstSeen[game].Add(time.Duration(k) * time.Minute)
		// The minutes ending in (prev, wm] start in (prev−1m, wm−1m].
		from := floor(prev.Add(-time.Minute), time.Minute).Add(time.Minute)
		if prev.IsZero() || from.Before(first) {
			from = first
		}
		if limit := floor(m.wm.Add(-m.cfg.Retention), time.Minute); from.Before(limit) {
			from = limit // a jump of the watermark past retention: those minutes are gone
		}
		for s := from; !s.Add(time.Minute).After(m.wm); s = s.Add(time.Minute) {
			prevFig := make([]minuteFigures, k)
			for j := range k {
				prevFig[j] = m.figures(game, s.Add(-time.Duration(k-j)*time.Minute))
			}
			key := Key{Window: Minute, Start: s, Game: game, Platform: All, Country: All}
			out = append(out, m.cfg.Alerts.evaluate(game, key, m.figures(game, s), prevFig)...)
		}
	}
	slices.SortStableFunc(out, func(a, b Alert) int { return a.Start.Compare(b.Start) })
	return out
}

// figures returns the alert figures of game's final minute starting at s,
// zero when it has no final row.
func (m *Merger) figures(game string, s time.Time) minuteFigures {
	st := m.windows[id{Minute, s.Unix(), game, All, All}]
	if st == nil || !st.Final() {
		return minuteFigures{}
	}
	if st.figures == nil {
		st.figures = &minuteFigures{active: float64(st.Agg.ActivePlayers()),
			revenue: float64(st.Agg.RevenueMicros), refunds: float64(st.Agg.Refunds)}
	}
	return *st.figures
}

// Window returns the state of row k, for the changelog. The Aggregate is
// the merger's own: encode it before the next call.
func (m *Merger) Window(k Key) (WindowState, bool) {
	st, ok := m.windows[k.id()]
	if !ok {
		return WindowState{}, false
	}
	return WindowState{Agg: st.Agg, Version: st.Version}, true
}

// Marks returns the marks received, by source.
func (m *Merger) Marks() []Mark {
	ms := slices.Collect(maps.Values(m.marks))
	slices.SortFunc(ms, func(a, b Mark) int { return cmp.Compare(a.Source, b.Source) })
	return ms
}

// Restore loads state read back from a changelog, before any other call:
// the rows (as Window returned them), the marks and the global watermark
// (as Marks and Watermark returned them). It emits nothing.
func (m *Merger) Restore(windows map[Key]WindowState, marks []Mark, watermark time.Time) {
	for k, s := range windows {
		m.windows[k.id()] = &WindowState{Agg: s.Agg, Version: s.Version}
		if k.Window == Minute && k.GameLevel() {
			if fs, ok := m.firstSeen[k.Game]; !ok || k.Start.Before(fs) {
				m.firstSeen[k.Game] = k.Start
			}
		}
	}
	for _, mk := range marks {
		if m.expected[mk.Source] {
			mk.Watermark = mk.Watermark.UTC()
			m.marks[mk.Source] = mk
		}
	}
	m.wm = watermark.UTC()
}

// Rows returns the number of minute and hour rows the Merger holds.
func (m *Merger) Rows() int { return len(m.windows) }

// Sources returns the number of source partitions the Merger has a mark from.
func (m *Merger) Sources() int { return len(m.marks) }
