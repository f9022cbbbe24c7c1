package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
)

const topic = "raw"

type harness struct {
	t       *testing.T
	cluster *kfake.Cluster
	cl      *kgo.Client
	gw      *Gateway
	srv     *httptest.Server
}

func newHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	opts := append(kafka.ProducerOpts(10000), kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordDeliveryTimeout(2*time.Second))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	cfg := Config{Topic: topic, Keys: map[string]string{"key-a": "game-a", "key-b": "game-b"},
		MaxBodyBytes: 64 << 10, MaxDecompressedBytes: 256 << 10, MaxEvents: 50, MaxEventBytes: 4 << 10, MaxDepth: 8,
		RateLimit: 0, MaxPendingEvents: 1000, ProduceTimeout: 3 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	gw, err := New(cfg, cl, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { gw.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &harness{t: t, cluster: c, cl: cl, gw: gw, srv: srv}
}

func goodEvent(i int) *event.Event {
	return &event.Event{
		EventId: fmt.Sprintf("e-%d", i), EventType: event.TypeLevelComplete, PlayerId: fmt.Sprintf("p-%d", i%7),
		SessionId: "s-1", Seq: uint64(i + 1), ClientTime: timestamppb.New(time.Now().Add(-time.Second)),
		Platform: "ios", Country: "DE", GameId: "spoofed",
		Payload: &event.Event_LevelComplete{LevelComplete: &event.Level{Level: 3, DurationMs: 1000, Score: 10}},
	}
}

func goodJSON(t testing.TB, i int) string {
	b, err := event.MarshalJSON(goodEvent(i))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type response struct {
	status     int
	retryAfter string
	Accepted   int             `json:"accepted"`
	Rejected   []RejectedEvent `json:"rejected"`
	Error      string          `json:"error"`
	Code       string          `json:"code"`
}

func (h *harness) post(body []byte, hdr map[string]string) response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.srv.URL+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer key-a")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r response
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		h.t.Fatalf("response is not JSON: %q", raw)
	}
	r.status, r.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
	return r
}

// stored reads every record of the topic, up to its end offsets.
func (h *harness) stored() []*kgo.Record {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs, err := kafka.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(h.cluster.ListenAddrs()...)}, topic)
	if err != nil {
		h.t.Fatal(err)
	}
	return recs
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestAcceptedEventsAreStoredKeyedByPlayer(t *testing.T) {
	h := newHarness(t, nil)
	var parts []string
	for i := 0; i < 20; i++ {
		parts = append(parts, goodJSON(t, i))
	}
	r := h.post([]byte("["+strings.Join(parts, ",")+"]"), nil)
	if r.status != 200 || r.Accepted != 20 || len(r.Rejected) != 0 {
		t.Fatalf("got %+v", r)
	}
	recs := h.stored()
	if len(recs) != 20 {
		t.Fatalf("stored %d records, want 20", len(recs))
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		ev, err := event.Unmarshal(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(rec.Key) != ev.PlayerId {
			t.Errorf("key %q, player %q", rec.Key, ev.PlayerId)
		}
		if ev.GameId != "game-a" {
			t.Errorf("game %q: the game must come from the key", ev.GameId)
		}
		if ev.ReceivedAt == nil || ev.SchemaVersion != 1 {
			t.Errorf("server fields not set: %v", ev)
		}
		if seen[ev.EventId] {
			t.Errorf("event %s stored twice", ev.EventId)
		}
		seen[ev.EventId] = true
	}
}

func TestFormats(t *testing.T) {
	h := newHarness(t, nil)
	pb, _ := proto.Marshal(&event.EventBatch{Events: []*event.Event{goodEvent(1), goodEvent(2)}})
	nd := []byte(goodJSON(t, 3) + "\n" + goodJSON(t, 4) + "\n")
	tests := []struct {
		name string
		body []byte
		hdr  map[string]string
	}{
		{"protobuf", pb, map[string]string{"Content-Type": "application/x-protobuf"}},
		{"ndjson", nd, map[string]string{"Content-Type": "application/x-ndjson"}},
		{"gzip json", gzipped([]byte("[" + goodJSON(t, 5) + "," + goodJSON(t, 6) + "]")), map[string]string{"Content-Encoding": "gzip"}},
		{"x-api-key", []byte("[" + goodJSON(t, 7) + "," + goodJSON(t, 8) + "]"), map[string]string{"Authorization": "", "X-API-Key": "key-b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if r := h.post(tc.body, tc.hdr); r.status != 200 || r.Accepted != 2 {
				t.Fatalf("got %+v", r)
			}
		})
	}
	recs := h.stored()
	if len(recs) != 8 {
		t.Fatalf("stored %d, want 8", len(recs))
	}
	for _, rec := range recs { // every format: the game comes from the key, never the payload ("spoofed")
		ev, err := event.Unmarshal(rec.Value)
		if err != nil {
			t.Fatal(err)
		}
		if (ev.GameId != "game-a" && ev.GameId != "game-b") || ev.ReceivedAt == nil || ev.SchemaVersion != 1 {
			t.Fatalf("server fields wrong: game %q received_at %v version %d", ev.GameId, ev.ReceivedAt, ev.SchemaVersion)
		}
	}
}

