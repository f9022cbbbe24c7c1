package kafka

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// doctorOn runs Doctor against c with the default topics (--replication -1).
func doctorOn(t *testing.T, c *kfake.Cluster, topics Topics) map[string]Finding {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := map[string]Finding{}
	for _, f := range Doctor(ctx, kadm.NewClient(cl), topics) {
		t.Logf("[%s] %s: %s (fix: %s)", f.Status, f.Check, f.Detail, f.Fix)
		out[f.Check] = f
	}
	return out
}

func newCluster(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// kfake advertises default.replication.factor=3 on one broker but creates
// topics with one replica: doctor judges what the broker does, and names
// what it advertises, instead of failing over a value nobody set.
func TestDoctorJudgesTheBrokerDefaultReplicationAsApplied(t *testing.T) {
	f := doctorOn(t, newCluster(t), DefaultTopicConfig())
	for _, x := range f {
		if x.Status == Fail {
			t.Errorf("failed check on a healthy single broker with --replication -1: %+v", x)
		}
	}
	r, ok := f["replication"]
	if !ok || r.Status != OK || !strings.Contains(r.Detail, "default.replication.factor=3") || !strings.Contains(r.Detail, "gets 1 replica(s) on 1 broker(s)") {
		t.Fatalf("replication finding does not judge the applied default: %+v", r)
	}
	if m, ok := f["min.insync.replicas"]; !ok || m.Status != OK || !strings.Contains(m.Detail, "min.insync.replicas=1") {
		t.Fatalf("min.insync.replicas finding: %+v", m)
	}
}

// A broker that would refuse to create a topic with its default replication
// factor (Kafka with default.replication.factor=3 on one broker) fails the
// check, with a fix.
func TestDoctorFailsWhenTheBrokerRefusesItsDefaultReplication(t *testing.T) {
	c := newCluster(t)
	c.ControlKey(int16(kmsg.CreateTopics), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.CreateTopicsRequest)
		resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewCreateTopicsResponseTopic()
			st.Topic = rt.Topic
			st.ErrorCode = kerr.InvalidReplicationFactor.Code
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	f := doctorOn(t, c, DefaultTopicConfig())
	r := f["replication"]
	if r.Status != Fail || r.Fix == "" || !strings.Contains(r.Detail, "default.replication.factor=3") {
		t.Fatalf("want a failed replication check naming the broker default, got %+v", r)
	}
}

// When the broker does not answer DescribeConfigs, doctor says so and does
// not judge min.insync.replicas from a guess; the replication factor comes
// from what the broker does.
func TestDoctorSaysWhenTheBrokerDoesNotDescribeConfigs(t *testing.T) {
	c := newCluster(t)
	c.ControlKey(int16(kmsg.DescribeConfigs), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		req := kr.(*kmsg.DescribeConfigsRequest)
		resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
		for _, rr := range req.Resources {
			st := kmsg.NewDescribeConfigsResponseResource()
			st.ResourceName, st.ResourceType = rr.ResourceName, rr.ResourceType
			st.ErrorCode = kerr.UnsupportedVersion.Code
			resp.Resources = append(resp.Resources, st)
		}
		return resp, nil, true
	})
	f := doctorOn(t, c, DefaultTopicConfig())
	if b := f["broker configs"]; b.Status != Warn || !strings.Contains(b.Detail, "did not answer DescribeConfigs") {
		t.Fatalf("broker configs finding: %+v", b)
	}
	if m, ok := f["min.insync.replicas"]; ok {
		t.Fatalf("judged min.insync.replicas without knowing it: %+v", m)
	}
	if r := f["replication"]; r.Status != OK || !strings.Contains(r.Detail, "default.replication.factor is unknown") || !strings.Contains(r.Detail, "gets 1 replica(s)") {
		t.Fatalf("replication finding: %+v", r)
	}
}

// Existing topics are judged by their real replication factor and
// min.insync.replicas: a topic whose min.insync.replicas exceeds its
// replicas refuses every acks=all write.
func TestDoctorJudgesExistingTopicsByTheirOwnSettings(t *testing.T) {
	c := newCluster(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	topics := DefaultTopicConfig()
	two := "2"
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 3, 1, map[string]*string{"min.insync.replicas": &two}, topics.Raw); err != nil {
		t.Fatal(err)
	}
	f := doctorOn(t, c, topics)
	raw := f["topic "+topics.Raw]
	if raw.Status != Fail || !strings.Contains(raw.Detail, "replication factor 1") ||
		!strings.Contains(raw.Detail, "min.insync.replicas=2 (DYNAMIC_TOPIC_CONFIG), more than the replication factor 1") || raw.Fix == "" {
		t.Fatalf("raw topic finding: %+v", raw)
	}
	if dl := f["topic "+topics.DeadLetter]; dl.Status != Warn || !strings.Contains(dl.Detail, "does not exist yet") {
		t.Fatalf("dead-letter topic finding: %+v", dl)
	}
}
