package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
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

// doctorProbeTopic is the name of the topic whose creation Doctor dry-runs
// (CreateTopics with validate_only: nothing is created) to learn the
// replication factor the broker really gives a topic created with its
// default.
const doctorProbeTopic = "gamepulse.doctor.dry-run"

// config is one described config value and where it comes from.
type config struct {
	value  string
	source kmsg.ConfigSource
}

func (c config) String() string {
	if c.source == kmsg.ConfigSourceDefaultConfig {
		return c.value + " (the broker's built-in default)"
	}
	return c.value + " (" + c.source.String() + ")"
}

func (c config) int() (int, bool) {
	n, err := strconv.Atoi(c.value)
	return n, err == nil
}

// Doctor checks a cluster against what the pipeline needs: enough brokers for
// the replication asked for (with --replication -1 the broker's own
// default.replication.factor, as the broker applies it), durable settings
// (min.insync.replicas, unclean leader election off), transaction support
// for exactly-once processing, and the topics as they are: partition count,
// replication factor and min.insync.replicas against the live brokers. It
// never changes the cluster; it says so when the broker does not answer a
// question rather than guess.
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
	add("connect", OK, fmt.Sprintf("reached cluster %s with %d live broker(s)", meta.Cluster, nBrokers), "")

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

	// Broker-wide settings, as the broker states them.
	brokerCfg, cfgErr := describeBrokerConfigs(ctx, adm)
	if cfgErr != nil {
		add("broker configs", Warn, "the broker did not answer DescribeConfigs ("+cfgErr.Error()+
			"): its default.replication.factor, min.insync.replicas and unclean.leader.election.enable are unknown and not judged",
			"grant DescribeConfigs on the cluster to this user")
	}
	if c, ok := brokerCfg["unclean.leader.election.enable"]; ok && c.value == "true" {
		add("unclean leader election", Fail, "unclean.leader.election.enable=true: a lagging replica can become leader and acknowledged events are lost",
			"set unclean.leader.election.enable=false on the brokers")
	} else if ok {
		add("unclean leader election", OK, "disabled", "")
	}
	if v, ok := brokerCfg["transaction.state.log.replication.factor"].int(); ok && v > nBrokers {
		add("transaction log", Fail, fmt.Sprintf("transaction.state.log.replication.factor=%d but the cluster has %d broker(s): transactions cannot start", v, nBrokers),
			fmt.Sprintf("set transaction.state.log.replication.factor<=%d (and transaction.state.log.min.isr accordingly)", nBrokers))
	}
	if c, ok := brokerCfg["auto.create.topics.enable"]; ok && c.value == "true" {
		add("auto topic creation", Warn, "auto.create.topics.enable=true: a mistyped topic name silently creates a new topic",
			"set auto.create.topics.enable=false; gamepulse creates its own topics")
	}

	// The replication factor of the topics gamepulse creates.
	newRF := replicationCheck(ctx, adm, topics, brokerCfg, nBrokers, add)
	if c, ok := brokerCfg["min.insync.replicas"]; ok {
		minISR, _ := c.int()
		switch {
		case newRF > 0 && minISR > newRF:
			add("min.insync.replicas", Fail, fmt.Sprintf("the broker's min.insync.replicas=%s exceeds the replication factor %d of the topics gamepulse creates: every acks=all write to them fails", c, newRF),
				fmt.Sprintf("set min.insync.replicas<=%d on the brokers, or raise the replication factor", newRF))
		case newRF >= 3 && minISR < 2:
			add("min.insync.replicas", Warn, fmt.Sprintf("the broker's min.insync.replicas=%s lets acks=all succeed with one copy", c),
				"set min.insync.replicas=2 on the brokers")
		default:
			add("min.insync.replicas", OK, "the broker's min.insync.replicas="+c.String(), "")
		}
	}

	// The topics as they are.
	details, err := adm.ListTopics(ctx)
	if err != nil {
		add("topics", Fail, "cannot list topics: "+err.Error(), "grant Describe on the topics to this user")
		return out
	}
	var existing []string
	for _, s := range topics.Specs() {
		if d, ok := details[s.Name]; ok && d.Err == nil {
			existing = append(existing, s.Name)
		}
	}
	topicCfgs := map[string]map[string]config{}
	topicCfgErr := map[string]error{}
	if len(existing) > 0 {
		rcs, err := adm.DescribeTopicConfigs(ctx, existing...)
		for _, name := range existing {
			topicCfgErr[name] = err
		}
		for _, rc := range rcs {
			if rc.Err != nil {
				topicCfgErr[rc.Name] = rc.Err
				continue
			}
			m := map[string]config{}
			for _, c := range rc.Configs {
				if c.Value != nil {
					m[c.Key] = config{value: *c.Value, source: c.Source}
				}
			}
			topicCfgs[rc.Name], topicCfgErr[rc.Name] = m, nil
		}
	}
	for _, s := range topics.Specs() {
		d, ok := details[s.Name]
		if !ok || d.Err != nil {
			add("topic "+s.Name, Warn, "does not exist yet", "it is created at start by gamepulse (or create it with "+strconv.Itoa(int(s.Partitions))+" partitions)")
			continue
		}
		st, detail, fix := judgeTopic(s, d, topicCfgs[s.Name], topicCfgErr[s.Name], nBrokers)
		add("topic "+s.Name, st, detail, fix)
	}
	return out
}

