package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/record"
)

// Gateway serves POST /v1/events, /healthz and /readyz.
type Gateway struct {
	cfg      Config
	cl       *kgo.Client
	log      *slog.Logger
	m        *metrics
	keys     *keyring
	limiters []*rate.Limiter // by key index; nil when rate limiting is off
	cors     corsPolicy
	headers  []kgo.RecordHeader // of every raw record: its content type
	pending  *semaphore.Weighted
	kafkaOK  atomic.Bool
	kick     chan struct{} // wakes the Kafka probe
	now      func() time.Time

	bufs sync.Pool // *bytes.Buffer for bodies
	gzrs sync.Pool // *gzip.Reader
}

// New returns a gateway producing to cl. The client should be built with
// kafka.ProducerOpts and MaxBufferedRecords of at least cfg.MaxPendingEvents.
func New(cfg Config, cl *kgo.Client, reg prometheus.Registerer, log *slog.Logger) (*Gateway, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{
		cfg:     cfg,
		cl:      cl,
		log:     log,
		m:       newMetrics(reg),
		keys:    newKeyring(cfg.Keys),
		pending: semaphore.NewWeighted(int64(cfg.MaxPendingEvents)),
		kick:    make(chan struct{}, 1),
		now:     time.Now,
		cors:    newCORSPolicy(cfg.CORSOrigins),
	}
	for _, h := range record.RawHeaders(cfg.RawEncoding) {
		g.headers = append(g.headers, kgo.RecordHeader(h))
	}
	if cfg.RateLimit > 0 {
		for range g.keys.games {
			g.limiters = append(g.limiters, rate.NewLimiter(rate.Limit(cfg.RateLimit), cfg.RateBurst))
		}
	}
	g.kafkaOK.Store(true)
	g.m.kafkaUp.Set(1)
	return g, nil
}

// Handler returns the gateway's public routes: POST /v1/events (and its
// CORS preflight), GET /healthz and GET /readyz. Another method on one of
// them answers 405 with Allow; any other path 404, both with the JSON error
// body. The admin endpoints (metrics, live page, pprof) belong on another
// listener.
func (g *Gateway) Handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/events", g.cors.wrap(g.serveEvents))
	mux.HandleFunc("OPTIONS /v1/events", g.cors.servePreflight)
	mux.HandleFunc("/v1/events", func(w http.ResponseWriter, r *http.Request) { methodNotAllowed(w, r, g.cors.allow()) })
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", g.serveReady)
	for _, p := range []string{"/healthz", "/readyz"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { methodNotAllowed(w, r, "GET, HEAD") })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint: "+truncate(r.URL.Path, 128)+" (POST /v1/events, GET /healthz, GET /readyz)", 0)
	})
	return mux
}

// Run watches Kafka's health until ctx is done. The HTTP server is run by the
// caller (see Serve).
func (g *Gateway) Run(ctx context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.kick:
		case <-t.C:
		}
		if g.kafkaOK.Load() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := g.cl.Ping(pctx)
		cancel()
		if err == nil {
			g.log.Info("kafka reachable again; accepting events")
			g.setKafka(true)
		}
	}
}

func (g *Gateway) setKafka(ok bool) {
	if g.kafkaOK.Swap(ok) == ok {
		return
	}
	if ok {
		g.m.kafkaUp.Set(1)
		return
	}
	g.m.kafkaUp.Set(0)
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// Serve runs handler on ln until ctx is done, then stops accepting, lets
// in-flight requests finish (up to grace) and flushes the producer.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, produceTimeout, grace time.Duration, cl *kgo.Client, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      produceTimeout + 15*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	if log != nil {
		log.Info("shutting down: no new requests; finishing those in flight", "grace", grace)
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if cl != nil {
		if ferr := cl.Flush(sctx); ferr != nil && err == nil {
			err = fmt.Errorf("flush producer: %w", ferr)
		}
	}
	<-errc
	return err
}

func (g *Gateway) serveReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := g.cl.Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "kafka unreachable: "+err.Error(), 0)
		return
	}
	if !g.kafkaOK.Load() {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "kafka reachable but the last produce failed; waiting for the probe", 0)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ready\n")
}

// httpError is a whole-request refusal.
type httpError struct {
	status     int
	code       string
	reason     string
	retryAfter time.Duration
}

