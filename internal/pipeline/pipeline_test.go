package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/pipeline"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
)

// TestPipelineEqualsOracle runs both stages on the embedded broker over
// simulated traffic with duplicates, late and malformed events, and compares
// every output with the batch oracle.
func TestPipelineEqualsOracle(t *testing.T) { runOracleTest(t, 0) }

// TestPipelineRestartsEqualOracle stops the pipeline every few hundred
// milliseconds (aborting the open transactions) and starts a new one, which
// restores both stages' state from the changelogs: the outputs must still
// equal the oracle.
func TestPipelineRestartsEqualOracle(t *testing.T) { runOracleTest(t, 250*time.Millisecond) }

func runOracleTest(t *testing.T, restartEvery time.Duration) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	opts, topics := pipelinetest.StartEmbedded(t)

	rates, err := jobs.NewRates(pipelinetest.SimRates)
	if err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.Config{InstanceID: "t1", Topics: topics, MaxPollRecords: 2000, Jobs: jobs.Config{Rates: rates}, LagInterval: 200 * time.Millisecond}
	reg := prometheus.NewRegistry()
	p, err := pipeline.New(cfg, opts, pipeline.NewMetrics(reg), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), append(topics.Specs(), p.Specs()...), nil); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	sim := pipelinetest.SimConfig(7, 100)
	max, err := pipelinetest.Produce(ctx, opts, topics.Raw, sim, 20000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipelinetest.ProduceSentinels(ctx, opts, topics.Raw, int(topics.Partitions), "gem-garden", max.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}

	caught := make(chan error, 1)
	go func() {
		caught <- pipelinetest.WaitCaughtUp(ctx, opts, pipeline.DefaultAppID, topics, pipeline.DefaultPartialsTopic)
	}()
	restarts := 0
	for {
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx) }()
		var tick <-chan time.Time
		if restartEvery > 0 && restarts < 10 {
			tick = time.After(restartEvery)
		}
		select {
		case err := <-caught:
			if err == nil && restarts == 0 {
				checkLiveMetrics(t, reg)
			}
			stop()
			if err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			t.Logf("%d restarts", restarts)
		case <-tick:
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			restarts++
			if p, err = pipeline.New(cfg, opts, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			continue
		}
		break
	}

	rep, err := pipelinetest.RunOracle(ctx, opts, topics.Raw, oracle.Params{Partitions: int(topics.Partitions), Rates: pipelinetest.SimRates})
	if err != nil {
		t.Fatal(err)
	}
	out, err := pipelinetest.ReadOutputs(ctx, opts, topics)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw %d, enriched %d, dead letters %v, sessions %d, kpi rows %d, late %d, watermark %s",
		out.Raw, out.Enriched, out.DeadLetters, len(out.Sessions), len(out.KPI), out.Late, out.Watermark)
	if err := pipelinetest.Compare(out, rep); err != nil {
		t.Fatalf("pipeline differs from the oracle:\n%v", err)
	}
}

// checkLiveMetrics checks the metrics a running processor exports for the
// dashboards and the live page: state sizes per store, consumer lag per
// partition of both groups, window result latency and the business gauges.
func checkLiveMetrics(t *testing.T, reg *prometheus.Registry) {
	t.Helper()
	var mfs []*dto.MetricFamily
	// The lag is measured every 200 ms here; give it a few rounds (a slow
	// machine) to see both groups' commits.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if mfs, err = reg.Gather(); err != nil {
			t.Fatal(err)
		}
		groups := 0
		for _, mf := range mfs {
			if mf.GetName() == "gamepulse_processor_consumer_lag_records" {
				seen := map[string]bool{}
				for _, m := range mf.GetMetric() {
					seen[m.GetLabel()[0].GetValue()] = true
				}
				groups = len(seen)
			}
		}
		if groups == 2 || time.Now().After(deadline) {
			break
		}
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	labels := func(name, label string) map[string]bool {
		out := map[string]bool{}
		if mf := byName[name]; mf != nil {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == label {
						out[l.GetValue()] = true
					}
				}
			}
		}
		return out
	}
	stores := labels("gamepulse_processor_state_entries", "store")
	for _, s := range []string{"dedup", "players", "ledger", "fraud", "clock", "windows", "marks", "completeness"} {
		if !stores[s] {
			t.Errorf("gamepulse_processor_state_entries has no store %q (has %v)", s, stores)
		}
	}
	if g := labels("gamepulse_processor_consumer_lag_records", "group"); !g[pipeline.DefaultAppID+".stage1"] || !g[pipeline.DefaultAppID+".stage2"] {
		t.Errorf("consumer lag groups %v", g)
	}
	if mf := byName["gamepulse_processor_window_result_latency_seconds"]; mf == nil || mf.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
		t.Error("no window result latency observed")
	}
	games := labels("gamepulse_business_active_players", "game")
	if len(games) == 0 {
		t.Error("no business gauges")
	}
	for g := range games {
		var active float64
		for _, m := range byName["gamepulse_business_active_players"].GetMetric() {
			if m.GetLabel()[0].GetValue() == g {
				active = m.GetGauge().GetValue()
			}
		}
		if active <= 0 {
			t.Errorf("game %s: %v active players", g, active)
		}
	}
	if levels := labels("gamepulse_business_level_fails_per_minute", "level"); len(levels) == 0 || len(levels) > 10*len(games) {
		t.Errorf("level gauges for %d levels", len(levels))
	}
}