func TestRejections(t *testing.T) {
	h := newHarness(t, nil)
	good := goodJSON(t, 1)
	withField := func(f string) string { // good event with one JSON field replaced
		ev := goodEvent(2)
		b, _ := event.MarshalJSON(ev)
		var m map[string]any
		json.Unmarshal(b, &m)
		k, v, _ := strings.Cut(f, "=")
		if v == "" {
			delete(m, k)
		} else {
			var x any
			json.Unmarshal([]byte(v), &x)
			m[k] = x
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	deep := `{"event_id":"d","custom":{"name":"x","properties":` + strings.Repeat(`{"a":`, 12) + "1" + strings.Repeat("}", 12) + "}}"
	bomb := gzipped(bytes.Repeat([]byte(" "), 1<<20)) // 1 MiB of spaces, ~1 KiB compressed
	tests := []struct {
		name     string
		body     []byte
		hdr      map[string]string
		status   int
		code     string // whole-request code, or the code of the rejected event
		goodKept bool   // the good neighbour in the batch is accepted
	}{
		{"no key", []byte("[" + good + "]"), map[string]string{"Authorization": ""}, 401, "unauthorized", false},
		{"bad key", []byte("[" + good + "]"), map[string]string{"Authorization": "Bearer nope"}, 401, "unauthorized", false},
		{"not json", []byte("hello"), nil, 400, event.BatchMalformed, false},
		{"wrong shape", []byte("[" + good + `,{"player":{"id":1}}]`), nil, 200, event.CodeMalformed, true},
		{"scalar in batch", []byte("[" + good + `,42]`), nil, 200, event.CodeNotObject, true},
		{"unknown type", []byte("[" + good + "," + withField(`event_type="teleport"`) + "]"), nil, 200, event.CodeUnknownType, true},
		{"missing field", []byte("[" + good + "," + withField("event_id=") + "]"), nil, 200, event.CodeMissingField, true},
		{"only bad events", []byte("[" + withField("player_id=") + "]"), nil, 400, event.CodeMissingField, false},
		{"oversized body", []byte("[" + good + `,{"event_id":"` + strings.Repeat("x", 70000) + `"}]`), nil, 413, "body_too_large", false},
		{"oversized event", []byte("[" + good + `,{"event_id":"` + strings.Repeat("x", 5000) + `"}]`), nil, 200, event.CodeTooLarge, true},
		{"too many events", []byte("[" + strings.Repeat(`{},`, 50) + "{}]"), nil, 413, event.BatchTooMany, false},
		{"skewed timestamp", []byte("[" + good + "," + withField(`client_time="2001-01-01T00:00:00Z"`) + "]"), nil, 200, event.CodeClockSkew, true},
		{"wrong content type", []byte("[" + good + "]"), map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", false},
		{"no content type", []byte("[" + good + "]"), map[string]string{"Content-Type": ""}, 415, "unsupported_media_type", false},
		{"unknown encoding", []byte("[" + good + "]"), map[string]string{"Content-Encoding": "br"}, 415, "unsupported_encoding", false},
		{"gzip bomb", bomb, map[string]string{"Content-Encoding": "gzip"}, 413, "body_too_large", false},
		{"not gzip", []byte("[" + good + "]"), map[string]string{"Content-Encoding": "gzip"}, 400, "bad_gzip", false},
		{"deep nesting", []byte("[" + good + "," + deep + "]"), nil, 200, event.CodeTooDeep, true},
		{"invalid utf8", []byte("[" + good + "," + strings.Replace(withField(`player_id="p"`), `"p"`, "\"\xff\xfe\"", 1) + "]"), nil, 200, event.CodeMalformed, true},
	}
	before := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.post(tc.body, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (%+v)", r.status, tc.status, r)
			}
			switch {
			case tc.status == 200 || (tc.status == 400 && len(r.Rejected) > 0):
				if len(r.Rejected) != 1 || r.Rejected[0].Code != tc.code || r.Rejected[0].Reason == "" {
					t.Fatalf("rejected %+v, want one %s with a reason", r.Rejected, tc.code)
				}
			default:
				if r.Code != tc.code || r.Error == "" {
					t.Fatalf("error %q code %q, want code %s with a reason", r.Error, r.Code, tc.code)
				}
			}
			want := 0
			if tc.goodKept {
				want = 1
			}
			if r.Accepted != want {
				t.Fatalf("accepted %d, want %d", r.Accepted, want)
			}
			got := len(h.stored())
			if got-before != want {
				t.Fatalf("%d events reached Kafka, want %d", got-before, want)
			}
			before = got
		})
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RateLimit, c.RateBurst = 10, 50 })
	var parts []string
	for i := 0; i < 40; i++ {
		parts = append(parts, goodJSON(t, i))
	}
	body := []byte("[" + strings.Join(parts[:40], ",") + "]")
	if r := h.post(body, nil); r.status != 200 {
		t.Fatalf("first batch: %+v", r)
	}
	r := h.post(body, nil)
	if r.status != 429 || r.retryAfter == "" || r.Code != "rate_limited" {
		t.Fatalf("second batch: %+v (Retry-After %q)", r, r.retryAfter)
	}
	// Another key has its own budget.
	if r := h.post(body, map[string]string{"Authorization": "Bearer key-b"}); r.status != 200 {
		t.Fatalf("other key: %+v", r)
	}
}

