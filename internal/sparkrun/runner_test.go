package sparkrun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gamepulse/gamepulse/internal/sparkconnect"
	"github.com/gamepulse/gamepulse/internal/sparkjobs"
)

// fakeServer is a Spark Connect server's streaming query manager, shared
// by the sessions dialed to it.
type fakeServer struct {
	mu      sync.Mutex
	down    bool
	queries map[string]*fakeQuery // by name
	starts  []string
	stops   []string
	views   int
}

type fakeQuery struct {
	ref      sparkconnect.QueryRef
	active   bool
	exc      string
	progress []string
}

func progressJSON(id, run, name string, batch, rows int64, dropped int64) string {
	return fmt.Sprintf(`{"id":%q,"runId":%q,"name":%q,"timestamp":"2026-12-07T10:00:00.000Z","batchId":%d,"numInputRows":%d,
"inputRowsPerSecond":100.0,"processedRowsPerSecond":200.0,"durationMs":{"triggerExecution":500},
"eventTime":{"watermark":"2026-12-07T09:59:00.000Z"},
"stateOperators":[{"operatorName":"stateStoreSave","numRowsTotal":7,"numRowsUpdated":1,"memoryUsedBytes":1000,"numRowsDroppedByWatermark":%d}],
"sources":[{"description":"KafkaV2","numInputRows":%d,"metrics":{"avgOffsetsBehindLatest":"1.0","maxOffsetsBehindLatest":"3","minOffsetsBehindLatest":"0"}}],
"sink":{"description":"kafka","numOutputRows":-1}}`, id, run, name, batch, rows, dropped, rows)
}

type fakeSession struct{ srv *fakeServer }

func (f *fakeServer) dial(context.Context) (Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, errors.New("connection refused")
	}
	return &fakeSession{f}, nil
}

func (s *fakeSession) check() error {
	if s.srv.down {
		return errors.New("unavailable")
	}
	return nil
}

func (s *fakeSession) Conf(context.Context, map[string]string) error { return nil }
func (s *fakeSession) CreateStreamView(context.Context, string, string, map[string]string) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.views++
	return s.check()
}
func (s *fakeSession) CreateView(context.Context, string, string) error { return nil }
func (s *fakeSession) CreateDedupView(context.Context, string, string, []string) error {
	return nil
}
func (s *fakeSession) Close() error { return nil }

func (s *fakeSession) StartQuery(_ context.Context, q sparkconnect.Query) (sparkconnect.QueryRef, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if err := s.check(); err != nil {
		return sparkconnect.QueryRef{}, err
	}
	if q.CheckpointLocation == "" || q.SQL == "" {
		return sparkconnect.QueryRef{}, errors.New("no checkpoint or SQL")
	}
	s.srv.starts = append(s.srv.starts, q.Name)
	old := s.srv.queries[q.Name]
	ref := sparkconnect.QueryRef{ID: "id-" + q.Name, RunID: fmt.Sprintf("run-%d", len(s.srv.starts)), Name: q.Name}
	fq := &fakeQuery{ref: ref, active: true}
	if old != nil {
		fq.progress = old.progress // the checkpoint's batch ids go on
	}
	s.srv.queries[q.Name] = fq
	return ref, nil
}

func (s *fakeSession) Active(context.Context) ([]sparkconnect.QueryRef, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	if err := s.check(); err != nil {
		return nil, err
	}
	var out []sparkconnect.QueryRef
	for _, q := range s.srv.queries {
		if q.active {
			out = append(out, q.ref)
		}
	}
	return out, nil
}

func (s *fakeSession) query(ref sparkconnect.QueryRef) (*fakeQuery, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	q := s.srv.queries[ref.Name]
	if q == nil || q.ref.RunID != ref.RunID {
		return nil, errors.New("STREAMING_QUERY_NOT_FOUND")
	}
	return q, nil
}

func (s *fakeSession) Status(_ context.Context, ref sparkconnect.QueryRef) (sparkconnect.Status, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	q, err := s.query(ref)
	if err != nil {
		return sparkconnect.Status{}, err
	}
	return sparkconnect.Status{Active: q.active}, nil
}

func (s *fakeSession) RecentProgress(_ context.Context, ref sparkconnect.QueryRef) ([]string, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	q, err := s.query(ref)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), q.progress...), nil
}

func (s *fakeSession) Exception(_ context.Context, ref sparkconnect.QueryRef) (string, error) {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	q, err := s.query(ref)
	if err != nil {
		return "", err
	}
	return q.exc, nil
}

func (s *fakeSession) Stop(_ context.Context, ref sparkconnect.QueryRef) error {
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	q, err := s.query(ref)
	if err != nil {
		return err
	}
	q.active = false
	s.srv.stops = append(s.srv.stops, ref.Name)
	return nil
}

