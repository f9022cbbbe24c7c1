package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/config"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

const enginesUsage = `Usage: gamepulse-bench engines --brokers ADDRS --spark-remote sc://HOST:PORT --spark-pids PID[,PID] [flags]

Runs the Go engine ("gamepulse process") and the Spark engine ("gamepulse
process --engine spark" on the Spark Connect server --spark-remote) side by
side on the same Kafka cluster, the same machine and the same input, one
after the other, each as a child process, and compares them.

  1. Backlog: --events simulated events (seed 21; duplicates, late and
     malformed ones) in the JSON raw encoding (the one Spark reads) on a
     fresh raw topic. Each engine then drains it into output topics of its
     own:
       Go:    until its stage-1 group has committed the raw topic to its
              end and its stage-2 group the partials topic;
       Spark: until its enriched topic holds every event the Go engine
              enriched and its KPI topic has not grown for 10 s, with a
              first row if the Go engine wrote any (the end is when the
              last of the two happened; the 10 s are not counted).
     Measured: wall time from the engine's start, events/s, events per
     CPU-second and peak resident memory. CPU and memory are of every
     process of the engine, from /proc/PID/stat and /proc/PID/status:
     the gamepulse process for Go; for Spark the server's JVM (--spark-pids,
     e.g. the pid in scripts/spark.sh's DIR/spark.pid) plus the gamepulse
     process that drives it.
  2. Fixed rate: each engine on a fresh raw topic of its own, --rate JSON
     events/s with event times following the wall clock, for --duration.
     KPI result latency: for each minute row of the engine's KPI topic
     (read_committed, its first copy), the time it arrived minus the
     moment the produced event times passed the minute's end +
     --allowed-lateness (from then on the engine has every event it needs
     to close the minute). After the last event the readers wait until
     every minute passed has a row (60 s at most).

Prints a table per engine and the ratios (Go / Spark events per
CPU-second, Spark / Go p99 latency); --out also writes them as JSON. The
machine should be quiet: every figure includes whatever else runs.

Example (after scripts/kafka.sh start /tmp/kb and scripts/spark.sh start /tmp/sp):
  go build -o bin/ ./cmd/gamepulse ./cmd/gamepulse-bench
  bin/gamepulse-bench engines --brokers 127.0.0.1:9092 --spark-remote $(cat /tmp/sp/remote) \
    --spark-pids $(cat /tmp/sp/spark.pid) --events 1000000 --rate 5000 --duration 5m --out engines.json`

// EnginesCommand measures the Go engine against the Spark engine (issue 12).
type EnginesCommand struct {
	kafka        kafka.Config
	gamepulse    string
	sparkRemote  string
	sparkPIDs    string
	checkpoint   string
	events       int
	rate         float64
	duration     time.Duration
	lateness     time.Duration
	parts        int
	drainTimeout time.Duration
	out          string
	extra        string
	sparkExtra   string
}

// The harness's fixed rules.
const (
	enginesSeed   = 21
	sampleEvery   = 250 * time.Millisecond
	sparkQuiet    = 10 * time.Second // the KPI topic's quiet time that ends Spark's drain
	sparkGiveUp   = time.Minute      // nothing grows while short of the Go engine's enriched events
	latencySettle = time.Minute      // at most, after the last event, for the last minutes' rows
)

func (c *EnginesCommand) flagSet(m *Main) *flag.FlagSet {
	fs := flag.NewFlagSet("bench-engines", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { printUsage(m.Stdout, enginesUsage, fs) }
	fs.String("config", "", "YAML config file: top-level keys for every command, a section per command")
	addKafkaFlags(fs, &c.kafka)
	fs.StringVar(&c.gamepulse, "gamepulse", "", "the gamepulse binary to run (default: gamepulse beside this binary, else from $PATH)")
	fs.StringVar(&c.sparkRemote, "spark-remote", "", "the Spark Connect server, sc://HOST:PORT (required)")
	fs.StringVar(&c.sparkPIDs, "spark-pids", "", "process ids of the Spark server's JVM(s) on this machine, comma-separated, measured with the Spark engine (required)")
	fs.StringVar(&c.checkpoint, "spark-checkpoint", "", "checkpoint root of the Spark queries, as the server sees it (default: a fresh directory under the system temp directory, removed afterwards)")
	fs.IntVar(&c.events, "events", 1000000, "backlog size, events")
	fs.Float64Var(&c.rate, "rate", 5000, "fixed rate phase: events/s sent")
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "fixed rate phase: how long to send (at least 1m + --allowed-lateness, for a minute to close)")
	fs.DurationVar(&c.lateness, "allowed-lateness", 5*time.Second, "both engines' --allowed-lateness")
	fs.IntVar(&c.parts, "partitions", 6, "partitions of the fresh topics")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 30*time.Minute, "give up on an engine that has not drained the backlog after this long")
	fs.StringVar(&c.out, "out", "", "also write the results to this file as JSON")
	fs.StringVar(&c.extra, "process-args", "", "more arguments for both engines' gamepulse process, space-separated")
	fs.StringVar(&c.sparkExtra, "spark-args", "", "more arguments for the Spark engine only, space-separated (e.g. --spark-trigger 500ms)")
	return fs
}

