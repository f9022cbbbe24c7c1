package pipeline_test

import (
	"context"
	"testing"
	"time"

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
	cfg := pipeline.Config{InstanceID: "t1", Topics: topics, MaxPollRecords: 2000, Jobs: jobs.Config{Rates: rates}}
	p, err := pipeline.New(cfg, opts, nil, nil, nil)
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
	go func() { caught <- pipelinetest.WaitCaughtUp(ctx, opts, pipeline.DefaultAppID, topics) }()
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
