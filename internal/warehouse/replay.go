package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Range is a replayed part of a partition: the offsets [From, To).
type Range struct {
	Topic     string
	Partition int32
	From, To  int64
}

// replayTables are the tables whose rows a replay deletes by Kafka position
// before inserting the re-read ones; KPI and completeness rows are upserts
// by key and need no deletion.
var replayTables = []string{"events", "sessions", "alerts", "dead_letters"}

// ReplayBatch checks a replay's ranges and rows and returns b with the
// ranges as its offsets. Every row must lie in a range (ErrInvalidBatch).
// A backend's Replay calls it first, then, in one transaction,
// CheckLoaded, DeleteRanges and its own writes of b's rows.
func ReplayBatch(ranges []Range, b Batch) (Batch, error) {
	if len(ranges) == 0 {
		return b, fmt.Errorf("%w: replay of no range", ErrInvalidBatch)
	}
	b.Offsets = make([]Offset, len(ranges))
	from := make(map[TopicPartition]int64, len(ranges))
	for i, r := range ranges {
		if r.From < 0 || r.To < r.From {
			return b, fmt.Errorf("%w: replay range %s/%d [%d, %d)", ErrInvalidBatch, r.Topic, r.Partition, r.From, r.To)
		}
		b.Offsets[i] = Offset{Topic: r.Topic, Partition: r.Partition, Next: r.To}
		from[TopicPartition{r.Topic, r.Partition}] = r.From
	}
	if err := b.Validate(); err != nil { // each row below its range's To
		return b, err
	}
	return b, b.eachPosition(func(table string, p Position) error {
		if p.Offset < from[p.TopicPartition()] {
			return fmt.Errorf("%w: %s row at %s/%d@%d: before its replay range", ErrInvalidBatch, table, p.Topic, p.Partition, p.Offset)
		}
		return nil
	})
}

// CheckLoaded reports an ErrInvalidBatch unless every replayed range ends
// (its offset's Next) at or below the next offset the warehouse holds for
// its partition: a replay rewrites what was loaded, and leaves what was not
// to the loader (which would load it again).
func CheckLoaded(ctx context.Context, q Queryer, ends []Offset) error {
	stored, err := ReadOffsets(ctx, q, OffsetTopics(ends))
	if err != nil {
		return fmt.Errorf("read offsets: %w", err)
	}
	for _, o := range ends {
		if n := stored[TopicPartition{o.Topic, o.Partition}]; o.Next > n {
			return fmt.Errorf("%w: replay of %s/%d up to offset %d: the warehouse has loaded only up to %d (the loader loads the rest)",
				ErrInvalidBatch, o.Topic, o.Partition, o.Next, n)
		}
	}
	return nil
}

// DeleteRanges deletes the rows of the append-only tables in the ranges,
// through exec (the transaction's ExecContext).
func DeleteRanges(ctx context.Context, exec func(ctx context.Context, q string, args ...any) (sql.Result, error), ranges []Range) error {
	for _, table := range replayTables {
		for _, r := range ranges {
			if _, err := exec(ctx, `DELETE FROM `+table+` WHERE kafka_topic = ? AND kafka_partition = ? AND kafka_offset >= ? AND kafka_offset < ?`,
				r.Topic, r.Partition, r.From, r.To); err != nil {
				return fmt.Errorf("%s: delete replayed range: %w", table, err)
			}
		}
	}
	return nil
}

// Queryer is what ReadOffsets and CheckLoaded need: a *sql.DB, *sql.Conn
// or a transaction.
type Queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadOffsets reads the offsets table: the stored next offset of every
// partition of topics (all topics if empty). Apply calls it inside its
// transaction, then Batch.Since.
func ReadOffsets(ctx context.Context, q Queryer, topics []string) (map[TopicPartition]int64, error) {
	query := `SELECT topic, partition, next_offset FROM offsets`
	args := make([]any, len(topics))
	if len(topics) > 0 {
		query += ` WHERE topic IN (?` + strings.Repeat(`, ?`, len(topics)-1) + `)`
		for i, t := range topics {
			args[i] = t
		}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[TopicPartition]int64)
	for rows.Next() {
		var tp TopicPartition
		var next int64
		if err := rows.Scan(&tp.Topic, &tp.Partition, &next); err != nil {
			return nil, err
		}
		out[tp] = next
	}
	return out, rows.Err()
}