// printUsage prints a command's text and its flags.
func printUsage(w io.Writer, text string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nFlags (each also GAMEPULSE_<FLAG> in the environment or a key in --config):\n", strings.TrimSpace(text))
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "  --%s%s\n      %s  [%s]\n", f.Name, def, f.Usage, config.EnvName(f.Name))
	})
}

// checkEnginesFlag is the rule of each of the engines command's flags.
func checkEnginesFlag(f *flag.Flag) error {
	switch f.Name {
	case "drain-timeout":
		if d, _ := f.Value.(flag.Getter).Get().(time.Duration); d <= 0 {
			return usagef("--%s must be > 0, got %s", f.Name, f.Value.String())
		}
	case "spark-pids":
		if _, err := parsePIDs(f.Value.String()); err != nil {
			return usagef("--spark-pids: %v", err)
		}
	case "spark-remote":
		if !strings.HasPrefix(f.Value.String(), "sc://") {
			return usagef("--spark-remote must be sc://HOST:PORT, got %q", f.Value.String())
		}
	}
	return checkFlag(f)
}

// check applies the rules between flags and the required ones.
func (c *EnginesCommand) check() error {
	switch {
	case c.sparkRemote == "":
		return usagef("--spark-remote is required (scripts/spark.sh start DIR prints it)")
	case c.sparkPIDs == "":
		return usagef("--spark-pids is required: the Spark server's JVM is measured with the Spark engine (scripts/spark.sh keeps it in DIR/spark.pid)")
	case c.duration < time.Minute+c.lateness:
		return usagef("--duration must be at least 1m + --allowed-lateness (%s) for a minute to close, got %s", time.Minute+c.lateness, c.duration)
	}
	return nil
}

// engineRun is what one engine's runs share.
type engineRun struct {
	engine    string // "go" or "spark"
	bin       string
	brokers   string
	opts      []kgo.Opt
	extraPIDs []int // the Spark server's JVMs, measured with the engine
	c         *EnginesCommand
	ckRoot    string
	stderr    io.Writer
}

// topicsFor names the output topics of run name over raw.
func topicsFor(raw, name string, parts int) kafka.Topics {
	return kafka.Topics{Raw: raw, DeadLetter: name + ".dlq", Enriched: name + ".enriched", Late: name + ".late",
		Sessions: name + ".sessions", KPI: name + ".kpi", Alerts: name + ".alerts",
		Partitions: int32(parts), Replication: -1}
}

// args returns the gamepulse process arguments of run appID on tp.
func (e *engineRun) args(appID string, tp kafka.Topics) []string {
	a := []string{"process", "--brokers", e.brokers, "--instance-id", "bench", "--app-id", appID,
		"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched, "--topic-late", tp.Late,
		"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-alerts", tp.Alerts,
		"--partitions", strconv.Itoa(e.c.parts), "--allowed-lateness", e.c.lateness.String(),
		"--log-level", "warn", "--metrics-listen", ""}
	if e.engine == "spark" {
		a = append(a, "--engine", "spark", "--spark-remote", e.c.sparkRemote,
			"--spark-checkpoint", joinCheckpoint(e.ckRoot, appID))
		a = append(a, strings.Fields(e.c.sparkExtra)...)
	} else {
		a = append(a, "--topic-kpi-partials", appID+".partials")
	}
	return append(a, strings.Fields(e.c.extra)...)
}

