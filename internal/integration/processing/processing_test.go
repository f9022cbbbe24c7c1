//go:build integration

// Package processing holds the stream processor's tests on real Apache Kafka
// (started by scripts/test.sh): the gamepulse binary is run as one or more
// processor instances, killed with SIGKILL, scaled out and in, and paused
// with SIGSTOP, and every output topic read back with read_committed must
// equal the batch oracle over the same raw records.
package processing

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
)

const partitions = 4

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the gamepulse binary once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gamepulse-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "gamepulse")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/gamepulse")
		cmd.Dir = "../../.."
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func brokers(t *testing.T) []string {
	t.Helper()
	b := os.Getenv("GAMEPULSE_TEST_KAFKA_BROKERS")
	if b == "" {
		t.Fatal("GAMEPULSE_TEST_KAFKA_BROKERS is not set: run these tests through scripts/test.sh, which starts real Kafka")
	}
	return kafka.ParseBrokers(b)
}

// setup is one test's world: its own topics and application id, so tests
// do not see each other's data.
type setup struct {
	t       *testing.T
	opts    []kgo.Opt
	topics  kafka.Topics
	appID   string
	fxFile  string
	logDir  string
	extra   []string
	mu      sync.Mutex
	running map[string]*instance
}

func newSetup(t *testing.T, extra ...string) *setup {
	t.Helper()
	id := fmt.Sprintf("it-%s-%d", strings.ToLower(t.Name()), rand.IntN(1e6))
	tp := kafka.Topics{Raw: id + ".raw", DeadLetter: id + ".dlq", Enriched: id + ".enriched", Late: id + ".late",
		Sessions: id + ".sessions", KPI: id + ".kpi", Alerts: id + ".alerts",
		Partitions: partitions, Replication: -1}
	fx := filepath.Join(t.TempDir(), "fx.txt")
	var b strings.Builder
	for c, r := range pipelinetest.SimRates {
		fmt.Fprintf(&b, "%s=%v\n", c, r)
	}
	if err := os.WriteFile(fx, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logDir := filepath.Join(os.Getenv("GAMEPULSE_TEST_ARTIFACTS"), t.Name())
	if os.Getenv("GAMEPULSE_TEST_ARTIFACTS") == "" {
		logDir = t.TempDir()
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &setup{t: t, opts: []kgo.Opt{kgo.SeedBrokers(brokers(t)...)}, topics: tp, appID: id, fxFile: fx, logDir: logDir,
		extra: extra, running: map[string]*instance{}}
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	if err := kafka.EnsureTopics(ctx, adm, tp.Specs(), nil); err != nil {
		t.Fatal(err)
	}
	// A topic just created may not be in the metadata yet: wait for every
	// partition's leader, or the first produce fails with
	// UNKNOWN_TOPIC_OR_PARTITION.
	for {
		d, err := adm.ListTopics(ctx, tp.Raw, tp.DeadLetter)
		ready := err == nil && len(d) == 2
		for _, td := range d {
			ready = ready && td.Err == nil && len(td.Partitions) == partitions
			for _, p := range td.Partitions {
				ready = ready && p.Err == nil && p.Leader >= 0
			}
		}
		if ready {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the test's topics never showed up in the metadata")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(s.stopAll)
	return s
}

// instance is one running gamepulse process.
type instance struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// start runs a processor instance with a stable instance id.
func (s *setup) start(name string) *instance {
	s.t.Helper()
	tp := s.topics
	args := []string{"process", "--brokers", strings.Join(brokers(s.t), ","), "--instance-id", name, "--app-id", s.appID,
		"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched, "--topic-late", tp.Late,
		"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-kpi-partials", s.appID + ".partials", "--topic-alerts", tp.Alerts,
		"--partitions", fmt.Sprint(partitions), "--fx-rates", s.fxFile, "--metrics-listen", "", "--txn-timeout", "10s",
		"--log-format", "json"}
	return s.run(name, append(args, s.extra...))
}

// run starts the gamepulse binary with args, its output appended to
// name's log, and tracks it as a running instance.
func (s *setup) run(name string, args []string) *instance {
	s.t.Helper()
	f, err := os.OpenFile(filepath.Join(s.logDir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(binary(s.t), args...)
	cmd.Stderr, cmd.Stdout = f, f
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	in := &instance{name: name, cmd: cmd, log: f, done: make(chan error, 1)}
	go func() { in.done <- cmd.Wait(); f.Close() }()
	s.mu.Lock()
	s.running[name] = in
	s.mu.Unlock()
	return in
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *setup) kill(in *instance) {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
	s.forget(in)
}

// stop sends SIGTERM and requires a clean exit.
func (s *setup) stop(in *instance) {
	s.t.Helper()
	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		if err != nil {
			s.t.Errorf("instance %s did not exit cleanly after SIGTERM: %v (log in %s)", in.name, err, s.logDir)
		}
	case <-time.After(60 * time.Second):
		in.cmd.Process.Kill()
		s.t.Errorf("instance %s did not exit within 60 s of SIGTERM", in.name)
	}
	s.forget(in)
}

func (s *setup) forget(in *instance) {
	s.mu.Lock()
	delete(s.running, in.name)
	s.mu.Unlock()
}

func (s *setup) stopAll() {
	s.mu.Lock()
	var all []*instance
	for _, in := range s.running {
		all = append(all, in)
	}
	s.mu.Unlock()
	for _, in := range all {
		in.cmd.Process.Signal(syscall.SIGCONT)
		s.stop(in)
	}
}

// produce sends n simulated events and then the sentinels that make every
// window final, and returns when Kafka acknowledged them all.
func (s *setup) produce(ctx context.Context, seed int64, n int) error {
	max, err := pipelinetest.Produce(ctx, s.opts, s.topics.Raw, pipelinetest.SimConfig(seed, 1000), n, nil)
	if err != nil {
		return err
	}
	return pipelinetest.ProduceSentinels(ctx, s.opts, s.topics.Raw, partitions, "gem-garden", max.Add(2*time.Hour))
}

// rawCount returns the raw topic's end offsets summed.
func (s *setup) rawCount(ctx context.Context) int64 {
	return s.endOffsets(ctx, s.topics.Raw)
}

// processed returns how many raw records the stage-1 group has committed.
func (s *setup) processed(ctx context.Context) int64 {
	cl, err := kgo.NewClient(s.opts...)
	if err != nil {
		return 0
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, s.appID+".stage1")
	if err != nil {
		return 0
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Topic == s.topics.Raw {
			n += o.At
		}
	})
	return n
}

// waitProcessed waits until stage 1 has committed at least n raw records.
func (s *setup) waitProcessed(ctx context.Context, n int64) {
	s.t.Helper()
	for s.processed(ctx) < n {
		if ctx.Err() != nil {
			s.t.Fatalf("stage 1 never reached %d records (at %d)", n, s.processed(context.Background()))
		}
		s.checkAlive()
		time.Sleep(200 * time.Millisecond)
	}
}

// checkAlive fails the test when a running instance has exited on its own.
func (s *setup) checkAlive() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, in := range s.running {
		select {
		case err := <-in.done:
			in.done <- err
			b, _ := os.ReadFile(filepath.Join(s.logDir, name+".log"))
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			s.t.Fatalf("instance %s exited by itself (%v); the end of its log:\n%s", name, err, b)
		default:
		}
	}
}

// verify waits for both stages to catch up and compares every output topic
// with the oracle over the raw topic.
func (s *setup) verify(ctx context.Context) *pipelinetest.Outputs {
	s.t.Helper()
	if err := pipelinetest.WaitCaughtUp(ctx, s.opts, s.appID, s.topics, s.appID+".partials"); err != nil {
		s.t.Fatal(err)
	}
	start := time.Now()
	rep, err := pipelinetest.RunOracle(ctx, s.opts, s.topics.Raw, oracle.Params{Partitions: partitions, Rates: pipelinetest.SimRates})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("oracle over %d raw records took %s", rep.Records, time.Since(start).Round(time.Millisecond))
	out, err := pipelinetest.ReadOutputs(ctx, s.opts, s.topics)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Logf("outputs: raw %d, enriched %d, dead letters %v, sessions %d, kpi rows %d, completeness rows %d, late %d, watermark %s",
		out.Raw, out.Enriched, out.DeadLetters, len(out.Sessions), len(out.KPI), len(out.Completeness), out.Late, out.Watermark)
	if err := pipelinetest.Compare(out, rep); err != nil {
		s.t.Fatalf("outputs differ from the oracle (logs in %s):\n%v", s.logDir, err)
	}
	return out
}

// grepLogs counts the log lines of an instance containing substr.
func (s *setup) grepLogs(name, substr string) int {
	b, _ := os.ReadFile(filepath.Join(s.logDir, name+".log"))
	return bytes.Count(b, []byte(substr))
}

// TestOracleAndCrashes is the crash test: one million simulated events (with
// duplicates, late and malformed ones) are produced while a processor
// instance is killed with SIGKILL every few seconds and restarted with the
// same instance id. Transactions are open nearly all the time under this
// backlog, so most kills land inside one. At the end every output topic,
// read with read_committed, must hold each result exactly once and equal
// the oracle.
func TestOracleAndCrashes(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// A short session timeout, so that the group gives a killed member's
	// partitions back quickly (Kafka's minimum is 6 s).
	s := newSetup(t, "--session-timeout", "6s")
	produced := make(chan error, 1)
	go func() { produced <- s.produce(ctx, 11, n) }()
	in := s.start("crashy")
	kills := 0
	rng := rand.New(rand.NewPCG(1, 2))
	done := false
	last := int64(0)
	for {
		// Let the new incarnation restore and make progress, then kill it
		// at a random moment while it works through the backlog.
		for s.processed(ctx) <= last && ctx.Err() == nil && !(done && last >= s.rawCount(ctx)) {
			s.checkAlive()
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Duration(200+rng.IntN(2500)) * time.Millisecond)
		select {
		case err := <-produced:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		default:
		}
		last = s.processed(ctx)
		if done && (kills >= 8 || last >= s.rawCount(ctx)) {
			break
		}
		s.kill(in)
		kills++
		t.Logf("kill %d: stage 1 had committed %d records", kills, last)
		in = s.start("crashy")
	}
	s.verify(ctx)
	if got := s.grepLogs("crashy", "restored task state"); got == 0 {
		t.Error("no restore was logged: the kills never hit a running task")
	}
	t.Logf("%d kills; restores logged: %d", kills, s.grepLogs("crashy", "restored task state"))
}

// TestRebalance starts one instance, adds two more mid-run, then stops one:
// partitions and their state move, and the outputs still equal the oracle.
func TestRebalance(t *testing.T) {
	n := 300_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := newSetup(t, "--session-timeout", "10s")
	if err := s.produce(ctx, 12, n); err != nil {
		t.Fatal(err)
	}
	a := s.start("a")
	s.waitProcessed(ctx, int64(n/5))
	s.start("b")
	c := s.start("c")
	s.waitProcessed(ctx, int64(n/2))
	s.stop(c)
	s.verify(ctx)
	_ = a
	if s.grepLogs("b", "partitions assigned") == 0 {
		t.Error("instance b was never assigned a partition")
	}
}

// TestZombieIsFenced pauses an instance with SIGSTOP for longer than its
// session timeout while the other takes over its partitions, then resumes
// it: whatever it had in flight must not commit, and the outputs still
// equal the oracle.
func TestZombieIsFenced(t *testing.T) {
	n := 300_000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s := newSetup(t, "--session-timeout", "6s")
	if err := s.produce(ctx, 13, n); err != nil {
		t.Fatal(err)
	}
	z := s.start("zombie")
	s.start("healthy")
	s.waitProcessed(ctx, int64(n/5))
	if err := z.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	before := s.processed(ctx)
	time.Sleep(15 * time.Second)
	if after := s.processed(ctx); after <= before {
		t.Errorf("no progress while the zombie was paused (%d → %d): its partitions were not taken over", before, after)
	}
	if err := z.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	s.verify(ctx)
	aborted := s.grepLogs("zombie", "transaction aborted") + s.grepLogs("zombie", "transaction failed")
	t.Logf("zombie logged %d aborted or failed transactions after it resumed", aborted)
}