// describeBrokerConfigs returns the cluster's broker configs, or why the
// broker did not answer.
func describeBrokerConfigs(ctx context.Context, adm *kadm.Client) (map[string]config, error) {
	rcs, err := adm.DescribeBrokerConfigs(ctx)
	out := map[string]config{}
	answered := false
	for _, rc := range rcs {
		if rc.Err != nil {
			err = errors.Join(err, rc.Err)
			continue
		}
		answered = true
		for _, c := range rc.Configs {
			if c.Value != nil {
				out[c.Key] = config{value: *c.Value, source: c.Source}
			}
		}
	}
	if answered {
		return out, nil
	}
	if err == nil {
		err = errors.New("no configs in the answer")
	}
	return out, err
}

// replicationCheck judges the replication factor the topics gamepulse
// creates will get and returns it (0 when unknown). With --replication -1
// that is the broker's default as the broker applies it: a dry-run topic
// creation asks the broker itself, since the value it advertises need not
// be what it does (the embedded broker advertises 3 and uses at most its
// broker count).
func replicationCheck(ctx context.Context, adm *kadm.Client, topics Topics, brokerCfg map[string]config, nBrokers int, add func(check string, st Status, detail, fix string)) int {
	if topics.Replication > 0 {
		rf := int(topics.Replication)
		if rf > nBrokers {
			add("replication", Fail, fmt.Sprintf("replication factor %d (--replication) needs %d brokers; the cluster has %d", rf, rf, nBrokers),
				"lower --replication or add brokers")
			return rf
		}
		add("replication", OK, fmt.Sprintf("topics gamepulse creates get replication factor %d (--replication) on %d broker(s)", rf, nBrokers), "")
		return rf
	}
	def, described := brokerCfg["default.replication.factor"]
	advertised := "the broker's default.replication.factor is unknown"
	if described {
		advertised = "the broker's default.replication.factor=" + def.String()
	}
	resps, err := adm.ValidateCreateTopics(ctx, topics.Partitions, -1, nil, doctorProbeTopic)
	if err == nil {
		if r, ok := resps[doctorProbeTopic]; ok {
			err = r.Err
		} else {
			err = errors.New("no answer for the dry-run topic")
		}
	}
	switch {
	case err == nil && resps[doctorProbeTopic].ReplicationFactor > 0:
		rf := int(resps[doctorProbeTopic].ReplicationFactor)
		detail := fmt.Sprintf("--replication -1: %s; a dry-run topic creation gets %d replica(s) on %d broker(s)", advertised, rf, nBrokers)
		if rf < 3 && rf < nBrokers {
			add("replication", Warn, detail+": fewer than 3 replicas, a broker loss can lose acknowledged events",
				fmt.Sprintf("set default.replication.factor=%d on the brokers or pass --replication %d", min(3, nBrokers), min(3, nBrokers)))
			return rf
		}
		add("replication", OK, detail, "")
		return rf
	case errors.Is(err, kerr.InvalidReplicationFactor):
		add("replication", Fail, fmt.Sprintf("--replication -1: %s, and the broker refuses a dry-run topic creation with it on %d broker(s): %v", advertised, nBrokers, err),
			fmt.Sprintf("set default.replication.factor<=%d on the brokers, or pass --replication N with N<=%d", nBrokers, nBrokers))
		return 0
	}
	dry := "a dry-run topic creation did not say (" + errString(err) + ")"
	v, ok := def.int()
	switch {
	case !described || !ok:
		add("replication", Warn, fmt.Sprintf("--replication -1: %s and %s, so the replication factor of the topics gamepulse creates is not known", advertised, dry),
			"pass --replication N explicitly, or grant DescribeConfigs and CreateTopics to this user")
		return 0
	case v > nBrokers:
		add("replication", Fail, fmt.Sprintf("--replication -1: %s needs %d brokers; the cluster has %d (%s)", advertised, v, nBrokers, dry),
			fmt.Sprintf("set default.replication.factor<=%d on the brokers, or pass --replication N with N<=%d", nBrokers, nBrokers))
	default:
		add("replication", OK, fmt.Sprintf("--replication -1: %s on %d broker(s) (%s)", advertised, nBrokers, dry), "")
	}
	return v
}