func (g *Gateway) serveEvents(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	g.m.inFlight.Inc()
	status := g.ingest(w, r)
	g.m.inFlight.Dec()
	code := strconv.Itoa(status)
	g.m.requests.WithLabelValues(code).Inc()
	g.m.requestLatency.WithLabelValues(code).Observe(time.Since(start).Seconds())
}

// ingest handles one batch and returns the HTTP status it wrote.
func (g *Gateway) ingest(w http.ResponseWriter, r *http.Request) int {
	idx, ok := g.keys.lookup(requestKey(r))
	if !ok {
		reason := "missing API key: send Authorization: Bearer KEY or X-API-Key: KEY"
		if requestKey(r) != "" {
			reason = "unknown API key"
		}
		return writeError(w, http.StatusUnauthorized, "unauthorized", reason, 0)
	}
	game := g.keys.games[idx]

	format, herr := requestFormat(r)
	if herr != nil {
		return writeError(w, herr.status, herr.code, herr.reason, 0)
	}
	var lim *rate.Limiter
	if g.limiters != nil {
		lim = g.limiters[idx]
		if lim.Tokens() < 1 { // refuse before reading the body
			return g.rateLimited(w, lim, 1)
		}
	}
	if !g.kafkaOK.Load() {
		return writeError(w, http.StatusServiceUnavailable, "unavailable", "kafka unavailable; retry later", g.cfg.RetryAfter)
	}

	body, sent, release, herr := g.readBody(r)
	defer release()
	// The bytes read, not Content-Length: a chunked body has none (-1).
	g.m.bytes.Add(float64(sent))
	if herr != nil {
		return writeError(w, herr.status, herr.code, herr.reason, 0)
	}

	items, err := event.DecodeBatch(format, body, g.cfg.limits())
	if err != nil {
		var be *event.BatchError
		if errors.As(err, &be) && be.Code == event.BatchTooMany {
			return writeError(w, http.StatusRequestEntityTooLarge, be.Code, be.Reason, 0)
		}
		return writeError(w, http.StatusBadRequest, event.BatchMalformed, err.Error(), 0)
	}
	if lim != nil && len(items) > 0 {
		if status := g.reserve(w, lim, len(items)); status != 0 {
			return status
		}
	}

	now := g.now()
	rules := event.Rules{Now: now, MaxPast: g.cfg.MaxPast, MaxFuture: g.cfg.MaxFuture, MaxDepth: g.cfg.MaxDepth}
	received := timestamppb.New(now)
	var rejected []RejectedEvent
	recs := make([]kgo.Record, 0, len(items))
	size := len(body) + len(items)*48
	if g.cfg.RawEncoding == record.EncodingJSON { // JSON is about twice Protobuf's size
		size = 2*len(body) + len(items)*96
	}
	arena := make([]byte, 0, size)
	for i := range items {
		it := &items[i]
		if it.Rejection == nil {
			it.Rejection = event.Validate(it.Event, rules)
		}
		if it.Rejection != nil {
			rejected = append(rejected, RejectedEvent{Index: i, Code: it.Rejection.Code, Reason: it.Rejection.Reason})
			g.m.rejected.WithLabelValues(it.Rejection.Code).Inc()
			continue
		}
		ev := it.Event
		off := len(arena)
		arena, err = g.appendRaw(arena, it, game, received)
		if err != nil { // cannot happen for a decoded, validated event; refuse it rather than lose it silently
			rejected = append(rejected, RejectedEvent{Index: i, Code: event.CodeMalformed, Reason: "cannot encode event: " + err.Error()})
			continue
		}
		recs = append(recs, kgo.Record{Topic: g.cfg.Topic, Key: []byte(ev.PlayerId), Value: arena[off:len(arena):len(arena)], Headers: g.headers})
	}

	if len(recs) > 0 {
		if herr := g.produce(r.Context(), recs); herr != nil {
			return writeError(w, herr.status, herr.code, herr.reason, herr.retryAfter)
		}
		g.m.accepted.WithLabelValues(game).Add(float64(len(recs)))
	}
	status := http.StatusOK
	if len(recs) == 0 && len(rejected) > 0 {
		status = http.StatusBadRequest
	}
	writeResult(w, status, len(recs), rejected)
	return status
}

