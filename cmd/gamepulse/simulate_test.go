package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/record"
)

// TestSimulateToKafkaInEachRawEncoding: simulate --brokers writes every
// raw record under the content-type header of --raw-encoding (protobuf by
// default), each event in that encoding with received_at stamped, and the
// malformed items as bytes that decode in neither.
func TestSimulateToKafkaInEachRawEncoding(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want record.Encoding
	}{
		{nil, record.EncodingProtobuf},
		{[]string{"--raw-encoding", "json"}, record.EncodingJSON},
		{[]string{"--raw-encoding", "protobuf"}, record.EncodingProtobuf},
	} {
		name := "default"
		if len(tc.args) > 0 {
			name = tc.args[1]
		}
		t.Run(name, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			brokers := strings.Join(c.ListenAddrs(), ",")
			args := append([]string{"simulate", "--brokers", brokers, "--replication", "1", "--partitions", "2", "--seed", "5",
				"--count", "500", "--rate", "0", "--malformed", "0.05"}, tc.args...)
			if _, stderr, err := runMain(t, nil, args...); err != nil {
				t.Fatalf("simulate: %v\n%s", err, stderr)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			recs, err := kafka.ReadAll(ctx, []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, kafka.DefaultTopicConfig().Raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) < 500 {
				t.Fatalf("%d records, want at least 500", len(recs))
			}
			malformed := 0
			for _, r := range recs {
				if got := record.RawEncoding(r.Headers); got != tc.want {
					t.Fatalf("record with headers %v: encoding %s, want %s", r.Headers, got, tc.want)
				}
				var e *event.Event
				if tc.want == record.EncodingJSON {
					if it := event.DecodeJSONEvent(r.Value, event.Limits{}); it.Rejection == nil {
						e = it.Event
					}
				} else if x, err := event.Unmarshal(r.Value); err == nil {
					e = x
				}
				if r.Key == nil { // a malformed item's bytes
					if e != nil && e.GetEventId() != "" {
						t.Fatalf("a keyless record decodes as event %v", e)
					}
					malformed++
					continue
				}
				if e == nil || e.GetReceivedAt() == nil || string(r.Key) != e.GetPlayerId() {
					t.Fatalf("keyed record %q does not decode as a %s event with received_at", r.Value, tc.want)
				}
			}
			if malformed == 0 {
				t.Fatal("no malformed bytes among the records: the test checks too little")
			}
		})
	}
}
