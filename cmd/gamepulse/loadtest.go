package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

// LoadtestCommand is "gamepulse loadtest":
// measure a gateway: events/s, latency percentiles, events per CPU-second.
type LoadtestCommand struct{}

func (*LoadtestCommand) Name() string { return "loadtest" }
func (*LoadtestCommand) Summary() string {
	return "measure a gateway: events/s, latency percentiles, events per CPU-second"
}
func (*LoadtestCommand) Usage() string {
	return `Usage: gamepulse loadtest --gateway URL --api-key KEY [--format json|protobuf] [--rate R] [--duration D]

Posts pre-encoded batches of simulated events to a gateway from --concurrency
connections and reports the achieved events/s, request latency percentiles and errors by
reason (HTTP status or network error). It exits nonzero when the share of
failed requests is above --max-error-rate.
With --rate 0 every connection sends as fast as it gets answers (peak
throughput); with --rate R (events/s) requests are scheduled at that rate and
latency is measured from the scheduled time, so a stall is not hidden.
With --gateway-pid, it also reads that process's CPU time from /proc and
reports events per gateway CPU-second.

Example:
  gamepulse loadtest --gateway http://127.0.0.1:8080 --api-key k --format protobuf --duration 20s --gateway-pid $(pgrep -f 'gamepulse gateway')`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *LoadtestCommand) Run(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, c)
	url := fs.String("gateway", "http://127.0.0.1:8080", "gateway base URL")
	key := fs.String("api-key", "", "write key")
	format := fs.String("format", "json", "body format: json, ndjson or protobuf")
	gz := fs.Bool("gzip", false, "gzip the bodies")
	batch := fs.Int("batch-size", 100, "events per request")
	conc := fs.Int("concurrency", 8, "parallel connections")
	rate := fs.Float64("rate", 0, "target events/s (0: as fast as answers come)")
	duration := fs.Duration("duration", 20*time.Second, "how long to send")
	warmup := fs.Duration("warmup", 3*time.Second, "sending before measuring starts")
	pid := fs.Int("gateway-pid", 0, "gateway process id, to report its CPU time")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	maxErrorRate := fs.Float64("max-error-rate", 0.01, "largest share of failed requests (0 to 1) for a successful exit")
	if err := resolve(fs, env, args); err != nil {
		return err
	}
	if *key == "" {
		return errors.New("loadtest: --api-key is required")
	}
	if !(*maxErrorRate >= 0 && *maxErrorRate <= 1) {
		return fmt.Errorf("loadtest: --max-error-rate must be from 0 to 1, got %g", *maxErrorRate)
	}
	bodies, ctype, err := loadtestBodies(*format, *gz, *batch, 64)
	if err != nil {
		return err
	}
	lt := &loadtest{url: strings.TrimRight(*url, "/") + "/v1/events", key: *key, ctype: ctype, gzip: *gz,
		bodies: bodies, batch: *batch, conc: *conc, rate: *rate}
	if *warmup > 0 {
		lt.run(ctx, *warmup, 0)
	}
	cpu0, err := procCPU(*pid)
	if err != nil {
		return err
	}
	res := lt.run(ctx, *duration, *pid)
	cpu1, _ := procCPU(*pid)
	res.GatewayCPUSeconds = cpu1 - cpu0
	if res.GatewayCPUSeconds > 0 {
		res.EventsPerGatewayCPUSecond = float64(res.Events) / res.GatewayCPUSeconds
	}
	res.Format, res.Gzip, res.Batch, res.Concurrency, res.TargetRate = *format, *gz, *batch, *conc, *rate
	if *asJSON {
		if err := json.NewEncoder(env.Stdout).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.Stdout, "%s batches of %d, %d connections, target %s, achieved %.0f events/s; latency p50 %.2f ms p99 %.2f ms p99.9 %.2f ms; errors %d of %d requests (%.1f%%)%s",
			*format, *batch, *conc, rateLabel(*rate), res.EventsPerSecond, res.P50Ms, res.P99Ms, res.P999Ms,
			res.Errors, res.Requests, 100*res.ErrorRate, errorsLabel(res.ErrorsByReason))
		if res.GatewayCPUSeconds > 0 {
			fmt.Fprintf(env.Stdout, "; gateway CPU %.1f s => %.0f events per gateway CPU-second", res.GatewayCPUSeconds, res.EventsPerGatewayCPUSecond)
		}
		fmt.Fprintln(env.Stdout)
	}
	switch {
	case res.Requests == 0:
		return errors.New("loadtest: no request was answered")
	case res.ErrorRate > *maxErrorRate:
		return fmt.Errorf("loadtest: %d of %d requests failed (%.1f%%), above --max-error-rate %g", res.Errors, res.Requests, 100*res.ErrorRate, *maxErrorRate)
	}
	return nil
}

func rateLabel(r float64) string {
	if r == 0 {
		return "none (as fast as answers come)"
	}
	return strconv.FormatFloat(r, 'f', 0, 64) + " ev/s"
}

