package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/simulate"
)

func benchProcessCommand() command {
	c := command{
		name:    "bench-process",
		summary: "measure the stream processor: events per CPU-second, KPI result latency",
		usage: `Usage: gamepulse bench-process --brokers ADDRS --mode throughput|latency [flags]

Runs "gamepulse process" (this binary) as a child process against fresh
topics on a Kafka cluster and measures it from outside.

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
  gamepulse bench-process --brokers 127.0.0.1:9092 --mode throughput --events 1000000 --delivery exactly-once
  gamepulse bench-process --brokers 127.0.0.1:9092 --mode latency --rate 5000 --duration 5m`,
	}
	c.run = func(ctx context.Context, env *Env, args []string) error {
		fs := newFlagSet(env, c)
		kf := addKafkaFlags(fs, "127.0.0.1:9092")
		mode := fs.String("mode", "throughput", "throughput or latency")
		events := fs.Int("events", 1000000, "throughput: backlog size")
		delivery := fs.String("delivery", "exactly-once", "the processor's --delivery")
		rate := fs.Float64("rate", 5000, "latency: events/s sent")
		duration := fs.Duration("duration", 5*time.Minute, "latency: how long to send")
		lateness := fs.Duration("allowed-lateness", 5*time.Second, "the processor's --allowed-lateness")
		parts := fs.Int("partitions", 6, "partitions of the fresh topics")
		profile := fs.String("cpu-profile", "", "throughput: save a 10 s CPU profile of the processor to this file")
		extra := fs.String("process-args", "", "more arguments for gamepulse process, space-separated")
		if err := resolve(fs, env, args); err != nil {
			return err
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		kc := kf.config("gamepulse-bench")
		opts, err := kc.Opts(nil)
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
		pargs := []string{"process", "--brokers", kf.brokers, "--instance-id", "bench", "--app-id", id, "--delivery", *delivery,
			"--topic-raw", tp.Raw, "--topic-deadletter", tp.DeadLetter, "--topic-enriched", tp.Enriched, "--topic-late", tp.Late,
			"--topic-sessions", tp.Sessions, "--topic-kpi", tp.KPI, "--topic-kpi-partials", id + ".partials", "--topic-alerts", tp.Alerts,
			"--partitions", fmt.Sprint(*parts), "--allowed-lateness", lateness.String(), "--log-level", "warn", "--metrics-listen", "127.0.0.1:0"}
		const pprofAddr = "127.0.0.1:9199"
		if *profile != "" {
			pargs = append(pargs, "--pprof", "--metrics-listen", pprofAddr)
		}
		pargs = append(pargs, strings.Fields(*extra)...)
		startProc := func() (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, self, pargs...)
			cmd.Stderr = env.Stderr
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
			fmt.Fprintf(env.Stderr, "producing %d events to %s...\n", *events, tp.Raw)
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
				cpu, err := procCPU(cmd.Process.Pid)
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
				fmt.Fprintf(env.Stderr, "cpu profile: %v\n", err)
			}
			evs := 0.8 * float64(n)
			cpu := p90.cpu - p10.cpu
			secs := p90.t.Sub(p10.t).Seconds()
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"mode": "throughput", "delivery": *delivery, "events": *events,
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
			_, err = simulate.Run(runCtx, g, simulate.NewKafkaSink(pcl, tp.Raw), simulate.RunOptions{Rate: *rate, Duration: *duration, BatchSize: 100})
			cancel()
			if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				return err
			}
			time.Sleep(2 * time.Second)
			stopReading()
			ms := <-lats
			if len(ms) == 0 {
				return errors.New("bench-process: no KPI row became final; run longer than a minute plus the allowed lateness")
			}
			sort.Float64s(ms)
			q := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
			return json.NewEncoder(env.Stdout).Encode(map[string]any{"mode": "latency", "delivery": *delivery, "rate": *rate,
				"duration": duration.String(), "allowed_lateness": lateness.String(), "rows": len(ms),
				"p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": ms[len(ms)-1]})
		}
		return fmt.Errorf("--mode must be throughput or latency, got %q", *mode)
	}
	return c
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
