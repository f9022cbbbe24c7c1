package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// TestGatewayRefusesBadSettingsBeforeWaitingForKafka: nonsense limits and a
// bad listen address are reported at once, naming the setting, with no Kafka
// reachable (the brokers' address refuses connections).
func TestGatewayRefusesBadSettingsBeforeWaitingForKafka(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-body-bytes", "-1"}, "--max-body-bytes must be ≥ 1"},
		{[]string{"--max-events", "0"}, "--max-events must be ≥ 1"},
		{[]string{"--max-event-bytes", "0"}, "--max-event-bytes must be ≥ 1"},
		{[]string{"--max-depth", "-3"}, "--max-depth must be ≥ 1"},
		{[]string{"--max-decompressed-bytes", "0"}, "--max-decompressed-bytes"},
		{[]string{"--max-pending-events", "0"}, "--max-pending-events"},
		{[]string{"--max-past", "-1s"}, "--max-past must be > 0"},
		{[]string{"--max-future", "-1s"}, "--max-future must be ≥ 0"},
		{[]string{"--rate-limit", "-5"}, "--rate-limit must be ≥ 0"},
		{[]string{"--produce-timeout", "0s"}, "--produce-timeout must be > 0"},
		{[]string{"--retry-after", "-1s"}, "--retry-after must be > 0"},
		{[]string{"--shutdown-grace", "-1s"}, "--shutdown-grace must be ≥ 0"},
		{[]string{"--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"--listen", "nonsense"}, "--listen"},
		// Rules between settings, which gateway.Config.Validate reports by
		// field and the command by flag (fieldFlags).
		{[]string{"--rate-burst", "10"}, "gateway: --rate-burst (10) must be at least --max-events (1000)"},
		{[]string{"--max-body-bytes", "100", "--max-decompressed-bytes", "10"}, "gateway: --max-decompressed-bytes (10) is below --max-body-bytes (100)"},
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests = append(tests, struct {
		args []string
		want string
	}{[]string{"--listen", busy.Addr().String()}, "address already in use"}, struct {
		args []string
		want string
	}{[]string{"--metrics-listen", busy.Addr().String()}, "--metrics-listen"})
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var out bytes.Buffer
			env := &Env{Stdout: &out, Stderr: &out, Getenv: func(k string) string {
				if k == "GAMEPULSE_API_KEYS" {
					return "k=g"
				}
				return ""
			}}
			args := append([]string{"gateway", "--brokers", "127.0.0.1:1", "--listen", "127.0.0.1:0", "--metrics-listen", ""}, tc.args...)
			start := time.Now()
			err := Main(ctx, env, args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error naming %q\n%s", err, tc.want, out.String())
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %s: the error must come before waiting for Kafka", d)
			}
		})
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get answers GET url with an optional bearer token: status and body.
func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// TestGatewayAdminIsOffThePublicPort: the public listener serves ingest and
// the probes only; /metrics, the live page and pprof are on the admin
// address, which --admin-token guards (the public probes stay open).
func TestGatewayAdminIsOffThePublicPort(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, token := range []string{"", "s3cret-admin"} {
		t.Run("token="+token, func(t *testing.T) {
			public, admin := freeAddr(t), freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var logs bytes.Buffer
			env := &Env{Stdout: io.Discard, Stderr: &syncWriter{w: &logs}, Getenv: func(k string) string {
				switch k {
				case "GAMEPULSE_API_KEYS":
					return "k=g"
				case "GAMEPULSE_ADMIN_TOKEN":
					return token
				}
				return ""
			}}
			go func() {
				done <- Main(ctx, env, []string{"gateway", "--brokers", strings.Join(c.ListenAddrs(), ","), "--replication", "1",
					"--listen", public, "--metrics-listen", admin, "--pprof"})
			}()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("gateway: %v", err)
				}
			}()
			deadline := time.Now().Add(20 * time.Second)
			for {
				if code, _ := get(t, "http://"+public+"/readyz", ""); code == 200 {
					break
				}
				select {
				case err := <-done:
					done <- nil
					t.Fatalf("gateway stopped: %v\n%s", err, logs.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("gateway not ready\n%s", logs.String())
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, p := range []string{"/", "/metrics", "/debug/pprof/"} {
				if code, body := get(t, "http://"+public+p, token); code != 404 {
					t.Errorf("public GET %s: %d, want 404\n%.200s", p, code, body)
				}
			}
			if code, _ := get(t, "http://"+public+"/healthz", ""); code != 200 {
				t.Errorf("public /healthz without a token: %d, want 200", code)
			}
			if code, body := get(t, "http://"+public+"/v1/events", ""); code != 405 || !strings.Contains(body, `"code":"method_not_allowed"`) {
				t.Errorf("public GET /v1/events: %d %q, want 405 with the JSON error", code, body)
			}
			want := map[string]string{"/": "<html", "/metrics": "gamepulse_gateway_requests_total", "/debug/pprof/": "goroutine"}
			for p, text := range want {
				if code, body := get(t, "http://"+admin+p, token); code != 200 || !strings.Contains(strings.ToLower(body), strings.ToLower(text)) {
					t.Errorf("admin GET %s: %d, want 200 with %q\n%.200s", p, code, text, body)
				}
				if token == "" {
					continue
				}
				for _, wrong := range []string{"", "s3cret-admiN", "x"} {
					code, body := get(t, "http://"+admin+p, wrong)
					if code != 401 || !strings.Contains(body, `"code":"unauthorized"`) {
						t.Errorf("admin GET %s with token %q: %d %q, want 401 with the JSON error", p, wrong, code, body)
					}
				}
			}
		})
	}
}

// syncWriter lets the command's goroutines log into a buffer the test reads.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