// errorsLabel lists error counts by reason, most frequent first.
func errorsLabel(by map[string]int) string {
	if len(by) == 0 {
		return ""
	}
	reasons := make([]string, 0, len(by))
	for r := range by {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if by[reasons[i]] != by[reasons[j]] {
			return by[reasons[i]] > by[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%s %d", r, by[r])
	}
	return ": " + strings.Join(parts, ", ")
}

// loadtestResult is one run's outcome.
type loadtestResult struct {
	Format                    string         `json:"format"`
	Gzip                      bool           `json:"gzip"`
	Batch                     int            `json:"batch"`
	Concurrency               int            `json:"concurrency"`
	TargetRate                float64        `json:"target_rate"`
	Seconds                   float64        `json:"seconds"`
	Requests                  int            `json:"requests"`
	Events                    int            `json:"events"`
	Errors                    int            `json:"errors"`
	ErrorRate                 float64        `json:"error_rate"`
	ErrorsByReason            map[string]int `json:"errors_by_reason,omitempty"`
	EventsPerSecond           float64        `json:"events_per_second"`
	P50Ms                     float64        `json:"p50_ms"`
	P99Ms                     float64        `json:"p99_ms"`
	P999Ms                    float64        `json:"p999_ms"`
	GatewayCPUSeconds         float64        `json:"gateway_cpu_seconds"`
	EventsPerGatewayCPUSecond float64        `json:"events_per_gateway_cpu_second"`
}

type loadtest struct {
	url, key, ctype string
	gzip            bool
	bodies          [][]byte
	batch, conc     int
	rate            float64
}

func (lt *loadtest) run(ctx context.Context, d time.Duration, _ int) loadtestResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: lt.conc, MaxConnsPerHost: lt.conc}, Timeout: 30 * time.Second}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		reqs      int
		errs      int
		byReason  = map[string]int{}
		wg        sync.WaitGroup
	)
	start := time.Now()
	var interval time.Duration // per connection, between scheduled sends
	if lt.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(lt.batch) * float64(lt.conc) / lt.rate)
	}
	for w := 0; w < lt.conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var local []time.Duration
			lreqs, lerrs := 0, 0
			lreasons := map[string]int{}
			next := start.Add(time.Duration(w) * interval / time.Duration(lt.conc))
			for i := w; ctx.Err() == nil; i += lt.conc {
				sent := time.Now()
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-ctx.Done():
						case <-time.After(wait):
						}
						if ctx.Err() != nil {
							break
						}
					}
					sent = next // measure from the scheduled time
					next = next.Add(interval)
				}
				reason := lt.post(ctx, client, lt.bodies[i%len(lt.bodies)])
				if ctx.Err() != nil {
					break
				}
				local = append(local, time.Since(sent))
				lreqs++
				if reason != "" {
					lerrs++
					lreasons[reason]++
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			reqs += lreqs
			errs += lerrs
			for r, n := range lreasons {
				byReason[r] += n
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(p*float64(len(latencies)-1))]) / 1e6
	}
	ok := reqs - errs
	res := loadtestResult{Seconds: elapsed, Requests: reqs, Events: ok * lt.batch, Errors: errs, ErrorsByReason: byReason,
		EventsPerSecond: float64(ok*lt.batch) / elapsed, P50Ms: pct(0.50), P99Ms: pct(0.99), P999Ms: pct(0.999)}
	if reqs > 0 {
		res.ErrorRate = float64(errs) / float64(reqs)
	}
	return res
}

// post sends one request; it returns why it failed (an HTTP status or a
// network error), or "" when the gateway answered 200.
func (lt *loadtest) post(ctx context.Context, client *http.Client, body []byte) string {
	req, _ := http.NewRequestWithContext(ctx, "POST", lt.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", lt.ctype)
	req.Header.Set("Authorization", "Bearer "+lt.key)
	if lt.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		return networkReason(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return ""
}

// networkReason names a failed request's error without its addresses, so
// that equal failures count together.
func networkReason(err error) string {
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &op):
		return op.Op + ": " + op.Err.Error()
	}
	return "network error"
}

// loadtestBodies encodes n batches of simulated events, timestamped now.
func loadtestBodies(format string, gz bool, batch, n int) ([][]byte, string, error) {
	cfg := simulate.Defaults()
	cfg.Seed, cfg.Start, cfg.Rate = 1, time.Now(), 1e6
	gen, err := simulate.New(cfg)
	if err != nil {
		return nil, "", err
	}
	var bodies [][]byte
	var ctype string
	for b := 0; b < n; b++ {
		var evs []*event.Event
		for len(evs) < batch {
			if it := gen.Next(); it.Event != nil && it.Kind == simulate.KindNormal {
				evs = append(evs, it.Event)
			}
		}
		var body []byte
		switch format {
		case "json", "ndjson":
			sep, open, close := byte(','), "[", "]"
			ctype = "application/json"
			if format == "ndjson" {
				sep, open, close, ctype = '\n', "", "\n", "application/x-ndjson"
			}
			body = append(body, open...)
			for i, e := range evs {
				if i > 0 {
					body = append(body, sep)
				}
				if body, err = event.AppendJSON(body, e); err != nil {
					return nil, "", err
				}
			}
			body = append(body, close...)
		case "protobuf":
			ctype = "application/x-protobuf"
			if body, err = proto.Marshal(&event.EventBatch{Events: evs}); err != nil {
				return nil, "", err
			}
		default:
			return nil, "", fmt.Errorf("loadtest: --format must be json, ndjson or protobuf, got %q", format)
		}
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
			body = buf.Bytes()
		}
		bodies = append(bodies, body)
	}
	return bodies, ctype, nil
}
