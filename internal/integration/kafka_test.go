//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/gateway"
	"github.com/gamepulse/gamepulse/internal/kafka"
)

func brokers(t *testing.T) []string {
	t.Helper()
	b := os.Getenv("GAMEPULSE_TEST_KAFKA_BROKERS")
	if b == "" {
		t.Fatal("GAMEPULSE_TEST_KAFKA_BROKERS is not set: run these tests through scripts/test.sh, which starts real Kafka")
	}
	return kafka.ParseBrokers(b)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// newTopic creates a topic with a unique name for one test.
func newTopic(t *testing.T, partitions int32) string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	name := fmt.Sprintf("it-%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), rand.IntN(1e9))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, kadm.NewClient(cl), []kafka.TopicSpec{{Name: name, Partitions: partitions, Replication: -1}}, nil); err != nil {
		t.Fatal(err)
	}
	return name
}

func testEvent(i int) *event.Event {
	return &event.Event{
		EventId: fmt.Sprintf("evt-%06d", i), EventType: event.TypeLevelStart,
		PlayerId: fmt.Sprintf("player-%03d", i%97), SessionId: fmt.Sprintf("s-%03d", i%97), Seq: uint64(i/97 + 1),
		ClientTime: timestamppb.New(time.Now().Add(-time.Second)), Platform: "android", Country: "BR",
		Payload: &event.Event_LevelStart{LevelStart: &event.Level{Level: int32(i % 30)}},
	}
}

func jsonBatch(t *testing.T, from, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteByte('[')
	for i := from; i < from+n; i++ {
		if i > from {
			b.WriteByte(',')
		}
		j, err := event.MarshalJSON(testEvent(i))
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
	}
	b.WriteByte(']')
	return b.Bytes()
}

type posted struct {
	status     int
	retryAfter string
	accepted   int
}

func post(t *testing.T, url, key string, body []byte) posted {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return posted{status: -1}
	}
	defer resp.Body.Close()
	var r struct {
		Accepted int `json:"accepted"`
	}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &r)
	return posted{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), accepted: r.Accepted}
}

