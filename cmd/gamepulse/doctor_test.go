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
