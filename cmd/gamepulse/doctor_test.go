package main

import (
	"strings"
	"testing"

	"github.com/gamepulse/gamepulse/internal/kafka"
)

func startEmbedded(t *testing.T) string {
	t.Helper()
	b, err := kafka.StartBroker(kafka.BrokerConfig{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return strings.Join(b.Addrs(), ",")
}

// With the default --replication -1, doctor judges the replication the
// embedded broker really applies, and passes.
func TestDoctorPassesTheEmbeddedBrokerWithItsDefaultReplication(t *testing.T) {
	out, _, err := runMain(t, nil, "doctor", "--brokers", startEmbedded(t))
	if err != nil {
		t.Fatalf("doctor failed on the embedded broker with --replication -1: %v\n%s", err, out)
	}
	if !strings.Contains(out, "[ok  ] replication: --replication -1: the broker's default.replication.factor=3") ||
		!strings.Contains(out, "gets 1 replica(s) on 1 broker(s)") {
		t.Fatalf("doctor does not say what the broker applies:\n%s", out)
	}
}

func TestDoctorRejectsAnUnknownFormat(t *testing.T) {
	out, _, err := runMain(t, nil, "doctor", "--brokers", "127.0.0.1:1", "--format", "yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) || !strings.Contains(err.Error(), "text or json") {
		t.Fatalf("--format yaml: got %v\n%s", err, out)
	}
}

// With --spark-remote at an address where nothing answers, doctor fails
// the Spark check and says how to fix it (the Kafka checks still pass).
func TestDoctorFailsAnUnreachableSparkServer(t *testing.T) {
	out, _, err := runMain(t, nil, "doctor", "--brokers", startEmbedded(t), "--spark-remote", "sc://127.0.0.1:1", "--timeout", "20s")
	if err == nil {
		t.Fatalf("doctor passed with an unreachable Spark server:\n%s", out)
	}
	if !strings.Contains(out, "[fail] spark reachable: sc://127.0.0.1:1") || !strings.Contains(out, "fix: start a Spark Connect server") {
		t.Fatalf("doctor does not say that Spark is unreachable and how to fix it:\n%s", out)
	}
	if strings.Contains(out, "spark kafka connector") {
		t.Fatalf("doctor goes on past an unreachable server:\n%s", out)
	}
}