func TestKafkaDownThenBack(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ProduceTimeout = 1500 * time.Millisecond })
	body := []byte("[" + goodJSON(t, 1) + "]")
	if r := h.post(body, nil); r.status != 200 {
		t.Fatalf("before outage: %+v", r)
	}
	// Every produce request fails while the outage lasts.
	var down atomic.Bool
	down.Store(true)
	h.cluster.ControlKey(0, func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		h.cluster.KeepControl()
		if down.Load() {
			return nil, fmt.Errorf("outage"), true
		}
		return nil, nil, false
	})
	for i := 0; i < 3; i++ {
		r := h.post(body, nil)
		if r.status != 503 || r.retryAfter == "" {
			t.Fatalf("during outage: %+v, Retry-After %q", r, r.retryAfter)
		}
	}
	down.Store(false)
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := h.post(body, nil)
		if r.status == 200 {
			break
		}
		if r.status != 503 || time.Now().After(deadline) {
			t.Fatalf("after outage: %+v", r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestClientGoneIsNotKafkaDown: records that fail because the client hung up
// must not make the gateway refuse everyone else.
func TestClientGoneIsNotKafkaDown(t *testing.T) {
	h := newHarness(t, nil)
	var slow atomic.Bool
	slow.Store(true)
	h.cluster.ControlKey(0, func(kmsg.Request) (kmsg.Response, error, bool) {
		h.cluster.KeepControl()
		if slow.Load() {
			time.Sleep(300 * time.Millisecond)
		}
		return nil, nil, false
	})
	for i := 0; i < 20; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "POST", h.srv.URL+"/v1/events", strings.NewReader("["+goodJSON(t, i)+"]"))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer key-a")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("request %d should have been cut off by its deadline; got %d %s", i, resp.StatusCode, b)
		}
		cancel()
	}
	time.Sleep(400 * time.Millisecond) // let the handler see its records fail
	slow.Store(false)
	if !h.gw.kafkaOK.Load() {
		t.Fatal("a client hanging up marked Kafka down")
	}
	if r := h.post([]byte("["+goodJSON(t, 2)+"]"), nil); r.status != 200 {
		t.Fatalf("next request: %+v", r)
	}
}

