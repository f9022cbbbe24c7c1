package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/gamepulse/gamepulse/internal/event"
)

// HTTPOptions tune an HTTPSink. Zero fields take the documented defaults.
type HTTPOptions struct {
	// Client sends the requests; default: a client with a 30 s timeout.
	Client *http.Client
	// Format of the body: event.FormatJSON (a JSON array, the default),
	// event.FormatNDJSON or event.FormatProtobuf (an EventBatch). The
	// Protobuf form cannot carry malformed items that are not events (Event
	// nil): the sink does not send them and counts them as rejected.
	Format event.Format
	// Gzip compresses bodies (Content-Encoding: gzip).
	Gzip bool
	// Keys maps a game_id to its API key. The gateway stamps every event
	// of a request with the game of the request's key, so a run over
	// several games needs one key per game; items of games not listed use
	// the sink's default key. A batch is split into one request per key.
	Keys map[string]string
	// MaxRetries bounds the retries of one request after 429, 502, 503,
	// 504 or a network error; default 8. Negative: no retries.
	MaxRetries int
	// MaxWait bounds one wait between retries, Retry-After included;
	// default 30 s.
	MaxWait time.Duration
	// OnReject, if set, is called for every item the receiver refused,
	// with the receiver's code and reason (compare with Item.Code).
	OnReject func(it Item, r event.Rejection)
	// Logger tells when the gateway becomes unavailable (once, with the
	// reason) and available again (with the outage's duration and
	// retries); nil: discard.
	Logger *slog.Logger
}

// HTTPSink posts batches to the gateway's POST {url}/v1/events.
//
// A request is retried whole, which can duplicate events when a response is
// lost after the gateway stored them: downstream deduplication by event_id
// absorbs that, and Retries tells how often it may have happened. An
// HTTPSink is not safe for concurrent use (it reuses its buffers).
type HTTPSink struct {
	endpoint string
	key      string
	opts     HTTPOptions
	retries  atomic.Int64
	outage   outage
	body     []byte
	zbuf     bytes.Buffer
	zw       *gzip.Writer
}

// NewHTTPSink returns a sink posting to baseURL (e.g. http://localhost:8080)
// with `Authorization: Bearer apiKey`.
func NewHTTPSink(baseURL, apiKey string, opts HTTPOptions) (*HTTPSink, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("simulate: gateway url %q: want http(s)://host[:port]", baseURL)
	}
	if apiKey == "" && len(opts.Keys) == 0 {
		return nil, fmt.Errorf("simulate: http sink: no API key")
	}
	switch opts.Format {
	case event.FormatJSON, event.FormatNDJSON, event.FormatProtobuf:
	default:
		return nil, fmt.Errorf("simulate: http sink: unsupported format %s", opts.Format)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 8
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &HTTPSink{
		endpoint: strings.TrimRight(baseURL, "/") + "/v1/events",
		key:      apiKey,
		opts:     opts,
	}, nil
}

// Retries returns how many requests have been sent again so far.
func (s *HTTPSink) Retries() int64 { return s.retries.Load() }

// Close does nothing: every Send waits for its answer.
func (s *HTTPSink) Close(context.Context) error { return nil }

// Send posts items, one request per API key, and waits for the answers.
func (s *HTTPSink) Send(ctx context.Context, items []Item) (accepted, rejected int, err error) {
	if len(s.opts.Keys) == 0 {
		return s.post(ctx, s.key, items)
	}
	type group struct {
		key   string
		items []Item
	}
	var groups []group // in order of first appearance: no map iteration
	for _, it := range items {
		key, ok := s.opts.Keys[it.Game]
		if !ok {
			key = s.key
		}
		i := 0
		for i < len(groups) && groups[i].key != key {
			i++
		}
		if i == len(groups) {
			groups = append(groups, group{key: key})
		}
		groups[i].items = append(groups[i].items, it)
	}
	for _, gr := range groups {
		if gr.key == "" {
			return accepted, rejected, fmt.Errorf("simulate: http sink: no API key for game %q", gr.items[0].Game)
		}
		a, r, err := s.post(ctx, gr.key, gr.items)
		accepted += a
		rejected += r
		if err != nil {
			return accepted, rejected, err
		}
	}
	return accepted, rejected, nil
}