// appendRaw appends the raw record value of a validated item, with the
// server's fields (schema_version when unset, game_id, received_at), in the
// raw encoding. On error it returns arena unchanged.
func (g *Gateway) appendRaw(arena []byte, it *event.Item, game string, received *timestamppb.Timestamp) ([]byte, error) {
	ev := it.Event
	var version uint32
	if ev.SchemaVersion == 0 {
		version = event.SchemaVersion
	}
	if g.cfg.RawEncoding == record.EncodingProtobuf && it.Raw != nil {
		// Binary in, binary out: append the server's fields on the wire.
		return event.AppendWithServerFields(arena, it.Raw, version, game, received), nil
	}
	// The decoded event, with the server's fields, in the raw encoding:
	// Protobuf from a JSON batch, or JSON (which the jobs read back with
	// the event package's JSON decoder).
	ev.GameId, ev.ReceivedAt = game, received
	if version > 0 {
		ev.SchemaVersion = version
	}
	if g.cfg.RawEncoding == record.EncodingJSON {
		return event.AppendJSON(arena, ev)
	}
	out, err := proto.MarshalOptions{}.MarshalAppend(arena, ev)
	if err != nil {
		return arena, err
	}
	return out, nil
}

// produce hands recs to Kafka and waits until every one is acknowledged.
func (g *Gateway) produce(ctx context.Context, recs []kgo.Record) *httpError {
	n := int64(len(recs))
	if !g.pending.TryAcquire(n) {
		return &httpError{status: http.StatusServiceUnavailable, code: "overloaded",
			reason: "too many events waiting for Kafka; retry later", retryAfter: g.cfg.RetryAfter}
	}
	g.m.pending.Add(float64(n))
	start := time.Now()

	var (
		left     = n
		done     = make(chan struct{})
		errMu    sync.Mutex
		firstErr error
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			errMu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			errMu.Unlock()
		}
		g.pending.Release(1)
		g.m.pending.Dec()
		if atomic.AddInt64(&left, -1) == 0 {
			close(done)
		}
	}
	// The records do not carry the request's context: franz-go batches
	// records of many requests together, and a canceled record context can
	// fail a whole batch, so one client hanging up would fail its
	// neighbours' events. Records live by the client's delivery timeout;
	// this request waits at most ProduceTimeout for them.
	for i := range recs {
		g.cl.Produce(context.Background(), &recs[i], promise)
	}
	timer := time.NewTimer(g.cfg.ProduceTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-ctx.Done():
		// The client went away. Its records may still be stored, and its
		// retry may duplicate them; downstream deduplicates by event_id.
		return &httpError{status: 499, code: "canceled", reason: "client went away"}
	case <-timer.C:
		// Not acknowledged in time. The records stay with the producer,
		// which may still store them (an idempotent producer retries what
		// may be in flight) and then releases their budget; the arena they
		// point into is not reused. A retry can thus duplicate events, and
		// downstream deduplicates by event_id.
		g.m.produceLatency.Observe(time.Since(start).Seconds())
		g.log.Warn("kafka did not acknowledge in time; answering 503 until it is back", "timeout", g.cfg.ProduceTimeout, "events", n)
		g.setKafka(false)
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
			reason:     fmt.Sprintf("kafka did not acknowledge the batch within %s; nothing in it is guaranteed stored, retry it", g.cfg.ProduceTimeout),
			retryAfter: g.cfg.RetryAfter}
	}
	g.m.produceLatency.Observe(time.Since(start).Seconds())
	errMu.Lock()
	err := firstErr
	errMu.Unlock()
	if err != nil {
		g.log.Warn("produce failed; answering 503 until kafka is back", "err", err, "events", n)
		g.setKafka(false)
		return &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
			reason:     "kafka did not acknowledge the batch: " + err.Error() + "; nothing in it is guaranteed stored, retry it",
			retryAfter: g.cfg.RetryAfter}
	}
	return nil
}

func (g *Gateway) reserve(w http.ResponseWriter, lim *rate.Limiter, n int) int {
	now := time.Now()
	res := lim.ReserveN(now, n)
	if !res.OK() {
		return g.rateLimited(w, lim, n)
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return g.rateLimited(w, lim, n)
	}
	return 0
}

func (g *Gateway) rateLimited(w http.ResponseWriter, lim *rate.Limiter, n int) int {
	g.m.rateLimited.Inc()
	need := float64(n) - lim.Tokens()
	wait := time.Duration(math.Ceil(need/float64(lim.Limit())*1000)) * time.Millisecond
	return writeError(w, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("rate limit of %.0f events/s for this key exceeded", float64(lim.Limit())), wait)
}

