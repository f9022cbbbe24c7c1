package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gamepulse/gamepulse/internal/procstat"
)

// sample is one reading of an engine's processes, summed over them.
type sample struct {
	at  time.Time
	cpu float64 // user + system CPU-seconds since each process started
	rss int64   // resident bytes now
}

// readSample reads the CPU time and resident memory of every process in
// pids and sums them.
func readSample(pids []int) (sample, error) {
	s := sample{at: time.Now()}
	for _, pid := range pids {
		cpu, err := procstat.CPUSeconds(pid)
		if err != nil {
			return s, err
		}
		rss, err := procstat.RSSBytes(pid)
		if err != nil {
			return s, err
		}
		s.cpu += cpu
		s.rss += rss
	}
	return s, nil
}

// sampler reads a set of processes every interval until stopped, so that
// a phase's CPU time can be taken at a moment known only afterwards (the
// Spark engine's end of draining) and its peak resident memory seen.
type sampler struct {
	mu      sync.Mutex
	samples []sample
	err     error
	cancel  context.CancelFunc
	done    chan struct{}
}

// startSampler reads pids now and then every interval.
func startSampler(ctx context.Context, pids []int, every time.Duration) *sampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampler{cancel: cancel, done: make(chan struct{})}
	read := func() bool {
		smp, err := readSample(pids)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.err = err
			return false
		}
		s.samples = append(s.samples, smp)
		return true
	}
	read()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if !read() {
					return
				}
			}
		}
	}()
	return s
}

// readNow takes a reading at once, keeps it with the others and returns
// its time.
func (s *sampler) readNow(pids []int) (time.Time, error) {
	smp, err := readSample(pids)
	if err != nil {
		return time.Time{}, err
	}
	s.mu.Lock()
	s.samples = append(s.samples, smp)
	s.mu.Unlock()
	return smp.at, nil
}

// stop ends the sampling and returns the samples and the error that ended
// it early (a process gone), if any.
func (s *sampler) stop() ([]sample, error) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, s.err
}

// failed returns the error that stopped the sampling early, if any.
func (s *sampler) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// phaseStats is what a phase cost the engine's processes.
type phaseStats struct {
	Seconds    float64
	CPUSeconds float64
	PeakRSS    int64
}

// summarize measures a phase from base (read just before it began, of the
// processes that existed then) to end: the CPU time of the last sample at
// or before end (the latest) minus base's, and the largest resident total among the
// samples up to end.
func summarize(base sample, samples []sample, end time.Time) (phaseStats, error) {
	if end.Before(base.at) {
		return phaseStats{}, errors.New("the phase ends before it began")
	}
	var last *sample
	var peak int64
	for i := range samples {
		s := &samples[i]
		if s.at.Before(base.at) || s.at.After(end) {
			continue
		}
		if last == nil || !s.at.Before(last.at) {
			last = s
		}
		peak = max(peak, s.rss)
	}
	if last == nil {
		return phaseStats{}, fmt.Errorf("no reading of the processes between %s and %s", base.at.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano))
	}
	return phaseStats{Seconds: end.Sub(base.at).Seconds(), CPUSeconds: last.cpu - base.cpu, PeakRSS: peak}, nil
}

// drainWatch decides when the Spark engine has drained the backlog, from
// the record counts of its enriched and KPI topics read every second or
// so: when the enriched topic holds at least the events the Go engine
// enriched (Spark's at-least-once sink may add copies) and the KPI topic
// has not grown for quiet, the rule of the end-to-end test (with a first
// KPI row required only when the Go engine wrote one: a backlog shorter
// than a minute plus the lateness closes no window). The drain ended
// when the last of the two happened (the quiet wait is not counted). If
// neither topic grows for giveUp while the enriched one stays short, it
// ends there as incomplete, rather than waiting for the timeout.
type drainWatch struct {
	target        int64 // the Go engine's enriched records
	needKPI       bool  // the Go engine wrote KPI rows: wait for Spark's first
	quiet, giveUp time.Duration

	lastEnriched, lastKPI int64
	enrichedAt, kpiAt     time.Time // when each last grew
	reachedAt             time.Time // when enriched first reached target
	started               bool
}

// observe takes a reading at now and says whether the drain is over, when
// it ended and whether it is complete.
func (d *drainWatch) observe(now time.Time, enriched, kpi int64) (done bool, end time.Time, complete bool) {
	if !d.started || enriched != d.lastEnriched {
		d.lastEnriched, d.enrichedAt = enriched, now
	}
	if !d.started || kpi != d.lastKPI {
		d.lastKPI, d.kpiAt = kpi, now
	}
	d.started = true
	if enriched >= d.target && d.reachedAt.IsZero() {
		d.reachedAt = now
	}
	if !d.reachedAt.IsZero() && (kpi > 0 || !d.needKPI) && now.Sub(d.kpiAt) >= d.quiet {
		return true, later(d.reachedAt, d.kpiAt), true
	}
	if d.reachedAt.IsZero() && enriched > 0 {
		if last := later(d.enrichedAt, d.kpiAt); now.Sub(last) >= d.giveUp {
			return true, last, false
		}
	}
	return false, time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
