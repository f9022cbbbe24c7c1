package warehouse

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
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
	var err error
	below := func(table string, p Position) {
		if err == nil && p.Offset < from[p.TopicPartition()] {
			err = fmt.Errorf("%w: %s row at %s/%d@%d: before its replay range", ErrInvalidBatch, table, p.Topic, p.Partition, p.Offset)
		}
	}
	for i := range b.Events {
		below("events", b.Events[i].Pos)
	}
	for i := range b.Sessions {
		below("sessions", b.Sessions[i].Pos)
	}
	for i := range b.KPIs {
		below("kpi", b.KPIs[i].Pos)
	}
	for i := range b.Completeness {
		below("completeness", b.Completeness[i].Pos)
	}
	for i := range b.Alerts {
		below("alerts", b.Alerts[i].Pos)
	}
	for i := range b.DeadLetters {
		below("dead_letters", b.DeadLetters[i].Pos)
	}
	return b, err
}

// checkLoaded reports an ErrInvalidBatch unless every range ends at or
// below the next offset the warehouse holds for its partition: a replay
// rewrites what was loaded, and leaves what was not to the loader (which
// would load it again).
func checkLoaded(ctx context.Context, q queryer, ranges []Range) error {
	var topics []string
	for _, r := range ranges {
		if !slices.Contains(topics, r.Topic) {
			topics = append(topics, r.Topic)
		}
	}
	stored, err := readOffsets(ctx, q, topics)
	if err != nil {
		return fmt.Errorf("read offsets: %w", err)
	}
	for _, r := range ranges {
		n, ok := stored[TopicPartition{r.Topic, r.Partition}]
		if !ok {
			n = 0
		}
		if r.To > n {
			return fmt.Errorf("%w: replay of %s/%d up to offset %d: the warehouse has loaded only up to %d (the loader loads the rest)",
				ErrInvalidBatch, r.Topic, r.Partition, r.To, n)
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
	d.mu.Lock()
	defer d.mu.Unlock()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("warehouse: replay: %w", err)
	}
	defer conn.Close()
	err = d.replay(ctx, conn, ranges, &b)
	if err != nil {
		if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		return fmt.Errorf("warehouse: replay: %w", err)
	}
	return nil
}

func (d *DuckDB) replay(ctx context.Context, conn *sql.Conn, ranges []Range, b *Batch) error {
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return err
	}
	if err := checkLoaded(ctx, conn, ranges); err != nil {
		return err
	}
	if err := deleteRanges(ctx, conn.ExecContext, ranges); err != nil {
		return err
	}
	if err := upsertKPIs(ctx, conn, LatestKPIs(b.KPIs)); err != nil {
		return fmt.Errorf("kpi: %w", err)
	}
	if err := upsertCompleteness(ctx, conn, LatestCompleteness(b.Completeness)); err != nil {
		return fmt.Errorf("completeness: %w", err)
	}
	err := conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T", dc)
		}
		return appendRows(ctx, c, b)
	})
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Replay rewrites the ranges in one transaction (see Sink.Replay).
func (s *Snowflake) Replay(ctx context.Context, ranges []Range, b Batch) error {
	b, err := replayBatch(ranges, b)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("warehouse: replay: %w", err)
	}
	if err := s.replay(ctx, countingTx{tx, &s.u}, ranges, &b); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("warehouse: replay: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("warehouse: replay: commit: %w", err)
	}
	s.u.transactions.Add(1)
	s.u.statements.Add(2) // BEGIN and COMMIT
	return nil
}

func (s *Snowflake) replay(ctx context.Context, tx sqlTx, ranges []Range, b *Batch) error {
	if err := lockOffsets(ctx, tx, b.Offsets); err != nil {
		return err
	}
	if err := checkLoaded(ctx, tx, ranges); err != nil {
		return err
	}
	if err := deleteRanges(ctx, tx.ExecContext, ranges); err != nil {
		return err
	}
	if err := sfUpsertKPIs(ctx, tx, LatestKPIs(b.KPIs)); err != nil {
		return fmt.Errorf("kpi: %w", err)
	}
	if err := sfUpsertCompleteness(ctx, tx, LatestCompleteness(b.Completeness)); err != nil {
		return fmt.Errorf("completeness: %w", err)
	}
	if err := sfAppendRows(ctx, tx, b); err != nil {
		return err
	}
	return ctx.Err()
}