// do runs f on the server under its lock.
func (f *fakeServer) do(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func steps() []sparkjobs.Step {
	return []sparkjobs.Step{
		{Kind: sparkjobs.StreamView, Name: "raw", Format: "kafka"},
		{Kind: sparkjobs.Query, Name: "gamepulse_a", SQL: "SELECT 1", Format: "kafka", Checkpoint: "/cp/gamepulse_a"},
		{Kind: sparkjobs.Query, Name: "gamepulse_b", SQL: "SELECT 2", Format: "kafka", Checkpoint: "/cp/gamepulse_b"},
	}
}

// waitFor polls cond until it holds, failing the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRunnerStartsWatchesRestartsAndStops walks a Runner through a life:
// it starts both queries, counts each progress report once, reattaches
// after its own restart instead of starting again, restarts a failed
// query, dials again after the server went away, and stops the queries
// when its context ends.
func TestRunnerStartsWatchesRestartsAndStops(t *testing.T) {
	srv := &fakeServer{queries: map[string]*fakeQuery{}}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var r *Runner
	run := func(leave bool) (stop func()) {
		var err error
		r, err = New(Config{Steps: steps(), Dial: srv.dial, PollInterval: 5 * time.Millisecond, MaxBackoff: time.Second, LeaveRunning: leave}, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
	}
	starts := func() int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.starts)
	}

	// 1. A first run starts both; it leaves them running when it stops.
	stop := run(true)
	waitFor(t, "both queries start", func() bool { return starts() == 2 })
	srv.do(func() {
		a := srv.queries["gamepulse_a"]
		a.progress = append(a.progress, progressJSON(a.ref.ID, a.ref.RunID, "gamepulse_a", 0, 10, 0), progressJSON(a.ref.ID, a.ref.RunID, "gamepulse_a", 1, 20, 2))
	})
	waitFor(t, "two batches are counted", func() bool {
		return testutil.ToFloat64(m.inputRows.WithLabelValues("gamepulse_a")) == 30
	})
	stop()

	// 2. gamepulse restarts: it reattaches (no new start) and counts
	// only the batches it has not seen.
	stop = run(false)
	waitFor(t, "the restarted runner has read the reports so far", func() bool { return r.Queries()["gamepulse_a"].Last != nil })
	srv.do(func() {
		a := srv.queries["gamepulse_a"]
		a.progress = append(a.progress, progressJSON(a.ref.ID, a.ref.RunID, "gamepulse_a", 2, 5, 1))
	})
	waitFor(t, "the third batch is counted", func() bool {
		return testutil.ToFloat64(m.batches.WithLabelValues("gamepulse_a")) == 3
	})
	if got := starts(); got != 2 {
		t.Errorf("a restarted runner started %d queries in all, want 2 (reattached to the running ones)", got)
	}
	if got := testutil.ToFloat64(m.inputRows.WithLabelValues("gamepulse_a")); got != 35 {
		t.Errorf("input rows %v, want 35: each report counted once", got)
	}
	if got := testutil.ToFloat64(m.droppedRows.WithLabelValues("gamepulse_a")); got != 3 {
		t.Errorf("rows dropped by watermark %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.behind.WithLabelValues("gamepulse_a")); got != 3 {
		t.Errorf("offsets behind latest %v, want 3", got)
	}

	// 3. A query fails: it is started again from its checkpoint.
	srv.do(func() {
		b := srv.queries["gamepulse_b"]
		b.active, b.exc = false, "org.apache.spark.SparkException: boom\n\tat ..."
	})
	waitFor(t, "the failed query is started again", func() bool { return starts() == 3 })
	if got := testutil.ToFloat64(m.failures.WithLabelValues("gamepulse_b")); got != 1 {
		t.Errorf("failures %v, want 1", got)
	}

	// 4. The server dies and comes back empty (its sessions are gone):
	// the runner dials again and starts both from their checkpoints.
	srv.do(func() { srv.down = true })
	waitFor(t, "the session is seen down", func() bool { return testutil.ToFloat64(m.up) == 0 })
	srv.do(func() {
		srv.down = false
		for _, q := range srv.queries {
			q.active = false
		}
	})
	waitFor(t, "both queries start on the new session", func() bool { return starts() == 5 })
	waitFor(t, "the session is up", func() bool { return testutil.ToFloat64(m.up) == 1 })

	// 5. SIGTERM: the queries are stopped.
	stop()
	srv.do(func() {
		for n, q := range srv.queries {
			if q.active {
				t.Errorf("query %s still runs after the runner stopped", n)
			}
		}
	})
}

func TestConfigValidateNamesTheField(t *testing.T) {
	dial := (&fakeServer{}).dial
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dial", Config{Steps: steps()}, "Dial"},
		{"no query", Config{Steps: steps()[:1], Dial: dial}, "Steps"},
		{"poll", Config{Steps: steps(), Dial: dial, PollInterval: -1}, "PollInterval"},
		{"backoff", Config{Steps: steps(), Dial: dial, MaxBackoff: time.Millisecond}, "MaxBackoff"},
		{"trigger", Config{Steps: steps(), Dial: dial, ProcessingTime: -time.Second}, "ProcessingTime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
