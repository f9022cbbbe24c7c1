package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/config"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/procstat"
	"github.com/gamepulse/gamepulse/internal/record"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

const processUsage = `Usage: gamepulse-bench process --brokers ADDRS --mode throughput|latency [flags]

Runs "gamepulse process" (the binary given by --gamepulse) as a child
process against fresh topics on a Kafka cluster and measures it from outside.

  throughput: produces --events simulated events (with duplicates, late and
    malformed ones) first, then starts the processor on the backlog and
    measures, between 10 % and 90 % of the backlog committed by stage 1, the
    events per second and the events per processor CPU-second (user + system,
    from /proc; both stages count). This is the sustainable rate: any lower
    input rate keeps the lag flat.
  latency: sends simulated events paced at --rate, with client_time following
    the wall clock, for --duration, while a read_committed consumer reads the
    KPI topic. A minute row's latency is the time it becomes visible minus the
    moment the watermark passes the minute's end (end + allowed lateness, as
    the events carry the wall clock).

Prints one JSON line.

Examples:
  gamepulse-bench process --brokers 127.0.0.1:9092 --mode throughput --events 1000000 --delivery exactly-once
  gamepulse-bench process --brokers 127.0.0.1:9092 --mode latency --rate 5000 --duration 5m`

// ProcessCommand measures the stream processor (formerly gamepulse
// bench-process; its flags, environment variables and config section,
// "bench-process", are unchanged).
type ProcessCommand struct {
	kafka     kafka.Config
	gamepulse string
	mode      string
	events    int
	delivery  string
	rate      float64
	duration  time.Duration
	lateness  time.Duration
	parts     int
	profile   string
	extra     string
}

