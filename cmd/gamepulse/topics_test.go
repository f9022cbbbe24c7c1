package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/pipeline"
)

// inspectFixture is an embedded broker holding what the pipeline's producers
// write: raw events from the simulator's Kafka sink, an alert committed by a
// transactional producer next to one it aborted, a dead letter whose value
// is not an event, and a binary topic outside the pipeline.
type inspectFixture struct {
	brokers string
	raw     int64 // records in the raw topic
}

func newInspectFixture(t *testing.T) inspectFixture {
	t.Helper()
	brokers := startEmbedded(t)
	if _, stderr, err := runMain(t, nil, "simulate", "--brokers", brokers, "--count", "300", "--rate", "0",
		"--seed", "7", "--malformed", "0.05", "--partitions", "3", "--replication", "1", "--log-level", "warn"); err != nil {
		t.Fatalf("simulate: %v\n%s", err, stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := kafka.DefaultTopicConfig()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.TransactionalID("tail-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, name := range []string{topics.Alerts, "other.binary"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, name); err != nil {
			t.Fatal(err)
		}
	}
	alert := &jobs.Alert{Rule: "purchase_burst", Subject: "p-1", GameID: "g-1", Start: time.Date(2026, 11, 25, 18, 4, 0, 0, time.UTC), End: time.Date(2026, 11, 25, 18, 5, 0, 0, time.UTC),
		Observed: 12, Threshold: 5, Message: "12 purchases in a minute <& more>"}
	v, err := alert.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, commit := range []kgo.TransactionEndTry{kgo.TryAbort, kgo.TryCommit} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		value := v
		if commit == kgo.TryAbort {
			value = []byte(`{"rule":"aborted"}`)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topics.Alerts, Key: []byte(alert.Key()), Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := cl.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	plain, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if err := plain.ProduceSync(ctx,
		&kgo.Record{Topic: topics.DeadLetter, Key: []byte{0xff, 0x00}, Value: []byte("{not protobuf\n"), Headers: []kgo.RecordHeader{
			{Key: "code", Value: []byte("malformed")}, {Key: "source_offset", Value: []byte("17")}, {Key: "bin", Value: []byte{0xff}}}},
		&kgo.Record{Topic: "other.binary", Value: []byte{0x0a, 0x0a, 0xff, '\n', 0x00}},
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ends, err := kafka.EndOffsets(ctx, adm, topics.Raw)
	if err != nil {
		t.Fatal(err)
	}
	return inspectFixture{brokers: brokers, raw: ends[topics.Raw]}
}

// tailLines runs tail and returns its output split into lines, each decoded.
func tailLines(t *testing.T, args ...string) (lines []map[string]any, raw []string) {
	t.Helper()
	out, stderr, err := runMain(t, nil, append([]string{"tail"}, args...)...)
	if err != nil {
		t.Fatalf("tail %v: %v\n%s", args, err, stderr)
	}
	if out == "" {
		return nil, nil
	}
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end with a newline: %q", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line is not one JSON object: %v\n%s", err, l)
		}
		lines, raw = append(lines, m), append(raw, l)
	}
	return lines, raw
}