// joinCheckpoint appends a run's directory to the checkpoint root, a
// directory or a URI.
func joinCheckpoint(root, run string) string {
	if strings.Contains(root, "://") {
		return strings.TrimRight(root, "/") + "/" + run
	}
	return filepath.Join(root, run)
}

// start starts the engine's process and a sampler over all of its
// processes, and returns the base reading taken just before.
func (e *engineRun) start(ctx context.Context, name, appID string, tp kafka.Topics) (*child, *sampler, []int, sample, error) {
	base := sample{at: time.Now()}
	if len(e.extraPIDs) > 0 {
		var err error
		if base, err = readSample(e.extraPIDs); err != nil {
			return nil, nil, nil, base, fmt.Errorf("the Spark server's JVM: %w", err)
		}
	}
	ch, err := startChild(name, e.bin, e.args(appID, tp), e.stderr)
	if err != nil {
		return nil, nil, nil, base, err
	}
	pids := append([]int{ch.pid()}, e.extraPIDs...)
	return ch, startSampler(ctx, pids, sampleEvery), pids, base, nil
}

// processes describes what is measured.
func (e *engineRun) processes() string {
	if len(e.extraPIDs) == 0 {
		return "gamepulse process"
	}
	return fmt.Sprintf("gamepulse process + Spark JVM %v", e.extraPIDs)
}

// drain runs the engine over the backlog on raw; target and targetKPI are
// the Go engine's enriched and KPI record counts, which end Spark's drain.
func (e *engineRun) drain(ctx context.Context, id, raw string, target, targetKPI int64) (*drainResult, error) {
	name := id + "-" + e.engine
	tp := topicsFor(raw, name, e.c.parts)
	if err := ensureTopics(ctx, e.opts, tp); err != nil {
		return nil, err
	}
	ch, smp, pids, base, err := e.start(ctx, e.engine+" engine (drain)", name, tp)
	if err != nil {
		return nil, err
	}
	defer ch.stop()
	wctx, cancel := ch.watch(ctx)
	defer cancel()
	wctx, cancelT := context.WithTimeout(wctx, e.c.drainTimeout)
	defer cancelT()
	res := &drainResult{Events: e.c.events, ProcessesMeasured: e.processes(), Complete: true}
	var end time.Time
	if e.engine == "go" {
		res.CaughtUp = "stage-1 and stage-2 groups caught up"
		if err := pipelinetest.WaitCaughtUp(wctx, e.opts, name, tp, name+".partials"); err != nil {
			smp.stop()
			return nil, cause(wctx, err)
		}
		if end, err = smp.readNow(pids); err != nil {
			smp.stop()
			return nil, err
		}
	} else {
		res.CaughtUp = fmt.Sprintf("≥ %d enriched records, KPI topic quiet for %s", target, sparkQuiet)
		w := &drainWatch{target: target, needKPI: targetKPI > 0, quiet: sparkQuiet, giveUp: sparkGiveUp}
		if end, res.Complete, err = e.watchSpark(wctx, w, tp, smp); err != nil {
			smp.stop()
			return nil, cause(wctx, err)
		}
	}
	samples, serr := smp.stop()
	if serr != nil {
		return nil, serr
	}
	st, err := summarize(base, samples, end)
	if err != nil {
		return nil, err
	}
	if err := ch.stop(); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", ch.name, err)
	}
	res.Seconds, res.CPUSeconds, res.PeakRSSBytes = st.Seconds, st.CPUSeconds, st.PeakRSS
	res.EventsPerSecond = per(float64(res.Events), st.Seconds)
	res.EventsPerCPUSec = per(float64(res.Events), st.CPUSeconds)
	count := countRecords
	if e.engine != "go" {
		count = sumEnds
	}
	if res.EnrichedRecords, err = count(ctx, e.opts, tp.Enriched); err != nil {
		return nil, err
	}
	res.KPIRecords, err = count(ctx, e.opts, tp.KPI)
	return res, err
}

