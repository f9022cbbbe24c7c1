//go:build integration

package engine

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

// TestRealKafkaCrashRestoresStateAndFencesTheZombie is the crash test on
// real Apache Kafka (started by scripts/test.sh), whose transaction protocol
// (KIP-890, transactions v2 in Kafka 4) kfake only imitates.
func TestRealKafkaCrashRestoresStateAndFencesTheZombie(t *testing.T) {
	b := os.Getenv("GAMEPULSE_TEST_KAFKA_BROKERS")
	if b == "" {
		t.Fatal("GAMEPULSE_TEST_KAFKA_BROKERS is not set: run through scripts/test.sh")
	}
	brokers := kafka.ParseBrokers(b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	compact := "compact"
	specs := []kafka.TopicSpec{
		{Name: inTopic, Partitions: parts, Replication: -1},
		{Name: outTopic, Partitions: parts, Replication: -1},
		{Name: ChangelogTopic(store), Partitions: parts, Replication: -1, Configs: map[string]*string{"cleanup.policy": &compact}},
	}
	// The topic names are fixed by the shared helpers; start from nothing.
	adm.DeleteTopics(ctx, inTopic, outTopic, ChangelogTopic(store))
	time.Sleep(time.Second)
	if err := kafka.EnsureTopics(ctx, adm, specs, nil); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	crashTest(t, brokers, 5000, 4)
}
