package kafka

import (
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestBrokerOutage: during an outage no request goes through; after it,
// the same client produces again.
func TestBrokerOutage(t *testing.T) {
	b, err := StartBroker(BrokerConfig{Listen: "127.0.0.1:0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addrs()...), kgo.DefaultProduceTopic("t"),
		kgo.RecordDeliveryTimeout(time.Second), kgo.RetryTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := t.Context()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "t"); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	b.Outage(2 * time.Second)
	start := time.Now()
	// Like a broker that is down: new connections are refused.
	if c, err := net.DialTimeout("tcp", b.Addrs()[0], time.Second); err == nil {
		c.Close()
		t.Error("a connection was accepted during the outage")
	}
	// The client retries: the produce fails, or succeeds only once the
	// outage is over.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("during")}).FirstErr(); err == nil && time.Since(start) < 1900*time.Millisecond {
		t.Errorf("produce went through %s into a 2 s outage", time.Since(start))
	}
	time.Sleep(time.Until(start.Add(2 * time.Second)))
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("after")}).FirstErr(); err != nil {
		t.Errorf("produce after the outage: %v", err)
	}
	if c, err := net.DialTimeout("tcp", b.Addrs()[0], time.Second); err != nil {
		t.Errorf("the broker does not listen again after the outage: %v", err)
	} else {
		c.Close()
	}
}
