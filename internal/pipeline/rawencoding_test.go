package pipeline_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/oracle"
	"github.com/gamepulse/gamepulse/internal/pipeline"
	"github.com/gamepulse/gamepulse/internal/pipeline/pipelinetest"
	"github.com/gamepulse/gamepulse/internal/record"
)

// TestRawEncodingsGiveTheSameOutputs runs the simulator's Kafka sink
// (simulate --brokers) with the same seed in each raw encoding, with
// duplicates, late and malformed items, into its own embedded broker, and
// the processor over it: each run equals the oracle (which reads the
// records by their header), and the two runs give the same enriched events,
// dead letters by code, sessions, completeness and final KPI rows — the
// version and watermark of a KPI row, which follow the processing's timing,
// aside.
func TestRawEncodingsGiveTheSameOutputs(t *testing.T) {
	outs := map[record.Encoding]*pipelinetest.Outputs{}
	for _, enc := range []record.Encoding{record.EncodingProtobuf, record.EncodingJSON} {
		outs[enc] = runEncoding(t, enc, 8000)
	}
	pb, js := outs[record.EncodingProtobuf], outs[record.EncodingJSON]
	if pb.Raw != js.Raw || pb.Enriched != js.Enriched || pb.Late != js.Late {
		t.Errorf("raw %d/%d, enriched %d/%d, late %d/%d (protobuf/json)", pb.Raw, js.Raw, pb.Enriched, js.Enriched, pb.Late, js.Late)
	}
	if !maps.Equal(pb.EnrichedIDs, js.EnrichedIDs) {
		t.Errorf("enriched event ids differ")
	}
	if !maps.Equal(pb.DeadLetters, js.DeadLetters) {
		t.Errorf("dead letters by code: protobuf %v, json %v", pb.DeadLetters, js.DeadLetters)
	}
	if a, b := sessionKeys(t, pb.Sessions), sessionKeys(t, js.Sessions); !slices.Equal(a, b) {
		t.Errorf("sessions differ: %d protobuf, %d json", len(a), len(b))
	}
	if !maps.Equal(pb.Completeness, js.Completeness) {
		t.Errorf("completeness rows differ")
	}
	if len(pb.KPI) == 0 || len(pb.KPI) != len(js.KPI) {
		t.Fatalf("KPI rows: %d protobuf, %d json", len(pb.KPI), len(js.KPI))
	}
	diffs := 0
	for k, a := range pb.KPI {
		b, ok := js.KPI[k]
		if !ok {
			t.Errorf("KPI row %s only with protobuf", k)
			continue
		}
		if x, y := kpiFigures(t, a), kpiFigures(t, b); x != y {
			if diffs++; diffs <= 5 {
				t.Errorf("KPI row %s:\nprotobuf %s\njson     %s", k, x, y)
			}
		}
	}
}

// runEncoding produces n simulated items and the sentinels in raw encoding
// enc to a fresh embedded broker, runs the processor until it caught up,
// checks its outputs against the oracle and returns them.
func runEncoding(t *testing.T, enc record.Encoding, n int) *pipelinetest.Outputs {
	t.Helper()
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
	max, err := pipelinetest.ProduceEncoded(ctx, opts, topics.Raw, enc, pipelinetest.SimConfig(11, 100), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pipelinetest.ProduceSentinels(ctx, opts, topics.Raw, int(topics.Partitions), "gem-garden", max.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	err = pipelinetest.WaitCaughtUp(ctx, opts, pipeline.DefaultAppID, topics, pipeline.DefaultPartialsTopic)
	stop()
	if rerr := <-done; err == nil {
		err = rerr
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipelinetest.RunOracle(ctx, opts, topics.Raw, oracle.Params{Partitions: int(topics.Partitions), Rates: pipelinetest.SimRates})
	if err != nil {
		t.Fatal(err)
	}
	out, err := pipelinetest.ReadOutputs(ctx, opts, topics)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: raw %d, enriched %d, dead letters %v, sessions %d, kpi rows %d, late %d",
		enc, out.Raw, out.Enriched, out.DeadLetters, len(out.Sessions), len(out.KPI), out.Late)
	if out.Enriched == 0 || len(out.DeadLetters) == 0 || len(out.Sessions) == 0 {
		t.Fatalf("%s: the run exercised too little", enc)
	}
	if err := pipelinetest.Compare(out, rep); err != nil {
		t.Fatalf("%s: pipeline differs from the oracle:\n%v", enc, err)
	}
	return out
}

func sessionKeys(t *testing.T, ss []oracle.Session) []string {
	var out []string
	for _, s := range ss {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// kpiFigures is a KPI row's JSON without version and watermark.
func kpiFigures(t *testing.T, v map[string]any) string {
	c := maps.Clone(v)
	delete(c, "version")
	delete(c, "watermark")
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