func requestFormat(r *http.Request) (event.Format, *httpError) {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil {
		return 0, &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
			reason: "Content-Type must be application/json, application/x-ndjson or application/x-protobuf"}
	}
	switch mt {
	case "application/json":
		return event.FormatJSON, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		return event.FormatNDJSON, nil
	case "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf", "application/octet-stream":
		return event.FormatProtobuf, nil
	}
	return 0, &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type",
		reason: fmt.Sprintf("Content-Type %q is not supported: use application/json, application/x-ndjson or application/x-protobuf", mt)}
}

// readBody reads the request body within the size limits, inflating gzip.
// sent is the number of bytes read as sent (before inflating), whether the
// body came with a Content-Length or chunked. release returns its buffers to
// the pool.
func (g *Gateway) readBody(r *http.Request) (body []byte, sent int64, release func(), herr *httpError) {
	noop := func() {}
	if r.ContentLength > g.cfg.MaxBodyBytes {
		return nil, 0, noop, tooLarge(fmt.Sprintf("body is %d bytes; the limit is %d", r.ContentLength, g.cfg.MaxBodyBytes))
	}
	buf := g.getBuf()
	release = func() { g.putBuf(buf) }
	n, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, n, release, tooLarge(fmt.Sprintf("body exceeds the limit of %d bytes", g.cfg.MaxBodyBytes))
		}
		return nil, n, release, &httpError{status: http.StatusBadRequest, code: "bad_body", reason: "reading body: " + err.Error()}
	}
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return buf.Bytes(), n, release, nil
	case "gzip", "x-gzip":
		zr, _ := g.gzrs.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(buf.Bytes()))
		} else {
			err = zr.Reset(bytes.NewReader(buf.Bytes()))
		}
		if err != nil {
			return nil, n, release, &httpError{status: http.StatusBadRequest, code: "bad_gzip", reason: "body is not valid gzip: " + err.Error()}
		}
		out := g.getBuf()
		release = func() { g.putBuf(buf); g.putBuf(out); g.gzrs.Put(zr) }
		inflated, err := out.ReadFrom(io.LimitReader(zr, g.cfg.MaxDecompressedBytes+1))
		if err != nil {
			return nil, n, release, &httpError{status: http.StatusBadRequest, code: "bad_gzip", reason: "body is not valid gzip: " + err.Error()}
		}
		if inflated > g.cfg.MaxDecompressedBytes {
			return nil, n, release, tooLarge(fmt.Sprintf("body inflates beyond the limit of %d bytes", g.cfg.MaxDecompressedBytes))
		}
		return out.Bytes(), n, release, nil
	default:
		return nil, n, release, &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_encoding",
			reason: fmt.Sprintf("Content-Encoding %q is not supported: use gzip or none", enc)}
	}
}

func tooLarge(reason string) *httpError {
	return &httpError{status: http.StatusRequestEntityTooLarge, code: "body_too_large", reason: reason}
}

func (g *Gateway) getBuf() *bytes.Buffer {
	if b, ok := g.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (g *Gateway) putBuf(b *bytes.Buffer) {
	if b.Cap() <= int(g.cfg.MaxDecompressedBytes) {
		g.bufs.Put(b)
	}
}

// RejectedEvent names one refused event of a batch by its 0-based index.
type RejectedEvent struct {
	Index  int    `json:"index"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
}

// Result is the body of every answer to POST /v1/events that got as far as
// looking at the events.
type Result struct {
	Accepted int             `json:"accepted"`
	Rejected []RejectedEvent `json:"rejected"`
}

func writeResult(w http.ResponseWriter, status, accepted int, rejected []RejectedEvent) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if len(rejected) == 0 {
		b := make([]byte, 0, 40)
		b = append(b, `{"accepted":`...)
		b = strconv.AppendInt(b, int64(accepted), 10)
		b = append(b, `,"rejected":[]}`...)
		b = append(b, '\n')
		w.Write(b)
		return
	}
	json.NewEncoder(w).Encode(Result{Accepted: accepted, Rejected: rejected})
}

// writeError answers a whole-request refusal: {"error": reason, "code": code}.
func writeError(w http.ResponseWriter, status int, code, reason string, retryAfter time.Duration) int {
	w.Header().Set("Content-Type", "application/json")
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}{reason, code})
	return status
}
