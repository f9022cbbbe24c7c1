package livepage

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sseEvent is one server-sent event.
type sseEvent struct{ name, data string }

// readEvent reads the next event (skipping retry lines and comments).
func readEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && ev.name != "":
			return ev
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// trackedServer serves h and reports on done each time a request's handler returns.
func trackedServer(t *testing.T, h http.Handler) (*httptest.Server, chan string) {
	done := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- r.URL.Path }()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, done
}

func TestPageServesEvents(t *testing.T) {
	f := newFakePipeline(true)
	p := newPage(t, Config{Window: 2 * time.Second}, f.reg)
	now := time.Now()
	f.step(now, time.Second)
	p.tick(now)
	f.step(now.Add(time.Second), time.Second)
	p.tick(now.Add(time.Second))

	srv, done := trackedServer(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	r := bufio.NewReader(resp.Body)
	ev := readEvent(t, r)
	var hist []Snapshot
	if ev.name != "history" {
		t.Fatalf("first event %q, want history", ev.name)
	}
	if err := json.Unmarshal([]byte(ev.data), &hist); err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Gateway.AcceptedPerSecond != nil || hist[1].Gateway.AcceptedPerSecond == nil || *hist[1].Gateway.AcceptedPerSecond <= 0 {
		t.Fatalf("history: %d snapshots, %+v", len(hist), hist)
	}

	// Two ticks before the client reads: it receives both, in order.
	for i := 2; i <= 3; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		f.step(at, time.Second)
		p.tick(at)
	}
	for i := 2; i <= 3; i++ {
		ev = readEvent(t, r)
		var s Snapshot
		if err := json.Unmarshal([]byte(ev.data), &s); ev.name != "snapshot" || err != nil {
			t.Fatalf("event %q: %v", ev.name, err)
		}
		if want := now.Add(time.Duration(i) * time.Second); !s.Time.Equal(want) {
			t.Fatalf("snapshot at %v, want %v", s.Time, want)
		}
		if len(s.Games) != 3 || len(s.Levels) != TopLevels || s.Processor.WatermarkDelaySeconds == nil {
			t.Fatalf("snapshot %+v", s)
		}
	}

	// The client goes away: the handler returns.
	cancel()
	select {
	case path := <-done:
		if path != "/events" {
			t.Fatalf("handler of %s returned", path)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the /events handler did not return after the client left")
	}
}

func TestRunEndsStreams(t *testing.T) {
	f := newFakePipeline(false)
	p := newPage(t, Config{Interval: 20 * time.Millisecond}, f.reg)
	srv, done := trackedServer(t, p)
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()

	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	readEvent(t, r) // history
	var last Snapshot
	for range 3 {
		f.step(time.Now(), 20*time.Millisecond)
		if err := json.Unmarshal([]byte(readEvent(t, r).data), &last); err != nil {
			t.Fatal(err)
		}
	}
	if !last.Processor.Present || last.Processor.LatePerSecond != nil {
		t.Fatalf("processor without a late counter: %+v", last.Processor)
	}
	if err := p.Run(ctx); err == nil {
		t.Fatal("a second Run succeeded")
	}

	stop()
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the /events handler did not return after Run ended")
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}

func TestPageRoutes(t *testing.T) {
	f := newFakePipeline(true)
	p := newPage(t, Config{}, f.reg)
	srv := httptest.NewServer(p)
	defer srv.Close()
	get := func(path string) (int, string, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	if code, _, _ := get("/snapshot.json"); code != http.StatusServiceUnavailable {
		t.Errorf("/snapshot.json before a sample: %d", code)
	}
	p.tick(time.Now())
	for _, tc := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/", "text/html", `<canvas id="chart-throughput"`, 200},
		{"/static/app.js", "javascript", "EventSource", 200},
		{"/static/style.css", "text/css", ".charts", 200},
		{"/snapshot.json", "application/json", `"gateway":{"present":true`, 200},
		{"/nope", "", "", 404},
		{"/static/missing.js", "", "", 404},
	} {
		code, ctype, body := get(tc.path)
		if code != tc.code || !strings.Contains(ctype, tc.ctype) || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: %d %q, body has %q: %v", tc.path, code, ctype, tc.contains, strings.Contains(body, tc.contains))
		}
	}
	// Nothing the page loads comes from elsewhere (the machines have no internet).
	for _, path := range []string{"/", "/static/app.js", "/static/style.css"} {
		if _, _, body := get(path); strings.Contains(body, "http://") || strings.Contains(body, "https://") || strings.Contains(body, "//cdn") {
			t.Errorf("%s refers to another host", path)
		}
	}
}

// TestMounted mounts the page as the admin servers of cmd/gamepulse would:
// beside /metrics at the root, or under a prefix.
func TestMounted(t *testing.T) {
	p := newPage(t, Config{}, newFakePipeline(true).reg)
	p.tick(time.Now())
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") })
	root := http.NewServeMux()
	root.Handle("GET /metrics", metrics)
	root.Handle("/", p)
	prefixed := http.NewServeMux()
	prefixed.Handle("GET /metrics", metrics)
	prefixed.Handle("/live/", http.StripPrefix("/live", p))
	for _, tc := range []struct {
		mux   *http.ServeMux
		paths []string
	}{
		{root, []string{"/", "/static/app.js", "/snapshot.json", "/metrics"}},
		{prefixed, []string{"/live/", "/live/static/app.js", "/live/snapshot.json", "/metrics"}},
	} {
		srv := httptest.NewServer(tc.mux)
		for _, path := range tc.paths {
			resp, err := http.Get(srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || (path == "/metrics") != (string(b) == "metrics") {
				t.Errorf("GET %s: %d %.40q", path, resp.StatusCode, b)
			}
		}
		srv.Close()
	}
}

// newPage is New, failing the test on an error.
func newPage(t testing.TB, cfg Config, g prometheus.Gatherer) *Page {
	t.Helper()
	p, err := New(cfg, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewRefusesANegativeSetting(t *testing.T) {
	for _, cfg := range []Config{{Interval: -1}, {Window: -1}, {History: -1}} {
		if _, err := New(cfg, prometheus.NewRegistry(), nil); err == nil || !strings.Contains(err.Error(), "livepage: ") {
			t.Errorf("%+v: want an error naming the field, got %v", cfg, err)
		}
	}
}