func errString(err error) string {
	if err == nil {
		return "the broker did not return a replication factor"
	}
	return err.Error()
}

// judgeTopic grades an existing topic by its own settings: its partition
// count, its real replication factor and in-sync replicas against the live
// brokers, and its effective min.insync.replicas.
func judgeTopic(s TopicSpec, d kadm.TopicDetail, cfg map[string]config, cfgErr error, nBrokers int) (Status, string, string) {
	parts := len(d.Partitions)
	rf := d.Partitions.NumReplicas()
	st, detail, fix := OK, fmt.Sprintf("%d partitions, replication factor %d", parts, rf), ""
	if int32(parts) < s.Partitions {
		st, fix = Warn, fmt.Sprintf("it has fewer partitions than the configured %d: fewer processor instances can share the work; add partitions with kafka-topics --alter (keys move!)", s.Partitions)
	}
	if rf > nBrokers {
		st = worst(st, Warn)
		detail += fmt.Sprintf("; %d replicas but %d live broker(s): partitions are under-replicated", rf, nBrokers)
		fix = join(fix, "bring the missing brokers back, or reassign the replicas")
	}
	c, hasMinISR := cfg["min.insync.replicas"]
	minISR, _ := c.int()
	switch {
	case cfgErr != nil:
		st = worst(st, Warn)
		detail += "; min.insync.replicas unknown: the broker did not answer DescribeConfigs for the topic (" + cfgErr.Error() + ")"
		fix = join(fix, "grant DescribeConfigs on the topic to this user")
	case hasMinISR:
		detail += "; min.insync.replicas=" + c.String()
	}
	short := 0
	for _, p := range d.Partitions {
		if hasMinISR && len(p.ISR) < minISR {
			short++
		}
	}
	switch {
	case hasMinISR && minISR > rf:
		st = Fail
		detail += fmt.Sprintf(", more than the replication factor %d: every acks=all write fails", rf)
		fix = join(fix, fmt.Sprintf("set min.insync.replicas<=%d on the topic", rf))
	case short > 0:
		st = Fail
		detail += fmt.Sprintf("; %d of %d partitions have fewer in-sync replicas than min.insync.replicas=%d: acks=all writes to them fail", short, parts, minISR)
		fix = join(fix, "bring the replicas' brokers back in sync")
	case rf < 3:
		st = worst(st, Warn)
		detail += "; with fewer than 3 replicas a single broker loss can lose acknowledged events or stop writes"
		fix = join(fix, "use replication factor 3 in production (--replication 3)")
	case hasMinISR && minISR < 2:
		st = worst(st, Warn)
		detail += fmt.Sprintf("; min.insync.replicas=%d lets acks=all succeed with one copy", minISR)
		fix = join(fix, "set min.insync.replicas=2 on the topic")
	}
	if cfg["unclean.leader.election.enable"].value == "true" {
		st = Fail
		detail += "; unclean leader election is enabled on this topic"
		fix = join(fix, "set unclean.leader.election.enable=false on the topic")
	}
	return st, detail, fix
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
