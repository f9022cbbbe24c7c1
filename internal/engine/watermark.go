package engine

import (
	"fmt"
	"time"
)

// WatermarkConfig configures a Watermarks tracker. Zero fields take the
// documented defaults (see DefaultWatermarkConfig).
type WatermarkConfig struct {
	// AllowedLateness is subtracted from a partition's maximum event time to
	// give its watermark: how far behind the newest event an event may be and
	// still fall in an open window. Zero takes the default; 1ns is
	// effectively none.
	AllowedLateness time.Duration
	// IdleTimeout is how long (wall clock) a partition may go without a
	// record before it stops holding the combined watermark back.
	IdleTimeout time.Duration
}

// DefaultWatermarkConfig returns the defaults of the processor design:
// 2 minutes of allowed lateness, 30 seconds of idle timeout.
func DefaultWatermarkConfig() WatermarkConfig {
	return WatermarkConfig{AllowedLateness: 2 * time.Minute, IdleTimeout: 30 * time.Second}
}

// EnsureDefaults fills zero fields from DefaultWatermarkConfig.
func (c *WatermarkConfig) EnsureDefaults() {
	d := DefaultWatermarkConfig()
	if c.AllowedLateness == 0 {
		c.AllowedLateness = d.AllowedLateness
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = d.IdleTimeout
	}
}

// Validate reports the first problem with c, naming the field.
func (c *WatermarkConfig) Validate() error {
	switch {
	case c.AllowedLateness < 0:
		return fmt.Errorf("engine: AllowedLateness must be >= 0, got %v", c.AllowedLateness)
	case c.IdleTimeout <= 0:
		return fmt.Errorf("engine: IdleTimeout must be > 0, got %v", c.IdleTimeout)
	}
	return nil
}

// Watermarks tracks the event-time progress of a set of partitions and
// combines it into one watermark (see the package documentation for the
// rules). Event times come from records; wall-clock times ("now") are passed
// in by the caller, so the tracker is deterministic and testable.
//
// Concurrency: Observe may run concurrently for distinct partitions, as the
// engine processes partitions in parallel, provided that Assign, Revoke,
// Combined and Partition do not run at the same time. Everything else needs
// external synchronisation.
type Watermarks struct {
	cfg      WatermarkConfig
	parts    []*partitionMark // indexed by partition; nil when not assigned
	combined time.Time        // last value returned by Combined; never decreases
}

// partitionMark is one partition's progress.
type partitionMark struct {
	maxEvent time.Time // newest event time seen; zero before the first event
	lastSeen time.Time // wall clock of the last Observe, or of the Assign
}

// NewWatermarks returns a tracker with no partitions, after EnsureDefaults
// and Validate of cfg.
func NewWatermarks(cfg WatermarkConfig) (*Watermarks, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Watermarks{cfg: cfg}, nil
}

// Config returns the configuration in force, defaults applied.
func (w *Watermarks) Config() WatermarkConfig { return w.cfg }

// Assign starts tracking partition p, as of wall-clock time now. Until its
// first record arrives, or until it has been idle for the idle timeout, the
// partition holds the combined watermark where it is: it may have a backlog
// of old events. Assigning a partition already assigned does nothing.
// Partitions are Kafka partition numbers, small and dense; p must not be
// negative (Assign panics).
func (w *Watermarks) Assign(p int32, now time.Time) {
	if p < 0 {
		panic(fmt.Sprintf("stream: Assign of negative partition %d", p))
	}
	for int(p) >= len(w.parts) {
		w.parts = append(w.parts, nil)
	}
	if w.parts[p] == nil {
		w.parts[p] = &partitionMark{lastSeen: now}
	}
}

// Revoke stops tracking partition p and forgets its progress. The combined
// watermark does not move back; if p is assigned again it starts afresh.
func (w *Watermarks) Revoke(p int32) {
	if p >= 0 && int(p) < len(w.parts) {
		w.parts[p] = nil
	}
	for len(w.parts) > 0 && w.parts[len(w.parts)-1] == nil {
		w.parts = w.parts[:len(w.parts)-1]
	}
}