// flagSet declares the command's flags into c.
func (c *ProcessCommand) flagSet(m *Main) *flag.FlagSet {
	fs := flag.NewFlagSet("bench-process", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() { printUsage(m.Stdout, processUsage, fs) }
	fs.String("config", "", "YAML config file: top-level keys for every command, a section per command")
	addKafkaFlags(fs, &c.kafka)
	fs.StringVar(&c.gamepulse, "gamepulse", "", "the gamepulse binary to run (default: gamepulse beside this binary, else from $PATH)")
	fs.StringVar(&c.mode, "mode", "throughput", "throughput or latency")
	fs.IntVar(&c.events, "events", 1000000, "throughput: backlog size")
	fs.StringVar(&c.delivery, "delivery", "exactly-once", "the processor's --delivery")
	fs.Float64Var(&c.rate, "rate", 5000, "latency: events/s sent")
	fs.DurationVar(&c.duration, "duration", 5*time.Minute, "latency: how long to send")
	fs.DurationVar(&c.lateness, "allowed-lateness", 5*time.Second, "the processor's --allowed-lateness")
	fs.IntVar(&c.parts, "partitions", 6, "partitions of the fresh topics")
	fs.StringVar(&c.profile, "cpu-profile", "", "throughput: save a 10 s CPU profile of the processor to this file")
	fs.StringVar(&c.extra, "process-args", "", "more arguments for gamepulse process, space-separated")
	return fs
}

// addKafkaFlags declares the Kafka connection flags into k, from its
// defaults.
func addKafkaFlags(fs *flag.FlagSet, k *kafka.Config) {
	*k = kafka.DefaultConfig()
	fs.Func("brokers", "Kafka seed brokers, comma-separated host:port", func(s string) error { k.Brokers = kafka.ParseBrokers(s); return nil })
	fs.Lookup("brokers").DefValue = strings.Join(k.Brokers, ",")
	fs.BoolVar(&k.TLS, "kafka-tls", false, "connect to Kafka with TLS")
	fs.StringVar(&k.TLSCAFile, "kafka-tls-ca", "", "PEM CA bundle for Kafka TLS (default: system roots)")
	fs.StringVar(&k.TLSCertFile, "kafka-tls-cert", "", "PEM client certificate for mutual TLS")
	fs.StringVar(&k.TLSKeyFile, "kafka-tls-key", "", "PEM client key for mutual TLS")
	fs.BoolVar(&k.TLSInsecureSkipVerify, "kafka-tls-insecure-skip-verify", false, "do not verify the brokers' certificates (tests only)")
	fs.StringVar(&k.SASLMechanism, "kafka-sasl-mechanism", "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&k.SASLUser, "kafka-sasl-user", "", "SASL user")
	fs.StringVar(&k.SASLPassword, "kafka-sasl-password", "", "SASL password (prefer the environment variable)")
	fs.StringVar(&k.Compression, "kafka-compression", k.Compression, "compression of produced batches: lz4, snappy, zstd, gzip or none")
}

// checkFlag is gamepulse's rule for each of these flags.
func checkFlag(f *flag.Flag) error {
	choice := func(accepted ...string) error {
		if slices.Contains(accepted, f.Value.String()) {
			return nil
		}
		return usagef("--%s must be %s or %s, got %q", f.Name, accepted[0], accepted[1], f.Value.String())
	}
	num := func() float64 {
		if d, ok := f.Value.(flag.Getter).Get().(time.Duration); ok {
			return float64(d)
		}
		v, _ := strconv.ParseFloat(f.Value.String(), 64)
		return v
	}
	switch f.Name {
	case "mode":
		return choice("throughput", "latency")
	case "delivery":
		return choice("exactly-once", "at-least-once")
	case "rate", "duration":
		if v := num(); !(v > 0) {
			return usagef("--%s must be > 0, got %s", f.Name, f.Value.String())
		}
	case "events", "partitions":
		if v := num(); v < 1 || math.IsNaN(v) {
			return usagef("--%s must be ≥ 1, got %s", f.Name, f.Value.String())
		}
	case "allowed-lateness":
		if num() < 0 {
			return usagef("--%s must be ≥ 0, got %s", f.Name, f.Value.String())
		}
	}
	return nil
}

// gamepulseBinary returns the gamepulse binary to run: --gamepulse, else
// gamepulse beside this binary, else gamepulse from $PATH.
func (c *ProcessCommand) gamepulseBinary() (string, error) {
	return findGamepulse(c.gamepulse)
}

// findGamepulse returns the gamepulse binary to run: flagValue when set,
// else gamepulse beside this binary, else gamepulse from $PATH.
func findGamepulse(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "gamepulse")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("gamepulse")
	if err != nil {
		return "", errors.New("no gamepulse binary beside this one nor in $PATH; build it (go build -o bin/ ./cmd/gamepulse) or give --gamepulse")
	}
	return p, nil
}

// Run parses args and runs the benchmark.
func (c *ProcessCommand) Run(ctx context.Context, m *Main, args []string) error {
	fs := c.flagSet(m)
	if err := config.ResolveChecked(fs, fs.Name(), args, m.Getenv, checkFlag); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		var ue *usageError
		if errors.As(err, &ue) {
			return err
		}
		return &usageError{err}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	gamepulse, err := c.gamepulseBinary()
	if err != nil {
		return err
	}
	kf, mode, events, delivery, rate, duration, lateness, parts, profile, extra :=
		&c.kafka, &c.mode, &c.events, &c.delivery, &c.rate, &c.duration, &c.lateness, &c.parts, &c.profile, &c.extra
	kf.ClientID = "gamepulse-bench"
	brokers := strings.Join(kf.Brokers, ",")
	opts, err := kf.Opts(nil)
	if err != nil {
		return err
	}
	id := fmt.Sprintf("bench-%d", rand.IntN(1e6))
	tp := kafka.Topics{Raw: id + ".raw", DeadLetter: id + ".dlq", Enriched: id + ".enriched", Late: id + ".late",
		Sessions: id + ".sessions", KPI: id + ".kpi", Alerts: id + ".alerts",
		Partitions: int32(*parts), Replication: -1}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := kafka.EnsureTopics(ctx, adm, tp.Specs(), nil); err != nil {
		return err
	}
	pargs := []string{"process", "--brokers", brokers, "--instance-id", "bench", "--app-id", id, "--delivery", *delivery,
		"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched, "--topic-late", tp.Late,
		"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-kpi-partials", id + ".partials", "--topic-alerts", tp.Alerts,
		"--partitions", fmt.Sprint(*parts), "--allowed-lateness", lateness.String(), "--log-level", "warn", "--metrics-listen", "127.0.0.1:0"}
	const pprofAddr = "127.0.0.1:9199"
	if *profile != "" {
		pargs = append(pargs, "--pprof", "--metrics-listen", pprofAddr)
	}
	pargs = append(pargs, strings.Fields(*extra)...)
	startProc := func() (*exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, gamepulse, pargs...)
		cmd.Stderr = m.Stderr
		return cmd, cmd.Start()
	}
	stopProc := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
	committed := func() int64 {
		offs, err := adm.FetchOffsets(ctx, id+".stage1")
		if err != nil {
			return 0
		}
		var n int64
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Topic == tp.Raw && o.At > 0 {
				n += o.At
			}
		})
		return n
	}
	sim := pipelinetest.SimConfig(21, 1000)
	switch *mode {
	case "throughput":
		fmt.Fprintf(m.Stderr, "producing %d events to %s...\n", *events, tp.Raw)
		if _, err := pipelinetest.Produce(ctx, opts, tp.Raw, sim, *events, nil); err != nil {
			return err
		}
		cmd, err := startProc()
		if err != nil {
			return err
		}
		defer stopProc(cmd)
		n := int64(*events)
		type point struct {
			t   time.Time
			cpu float64
		}
		at := func(frac float64) (point, error) {
			for committed() < int64(frac*float64(n)) {
				if ctx.Err() != nil {
					return point{}, ctx.Err()
				}
				time.Sleep(50 * time.Millisecond)
			}
			cpu, err := procstat.CPUSeconds(cmd.Process.Pid)
			return point{time.Now(), cpu}, err
		}
		p10, err := at(0.1)
		if err != nil {
			return err
		}
		profiled := make(chan error, 1)
		if *profile != "" {
			go func() { profiled <- fetchProfile(ctx, "http://"+pprofAddr+"/debug/pprof/profile?seconds=10", *profile) }()
		} else {
			profiled <- nil
		}
		p90, err := at(0.9)
		if err != nil {
			return err
		}
		if err := <-profiled; err != nil {
			fmt.Fprintf(m.Stderr, "cpu profile: %v\n", err)
		}
		evs := 0.8 * float64(n)
		cpu := p90.cpu - p10.cpu
		secs := p90.t.Sub(p10.t).Seconds()
		return json.NewEncoder(m.Stdout).Encode(map[string]any{"mode": "throughput", "delivery": *delivery, "events": *events,
			"partitions": *parts, "measured_events": evs, "seconds": secs, "cpu_seconds": cpu,
			"events_per_second": evs / secs, "events_per_cpu_second": evs / cpu})
	case "latency":
		cmd, err := startProc()
		if err != nil {
			return err
		}
		defer stopProc(cmd)
		sim.Start = time.Time{} // now: client_time follows the wall clock
		sim.Rate = *rate
		g, err := simulate.New(sim)
		if err != nil {
			return err
		}
		pcl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kafka.ProducerOpts(100000)...)...)
		if err != nil {
			return err
		}
		defer pcl.Close()
		lats := make(chan []float64, 1)
		rctx, stopReading := context.WithCancel(ctx)
		defer stopReading()
		go func() { lats <- readLatencies(rctx, opts, tp.KPI, *lateness) }()
		runCtx, cancel := context.WithTimeout(ctx, *duration)
		_, err = simulate.Run(runCtx, g, simulate.NewKafkaSink(pcl, tp.Raw, record.EncodingProtobuf), simulate.RunOptions{Rate: *rate, Duration: *duration, BatchSize: 100})
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			return err
		}
		time.Sleep(2 * time.Second)
		stopReading()
		ms := <-lats
		if len(ms) == 0 {
			return errors.New("no KPI row became final; run longer than a minute plus the allowed lateness")
		}
		sort.Float64s(ms)
		q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
		return json.NewEncoder(m.Stdout).Encode(map[string]any{"mode": "latency", "delivery": *delivery, "rate": *rate,
			"duration": duration.String(), "allowed_lateness": lateness.String(), "rows": len(ms),
			"p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": ms[len(ms)-1]})
	}
	return fmt.Errorf("--mode must be throughput or latency, got %q", *mode)
}

// fetchProfile saves a pprof profile from url to path.
func fetchProfile(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// readLatencies reads the KPI topic (read_committed) until ctx ends and
// returns, for every first final emission of a minute row, the time it
// became visible minus (window end + lateness), in milliseconds.
func readLatencies(ctx context.Context, opts []kgo.Opt, topic string, lateness time.Duration) []float64 {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.FetchMaxWait(50*time.Millisecond))...)
	if err != nil {
		return nil
	}
	defer cl.Close()
	var out []float64
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		fs.EachRecord(func(r *kgo.Record) {
			var row struct {
				Window  string    `json:"window"`
				End     time.Time `json:"end"`
				Version int64     `json:"version"`
			}
			if json.Unmarshal(r.Value, &row) != nil || row.Window != "minute" || row.Version != 1 {
				return
			}
			out = append(out, float64(now.Sub(row.End.Add(lateness)).Microseconds())/1000)
		})
	}
	return out
}
