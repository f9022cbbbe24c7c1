package warehouse

import (
	"context"
	"database/sql"
	"fmt"
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

// replayBatch checks a replay's ranges and rows and returns b with the
// ranges as its offsets. Every row must lie in a range (ErrInvalidBatch).
func replayBatch(ranges []Range, b Batch) (Batch, error) {
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

// checkLoaded reports an ErrInvalidBatch unless every replayed range ends
// (its offset's Next) at or below the next offset the warehouse holds for
// its partition: a replay rewrites what was loaded, and leaves what was not
// to the loader (which would load it again).
func checkLoaded(ctx context.Context, q queryer, ends []Offset) error {
	stored, err := readOffsets(ctx, q, batchTopics(ends))
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

// deleteRanges deletes the rows of the append-only tables in the ranges.
func deleteRanges(ctx context.Context, exec func(ctx context.Context, q string, args ...any) (sql.Result, error), ranges []Range) error {
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

// Replay rewrites the ranges in one transaction (see Sink.Replay).
func (d *DuckDB) Replay(ctx context.Context, ranges []Range, b Batch) error {
	b, err := replayBatch(ranges, b)
	if err != nil {
		return err
	}
	return d.transact(ctx, "replay", func(conn *sql.Conn) (bool, error) {
		if err := checkLoaded(ctx, conn, b.Offsets); err != nil {
			return false, err
		}
		if err := deleteRanges(ctx, conn.ExecContext, ranges); err != nil {
			return false, err
		}
		return true, writeRows(ctx, conn, &b)
	})
}

// Replay rewrites the ranges in one transaction (see Sink.Replay).
func (s *Snowflake) Replay(ctx context.Context, ranges []Range, b Batch) error {
	b, err := replayBatch(ranges, b)
	if err != nil {
		return err
	}
	return s.transact(ctx, "replay", func(tx sqlTx) error {
		if err := lockOffsets(ctx, tx, b.Offsets); err != nil {
			return err
		}
		if err := checkLoaded(ctx, tx, b.Offsets); err != nil {
			return err
		}
		if err := deleteRanges(ctx, tx.ExecContext, ranges); err != nil {
			return err
		}
		return sfWriteRows(ctx, tx, &b)
	})
}