// Raw events are binary Protobuf, most of them holding newline bytes (kcat
// prints them over several lines): tail prints exactly one JSON line per
// record, the event decoded into its JSON form.
func TestTailPrintsOneJSONLinePerRecord(t *testing.T) {
	f := newInspectFixture(t)
	raw := kafka.DefaultRawTopic
	recs, err := kafka.ReadAll(context.Background(), []kgo.Opt{kgo.SeedBrokers(strings.Split(f.brokers, ",")...)}, raw)
	if err != nil {
		t.Fatal(err)
	}
	withNewline := 0
	for _, r := range recs {
		if bytes.IndexByte(r.Value, '\n') >= 0 {
			withNewline++
		}
	}
	if len(recs) != int(f.raw) || withNewline == 0 {
		t.Fatalf("fixture: %d records (end offsets %d), %d with a newline byte", len(recs), f.raw, withNewline)
	}
	lines, _ := tailLines(t, raw, "--brokers", f.brokers, "--from-beginning")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines for %d records", len(lines), len(recs))
	}
	seen := map[string]bool{}
	decoded := 0
	for _, l := range lines {
		seen[l["topic"].(string)+"/"+strconv.Itoa(int(l["partition"].(float64)))+"/"+strconv.Itoa(int(l["offset"].(float64)))] = true
		if _, err := time.Parse(time.RFC3339Nano, l["timestamp"].(string)); err != nil {
			t.Fatalf("timestamp: %v", err)
		}
		if v, ok := l["value"].(map[string]any); ok {
			if v["event_id"] == nil || v["event_type"] == nil || v["received_at"] == nil || l["key"] != v["player_id"] {
				t.Fatalf("event not decoded into its JSON form: %v", l)
			}
			decoded++
		} else if l["decode_error"] == nil || l["value_base64"] == nil {
			t.Fatalf("undecoded value without base64 and a reason: %v", l)
		}
	}
	if len(seen) != len(recs) || decoded == 0 {
		t.Fatalf("%d distinct records printed of %d, %d decoded", len(seen), len(recs), decoded)
	}

	// --max, --partition, and the default: the last --last of each partition.
	if lines, _ := tailLines(t, raw, "--brokers", f.brokers, "--from-beginning", "--max", "5"); len(lines) != 5 {
		t.Fatalf("--max 5: %d lines", len(lines))
	}
	lines, _ = tailLines(t, raw, "--brokers", f.brokers, "--partition", "1", "--last", "3")
	if len(lines) != 3 {
		t.Fatalf("--partition 1 --last 3: %d lines", len(lines))
	}
	for _, l := range lines {
		if l["partition"].(float64) != 1 {
			t.Fatalf("--partition 1 printed %v", l)
		}
	}
}

// The alerts topic holds a committed and an aborted transaction: tail
// reads committed only, and passes the JSON through as an object.
func TestTailHidesAbortedRecordsAndPassesJSONThrough(t *testing.T) {
	f := newInspectFixture(t)
	lines, raw := tailLines(t, kafka.DefaultAlertsTopic, "--brokers", f.brokers, "--from-beginning")
	if len(lines) != 1 {
		t.Fatalf("want the committed alert only, got %d lines:\n%s", len(lines), strings.Join(raw, "\n"))
	}
	v, ok := lines[0]["value"].(map[string]any)
	if !ok || v["rule"] != "purchase_burst" || lines[0]["key"] != "purchase_burst|p-1" || v["message"] != "12 purchases in a minute <& more>" {
		t.Fatalf("alert: %s", raw[0])
	}
	lines, _ = tailLines(t, kafka.DefaultAlertsTopic, "--brokers", f.brokers, "--from-beginning", "--isolation", "read_uncommitted")
	if len(lines) != 2 {
		t.Fatalf("read_uncommitted: want both alerts, got %d", len(lines))
	}
}

// A value that is not what its topic should hold is printed as base64 with
// the reason; binary keys and headers as base64 too.
func TestTailPrintsUndecodableValuesAsBase64WithTheReason(t *testing.T) {
	f := newInspectFixture(t)
	lines, raw := tailLines(t, kafka.DefaultDeadLetterTopic, "--brokers", f.brokers, "--from-beginning")
	var dl map[string]any
	for i, l := range lines {
		if l["key_base64"] == "/wA=" {
			dl = l
			t.Log(raw[i])
		}
	}
	if dl == nil || dl["value"] != nil || dl["value_base64"] != "e25vdCBwcm90b2J1Zgo=" ||
		!strings.Contains(dl["decode_error"].(string), "not a Protobuf event") {
		t.Fatalf("dead letter: %v", dl)
	}
	hs := dl["headers"].([]any)
	if len(hs) != 3 || hs[0].(map[string]any)["value"] != "malformed" || hs[2].(map[string]any)["value_base64"] != "/w==" {
		t.Fatalf("headers: %v", hs)
	}
	lines, _ = tailLines(t, "other.binary", "--brokers", f.brokers, "--from-beginning")
	if len(lines) != 1 || lines[0]["decode_error"] == nil || lines[0]["value_base64"] != "CgrvCgA=" && lines[0]["value_base64"] != "Cgr/CgA=" {
		t.Fatalf("binary topic: %v", lines)
	}
}

