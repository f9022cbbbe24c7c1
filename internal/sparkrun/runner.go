package sparkrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/gamepulse/gamepulse/internal/sparkconnect"
	"github.com/gamepulse/gamepulse/internal/sparkjobs"
)

// Session is what the Runner needs of a Spark Connect session
// (sparkconnect.Client, with the views sparkjobs.Run creates).
type Session interface {
	sparkjobs.Session
	StartQuery(ctx context.Context, q sparkconnect.Query) (sparkconnect.QueryRef, error)
	Active(ctx context.Context) ([]sparkconnect.QueryRef, error)
	Status(ctx context.Context, q sparkconnect.QueryRef) (sparkconnect.Status, error)
	RecentProgress(ctx context.Context, q sparkconnect.QueryRef) ([]string, error)
	Exception(ctx context.Context, q sparkconnect.QueryRef) (string, error)
	Stop(ctx context.Context, q sparkconnect.QueryRef) error
	Close() error
}

// Config is what a Runner runs and how. Call EnsureDefaults, then
// Validate (New does both).
type Config struct {
	// Steps is the plan (sparkjobs.Plan).
	Steps []sparkjobs.Step
	// Dial opens a session; the Runner calls it again after the session
	// is lost. It should use a stable session id, so that a restarted
	// gamepulse finds its queries.
	Dial func(ctx context.Context) (Session, error)
	// PollInterval is how often each query's status and progress are read.
	PollInterval time.Duration
	// MaxBackoff bounds the wait between reconnects and between restarts
	// of a failed query (it doubles from a second up to this).
	MaxBackoff time.Duration
	// ProcessingTime is the micro-batch interval of every query (0: a batch
	// starts as soon as the previous one ends).
	ProcessingTime time.Duration
	// LeaveRunning keeps the queries running on the server when the Runner
	// stops (the default stops them).
	LeaveRunning bool
	// ProgressEvery is how often a progress line is logged (0: never).
	ProgressEvery time.Duration
}

// DefaultConfig returns the defaults (no Steps, no Dial).
func DefaultConfig() Config {
	return Config{PollInterval: 2 * time.Second, MaxBackoff: 30 * time.Second, ProgressEvery: 30 * time.Second}
}

// EnsureDefaults fills zero durations with the defaults.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.PollInterval == 0 {
		c.PollInterval = d.PollInterval
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = d.MaxBackoff
	}
}

// Validate names the first field at fault.
func (c *Config) Validate() error {
	switch {
	case c.Dial == nil:
		return errors.New("sparkrun: no Dial")
	case len(sparkjobs.Queries(c.Steps)) == 0:
		return errors.New("sparkrun: Steps has no query")
	case c.PollInterval <= 0:
		return fmt.Errorf("sparkrun: PollInterval must be positive, got %s", c.PollInterval)
	case c.MaxBackoff < time.Second:
		return fmt.Errorf("sparkrun: MaxBackoff must be at least 1s, got %s", c.MaxBackoff)
	case c.ProcessingTime < 0:
		return fmt.Errorf("sparkrun: ProcessingTime must not be negative, got %s", c.ProcessingTime)
	case c.ProgressEvery < 0:
		return fmt.Errorf("sparkrun: ProgressEvery must not be negative, got %s", c.ProgressEvery)
	}
	return nil
}

// Runner keeps a plan's queries running (see the package doc).
type Runner struct {
	cfg Config
	log *slog.Logger
	m   *Metrics

	mu      sync.Mutex
	queries map[string]*QueryState
}

// QueryState is what the Runner knows of one query.
type QueryState struct {
	Ref      sparkconnect.QueryRef
	Active   bool
	Starts   int    // by this Runner
	Failures int    // times found stopped
	LastErr  string // the exception that ended it last
	Last     *sparkconnect.Progress

	step      sparkjobs.Step
	lastID    string // the query id (its checkpoint's) of lastBatch
	lastBatch int64  // the last batch id counted in the metrics
	retryAt   time.Time
	backoff   time.Duration
	baseline  bool // the next reports are only marked seen (reattached)
}

// New returns a Runner; m and log may be nil.
func New(cfg Config, m *Metrics, log *slog.Logger) (*Runner, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	r := &Runner{cfg: cfg, log: log, m: m, queries: map[string]*QueryState{}}
	for _, st := range cfg.Steps {
		if st.Kind == sparkjobs.Query {
			r.queries[st.Name] = &QueryState{step: st, lastBatch: -1}
		}
	}
	return r, nil
}

