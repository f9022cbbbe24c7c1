package kafka

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Status grades one doctor finding.
type Status string

// Finding grades.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Finding is one check of Doctor, said in plain words.
type Finding struct {
	Check  string `json:"check"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"` // what to change, when Status is not OK
}

// Doctor checks a cluster against what the pipeline needs: enough brokers for
// the replication asked for, durable settings (min.insync.replicas, unclean
// leader election off), transaction support for exactly-once processing, and
// the topics with their partition counts. It never changes the cluster.
func Doctor(ctx context.Context, adm *kadm.Client, topics Topics) []Finding {
	var out []Finding
	add := func(check string, st Status, detail, fix string) {
		out = append(out, Finding{Check: check, Status: st, Detail: detail, Fix: fix})
	}

	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		add("connect", Fail, "cannot reach the cluster: "+err.Error(),
			"check --brokers, the network path and the TLS/SASL settings")
		return out
	}
	nBrokers := len(meta.Brokers)
	add("connect", OK, fmt.Sprintf("reached cluster %s with %d broker(s)", meta.Cluster, nBrokers), "")

	// Transactions: the processor's exactly-once loop needs them.
	if vers, err := adm.ApiVersions(ctx); err != nil {
		add("transactions", Warn, "could not read API versions: "+err.Error(), "")
	} else {
		missing := ""
		vers.Each(func(v kadm.BrokerApiVersions) {
			if v.Err != nil {
				return
			}
			for _, k := range []kmsg.Key{kmsg.InitProducerID, kmsg.AddPartitionsToTxn, kmsg.AddOffsetsToTxn, kmsg.EndTxn, kmsg.TxnOffsetCommit} {
				if _, _, ok := v.KeyVersions(int16(k)); !ok && missing == "" {
					missing = fmt.Sprintf("broker %d does not support %s", v.NodeID, k.Name())
				}
			}
		})
		if missing != "" {
			add("transactions", Fail, missing, "use Kafka 0.11 or newer with transactions enabled; exactly-once processing needs them")
		} else {
			add("transactions", OK, "every broker supports transactions (exactly-once processing can run)", "")
		}
	}

	// Broker-wide durability settings.
	brokerCfg := map[string]string{}
	if rcs, err := adm.DescribeBrokerConfigs(ctx); err != nil {
		add("broker configs", Warn, "could not read broker configs: "+err.Error(), "grant DescribeConfigs on the cluster to this user")
	} else {
		for _, rc := range rcs {
			if rc.Err != nil {
				continue
			}
			for _, c := range rc.Configs {
				if c.Value != nil {
					brokerCfg[c.Key] = *c.Value
				}
			}
		}
	}
	intCfg := func(m map[string]string, k string) (int, bool) {
		v, ok := m[k]
		if !ok {
			return 0, false
		}
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	if v, ok := brokerCfg["unclean.leader.election.enable"]; ok && v == "true" {
		add("unclean leader election", Fail, "unclean.leader.election.enable=true: a lagging replica can become leader and acknowledged events are lost",
			"set unclean.leader.election.enable=false on the brokers")
	} else if ok {
		add("unclean leader election", OK, "disabled", "")
	}
	if v, ok := intCfg(brokerCfg, "transaction.state.log.replication.factor"); ok && v > nBrokers {
		add("transaction log", Fail, fmt.Sprintf("transaction.state.log.replication.factor=%d but the cluster has %d broker(s): transactions cannot start", v, nBrokers),
			fmt.Sprintf("set transaction.state.log.replication.factor<=%d (and transaction.state.log.min.isr accordingly)", nBrokers))
	}
	if v, ok := brokerCfg["auto.create.topics.enable"]; ok && v == "true" {
		add("auto topic creation", Warn, "auto.create.topics.enable=true: a mistyped topic name silently creates a new topic",
			"set auto.create.topics.enable=false; gamepulse creates its own topics")
	}

	// Topics.
	wantRF := int(topics.Replication)
	if wantRF == -1 {
		if v, ok := intCfg(brokerCfg, "default.replication.factor"); ok {
			wantRF = v
		}
	}
	if wantRF > nBrokers {
		add("replication", Fail, fmt.Sprintf("replication factor %d needs %d brokers; the cluster has %d", wantRF, wantRF, nBrokers),
			"lower --replication or add brokers")
	}
	details, err := adm.ListTopics(ctx)
	if err != nil {
		add("topics", Fail, "cannot list topics: "+err.Error(), "grant Describe on the topics to this user")
		return out
	}
	var names []string
	for _, s := range topics.Specs() {
		names = append(names, s.Name)
	}
	topicCfgs := map[string]map[string]string{}
	if rcs, err := adm.DescribeTopicConfigs(ctx, names...); err == nil {
		for _, rc := range rcs {
			m := map[string]string{}
			for _, c := range rc.Configs {
				if c.Value != nil {
					m[c.Key] = *c.Value
				}
			}
			topicCfgs[rc.Name] = m
		}
	}
	for _, s := range topics.Specs() {
		d, ok := details[s.Name]
		if !ok || d.Err != nil {
			add("topic "+s.Name, Warn, "does not exist yet", "it is created at start by gamepulse (or create it with "+strconv.Itoa(int(s.Partitions))+" partitions)")
			continue
		}
		parts := len(d.Partitions)
		rf := d.Partitions.NumReplicas()
		st, detail, fix := OK, fmt.Sprintf("%d partitions, replication factor %d", parts, rf), ""
		if int32(parts) < s.Partitions {
			st, fix = Warn, fmt.Sprintf("it has fewer partitions than the configured %d: fewer processor instances can share the work; add partitions with kafka-topics --alter (keys move!)", s.Partitions)
		}
		minISR, hasMinISR := intCfg(topicCfgs[s.Name], "min.insync.replicas")
		if !hasMinISR {
			minISR, hasMinISR = intCfg(brokerCfg, "min.insync.replicas")
		}
		switch {
		case rf < 3:
			st = worst(st, Warn)
			detail += "; with fewer than 3 replicas a single broker loss can lose acknowledged events or stop writes"
			fix = join(fix, "use replication factor 3 in production (--replication 3)")
		case hasMinISR && minISR < 2:
			st = worst(st, Warn)
			detail += fmt.Sprintf("; min.insync.replicas=%d lets acks=all succeed with one copy", minISR)
			fix = join(fix, "set min.insync.replicas=2 on the topic")
		}
		if v := topicCfgs[s.Name]["unclean.leader.election.enable"]; v == "true" {
			st = Fail
			detail += "; unclean leader election is enabled on this topic"
			fix = join(fix, "set unclean.leader.election.enable=false on the topic")
		}
		add("topic "+s.Name, st, detail, fix)
	}
	return out
}

func worst(a, b Status) Status {
	rank := map[Status]int{OK: 0, Warn: 1, Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
