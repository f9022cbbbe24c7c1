package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

var testLimits = event.Limits{MaxEvents: 1000, MaxEventBytes: 32 << 10, MaxDepth: 16}

// testItems returns n items (normal and faults) and the simulated time at
// the end, to validate against.
func testItems(t testing.TB, n int) ([]Item, time.Time) {
	g := newGen(t, Config{Seed: 4, Start: testStart, Rate: 50, Duplicates: 0.05, Late: 0.05, Malformed: 0.1})
	items := make([]Item, 0, n)
	for range n {
		items = append(items, g.Next())
	}
	return items, g.Clock()
}

func TestFileSink(t *testing.T) {
	items, now := testItems(t, 3000)
	var buf bytes.Buffer
	s := NewFileSink(&buf)
	for i := 0; i < len(items); i += 100 {
		acc, rej, err := s.Send(context.Background(), items[i:i+100])
		if err != nil || acc != 100 || rej != 0 {
			t.Fatalf("Send: %d %d %v", acc, rej, err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(buf.Bytes(), []byte{'\n'}); lines != len(items) {
		t.Fatalf("%d lines for %d items", lines, len(items))
	}
	dec, err := event.DecodeBatch(event.FormatNDJSON, buf.Bytes(), event.Limits{MaxEventBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(dec) != len(items) {
		t.Fatalf("decoded %d items, wrote %d", len(dec), len(items))
	}
	for i, d := range dec {
		it := items[i]
		code := ""
		if d.Rejection != nil {
			code = d.Rejection.Code
		} else if r := event.Validate(d.Event, gatewayRules(now)); r != nil {
			code = r.Code
		}
		if code != it.Code {
			t.Fatalf("line %d (%s): code %q, want %q", i, it.Kind, code, it.Code)
		}
		if it.Kind != KindMalformed && !proto.Equal(d.Event, it.Event) {
			t.Fatalf("line %d: decoded event differs:\n%v\n%v", i, d.Event, it.Event)
		}
	}
}

// fakeGateway answers POST /v1/events like the gateway: it decodes the body
// by Content-Type, validates each event and answers with per-item results.
// Before that, it plays the answers of script, one per request.
type fakeGateway struct {
	t      *testing.T
	now    time.Time
	keys   map[string]string // key → game
	mu     sync.Mutex
	script []func(w http.ResponseWriter) bool // true: answered
	calls  atomic.Int64
	games  map[string]int // events accepted per game of the key
}

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.mu.Lock()
	var step func(http.ResponseWriter) bool
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if step != nil && step(w) {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/events" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	game, ok := f.keys[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"unknown API key","code":"unauthorized"}`)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			f.t.Errorf("bad gzip: %v", err)
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	format := map[string]event.Format{
		"application/json": event.FormatJSON, "application/x-ndjson": event.FormatNDJSON,
		"application/x-protobuf": event.FormatProtobuf,
	}[r.Header.Get("Content-Type")]
	items, err := event.DecodeBatch(format, raw, testLimits)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error(), "code": event.BatchMalformed})
		return
	}
	type rej struct {
		Index  int    `json:"index"`
		Code   string `json:"code"`
		Reason string `json:"reason"`
	}
	res := struct {
		Accepted int   `json:"accepted"`
		Rejected []rej `json:"rejected"`
	}{Rejected: []rej{}}
	for i, it := range items {
		if it.Rejection == nil {
			it.Rejection = event.Validate(it.Event, gatewayRules(f.now))
		}
		if it.Rejection != nil {
			res.Rejected = append(res.Rejected, rej{i, it.Rejection.Code, it.Rejection.Reason})
			continue
		}
		res.Accepted++
		f.mu.Lock()
		f.games[game]++
		f.mu.Unlock()
	}
	if res.Accepted == 0 && len(res.Rejected) > 0 {
		w.WriteHeader(http.StatusBadRequest)
	}
	json.NewEncoder(w).Encode(res)
}

func newFakeGateway(t *testing.T, now time.Time, script ...func(http.ResponseWriter) bool) (*fakeGateway, *httptest.Server) {
	f := &fakeGateway{t: t, now: now, script: script, games: map[string]int{},
		keys: map[string]string{"k-all": "all", "k-gem": "gem-garden", "k-turbo": "turbo-drift", "k-realm": "realm-siege"}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func status(code int, retryAfter string) func(http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		io.WriteString(w, `{"error":"try later","code":"unavailable"}`)
		return true
	}
}

func TestHTTPSink(t *testing.T) {
	items, now := testItems(t, 1000)
	truth := map[Kind]int{}
	for _, it := range items {
		truth[it.Kind]++
	}
	for _, tc := range []struct {
		name   string
		opts   HTTPOptions
		script []func(http.ResponseWriter) bool
		wait   time.Duration // at least
		tries  int64
	}{
		{name: "json", opts: HTTPOptions{}},
		{name: "ndjson gzip", opts: HTTPOptions{Format: event.FormatNDJSON, Gzip: true}},
		{name: "protobuf", opts: HTTPOptions{Format: event.FormatProtobuf}},
		{name: "per-game keys", opts: HTTPOptions{Keys: map[string]string{"gem-garden": "k-gem", "turbo-drift": "k-turbo", "realm-siege": "k-realm"}}},
		{name: "503 with Retry-After, then 200", script: []func(http.ResponseWriter) bool{status(503, "1")}, wait: 900 * time.Millisecond, tries: 1},
		{name: "429 and 502 without Retry-After", script: []func(http.ResponseWriter) bool{status(429, ""), status(502, "")}, tries: 2},
		{name: "connection dropped", script: []func(http.ResponseWriter) bool{func(w http.ResponseWriter) bool {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return true
		}}, tries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeGateway(t, now, tc.script...)
			var mu sync.Mutex
			codes := map[string]int{}
			tc.opts.OnReject = func(it Item, r event.Rejection) {
				mu.Lock()
				defer mu.Unlock()
				if it.Kind != KindMalformed || r.Code != it.Code {
					t.Errorf("%s item refused with %s (%s), expected %q", it.Kind, r.Code, r.Reason, it.Code)
				}
				codes[r.Code]++
			}
			s, err := NewHTTPSink(srv.URL+"/", "k-all", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			var acc, rej int
			for i := 0; i < len(items); i += 250 {
				a, r, err := s.Send(context.Background(), items[i:i+250])
				if err != nil {
					t.Fatal(err)
				}
				acc += a
				rej += r
			}
			if el := time.Since(start); el < tc.wait {
				t.Errorf("done in %s: Retry-After not honoured", el)
			}
			if got := s.Retries(); got != tc.tries {
				t.Errorf("%d retries, want %d", got, tc.tries)
			}
			if want := len(items) - truth[KindMalformed]; acc != want || rej != truth[KindMalformed] {
				t.Errorf("accepted %d rejected %d, want %d and %d", acc, rej, want, truth[KindMalformed])
			}
			if tc.opts.Keys != nil && (len(f.games) != 3 || f.games["all"] != 0) {
				t.Errorf("events by key: %v", f.games)
			}
		})
	}
}

func TestHTTPSinkErrors(t *testing.T) {
	items, now := testItems(t, 50)
	ctx := context.Background()

	t.Run("unauthorized is not retried", func(t *testing.T) {
		f, srv := newFakeGateway(t, now)
		s, _ := NewHTTPSink(srv.URL, "wrong", HTTPOptions{})
		if _, _, err := s.Send(ctx, items); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("err = %v", err)
		}
		if f.calls.Load() != 1 {
			t.Fatalf("%d calls", f.calls.Load())
		}
	})
	t.Run("gives up after MaxRetries", func(t *testing.T) {
		f, srv := newFakeGateway(t, now, status(503, "0"), status(503, "0"), status(503, "0"))
		s, _ := NewHTTPSink(srv.URL, "k-all", HTTPOptions{MaxRetries: 2})
		if _, _, err := s.Send(ctx, items); err == nil || !strings.Contains(err.Error(), "giving up after 3") {
			t.Fatalf("err = %v", err)
		}
		if f.calls.Load() != 3 {
			t.Fatalf("%d calls", f.calls.Load())
		}
	})
	t.Run("cancel while waiting", func(t *testing.T) {
		_, srv := newFakeGateway(t, now, status(503, "20"))
		s, _ := NewHTTPSink(srv.URL, "k-all", HTTPOptions{})
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, _, err := s.Send(ctx, items); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Fatalf("waited %s despite ctx", el)
		}
	})
	t.Run("whole batch refused", func(t *testing.T) {
		_, srv := newFakeGateway(t, now, func(w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"expected ',' or ']' at byte 7","code":"malformed_batch"}`)
			return true
		})
		var refused int
		s, _ := NewHTTPSink(srv.URL, "k-all", HTTPOptions{OnReject: func(it Item, r event.Rejection) {
			if r.Code == event.BatchMalformed {
				refused++
			}
		}})
		acc, rej, err := s.Send(ctx, items)
		if err != nil || acc != 0 || rej != len(items) || refused != len(items) {
			t.Fatalf("%d %d %v, %d refused", acc, rej, err, refused)
		}
	})
	t.Run("bad url", func(t *testing.T) {
		if _, err := NewHTTPSink("localhost:8080", "k", HTTPOptions{}); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestKafkaSink: in each raw encoding, every item is one record under the
// encoding's content-type header; an event is keyed by its player, in the
// encoding, with received_at stamped (and the caller's event unchanged);
// any other item is its raw bytes, which decode in neither encoding.
func TestKafkaSink(t *testing.T) {
	for _, enc := range []record.Encoding{record.EncodingProtobuf, record.EncodingJSON} {
		t.Run(enc.String(), func(t *testing.T) { testKafkaSink(t, enc) })
	}
}

func testKafkaSink(t *testing.T, enc record.Encoding) {
	c, err := kfake.NewCluster(kfake.SeedTopics(1, "events"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	items, _ := testItems(t, 600)
	s := NewKafkaSink(cl, "events", enc)
	received := time.Date(2026, 11, 25, 18, 20, 1, 234_000_000, time.UTC)
	s.now = func() time.Time { return received }
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < len(items); i += 200 {
		acc, rej, err := s.Send(ctx, items[i:i+200])
		if err != nil || acc != 200 || rej != 0 {
			t.Fatalf("Send: %d %d %v", acc, rej, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}

	var recs []*kgo.Record
	for len(recs) < len(items) {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, fs.Records()...)
	}
	raws := 0
	for i, r := range recs {
		if got := record.RawEncoding(r.Headers); got != enc || len(r.Headers) != 1 {
			t.Fatalf("record %d: headers %v, want content-type %s", i, r.Headers, enc.ContentType())
		}
		it := items[i]
		if it.Event == nil {
			if !bytes.Equal(r.Value, it.Raw) || r.Key != nil {
				t.Fatalf("record %d: raw item not sent as is", i)
			}
			if enc == record.EncodingJSON {
				if d := event.DecodeJSONEvent(r.Value, event.Limits{}); d.Rejection == nil {
					t.Fatalf("record %d: malformed item %q decodes as JSON", i, r.Value)
				}
			}
			raws++
			continue
		}
		var ev *event.Event
		if enc == record.EncodingJSON {
			d := event.DecodeJSONEvent(r.Value, event.Limits{})
			if d.Rejection != nil {
				t.Fatalf("record %d: %v: %s", i, d.Rejection, r.Value)
			}
			ev = d.Event
		} else if ev, err = event.Unmarshal(r.Value); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !ev.ReceivedAt.AsTime().Equal(received) {
			t.Fatalf("record %d: received_at %v", i, ev.ReceivedAt.AsTime())
		}
		if string(r.Key) != it.Event.PlayerId || ev.GameId == "" {
			t.Fatalf("record %d: key %q, game %q", i, r.Key, ev.GameId)
		}
		if it.Event.ReceivedAt != nil {
			t.Fatalf("record %d: the sink changed the caller's event", i)
		}
		ev.ReceivedAt = nil
		if !proto.Equal(ev, it.Event) {
			t.Fatalf("record %d differs:\n%v\n%v", i, ev, it.Event)
		}
	}
	if raws == 0 {
		t.Fatal("the items hold no malformed raw bytes: the test checks too little")
	}
}

// TestHTTPSinkLogsEachOutageOnceAndRunCountsRetries: a gateway that fails for
// a while is logged once when the outage starts (with its reason) and once
// when it ends (with its duration and retries), and the run's summary counts
// the retries.
func TestHTTPSinkLogsEachOutageOnceAndRunCountsRetries(t *testing.T) {
	pass := func(http.ResponseWriter) bool { return false }
	_, srv := newFakeGateway(t, testStart,
		status(503, "0"), status(503, "0"), status(503, "0"), pass, // outage 1: 3 retries
		pass, status(502, ""), status(502, ""), pass) // outage 2: 2 retries
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := NewHTTPSink(srv.URL, "k-all", HTTPOptions{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(t, Config{Seed: 4, Start: testStart, Rate: 50})
	st, err := Run(context.Background(), g, s, RunOptions{Count: 400, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	t.Logf("log:\n%s", out)
	if n := strings.Count(out, "gateway unavailable"); n != 2 {
		t.Errorf("%d outage starts logged, want 2", n)
	}
	if !strings.Contains(out, "503 Service Unavailable") || !strings.Contains(out, "502 Bad Gateway") {
		t.Errorf("outage reasons not logged")
	}
	if n := strings.Count(out, "gateway available again"); n != 2 {
		t.Errorf("%d outage ends logged, want 2", n)
	}
	if !strings.Contains(out, "retries=3") || !strings.Contains(out, "retries=2") || !strings.Contains(out, "lasted=") {
		t.Errorf("outage ends do not say duration and retries")
	}
	if st.Retries != 5 || !strings.Contains(st.String(), "retries=5") {
		t.Errorf("summary %s: want 5 retries", st)
	}
}