// result is the gateway's answer: {"accepted": N, "rejected": [...]} for a
// batch it looked into, {"error": reason, "code": code} for a refused
// request.
type result struct {
	Accepted *int `json:"accepted"`
	Rejected []struct {
		Index  int    `json:"index"`
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	Error string `json:"error"`
	Code  string `json:"code"`
}

func (s *HTTPSink) post(ctx context.Context, key string, items []Item) (accepted, rejected int, err error) {
	sent, skipped, contentType, err := s.encode(items)
	if err != nil {
		return 0, 0, err
	}
	for _, it := range skipped {
		s.reject(it, event.Rejection{Code: it.Code, Reason: "not sent: a malformed item that is not an event has no Protobuf form"})
	}
	if len(sent) == 0 {
		return 0, len(skipped), nil
	}
	body := s.body
	if s.opts.Gzip {
		s.zbuf.Reset()
		if s.zw == nil {
			s.zw = gzip.NewWriter(&s.zbuf)
		} else {
			s.zw.Reset(&s.zbuf)
		}
		s.zw.Write(body)
		s.zw.Close()
		body = s.zbuf.Bytes()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
		if err != nil {
			return 0, len(skipped), fmt.Errorf("simulate: http sink: %w", err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+key)
		if s.opts.Gzip {
			req.Header.Set("Content-Encoding", "gzip")
		}
		resp, err := s.opts.Client.Do(req)
		var wait time.Duration
		var cause error
		if err != nil {
			if ctx.Err() != nil {
				return 0, len(skipped), fmt.Errorf("simulate: post %s: %w", s.endpoint, ctx.Err())
			}
			cause = err
			wait = backoff(attempt, s.opts.MaxWait)
		} else {
			raw, rerr := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			switch code := resp.StatusCode; {
			case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
				code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
				cause = fmt.Errorf("%s: %s", resp.Status, snippet(raw))
				wait = retryAfter(resp.Header.Get("Retry-After"), attempt, s.opts.MaxWait)
			case rerr != nil:
				cause = fmt.Errorf("reading the answer: %w", rerr)
				wait = backoff(attempt, s.opts.MaxWait)
			case code/100 == 2 || code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
				s.outage.end(s.opts.Logger, s.endpoint)
				a, r, err := s.answer(code, raw, sent)
				return a, r + len(skipped), err
			default: // 401, 403, 404, 413, 415, 500: retrying will not help
				s.outage.end(s.opts.Logger, s.endpoint)
				return 0, len(skipped), fmt.Errorf("simulate: post %s: %s: %s", s.endpoint, resp.Status, snippet(raw))
			}
		}
		if attempt >= s.opts.MaxRetries {
			s.outage.giveUp(s.opts.Logger, s.endpoint, cause)
			return 0, len(skipped), fmt.Errorf("simulate: post %s: giving up after %d attempts: %w", s.endpoint, attempt+1, cause)
		}
		s.outage.begin(s.opts.Logger, s.endpoint, cause)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.outage.giveUp(s.opts.Logger, s.endpoint, ctx.Err())
			return 0, len(skipped), fmt.Errorf("simulate: post %s: %w (last: %v)", s.endpoint, ctx.Err(), cause)
		case <-t.C:
		}
		s.retries.Add(1)
		s.outage.retries++
	}
}

// outage is a spell of retried requests: it is logged once when it begins
// and once when it ends, not at every retry.
type outage struct {
	since   time.Time // zero: the gateway answers
	retries int64
}

func (o *outage) begin(log *slog.Logger, endpoint string, cause error) {
	if !o.since.IsZero() {
		return
	}
	o.since, o.retries = time.Now(), 0
	log.Warn("gateway unavailable; retrying", "url", endpoint, "reason", cause)
}

func (o *outage) end(log *slog.Logger, endpoint string) {
	if o.since.IsZero() {
		return
	}
	log.Info("gateway available again", "url", endpoint, "lasted", time.Since(o.since).Round(time.Millisecond), "retries", o.retries)
	o.since = time.Time{}
}

func (o *outage) giveUp(log *slog.Logger, endpoint string, cause error) {
	if o.since.IsZero() {
		return
	}
	log.Warn("gateway still unavailable; gave up", "url", endpoint, "lasted", time.Since(o.since).Round(time.Millisecond), "retries", o.retries, "reason", cause)
	o.since = time.Time{}
}

// answer reads a 2xx/400/422 body: per-item results, or a whole-batch
// refusal.
func (s *HTTPSink) answer(status int, raw []byte, sent []Item) (accepted, rejected int, err error) {
	var res result
	if err := json.Unmarshal(raw, &res); err != nil {
		if status/100 == 2 {
			return 0, 0, fmt.Errorf("simulate: post %s: unreadable answer %q: %w", s.endpoint, snippet(raw), err)
		}
		res.Code, res.Error = "bad_request", snippet(raw)
	}
	if res.Accepted == nil && status/100 != 2 { // the whole request was refused
		for _, it := range sent {
			s.reject(it, event.Rejection{Code: res.Code, Reason: res.Error})
		}
		return 0, len(sent), nil
	}
	if res.Accepted == nil {
		return 0, 0, fmt.Errorf("simulate: post %s: answer has no \"accepted\": %q", s.endpoint, snippet(raw))
	}
	for _, r := range res.Rejected {
		if r.Index >= 0 && r.Index < len(sent) {
			s.reject(sent[r.Index], event.Rejection{Code: r.Code, Reason: r.Reason})
		}
	}
	return *res.Accepted, len(res.Rejected), nil
}

func (s *HTTPSink) reject(it Item, r event.Rejection) {
	if s.opts.OnReject != nil {
		s.opts.OnReject(it, r)
	}
}

// encode writes the body of items into s.body. sent are the items in the
// body, in order (the gateway's indexes point into it); skipped could not
// be encoded in the format.
func (s *HTTPSink) encode(items []Item) (sent, skipped []Item, contentType string, err error) {
	b := s.body[:0]
	defer func() { s.body = b }()
	switch s.opts.Format {
	case event.FormatProtobuf:
		contentType = "application/x-protobuf"
		var one []byte
		for _, it := range items {
			if it.Event == nil {
				skipped = append(skipped, it)
				continue
			}
			if one, err = event.AppendBinary(one[:0], it.Event); err != nil {
				return nil, nil, "", fmt.Errorf("simulate: http sink: %w", err)
			}
			b = protowire.AppendTag(b, 1, protowire.BytesType) // EventBatch.events
			b = protowire.AppendBytes(b, one)
			sent = append(sent, it)
		}
	case event.FormatNDJSON:
		contentType = "application/x-ndjson"
		for _, it := range items {
			if b, err = appendJSON(b, it); err != nil {
				return nil, nil, "", fmt.Errorf("simulate: http sink: %w", err)
			}
			b = append(b, '\n')
		}
		sent = items
	default:
		contentType = "application/json"
		b = append(b, '[')
		for i, it := range items {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, it); err != nil {
				return nil, nil, "", fmt.Errorf("simulate: http sink: %w", err)
			}
		}
		b = append(b, ']')
		sent = items
	}
	return sent, skipped, contentType, nil
}

// backoff is exponential from 100 ms with full jitter, at most max.
func backoff(attempt int, limit time.Duration) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 16)
	if d > limit || d <= 0 {
		d = limit
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter honours a Retry-After header (seconds or an HTTP date), at most
// max; without one it backs off.
func retryAfter(h string, attempt int, limit time.Duration) time.Duration {
	if h == "" {
		return backoff(attempt, limit)
	}
	var d time.Duration
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	} else {
		return backoff(attempt, limit)
	}
	return min(max(d, 10*time.Millisecond), limit)
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