// Observe records a record of partition p with event time eventTime, arriving
// at wall-clock time now: the partition is active again, and its maximum
// event time rises if eventTime is newer. It reports false, and does
// nothing, when p is not assigned (a record fetched before its partition was
// revoked). The combined watermark moves only in Combined.
func (w *Watermarks) Observe(p int32, eventTime, now time.Time) bool {
	if p < 0 || int(p) >= len(w.parts) {
		return false
	}
	m := w.parts[p]
	if m == nil {
		return false
	}
	if eventTime.After(m.maxEvent) {
		m.maxEvent = eventTime
	}
	m.lastSeen = now
	return true
}

// idle reports whether m has gone longer than the idle timeout without a
// record.
func (w *Watermarks) idle(m *partitionMark, now time.Time) bool {
	return now.Sub(m.lastSeen) > w.cfg.IdleTimeout
}

// own returns m's watermark: its maximum event time minus the allowed
// lateness, or zero before its first event.
func (w *Watermarks) own(m *partitionMark) time.Time {
	if m.maxEvent.IsZero() {
		return time.Time{}
	}
	return m.maxEvent.Add(-w.cfg.AllowedLateness).UTC()
}

// Combined advances and returns the combined watermark as of wall-clock time
// now: the minimum, over the assigned partitions that are not idle, of their
// watermarks, but never less than the value it returned before.
//
//   - A partition idle for longer than the idle timeout is left out, so it
//     does not hold the others back; when it gets records again it counts
//     again, and holds the combined watermark where it is until its own
//     watermark passes it (it never moves the combined watermark back).
//   - A partition that is not idle but has no event yet holds the combined
//     watermark where it is.
//   - When every partition is idle, or none is assigned, the combined
//     watermark stays where it was: event time does not advance without
//     events.
//
// It is zero until some partition has data.
func (w *Watermarks) Combined(now time.Time) time.Time {
	var slowest *partitionMark // the active partition with the lowest maximum event time
	for _, m := range w.parts {
		if m == nil || w.idle(m, now) {
			continue
		}
		if m.maxEvent.IsZero() {
			return w.combined // an active partition we know nothing of yet
		}
		if slowest == nil || m.maxEvent.Before(slowest.maxEvent) {
			slowest = m
		}
	}
	if slowest != nil {
		if low := w.own(slowest); low.After(w.combined) {
			w.combined = low
		}
	}
	return w.combined
}

// Current returns the combined watermark as last computed by Combined,
// without advancing it: the watermark in force for records arriving now.
func (w *Watermarks) Current() time.Time { return w.combined }

// PartitionWatermark describes one partition's progress.
type PartitionWatermark struct {
	Partition    int32
	MaxEventTime time.Time // newest event time seen; zero before the first event
	Watermark    time.Time // MaxEventTime − AllowedLateness; zero before the first event
	// Effective is max(Watermark, Current()): the partition's watermark as
	// the rest of the pipeline should see it (the watermark marks carry it).
	// An idle partition's Effective follows the combined watermark; it never
	// decreases while the partition stays assigned.
	Effective time.Time
	LastSeen  time.Time // wall clock of the last record, or of the assignment
	Idle      bool      // no record for longer than the idle timeout as of now
}

// Partition returns the progress of partition p as of wall-clock time now,
// and false if p is not assigned. It does not advance the combined watermark:
// call Combined first.
func (w *Watermarks) Partition(p int32, now time.Time) (PartitionWatermark, bool) {
	if p < 0 || int(p) >= len(w.parts) || w.parts[p] == nil {
		return PartitionWatermark{}, false
	}
	m := w.parts[p]
	pw := PartitionWatermark{
		Partition:    p,
		MaxEventTime: m.maxEvent,
		Watermark:    w.own(m),
		Effective:    w.combined,
		LastSeen:     m.lastSeen,
		Idle:         w.idle(m, now),
	}
	if pw.Watermark.After(pw.Effective) {
		pw.Effective = pw.Watermark
	}
	return pw, true
}

// Partitions returns the assigned partitions in increasing order.
func (w *Watermarks) Partitions() []int32 {
	var ps []int32
	for p, m := range w.parts {
		if m != nil {
			ps = append(ps, int32(p))
		}
	}
	return ps
}