// TestChunkedBodyIsAcceptedAndCounted: a body sent with Transfer-Encoding:
// chunked (no Content-Length) is read like any other, and the received-bytes
// counter adds the bytes actually read.
func TestChunkedBodyIsAcceptedAndCounted(t *testing.T) {
	h := newHarness(t, nil)
	body := []byte("[" + goodJSON(t, 1) + "," + goodJSON(t, 2) + "]")
	for _, enc := range []string{"", "gzip"} {
		t.Run("encoding="+enc, func(t *testing.T) {
			before := counterValue(t, h.gw.m.bytes)
			sent := body
			if enc != "" {
				sent = gzipped(body)
			}
			// A reader of unknown length makes the client send chunks.
			req, _ := http.NewRequest("POST", h.srv.URL+"/v1/events", io.MultiReader(bytes.NewReader(sent)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key-a")
			if enc != "" {
				req.Header.Set("Content-Encoding", enc)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("chunked request: %v", err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(raw), `"accepted":2`) {
				t.Fatalf("status %d body %q, want 200 with 2 accepted", resp.StatusCode, raw)
			}
			if got := counterValue(t, h.gw.m.bytes) - before; got != float64(len(sent)) {
				t.Fatalf("received bytes grew by %v, want %d", got, len(sent))
			}
		})
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func (h *harness) do(method, path string, hdr map[string]string) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// TestOtherMethodsOnEventsAre405WithAllow: GET, PUT, DELETE and (with CORS
// off) OPTIONS on /v1/events answer 405 with Allow: POST and the JSON error
// body; unknown paths answer 404.
func TestOtherMethodsOnEventsAre405WithAllow(t *testing.T) {
	h := newHarness(t, nil)
	for _, m := range []string{"GET", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		resp, raw := h.do(m, "/v1/events", map[string]string{"Origin": "https://game.example"})
		var e struct{ Error, Code string }
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || json.Unmarshal(raw, &e) != nil || e.Code != "method_not_allowed" || e.Error == "" {
			t.Errorf("%s /v1/events: %d Allow=%q %q; want 405, Allow: POST, a JSON error", m, resp.StatusCode, resp.Header.Get("Allow"), raw)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s with CORS off sent Access-Control-Allow-Origin", m)
		}
	}
	for _, p := range []string{"/", "/metrics", "/debug/pprof/", "/v1/event"} {
		if resp, raw := h.do("GET", p, nil); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d %q, want 404", p, resp.StatusCode, raw)
		}
	}
}

// TestCORSLetsBrowserGamesPost: with --cors-origins, a preflight from an
// allowed origin gets 204 with the methods and headers a game sends (the
// key's header, Content-Encoding); the POST's answer names the origin. An
// origin not listed gets no CORS headers.
func TestCORSLetsBrowserGamesPost(t *testing.T) {
	for _, origins := range [][]string{{"https://game.example", "http://localhost:3000"}, {"*"}} {
		t.Run(strings.Join(origins, ","), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.CORSOrigins = origins })
			wantOrigin := "https://game.example"
			if origins[0] == "*" {
				wantOrigin = "*"
			}
			resp, raw := h.do("OPTIONS", "/v1/events", map[string]string{"Origin": "https://game.example",
				"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,content-encoding"})
			if resp.StatusCode != 204 {
				t.Fatalf("preflight: %d %q, want 204", resp.StatusCode, raw)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != wantOrigin {
				t.Errorf("preflight Allow-Origin %q, want %q", got, wantOrigin)
			}
			if got := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") {
				t.Errorf("preflight Allow-Methods %q lacks POST", got)
			}
			allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
			for _, hdr := range []string{"authorization", "x-api-key", "content-type", "content-encoding"} {
				if !strings.Contains(allowed, hdr) {
					t.Errorf("preflight Allow-Headers %q lacks %s", allowed, hdr)
				}
			}
			r := h.post([]byte("["+goodJSON(t, 1)+"]"), map[string]string{"Origin": "https://game.example"})
			if r.status != 200 {
				t.Fatalf("POST: %+v", r)
			}
			req, _ := http.NewRequest("POST", h.srv.URL+"/v1/events", strings.NewReader("["+goodJSON(t, 2)+"]"))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer key-a")
			req.Header.Set("Origin", "https://game.example")
			pr, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			pr.Body.Close()
			if got := pr.Header.Get("Access-Control-Allow-Origin"); pr.StatusCode != 200 || got != wantOrigin {
				t.Errorf("POST: %d Allow-Origin %q, want 200 and %q", pr.StatusCode, got, wantOrigin)
			}
			if origins[0] != "*" {
				resp, _ := h.do("OPTIONS", "/v1/events", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
				if resp.StatusCode == 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
					t.Errorf("preflight from an origin not listed: %d Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
				}
			}
		})
	}
}

// TestEventsTheProcessorWouldDeadLetterAreRefused: amounts the processor
// cannot convert and ids with control or bidi characters, or blank, are
// refused at the door with their reason, and never reach Kafka.
func TestEventsTheProcessorWouldDeadLetterAreRefused(t *testing.T) {
	h := newHarness(t, nil)
	purchase := func(price float64) func(*event.Event) {
		return func(e *event.Event) {
			e.EventType = event.TypePurchase
			e.Payload = &event.Event_Purchase{Purchase: &event.Purchase{Sku: "gems", Price: price, Currency: "USD", StoreTransactionId: "T1"}}
		}
	}
	tests := []struct {
		name, reason string
		mod          func(*event.Event)
	}{
		{"price 1e15", "purchase.price", purchase(1e15)},
		{"price 1e300", "purchase.price", purchase(1e300)},
		{"price 1.7e308", "purchase.price", purchase(1.7e308)},
		{"refund 1e300", "refund.amount", func(e *event.Event) {
			e.EventType = event.TypeRefund
			e.Payload = &event.Event_Refund{Refund: &event.Refund{StoreTransactionId: "T1", Amount: 1e300}}
		}},
		{"ad revenue 1e300", "ad_impression.revenue", func(e *event.Event) {
			e.EventType = event.TypeAdImpression
			e.Payload = &event.Event_AdImpression{AdImpression: &event.AdImpression{Network: "n", Revenue: 1e300}}
		}},
		{"player NUL", "player_id contains a control character", func(e *event.Event) { e.PlayerId = "\x00" }},
		{"player NUL inside", "player_id contains a control character", func(e *event.Event) { e.PlayerId = "p\x00x" }},
		{"player blank", "player_id is blank", func(e *event.Event) { e.PlayerId = " " }},
		{"player RLO", "player_id contains a bidirectional formatting character (U+202E)", func(e *event.Event) { e.PlayerId = "\u202eevil" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(h.stored())
			ev := goodEvent(1)
			tc.mod(ev)
			bad, err := event.MarshalJSON(ev)
			if err != nil {
				t.Fatal(err)
			}
			r := h.post([]byte("["+goodJSON(t, 2)+","+string(bad)+"]"), nil)
			if r.status != 200 || r.Accepted != 1 || len(r.Rejected) != 1 || r.Rejected[0].Index != 1 ||
				r.Rejected[0].Code != event.CodeInvalidValue || !strings.Contains(r.Rejected[0].Reason, tc.reason) {
				t.Fatalf("got %+v, want the second event refused as invalid_value naming %q", r, tc.reason)
			}
			if got := len(h.stored()) - before; got != 1 {
				t.Fatalf("%d events reached Kafka, want 1", got)
			}
		})
	}
}
