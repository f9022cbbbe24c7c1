package engine

import "github.com/twmb/franz-go/pkg/kgo"

// partitioner sends a record with Partition >= 0 to that partition
// (changelogs, which must stay co-partitioned with the input) and every other
// record by the murmur2 hash of its key, as Kafka's Java client does.
type partitioner struct{ byKey kgo.Partitioner }

func newPartitioner() kgo.Partitioner {
	return partitioner{byKey: kgo.StickyKeyPartitioner(nil)}
}

func (p partitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return topicPartitioner{byKey: p.byKey.ForTopic(topic)}
}

type topicPartitioner struct{ byKey kgo.TopicPartitioner }

func (topicPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (t topicPartitioner) Partition(r *kgo.Record, n int) int {
	if r.Partition >= 0 {
		return int(r.Partition)
	}
	return t.byKey.Partition(r, n)
}
