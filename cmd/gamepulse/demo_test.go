package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDemoStopsWithKPIsThatAgreeWithItsEvents runs a short demo whose
// simulator ends with a burst of late events (held back past the end of the
// run, sent at shutdown, for minutes the processor has already closed) and
// then reconciles the warehouse: the KPI rows must agree with the events
// table, so the demo must have drained what was in Kafka before exiting.
func TestDemoStopsWithKPIsThatAgreeWithItsEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline")
	}
	dir := t.TempDir()
	wh := "duckdb:" + filepath.Join(dir, "warehouse.duckdb")
	start := time.Now()
	// Unpaced, 3000 events span 30 simulated seconds (100 events/s) from 5 s
	// before a minute boundary M of a minute ago: the minute before M closes
	// halfway (allowed lateness 10 s), and the late events, all still held
	// at the end, go out at shutdown, a sixth of them corrections of that
	// closed minute.
	m := start.Truncate(time.Minute).Add(-time.Minute)
	var errb lockedBuffer // the demo's status line and logs write from several goroutines
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"demo", "--data-dir", filepath.Join(dir, "broker"), "--warehouse", wh, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--rate", "0", "--count", "3000", "--start", m.Add(-5 * time.Second).Format(time.RFC3339), "--late", "0.2",
		"--reconcile-every", "0", "--rate-limit", "0", "--log-level", "info"}
	err := Main(ctx, &Env{Stdout: io.Discard, Stderr: &errb, Getenv: func(string) string { return "" }}, args)
	stderr := errb.String()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	t.Logf("demo took %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(stderr, "demo finished") || !strings.Contains(stderr, `msg=drained took=`) {
		t.Fatalf("no drain or no summary:\n%s", stderr)
	}
	out, _, err := runMain(t, nil, "reconcile", "--warehouse", wh, "--from", start.Add(-30*time.Minute).Format(time.RFC3339),
		"--to", time.Now().Add(time.Minute).Format(time.RFC3339))
	if err != nil {
		t.Fatalf("reconcile after a clean stop: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`kpi_minute: [1-9]\d* rows compared`).MatchString(out) {
		t.Fatalf("reconcile compared nothing:\n%s", out)
	}
	t.Logf("reconcile:\n%s", out)
}

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