// watchSpark polls the Spark engine's enriched and KPI topics until w says
// the drain is over.
func (e *engineRun) watchSpark(ctx context.Context, w *drainWatch, tp kafka.Topics, smp *sampler) (time.Time, bool, error) {
	cl, err := kgo.NewClient(e.opts...)
	if err != nil {
		return time.Time{}, false, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for {
		if err := smp.failed(); err != nil {
			return time.Time{}, false, err
		}
		ends, err := kafka.EndOffsets(ctx, adm, tp.Enriched, tp.KPI)
		if err == nil {
			if done, end, complete := w.observe(time.Now(), ends[tp.Enriched], ends[tp.KPI]); done {
				if !complete {
					fmt.Fprintf(e.stderr, "spark engine: %d enriched records, short of the Go engine's %d, and nothing grew for %s: measured as incomplete\n",
						ends[tp.Enriched], w.target, w.giveUp)
				}
				return end, complete, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, false, fmt.Errorf("waiting for the Spark engine to drain the backlog: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// fixedRate runs the engine on a fresh raw topic fed at --rate for
// --duration and measures the KPI result latency.
func (e *engineRun) fixedRate(ctx context.Context, id string) (*rateResult, error) {
	name := id + "-" + e.engine + "-rate"
	tp := topicsFor(name+".raw", name, e.c.parts)
	if err := ensureTopics(ctx, e.opts, tp); err != nil {
		return nil, err
	}
	arr := &kpiArrivals{}
	rctx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	readDone := make(chan error, 1)
	go func() { readDone <- arr.read(rctx, e.opts, tp.KPI) }()

	ch, smp, pids, base, err := e.start(ctx, e.engine+" engine (fixed rate)", name, tp)
	if err != nil {
		return nil, err
	}
	defer ch.stop()
	wctx, cancel := ch.watch(ctx)
	defer cancel()

	sim := pipelinetest.SimConfig(enginesSeed+1, e.c.rate)
	sim.Start = time.Time{} // now: event times follow the wall clock
	g, err := simulate.New(sim)
	if err != nil {
		smp.stop()
		return nil, err
	}
	pcl, err := kgo.NewClient(append(append([]kgo.Opt{}, e.opts...), kafka.ProducerOpts(100000)...)...)
	if err != nil {
		smp.stop()
		return nil, err
	}
	defer pcl.Close()
	tracker := newPassTracker(e.c.lateness)
	sink := passSink{Sink: simulate.NewKafkaSink(pcl, tp.Raw, record.EncodingJSON), t: tracker}
	fmt.Fprintf(e.stderr, "%s engine: sending %.0f events/s for %s to %s...\n", e.engine, e.c.rate, e.c.duration, tp.Raw)
	stats, err := simulate.Run(wctx, g, sink, simulate.RunOptions{Rate: e.c.rate, Duration: e.c.duration, BatchSize: 100})
	if err == nil && wctx.Err() != nil {
		err = wctx.Err()
	}
	if err != nil {
		smp.stop()
		return nil, cause(wctx, err)
	}
	prodEnd, err := smp.readNow(pids)
	if err != nil {
		smp.stop()
		return nil, err
	}
	// The last minutes' rows: until every minute passed has one.
	for since := time.Now(); time.Since(since) < latencySettle; {
		if time.Since(since) >= 2*time.Second && missingMinutes(arr.snapshot(), tracker.passedAt()) == 0 {
			break
		}
		if wctx.Err() != nil {
			smp.stop()
			return nil, cause(wctx, wctx.Err())
		}
		time.Sleep(250 * time.Millisecond)
	}
	stopReading()
	<-readDone
	samples, serr := smp.stop()
	if serr != nil {
		return nil, serr
	}
	st, err := summarize(base, samples, prodEnd)
	if err != nil {
		return nil, err
	}
	// The peak over the settle time too.
	for _, s := range samples {
		st.PeakRSS = max(st.PeakRSS, s.rss)
	}
	if err := ch.stop(); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", ch.name, err)
	}
	lat := latencies(arr.snapshot(), tracker.passedAt())
	lat.Lateness = e.c.lateness.String()
	return &rateResult{Rate: e.c.rate, Duration: e.c.duration.String(), EventsSent: stats.Accepted,
		CPUSeconds: st.CPUSeconds, EventsPerCPUSec: per(float64(stats.Accepted), st.CPUSeconds),
		PeakRSSBytes: st.PeakRSS, Latency: lat}, nil
}

// ensureTopics creates the raw, dead-letter and output topics of tp, so
// that both engines start with the same topics.
func ensureTopics(ctx context.Context, opts []kgo.Opt, tp kafka.Topics) error {
	return ensureSpecs(ctx, opts, append(tp.Specs(), tp.ProcessorSpecs()...))
}

// ensureSpecs creates the topics of specs that do not exist.
func ensureSpecs(ctx context.Context, opts []kgo.Opt, specs []kafka.TopicSpec) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	return kafka.EnsureTopics(ctx, kadm.NewClient(cl), specs, nil)
}

// sumEnds returns the sum of topic's end offsets: its record count when
// it is written without transactions (the Spark engine's topics).
func sumEnds(ctx context.Context, opts []kgo.Opt, topic string) (int64, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kafka.EndOffsets(ctx, kadm.NewClient(cl), topic)
	return ends[topic], err
}

// Run parses args and runs the benchmark.
func (c *EnginesCommand) Run(ctx context.Context, m *Main, args []string) error {
	fs := c.flagSet(m)
	if err := config.ResolveChecked(fs, fs.Name(), args, m.Getenv, checkEnginesFlag); err != nil {
		var ue *usageError
		if errors.Is(err, flag.ErrHelp) || errors.As(err, &ue) {
			return err
		}
		return &usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := c.check(); err != nil {
		return err
	}
	pids, err := parsePIDs(c.sparkPIDs)
	if err != nil {
		return usagef("--spark-pids: %v", err)
	}
	if _, err := readSample(pids); err != nil {
		return fmt.Errorf("--spark-pids: %w", err)
	}
	bin, err := findGamepulse(c.gamepulse)
	if err != nil {
		return err
	}
	ckRoot := c.checkpoint
	if ckRoot == "" {
		if ckRoot, err = os.MkdirTemp("", "gamepulse-bench-spark-"); err != nil {
			return err
		}
		defer os.RemoveAll(ckRoot)
	}
	c.kafka.ClientID = "gamepulse-bench"
	opts, err := c.kafka.Opts(nil)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("bench-engines-%d", rand.IntN(1e6))
	goRun := &engineRun{engine: "go", bin: bin, brokers: strings.Join(c.kafka.Brokers, ","), opts: opts, c: c, stderr: m.Stderr}
	sparkRun := *goRun
	sparkRun.engine, sparkRun.extraPIDs, sparkRun.ckRoot = "spark", pids, ckRoot

	raw := id + ".raw"
	if err := ensureSpecs(ctx, opts, []kafka.TopicSpec{{Name: raw, Partitions: int32(c.parts), Replication: -1}}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "producing %d events (JSON) to %s...\n", c.events, raw)
	if _, err := pipelinetest.ProduceEncoded(ctx, opts, raw, record.EncodingJSON, pipelinetest.SimConfig(enginesSeed, 1000), c.events, nil); err != nil {
		return err
	}
	rep := benchReport{Events: c.events, Seed: enginesSeed}
	goRes, sparkRes := engineResult{Engine: "Go"}, engineResult{Engine: "Spark"}
	fmt.Fprintln(m.Stderr, "go engine: draining the backlog...")
	if goRes.Drain, err = goRun.drain(ctx, id, raw, 0, 0); err != nil {
		return fmt.Errorf("go engine, drain: %w", err)
	}
	fmt.Fprintf(m.Stderr, "spark engine: draining the backlog (until %d enriched records)...\n", goRes.Drain.EnrichedRecords)
	if sparkRes.Drain, err = sparkRun.drain(ctx, id, raw, goRes.Drain.EnrichedRecords, goRes.Drain.KPIRecords); err != nil {
		return fmt.Errorf("spark engine, drain: %w", err)
	}
	if goRes.Rate, err = goRun.fixedRate(ctx, id); err != nil {
		return fmt.Errorf("go engine, fixed rate: %w", err)
	}
	if sparkRes.Rate, err = sparkRun.fixedRate(ctx, id); err != nil {
		return fmt.Errorf("spark engine, fixed rate: %w", err)
	}
	rep.Engines = []engineResult{goRes, sparkRes}
	rep.Ratios = compare(goRes, sparkRes)
	writeTables(m.Stdout, rep)
	if c.out != "" {
		return writeJSON(c.out, rep)
	}
	return nil
}