// readAll reads a topic up to its end offsets (kafka.ReadAll).
func readAll(t *testing.T, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	recs, err := kafka.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(brokers(t)...)}, topic)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func startGateway(t *testing.T, topic string, mod func(*gateway.Config)) (*httptest.Server, *gateway.Gateway) {
	t.Helper()
	// A generous produce timeout: a fresh topic's first produce on real
	// Kafka can take seconds while its partition leaders settle.
	cfg := gateway.Config{Topic: topic, Keys: map[string]string{"it-key": "it-game"}, MaxPendingEvents: 20000,
		ProduceTimeout: 15 * time.Second, RateLimit: 0}
	if mod != nil {
		mod(&cfg)
	}
	cfg.EnsureDefaults()
	cl, err := kgo.NewClient(append(kafka.ProducerOpts(cfg.MaxPendingEvents+cfg.MaxEvents),
		kgo.SeedBrokers(brokers(t)...), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, cl, prometheus.NewRegistry(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { gw.Run(ctx); close(done) }()
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() { srv.Close(); cancel(); <-done; cl.Close() })
	return srv, gw
}

// TestGatewayStoresEachEventOnce posts N events in batches of 100 from
// several clients at once; after the 2xx answers every event is in the raw
// topic exactly once, keyed by its player, each player on one partition.
func TestGatewayStoresEachEventOnce(t *testing.T) {
	const n, batch, workers = 20000, 100, 4
	topic := newTopic(t, 6)
	srv, _ := startGateway(t, topic, nil)

	var wg sync.WaitGroup
	errs := make(chan string, n/batch)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for from := w * batch; from < n; from += workers * batch {
				r := post(t, srv.URL, "it-key", jsonBatch(t, from, batch))
				if r.status != 200 || r.accepted != batch {
					errs <- fmt.Sprintf("batch at %d: status %d accepted %d", from, r.status, r.accepted)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}

	recs := readAll(t, topic)
	if len(recs) != n {
		t.Fatalf("raw topic holds %d records, want %d", len(recs), n)
	}
	seen := make(map[string]bool, n)
	partOf := map[string]int32{}
	for _, r := range recs {
		ev, err := event.Unmarshal(r.Value)
		if err != nil {
			t.Fatalf("record at %d/%d does not decode: %v", r.Partition, r.Offset, err)
		}
		if seen[ev.EventId] {
			t.Fatalf("event %s stored twice", ev.EventId)
		}
		seen[ev.EventId] = true
		if string(r.Key) != ev.PlayerId {
			t.Fatalf("record key %q, player %q", r.Key, ev.PlayerId)
		}
		if p, ok := partOf[ev.PlayerId]; ok && p != r.Partition {
			t.Fatalf("player %s on partitions %d and %d", ev.PlayerId, p, r.Partition)
		}
		partOf[ev.PlayerId] = r.Partition
		if ev.GameId != "it-game" || ev.ReceivedAt == nil {
			t.Fatalf("server fields missing: game %q received_at %v", ev.GameId, ev.ReceivedAt)
		}
	}
	for i := 0; i < n; i++ {
		if !seen[fmt.Sprintf("evt-%06d", i)] {
			t.Fatalf("event %d missing", i)
		}
	}
}

// TestBadNeighboursOnRealKafka: in a mixed batch only the good events reach
// Kafka, and each bad one is named with its reason.
func TestBadNeighboursOnRealKafka(t *testing.T) {
	topic := newTopic(t, 3)
	srv, _ := startGateway(t, topic, nil)
	good := jsonBatch(t, 0, 3)
	body := append([]byte(`[{"event_id":"x","event_type":"teleport"},`), good[1:]...)
	body = append(body[:len(body)-1], []byte(`,{"event_id":"y"}]`)...)
	r := post(t, srv.URL, "it-key", body)
	if r.status != 200 || r.accepted != 3 {
		t.Fatalf("got %+v", r)
	}
	if recs := readAll(t, topic); len(recs) != 3 {
		t.Fatalf("%d records in Kafka, want 3", len(recs))
	}
}

// kafkaScript runs scripts/kafka.sh on the broker the test script started.
func kafkaScript(t *testing.T, args ...string) {
	t.Helper()
	dir := os.Getenv("GAMEPULSE_TEST_KAFKA_DIR")
	if dir == "" {
		t.Fatal("GAMEPULSE_TEST_KAFKA_DIR is not set: run these tests through scripts/test.sh")
	}
	cmd := exec.Command("bash", append([]string{filepath.Join(repoRoot(t), "scripts", "kafka.sh")}, append(args, dir)...)...)
	cmd.Env = append(os.Environ(), "KAFKA_WATCH_PID=") // the test script's watchdog already watches this broker
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kafka.sh %v: %v\n%s", args, err, out)
	}
}

// TestKafkaOutage stops the real broker: the gateway answers 503 with
// Retry-After and never 2xx; when the broker is back, the same gateway
// accepts again without a restart, and every event acknowledged is stored.
func TestKafkaOutage(t *testing.T) {
	topic := newTopic(t, 3)
	srv, _ := startGateway(t, topic, func(c *gateway.Config) { c.ProduceTimeout = 2 * time.Second })
	acked := map[int]bool{}
	next := 0
	send := func() posted {
		r := post(t, srv.URL, "it-key", jsonBatch(t, next, 10))
		if r.status == 200 {
			for i := next; i < next+10; i++ {
				acked[i] = true
			}
		}
		next += 10
		return r
	}
	// A fresh topic's leaders may still be settling: wait until the gateway
	// accepts before the outage starts.
	warm := time.Now().Add(30 * time.Second)
	for r := send(); r.status != 200; r = send() {
		if r.status != 503 || time.Now().After(warm) {
			t.Fatalf("before the outage: %+v", r)
		}
		time.Sleep(500 * time.Millisecond)
	}

	kafkaScript(t, "stop")
	restarted := false
	defer func() {
		if !restarted {
			kafkaScript(t, "start")
		}
	}()
	for i := 0; i < 5; i++ {
		r := send()
		if r.status == 200 {
			t.Fatalf("2xx while Kafka is down: %+v", r)
		}
		if r.status != 503 || r.retryAfter == "" {
			t.Fatalf("during the outage: want 503 with Retry-After, got %+v", r)
		}
	}

	kafkaScript(t, "start")
	restarted = true
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := send()
		if r.status == 200 {
			break
		}
		if r.status != 503 {
			t.Fatalf("while Kafka comes back: %+v", r)
		}
		if time.Now().After(deadline) {
			t.Fatal("the gateway did not recover within 60s of Kafka's return")
		}
		time.Sleep(500 * time.Millisecond)
	}
	for i := 0; i < 3; i++ {
		if r := send(); r.status != 200 {
			t.Fatalf("after recovery: %+v", r)
		}
	}
	stored := map[string]bool{}
	for _, r := range readAll(t, topic) {
		ev, _ := event.Unmarshal(r.Value)
		stored[ev.EventId] = true
	}
	for i := range acked {
		if !stored[fmt.Sprintf("evt-%06d", i)] {
			t.Fatalf("event %d was acknowledged but is not in Kafka", i)
		}
	}
}

// TestBinaryGracefulShutdown runs the real gamepulse binary, keeps posting
// while it receives SIGTERM, and checks that it exits 0 and that every
// acknowledged event is in Kafka.
func TestBinaryGracefulShutdown(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gamepulse")
	build := exec.Command("go", "build", "-o", bin, "./cmd/gamepulse")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	topic := fmt.Sprintf("it-shutdown-%d", rand.IntN(1e9))
	cmd := exec.Command(bin, "gateway", "--listen", addr, "--brokers", strings.Join(brokers(t), ","),
		"--topic-raw", topic, "--topic-deadletter", topic+"-dlq", "--partitions", "3", "--log-format", "json")
	cmd.Env = append(os.Environ(), "GAMEPULSE_API_KEYS=it-key=it-game")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("gateway never became ready:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	var mu sync.Mutex
	acked := map[int]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for from := w * 50; ; from += 150 {
				select {
				case <-stop:
					return
				default:
				}
				r := post(t, url, "it-key", jsonBatch(t, from, 50))
				if r.status == 200 {
					mu.Lock()
					for i := from; i < from+50; i++ {
						acked[i] = true
					}
					mu.Unlock()
				}
				if r.status == -1 { // connection refused: the server is gone
					return
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Fatalf("gateway did not exit 0 after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(45 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("gateway did not exit within 45s of SIGTERM:\n%s", logs.String())
	}
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged before the shutdown")
	}
	stored := map[string]bool{}
	for _, r := range readAll(t, topic) {
		ev, _ := event.Unmarshal(r.Value)
		stored[ev.EventId] = true
	}
	for i := range acked {
		if !stored[fmt.Sprintf("evt-%06d", i)] {
			t.Fatalf("event %d acknowledged but not stored", i)
		}
	}
	t.Logf("%d events acknowledged before and during shutdown, all stored", len(acked))
}