func TestTailSaysWhatIsWrong(t *testing.T) {
	f := newInspectFixture(t)
	_, _, err := runMain(t, nil, "tail", "gamepulse.events.rwa", "--brokers", f.brokers)
	if err == nil || !strings.Contains(err.Error(), `topic "gamepulse.events.rwa" does not exist; existing topics: `) ||
		!strings.Contains(err.Error(), kafka.DefaultRawTopic) {
		t.Fatalf("unknown topic: %v", err)
	}
	_, _, err = runMain(t, nil, "tail", kafka.DefaultRawTopic, "--brokers", f.brokers, "--partition", "7")
	if err == nil || !strings.Contains(err.Error(), "no partition 7; its partitions: 0, 1, 2") {
		t.Fatalf("unknown partition: %v", err)
	}
	if _, _, err = runMain(t, nil, "tail", "--brokers", f.brokers); err == nil || !strings.Contains(err.Error(), "name the topic") {
		t.Fatalf("no topic: %v", err)
	}
	// Nothing listening, and a listener that never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	start := time.Now()
	for _, c := range []struct{ addr, want string }{
		{"127.0.0.1:1", "cannot reach Kafka at 127.0.0.1:1"},
		{silent.Addr().String(), "Kafka at " + silent.Addr().String() + " did not answer within 1s"},
	} {
		for _, cmd := range []string{"tail", "topics"} {
			args := []string{cmd, "--brokers", c.addr, "--timeout", "1s"}
			if cmd == "tail" {
				args = append(args, kafka.DefaultRawTopic)
			}
			_, _, err = runMain(t, nil, args...)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--brokers") {
				t.Fatalf("%s, broker at %s: %v", cmd, c.addr, err)
			}
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("an unreachable broker took %s to report", d)
	}
}

// topics lists the pipeline's topics (missing ones too) with partitions,
// replication, offsets and each consumer group's lag; --all lists every
// topic.
func TestTopicsListsThePipelinesTopicsWithOffsetsAndLag(t *testing.T) {
	f := newInspectFixture(t)
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(f.brokers, ",")...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var commit kadm.Offsets
	commit.Add(kadm.Offset{Topic: kafka.DefaultRawTopic, Partition: 0, At: 0})
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "gamepulse.stage1", commit); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := runMain(t, nil, "topics", "--brokers", f.brokers, "--format", "json")
	if err != nil {
		t.Fatalf("topics: %v\n%s", err, stderr)
	}
	var sums []kafka.TopicSummary
	if err := json.Unmarshal([]byte(out), &sums); err != nil {
		t.Fatal(err)
	}
	by := map[string]kafka.TopicSummary{}
	for _, s := range sums {
		by[s.Name] = s
	}
	if want := kafka.DefaultTopicConfig().Names(pipeline.DefaultPartialsTopic); len(sums) != len(want) || by["other.binary"].Name != "" {
		t.Fatalf("want the %d pipeline topics, got %+v", len(want), sums)
	}
	raw := by[kafka.DefaultRawTopic]
	if !raw.Exists || raw.Partitions != 3 || raw.Replication != 1 || raw.EndOffset != f.raw || raw.Records != f.raw || len(raw.Offsets) != 3 {
		t.Fatalf("raw topic: %+v (want %d records)", raw, f.raw)
	}
	// An empty group with a commit on one partition is behind by the whole
	// topic: it would read the other partitions from their start.
	if len(raw.Groups) != 1 || raw.Groups[0].Group != "gamepulse.stage1" || raw.Groups[0].Lag != f.raw {
		t.Fatalf("raw topic lag: %+v", raw.Groups)
	}
	if by[kafka.DefaultSessionsTopic].Exists || !by[kafka.DefaultAlertsTopic].Exists {
		t.Fatalf("existence: %+v", sums)
	}

	out, _, err = runMain(t, nil, "topics", "--brokers", f.brokers, "--all")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"TOPIC", "other.binary", kafka.DefaultRawTopic + "  ", "gamepulse.stage1 (" + strconv.FormatInt(f.raw, 10) + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("--all table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, kafka.DefaultSessionsTopic) {
		t.Errorf("--all lists a topic that does not exist:\n%s", out)
	}
	out, _, _ = runMain(t, nil, "topics", "--brokers", f.brokers)
	if !strings.Contains(out, kafka.DefaultSessionsTopic) || !strings.Contains(out, "(does not exist)") {
		t.Errorf("the table does not say a pipeline topic is missing:\n%s", out)
	}
	t.Log("\n" + out)
	if _, _, err := runMain(t, nil, "topics", "--brokers", f.brokers, "--format", "yaml"); err == nil || !strings.Contains(err.Error(), "table or json") {
		t.Fatalf("--format yaml: %v", err)
	}
}
