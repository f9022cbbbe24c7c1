package kafka

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error, "" for valid
	}{
		{"valid", Config{Brokers: []string{"a:9092"}}, ""},
		{"no brokers", Config{}, "no brokers"},
		{"not host:port", Config{Brokers: []string{"kafka"}}, "not host:port"},
		{"sasl without user", Config{Brokers: []string{"a:1"}, SASLMechanism: "PLAIN"}, "needs a user"},
		{"unknown sasl", Config{Brokers: []string{"a:1"}, SASLMechanism: "GSSAPI", SASLUser: "u"}, "unknown SASL"},
		{"scram ok", Config{Brokers: []string{"a:1"}, SASLMechanism: "scram-sha-512", SASLUser: "u"}, ""},
		{"cert without key", Config{Brokers: []string{"a:1"}, TLSCertFile: "c.pem"}, "go together"},
		{"bad compression", Config{Brokers: []string{"a:1"}, Compression: "brotli"}, "unknown compression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("want error containing %q, got %v", tc.want, err)
			}
		})
	}
}

func TestParseBrokers(t *testing.T) {
	got := ParseBrokers(" a:1, ,b:2,")
	if len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Fatalf("got %q", got)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestEmbeddedBrokerIsDurable: records and topics survive a restart of the
// embedded broker on the same data directory and address.
func TestEmbeddedBrokerIsDurable(t *testing.T) {
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := Topics{Raw: "raw", DeadLetter: "dlq", Partitions: 3, Replication: 1}

	b, err := StartBroker(BrokerConfig{Listen: addr, DataDir: dir, SyncWrites: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Addrs(); len(got) != 1 || got[0] != addr {
		t.Fatalf("listening on %v, want %s", got, addr)
	}
	cl, err := kgo.NewClient(append(ProducerOpts(100), kgo.SeedBrokers(addr))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopics(ctx, kadm.NewClient(cl), topics.Specs(), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "raw", Key: []byte{byte(i)}, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	b.Close()

	b, err = StartBroker(BrokerConfig{Listen: addr, DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err = kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := EndOffsets(ctx, adm, "raw")
	if err != nil {
		t.Fatal(err)
	}
	if ends["raw"] != 10 {
		t.Fatalf("after restart the raw topic holds %d records, want 10", ends["raw"])
	}
	// Ensuring again is a no-op on existing topics.
	if err := EnsureTopics(ctx, adm, topics.Specs(), nil); err != nil {
		t.Fatal(err)
	}
	details, err := adm.ListTopics(ctx, "raw", "dlq")
	if err != nil || len(details["raw"].Partitions) != 3 || len(details["dlq"].Partitions) != 3 {
		t.Fatalf("topics after restart: %v %v", details, err)
	}
}

func TestTopicsValidate(t *testing.T) {
	good := DefaultTopicConfig()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []Topics{
		{Raw: "", DeadLetter: "d", Partitions: 1, Replication: 1},
		{Raw: "r", DeadLetter: "d", Partitions: 0, Replication: 1},
		{Raw: "r", DeadLetter: "d", Partitions: 1, Replication: 0},
		{Raw: "r", DeadLetter: "d", Partitions: 1, Replication: -2},
	} {
		if bad.Validate() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
