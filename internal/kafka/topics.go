package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Default topic names. Later stages add theirs to Topics.
const (
	DefaultRawTopic        = "gamepulse.events.raw"
	DefaultDeadLetterTopic = "gamepulse.events.deadletter"
	DefaultEnrichedTopic   = "gamepulse.events.enriched"
	DefaultLateTopic       = "gamepulse.events.late"
	DefaultSessionsTopic   = "gamepulse.sessions"
	DefaultKPITopic        = "gamepulse.kpi"
	DefaultAlertsTopic     = "gamepulse.alerts"
)

// Topics names the pipeline's topics and how to create them: the ingest
// topics and the processor's outputs. (The processor's internal topics, its
// partials and changelogs, are the pipeline package's.)
type Topics struct {
	Raw        string // events as the gateway accepted them (binary Protobuf, keyed by player_id)
	DeadLetter string // events that failed validation downstream, with the reason
	Enriched   string // deduplicated, enriched events (JSON, keyed by player_id)
	Late       string // events that arrived after their window's final result (JSON)
	Sessions   string // closed sessions (JSON, keyed by session_id)
	KPI        string // KPI upserts keyed by window and dimensions (compacted)
	Alerts     string // real-time alerts (JSON)

	Partitions  int32 // partitions of each topic created; the unit of parallelism
	Replication int16 // replication factor; -1 takes the broker's default.replication.factor
}

// DefaultTopicConfig returns the documented defaults.
func DefaultTopicConfig() Topics {
	return Topics{Raw: DefaultRawTopic, DeadLetter: DefaultDeadLetterTopic, Enriched: DefaultEnrichedTopic,
		Late: DefaultLateTopic, Sessions: DefaultSessionsTopic, KPI: DefaultKPITopic,
		Alerts: DefaultAlertsTopic, Partitions: 12, Replication: -1}
}

// Validate reports the first problem with t, naming the field at fault.
func (t Topics) Validate() error {
	if t.Raw == "" || t.DeadLetter == "" {
		return errors.New("kafka: topic names must not be empty (Raw, DeadLetter)")
	}
	if t.Partitions < 1 {
		return fmt.Errorf("kafka: Partitions must be >= 1, got %d", t.Partitions)
	}
	if t.Replication == 0 || t.Replication < -1 {
		return fmt.Errorf("kafka: Replication must be >= 1 or -1 (broker default), got %d", t.Replication)
	}
	return nil
}

// Specs returns the ingest topics to create, with their settings.
func (t Topics) Specs() []TopicSpec {
	return []TopicSpec{
		{Name: t.Raw, Partitions: t.Partitions, Replication: t.Replication},
		{Name: t.DeadLetter, Partitions: t.Partitions, Replication: t.Replication},
	}
}

// ProcessorSpecs returns the topics the stream processor writes, with their
// settings: the KPI topic holds upserts and is compacted.
func (t Topics) ProcessorSpecs() []TopicSpec {
	compact := "compact"
	out := []TopicSpec{}
	for _, name := range []string{t.Enriched, t.Late, t.Sessions, t.Alerts} {
		out = append(out, TopicSpec{Name: name, Partitions: t.Partitions, Replication: t.Replication})
	}
	return append(out, TopicSpec{Name: t.KPI, Partitions: t.Partitions, Replication: t.Replication,
		Configs: map[string]*string{"cleanup.policy": &compact}})
}

// TopicSpec is one topic the pipeline needs.
type TopicSpec struct {
	Name        string
	Partitions  int32
	Replication int16
	Configs     map[string]*string
}

// EnsureTopics creates the topics that do not exist and checks those that do.
// A topic with fewer partitions than asked for is reported in the log, not
// changed: repartitioning moves keys, which only an operator should decide.
func EnsureTopics(ctx context.Context, adm *kadm.Client, specs []TopicSpec, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	for _, s := range specs {
		d, ok := details[s.Name]
		if ok && d.Err == nil {
			if got := int32(len(d.Partitions)); got != s.Partitions {
				log.Warn("topic exists with a different partition count; leaving it as it is",
					"topic", s.Name, "partitions", got, "configured", s.Partitions)
			}
			continue
		}
		if ok && d.Err != nil && !errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("describe topic %s: %w", s.Name, d.Err)
		}
		resp, err := adm.CreateTopic(ctx, s.Partitions, s.Replication, s.Configs, s.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s (%d partitions, replication %d): %w", s.Name, s.Partitions, s.Replication, err)
		}
		log.Info("created topic", "topic", s.Name, "partitions", s.Partitions, "replication", s.Replication)
	}
	return nil
}

// EndOffsets returns the sum of the end offsets of each topic, for status
// lines and tests.
func EndOffsets(ctx context.Context, adm *kadm.Client, topics ...string) (map[string]int64, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list end offsets: %w", err)
	}
	out := map[string]int64{}
	var errs []error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", o.Topic, o.Partition, o.Err))
			return
		}
		out[o.Topic] += o.Offset
	})
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		return out, errors.Join(errs...)
	}
	return out, nil
}

// ReadAll reads topic from the start up to its last stable offsets, taken
// when it starts, read_committed, and returns the data records (transaction
// markers are read, so that the end is reached, but not returned). opts name
// the cluster (seeds, TLS, SASL). For tests, tools and replays.
func ReadAll(ctx context.Context, opts []kgo.Opt, topic string) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("read %s: %w (still waiting for partitions %v)", topic, err, left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
		})
	}
	return out, nil
}