// Queries returns a copy of every query's state, by name.
func (r *Runner) Queries() map[string]QueryState {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]QueryState, len(r.queries))
	for n, q := range r.queries {
		out[n] = *q
	}
	return out
}

// Run keeps the queries running until ctx ends, then stops them (unless
// LeaveRunning). It returns nil on a clean stop; errors on the way are
// logged and retried, since the server may come back.
func (r *Runner) Run(ctx context.Context) error {
	backoff := time.Second
	down := false // logged as down: log again only once it was up
	for {
		up, err := r.session(ctx)
		r.m.up.Set(0)
		for _, name := range r.names() {
			r.m.active.WithLabelValues(name).Set(0)
			r.set(name, func(q *QueryState) { q.Active = false })
		}
		if ctx.Err() != nil {
			return nil
		}
		if up {
			backoff, down = time.Second, false
		}
		if !down {
			r.log.Warn("spark session lost or refused; dialing again until the server answers", "err", err, "retry_in", backoff)
			down = true
		} else {
			r.log.Debug("spark session still down", "err", err, "retry_in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.cfg.MaxBackoff)
	}
}

// session dials, sets the plan up and watches the queries until the
// session fails (an error) or ctx ends (nil); up says whether the queries
// were running.
func (r *Runner) session(ctx context.Context) (up bool, err error) {
	s, err := r.cfg.Dial(ctx)
	if err != nil {
		return false, err
	}
	defer s.Close()
	running, err := s.Active(ctx)
	if err != nil {
		return false, fmt.Errorf("list active queries: %w", err)
	}
	byName := map[string]sparkconnect.QueryRef{}
	for _, q := range running {
		byName[q.Name] = q
	}
	err = sparkjobs.Run(ctx, s, r.cfg.Steps, func(ctx context.Context, st sparkjobs.Step) error {
		if ref, ok := byName[st.Name]; ok {
			r.log.Info("reattached to a running spark query", "query", st.Name, "id", ref.ID, "run_id", ref.RunID)
			// Its reports so far were counted by the gamepulse before
			// this one: take them as seen.
			r.set(st.Name, func(q *QueryState) { q.Ref, q.Active, q.baseline = ref, true, true })
			return nil
		}
		return r.start(ctx, s, st.Name)
	})
	if err != nil {
		return false, err
	}
	r.m.up.Set(1)
	r.log.Info("spark queries running", "queries", len(r.queries), "session", sessionID(s))
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	var progress <-chan time.Time
	if r.cfg.ProgressEvery > 0 {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		progress = t.C
	}
	for {
		select {
		case <-ctx.Done():
			if !r.cfg.LeaveRunning {
				r.stopAll(s)
			}
			return true, nil
		case <-progress:
			r.logProgress()
		case <-poll.C:
			if err := r.poll(ctx, s); err != nil {
				if ctx.Err() != nil {
					continue
				}
				return true, err
			}
		}
	}
}

func sessionID(s Session) string {
	if c, ok := s.(interface{ SessionID() string }); ok {
		return c.SessionID()
	}
	return ""
}

// start starts the query of that name from its checkpoint.
func (r *Runner) start(ctx context.Context, s Session, name string) error {
	r.mu.Lock()
	st := r.queries[name].step
	r.mu.Unlock()
	ref, err := s.StartQuery(ctx, sparkconnect.Query{Name: st.Name, SQL: st.SQL, Format: st.Format, OutputMode: st.OutputMode,
		CheckpointLocation: st.Checkpoint, Options: st.Options, ProcessingTime: r.cfg.ProcessingTime})
	if err != nil {
		return err
	}
	r.m.starts.WithLabelValues(name).Inc()
	r.m.active.WithLabelValues(name).Set(1)
	r.set(name, func(q *QueryState) { q.Ref, q.Active = ref, true; q.Starts++ })
	r.log.Info("started spark query", "query", name, "id", ref.ID, "run_id", ref.RunID, "checkpoint", st.Checkpoint)
	return nil
}

func (r *Runner) set(name string, f func(*QueryState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.queries[name])
}

func (r *Runner) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.queries))
	for n := range r.queries {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// poll reads every query's status and new progress reports, and restarts
// a stopped query once its backoff has passed. A failing call means the
// session is lost.
func (r *Runner) poll(ctx context.Context, s Session) error {
	for _, name := range r.names() {
		q := r.Queries()[name]
		if q.Ref.ID == "" || !q.Active {
			if time.Now().Before(q.retryAt) {
				continue
			}
			if err := r.start(ctx, s, name); err != nil {
				if ctx.Err() != nil {
					return err
				}
				r.retryLater(name, err.Error())
				continue
			}
			continue
		}
		reports, err := s.RecentProgress(ctx, q.Ref)
		if err != nil {
			return fmt.Errorf("progress of %s: %w", name, err)
		}
		r.observe(name, reports)
		st, err := s.Status(ctx, q.Ref)
		if err != nil {
			return fmt.Errorf("status of %s: %w", name, err)
		}
		if st.Active {
			continue
		}
		exc, err := s.Exception(ctx, q.Ref)
		if err != nil {
			return fmt.Errorf("exception of %s: %w", name, err)
		}
		r.m.active.WithLabelValues(name).Set(0)
		r.m.failures.WithLabelValues(name).Inc()
		var wait time.Duration
		r.set(name, func(q *QueryState) {
			q.Active = false
			q.Failures++
			q.LastErr = exc
			// A query that fails again before any new batch waits longer
			// each time, up to MaxBackoff.
			wait = q.backoff
			q.backoff = min(max(2*q.backoff, time.Second), r.cfg.MaxBackoff)
			q.retryAt = time.Now().Add(wait)
		})
		r.log.Error("spark query stopped; starting it again from its checkpoint", "query", name, "exception", firstLine(exc), "in", wait)
	}
	return nil
}

// retryLater schedules the next start of a query that failed to start.
func (r *Runner) retryLater(name, why string) {
	r.set(name, func(q *QueryState) {
		q.Active = false
		q.backoff = min(max(2*q.backoff, time.Second), r.cfg.MaxBackoff)
		q.retryAt = time.Now().Add(q.backoff)
		q.LastErr = why
	})
	r.m.active.WithLabelValues(name).Set(0)
	r.log.Warn("could not start spark query; retrying", "query", name, "err", firstLine(why), "retry_in", r.Queries()[name].backoff)
}

// observe counts the progress reports not counted yet.
func (r *Runner) observe(name string, reports []string) {
	baseline := false
	r.set(name, func(q *QueryState) { baseline, q.baseline = q.baseline, false })
	for i, js := range reports {
		p, err := sparkconnect.ParseProgress([]byte(js))
		if err != nil {
			r.log.Warn("unreadable spark progress report", "query", name, "err", err)
			continue
		}
		fresh := false
		r.set(name, func(q *QueryState) {
			// A query restarted from its checkpoint keeps its id and
			// counts batch ids on; a new checkpoint is a new id from 0.
			if p.ID != q.lastID {
				q.lastID, q.lastBatch = p.ID, -1
			}
			if p.BatchID > q.lastBatch {
				q.lastBatch, q.Last, fresh = p.BatchID, p, true
				if !baseline {
					q.backoff = 0 // it makes progress again
				}
			}
		})
		if fresh && (!baseline || i == len(reports)-1) {
			r.m.observe(name, p, baseline)
		}
	}
}

// stopAll stops every running query, on a context of its own: the
// Runner's has ended.
func (r *Runner) stopAll(s Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, name := range r.names() {
		q := r.Queries()[name]
		if q.Ref.ID == "" || !q.Active {
			continue
		}
		if err := s.Stop(ctx, q.Ref); err != nil {
			r.log.Warn("could not stop spark query", "query", name, "err", err)
			continue
		}
		r.m.active.WithLabelValues(name).Set(0)
		r.set(name, func(q *QueryState) { q.Active = false })
		r.log.Info("stopped spark query", "query", name)
	}
}

// logProgress logs one line per query: batches, rows/s, behind, dropped.
func (r *Runner) logProgress() {
	for _, name := range r.names() {
		q := r.Queries()[name]
		if q.Last == nil {
			r.log.Info("spark query progress", "query", name, "active", q.Active, "batches", 0)
			continue
		}
		r.log.Info("spark query progress", "query", name, "active", q.Active, "batch", q.Last.BatchID,
			"input_rows_per_second", round1(q.Last.InputRowsPerSecond), "processed_rows_per_second", round1(q.Last.ProcessedRowsPerSecond),
			"batch_duration", q.Last.BatchDuration, "offsets_behind_latest", maxBehind(q.Last), "state_rows", q.Last.StateRows(),
			"watermark", q.Last.Watermark)
	}
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func firstLine(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}
