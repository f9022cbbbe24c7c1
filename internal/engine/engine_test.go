package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

const (
	inTopic  = "in"
	outTopic = "out"
	store    = "counts"
	parts    = 4
)

// countTask counts records per key; each output is "key:count", so exactly
// once means every key's outputs are 1, 2, ..., n with no gap or repeat.
type countTask struct {
	part   int32
	counts map[string]uint64
}

func (t *countTask) Restore(s string, key, value []byte) error {
	if s != store {
		return fmt.Errorf("unknown store %s", s)
	}
	if value == nil {
		delete(t.counts, string(key))
		return nil
	}
	t.counts[string(key)] = binary.BigEndian.Uint64(value)
	return nil
}

func (t *countTask) Process(r *kgo.Record, out *Outputs) error {
	k := string(r.Key)
	t.counts[k]++
	v := binary.BigEndian.AppendUint64(nil, t.counts[k])
	out.Changelog(store, t.part, r.Key, v)
	out.Add(outTopic, -1, r.Key, []byte(k+":"+strconv.FormatUint(t.counts[k], 10)))
	return nil
}

func (t *countTask) Flush(time.Time, *Outputs) error { return nil }

func newCluster(t *testing.T) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(parts, inTopic, outTopic, ChangelogTopic(store)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func produceInput(t *testing.T, brokers []string, n, keys int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(inTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%02d", i%keys)), Value: []byte("x")})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func newProc(t *testing.T, brokers []string, instance string, delivery Delivery) *Engine {
	t.Helper()
	p, err := New(Config{Group: "g", InstanceID: instance, Input: inTopic, Stores: []string{store}, Delivery: delivery,
		MaxPollRecords: 50, TxnTimeout: 10 * time.Second},
		[]kgo.Opt{kgo.SeedBrokers(brokers...)}, func(_ string, part int32) (Task, error) {
			return &countTask{part: part, counts: map[string]uint64{}}, nil
		}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// readOut returns each key's outputs as read_committed sees them.
func readOut(t *testing.T, brokers []string) map[string][]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs, err := kafka.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(brokers...)}, outTopic)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]uint64{}
	for _, r := range recs {
		k, v, _ := strings.Cut(string(r.Value), ":")
		n, _ := strconv.ParseUint(v, 10, 64)
		got[k] = append(got[k], n)
	}
	return got
}

// checkExactlyOnce: every key's outputs are 1..n in order, and they add up
// to the input count.
func checkExactlyOnce(t *testing.T, got map[string][]uint64, n int) {
	t.Helper()
	total := 0
	for k, seq := range got {
		for i, v := range seq {
			if v != uint64(i+1) {
				t.Fatalf("key %s: outputs %v are not 1..n (a duplicate or a gap)", k, seq)
			}
		}
		total += len(seq)
	}
	if total != n {
		t.Fatalf("%d outputs, want %d", total, n)
	}
}

func waitOutputs(t *testing.T, brokers []string, n int) map[string][]uint64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := readOut(t, brokers)
		total := 0
		for _, s := range got {
			total += len(s)
		}
		if total >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestExactlyOnce(t *testing.T) {
	b := newCluster(t).ListenAddrs()
	produceInput(t, b, 2000, 37)
	p := newProc(t, b, "a", ExactlyOnce)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	got := waitOutputs(t, b, 2000)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, 2000)
}

// TestCrashRestoresStateAndFencesTheZombie crashes the processor with a
// transaction open (outputs produced, not committed) several times; each
// restart under the same instance id fences the dead producer, restores the
// counts from the changelog and carries on: outputs stay exactly once.
func TestCrashRestoresStateAndFencesTheZombie(t *testing.T) {
	crashTest(t, newCluster(t).ListenAddrs(), 3000, 4)
}

// crashTest runs the count job over n records, crashing it `crashes` times
// with a transaction open, then checks exactly-once outputs.
func crashTest(t *testing.T, brokers []string, n, crashes int) {
	produceInput(t, brokers, n, 23)
	for crash := 0; crash < crashes; crash++ {
		p := newProc(t, brokers, "a", ExactlyOnce)
		var txns atomic.Int32
		p.testHook = func(point string) bool { return point == "produced" && txns.Add(1) == 5 }
		if err := p.Run(context.Background()); err != nil {
			t.Fatalf("run %d: %v", crash, err)
		}
	}
	p := newProc(t, brokers, "a", ExactlyOnce)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	got := waitOutputs(t, brokers, n)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, n)
}

func TestAtLeastOnceWithoutCrashes(t *testing.T) {
	b := newCluster(t).ListenAddrs()
	produceInput(t, b, 1000, 11)
	p := newProc(t, b, "a", AtLeastOnce)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	got := waitOutputs(t, b, 1000)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, got, 1000) // no crash, so no repeats either
}

func TestConfigValidate(t *testing.T) {
	for _, cfg := range []Config{
		{Input: "in", InstanceID: "a"},
		{Group: "g", InstanceID: "a"},
		{Group: "g", Input: "in"},
		{Group: "g", Input: "in", InstanceID: "a", Delivery: "maybe-once"},
	} {
		if _, err := New(cfg, nil, nil, nil, nil); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

// TestFailedProduceAborts makes the broker refuse a produce to the output
// topic a few times (a non-retriable error, as a fenced zombie gets).
// franz-go's End would commit the transaction without the refused records;
// the processor must abort it instead, so that no output goes missing.
func TestFailedProduceAborts(t *testing.T) {
	c := newCluster(t)
	b := c.ListenAddrs()
	produceInput(t, b, 1500, 19)
	var refused atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kreq.(*kmsg.ProduceRequest)
		if req.TransactionID == nil || refused.Load() >= 3 {
			return nil, nil, false
		}
		// Produce v13 names topics by id, so every transactional produce
		// (outputs and changelogs alike) is a candidate.
		refused.Add(1)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.InvalidRecord.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	p := newProc(t, b, "a", ExactlyOnce)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	got := waitOutputs(t, b, 1500)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if refused.Load() == 0 {
		t.Fatal("no produce was refused: the test did not test anything")
	}
	checkExactlyOnce(t, got, 1500)
}

func TestValidateNamesTheField(t *testing.T) {
	ok := DefaultConfig()
	ok.Group, ok.InstanceID, ok.Input = "g", "a", "in"
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, mut := range map[string]func(*Config){
		"Group":          func(c *Config) { c.Group = "" },
		"Input":          func(c *Config) { c.Input = "" },
		"InstanceID":     func(c *Config) { c.InstanceID = "" },
		"Delivery":       func(c *Config) { c.Delivery = "maybe" },
		"MaxPollRecords": func(c *Config) { c.MaxPollRecords = -1 },
		"TxnTimeout":     func(c *Config) { c.TxnTimeout = -1 },
		"SessionTimeout": func(c *Config) { c.SessionTimeout = -1 },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: error %v does not name the field", field, err)
		}
	}
	if _, err := New(ok, nil, nil, nil, nil); err == nil {
		t.Error("New without a TaskFactory succeeded")
	}
}

// A task that cannot be made stops Run with the factory's error instead of
// a panic.
func TestFactoryErrorStopsRun(t *testing.T) {
	b := newCluster(t).ListenAddrs()
	produceInput(t, b, 10, 3)
	boom := errors.New("no task today")
	p, err := New(Config{Group: "g", InstanceID: "a", Input: inTopic, Stores: []string{store}},
		[]kgo.Opt{kgo.SeedBrokers(b...)}, func(string, int32) (Task, error) { return nil, boom }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Run(ctx); !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
}
