package livepage

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

//go:embed static
var staticFiles embed.FS

// Page is the live page: an http.Handler for "/" (the page), "/events" (the
// snapshots as server-sent events), "/snapshot.json" (the latest one) and
// "/static/" (its script and style). Run samples the registry; without it
// the page loads and waits.
type Page struct {
	g        prometheus.Gatherer
	interval time.Duration
	window   time.Duration
	history  time.Duration
	keep     int // snapshots of history: history / interval
	log      *slog.Logger
	extra    []AlertFunc

	mux *http.ServeMux

	// The sampler's own state: only the goroutine in Run (or a test calling
	// tick) touches it.
	raw      []sample // oldest first; raw[0] is the start of the rate window
	alerts   *alerter
	lastErr  string
	runCalls int

	mu      sync.Mutex
	snaps   []entry       // oldest first, at most keep
	seq     uint64        // of the newest entry
	changed chan struct{} // closed (and replaced) when an entry is added
	done    chan struct{} // closed when Run returns
}

type entry struct {
	seq  uint64
	snap Snapshot
	json []byte
}

// Config configures a Page. Zero fields take the defaults (DefaultConfig).
type Config struct {
	// Interval is how often Run samples the registry.
	Interval time.Duration
	// Window is the span that rates and freshness quantiles cover: longer
	// is smoother, shorter reacts faster. At least Interval.
	Window time.Duration
	// History is how much history the charts show and a new visitor
	// receives at once (at least two samples).
	History time.Duration
	// Alerts computed elsewhere, added to the built-in ones.
	Alerts []AlertFunc
}

// DefaultConfig returns the defaults: a sample a second, rates over 5 s,
// 5 minutes of history.
func DefaultConfig() Config {
	return Config{Interval: time.Second, Window: 5 * time.Second, History: 5 * time.Minute}
}

// EnsureDefaults fills zero fields from DefaultConfig.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.History == 0 {
		c.History = d.History
	}
}

// Validate reports the first problem with c, naming the field at fault.
func (c *Config) Validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("livepage: Interval must be > 0, got %s", c.Interval)
	case c.Window < 0:
		return fmt.Errorf("livepage: Window must be ≥ 0, got %s", c.Window)
	case c.History < 0:
		return fmt.Errorf("livepage: History must be ≥ 0, got %s", c.History)
	}
	return nil
}

// New returns the page over g, the registry that the components of this
// process register with, after EnsureDefaults and Validate on cfg. A Window
// below Interval is raised to it; log may be nil.
func New(cfg Config, g prometheus.Gatherer, log *slog.Logger) (*Page, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errors.New("livepage: no gatherer")
	}
	p := &Page{
		g:        g,
		interval: cfg.Interval,
		window:   max(cfg.Window, cfg.Interval),
		history:  cfg.History,
		log:      log,
		extra:    cfg.Alerts,
		changed:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	p.keep = int(p.history / p.interval)
	if p.keep < 2 {
		p.keep = 2
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.alerts = newAlerter(p.extra)

	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	p.mux = http.NewServeMux()
	p.mux.HandleFunc("GET /{$}", p.serveIndex)
	p.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	p.mux.HandleFunc("GET /events", p.serveEvents)
	p.mux.HandleFunc("GET /snapshot.json", p.serveSnapshot)
	return p, nil
}

// ServeHTTP serves the page's paths; anything else is 404. Mount it at "/"
// (or under a prefix with http.StripPrefix: the page's links are relative).
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

// Run samples the registry every interval until ctx ends, then ends the
// event streams it fed and returns nil. Call it once, from the goroutine
// group that owns the admin server.
func (p *Page) Run(ctx context.Context) error {
	p.mu.Lock()
	p.runCalls++
	calls := p.runCalls
	p.mu.Unlock()
	if calls > 1 {
		return errors.New("livepage: Run called twice")
	}
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	p.tick(time.Now())
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			p.tick(now)
		}
	}
}

// tick takes one sample at now and publishes its snapshot.
func (p *Page) tick(now time.Time) {
	cur, err := gather(p.g, now)
	if err != nil {
		if msg := err.Error(); msg != p.lastErr {
			p.log.Warn("live page: gathering metrics", "err", err)
			p.lastErr = msg
		}
	} else {
		p.lastErr = ""
	}
	p.raw = append(p.raw, cur)
	for len(p.raw) > 2 && now.Sub(p.raw[1].at) >= p.window {
		p.raw = p.raw[1:]
	}
	var old *sample
	if len(p.raw) > 1 {
		old = &p.raw[0]
	}
	snap := compute(old, &cur)
	snap.Alerts = p.alerts.eval(&snap, p.ago(snap.Time))
	b, err := json.Marshal(snap)
	if err != nil { // cannot happen: num() keeps NaN and Inf out
		p.log.Error("live page: encoding snapshot", "err", err)
		return
	}
	p.mu.Lock()
	p.seq++
	p.snaps = append(p.snaps, entry{seq: p.seq, snap: snap, json: b})
	if len(p.snaps) > p.keep {
		p.snaps = p.snaps[len(p.snaps)-p.keep:] // append reallocates now and then, dropping the old
	}
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// ago returns, for the snapshot at now, a function giving the latest
// snapshot at least d older.
func (p *Page) ago(now time.Time) func(time.Duration) *Snapshot {
	return func(d time.Duration) *Snapshot {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i := len(p.snaps) - 1; i >= 0; i-- {
			if !p.snaps[i].snap.Time.After(now.Add(-d)) {
				s := p.snaps[i].snap
				return &s
			}
		}
		return nil
	}
}

// Latest returns the newest snapshot, false before the first sample.
func (p *Page) Latest() (Snapshot, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.snaps) == 0 {
		return Snapshot{}, false
	}
	return p.snaps[len(p.snaps)-1].snap, true
}

func (p *Page) serveIndex(w http.ResponseWriter, r *http.Request) {
	b, err := staticFiles.ReadFile("static/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

func (p *Page) serveSnapshot(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var b []byte
	if n := len(p.snaps); n > 0 {
		b = p.snaps[n-1].json
	}
	p.mu.Unlock()
	if b == nil {
		http.Error(w, "no snapshot yet", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// writeTimeout bounds each write of an event stream: a client that stops
// reading is dropped rather than holding its handler forever.
const writeTimeout = 10 * time.Second

// serveEvents streams the history ("history": a JSON array of snapshots,
// oldest first), then each new snapshot ("snapshot"), until the request's
// context or Run ends. It starts no goroutine.
func (p *Page) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	p.mu.Lock()
	buf.WriteString("retry: 2000\n\nevent: history\ndata: [")
	for i, e := range p.snaps {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e.json)
	}
	buf.WriteString("]\n\n")
	last, changed := p.seq, p.changed
	p.mu.Unlock()

	for {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // ErrNotSupported: nothing to bound
		if _, err := w.Write(buf.Bytes()); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		buf.Reset()
		select {
		case <-r.Context().Done():
			return
		case <-p.done:
			return
		case <-changed:
		}
		p.mu.Lock()
		for _, e := range p.snaps {
			if e.seq > last {
				fmt.Fprintf(&buf, "event: snapshot\ndata: %s\n\n", e.json)
			}
		}
		last, changed = p.seq, p.changed
		p.mu.Unlock()
	}
}
