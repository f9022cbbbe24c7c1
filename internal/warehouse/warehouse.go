package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrInvalidBatch is wrapped by Apply's error when the batch itself is
// wrong (a row whose Kafka position the batch's offsets do not cover, an
// unknown KPI window, ...). Retrying such a batch cannot succeed.
var ErrInvalidBatch = errors.New("warehouse: invalid batch")

// Sink is a warehouse the loader writes into exactly once.
// duckdb.Warehouse and snowflake.Warehouse implement it; warehousetest.Run is the suite both must pass.
type Sink interface {
	// Migrate creates the tables or brings them to the newest schema by
	// versioned, additive migrations recorded in schema_migrations. Running
	// it again is a no-op.
	Migrate(ctx context.Context) error
	// Apply writes b in one warehouse transaction: its rows, its KPI and
	// completeness upserts and its offsets, or nothing at all. Rows whose
	// Kafka position is below the next offset the warehouse already holds
	// for their partition are skipped, so a redelivered batch is a no-op and
	// an overlapping one applies only its new part.
	Apply(ctx context.Context, b Batch) error
	// Offsets returns the next offset to read for every partition of the
	// given topics the warehouse holds an offset for (all topics if topics
	// is empty). A partition that is absent starts from the beginning.
	Offsets(ctx context.Context, topics []string) (map[TopicPartition]int64, error)
	// Replay rewrites what was loaded from the ranges, in one transaction:
	// it deletes the rows of events, sessions, alerts and dead_letters
	// whose Kafka position lies in a range and inserts b's rows, re-read
	// from those ranges; KPI and completeness rows are upserted as in
	// Apply. So replaying a range the warehouse holds changes nothing, and
	// replaying it after rows were lost or damaged restores them, with no
	// duplicates. Each range must end at or below the warehouse's next
	// offset for its partition, and each row lie in a range
	// (ErrInvalidBatch). The offsets table is not changed. b.Offsets is
	// ignored.
	Replay(ctx context.Context, ranges []Range, b Batch) error
	// Close releases the sink.
	Close() error
}

// Warehouse is a Sink that can be queried: gamepulse query, kpis and
// reconcile read through DB, in the warehouse's Dialect. Writing through DB
// bypasses the exactly-once protocol.
type Warehouse interface {
	Sink
	DB() *sql.DB
	Dialect() Dialect
}

// Usage counts what a warehouse was asked to do since it was opened: the
// drivers of its cost on Snowflake besides the time its warehouse runs
// (which the loader estimates). A Sink that counts it has a Usage() Usage
// method (snowflake.Warehouse).
type Usage struct {
	Statements   int64 // SQL statements sent, reads included
	Transactions int64 // transactions committed
	SentBytes    int64 // SQL text and bound values sent
}

// TopicPartition names a Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offset is the next offset to read in a partition once a batch is applied:
// the last covered record's offset + 1.
type Offset struct {
	Topic     string
	Partition int32
	Next      int64
}

// Position is where a row was read in Kafka. Every row carries its Position
// for the idempotency filter; it is stored as kafka_topic, kafka_partition,
// kafka_offset.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

// TopicPartition returns the partition of p.
func (p Position) TopicPartition() TopicPartition {
	return TopicPartition{Topic: p.Topic, Partition: p.Partition}
}

// Batch is what the loader read from Kafka since its last Apply: rows for
// some tables and the offsets they cover. Offsets may name partitions for
// which no row is in the batch (records the loader read and dropped); those
// offsets are stored all the same. Within a table, rows are in Kafka order
// per partition (later rows win in upserts of equal version).
type Batch struct {
	Events       []EventRow
	Sessions     []SessionRow
	KPIs         []KPIRow
	Completeness []CompletenessRow
	Alerts       []AlertRow
	DeadLetters  []DeadLetterRow
	// AtLeastOnce holds the append-only tables' rows read from records of
	// an at-least-once producer (record.AtLeastOnce), which may hold copies
	// of rows at other offsets: see KeyedRows. KPI and completeness rows of
	// such records are in KPIs and Completeness, whose upserts by key make
	// a copy a no-op.
	AtLeastOnce KeyedRows
	Offsets     []Offset
}

// KeyedRows are rows that a sink appends only when no row with the same
// natural key is stored or earlier in the batch (FirstByKey), in the same
// transaction as the rest of the batch. The keys:
//
//	events        event_id, looked up only among events whose event_time
//	              lies in the batch's range of event times (EventTimes):
//	              a copy has its original's event_time
//	sessions      session_id, start_time (a session split by a gap is two rows)
//	alerts        rule, subject, window_start
//	dead_letters  source_topic, source_partition, source_offset; a dead
//	              letter whose source is unknown (offset -1) has no key and
//	              is always appended
//
// The existence checks cost a read of the table (of its recent part for
// events); rows outside KeyedRows take the plain append path.
type KeyedRows struct {
	Events      []EventRow
	Sessions    []SessionRow
	Alerts      []AlertRow
	DeadLetters []DeadLetterRow
}

// Rows returns the number of rows in k.
func (k *KeyedRows) Rows() int {
	return len(k.Events) + len(k.Sessions) + len(k.Alerts) + len(k.DeadLetters)
}

// Rows returns the number of rows in b.
func (b *Batch) Rows() int {
	return len(b.Events) + len(b.Sessions) + len(b.KPIs) + len(b.Completeness) + len(b.Alerts) + len(b.DeadLetters) +
		b.AtLeastOnce.Rows()
}

// Validate reports whether b is consistent: each partition appears once in
// Offsets, every row's position is in a partition of Offsets and below its
// Next, and KPI windows are known. Errors wrap ErrInvalidBatch.
func (b *Batch) Validate() error {
	next := make(map[TopicPartition]int64, len(b.Offsets))
	for _, o := range b.Offsets {
		tp := TopicPartition{o.Topic, o.Partition}
		if _, dup := next[tp]; dup {
			return fmt.Errorf("%w: partition %s/%d twice in offsets", ErrInvalidBatch, o.Topic, o.Partition)
		}
		if o.Topic == "" || o.Partition < 0 || o.Next < 0 {
			return fmt.Errorf("%w: bad offset %+v", ErrInvalidBatch, o)
		}
		next[tp] = o.Next
	}
	for i := range b.KPIs {
		if w := b.KPIs[i].Window; w != Minute && w != Hour {
			return fmt.Errorf("%w: kpi row with window %q", ErrInvalidBatch, w)
		}
	}
	return b.eachPosition(func(table string, p Position) error {
		n, ok := next[p.TopicPartition()]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s row at %s/%d@%d: partition not in the batch's offsets", ErrInvalidBatch, table, p.Topic, p.Partition, p.Offset)
		case p.Offset < 0 || p.Offset >= n:
			return fmt.Errorf("%w: %s row at %s/%d@%d: not below the batch's next offset %d", ErrInvalidBatch, table, p.Topic, p.Partition, p.Offset, n)
		}
		return nil
	})
}

// eachPosition calls fn with every row's table and Kafka position, table
// by table, until fn returns an error, which it returns.
func (b *Batch) eachPosition(fn func(table string, p Position) error) error {
	for i := range b.Events {
		if err := fn("events", b.Events[i].Pos); err != nil {
			return err
		}
	}
	for i := range b.Sessions {
		if err := fn("sessions", b.Sessions[i].Pos); err != nil {
			return err
		}
	}
	for i := range b.KPIs {
		if err := fn("kpi", b.KPIs[i].Pos); err != nil {
			return err
		}
	}
	for i := range b.Completeness {
		if err := fn("completeness", b.Completeness[i].Pos); err != nil {
			return err
		}
	}
	for i := range b.Alerts {
		if err := fn("alerts", b.Alerts[i].Pos); err != nil {
			return err
		}
	}
	for i := range b.DeadLetters {
		if err := fn("dead_letters", b.DeadLetters[i].Pos); err != nil {
			return err
		}
	}
	k := &b.AtLeastOnce
	for i := range k.Events {
		if err := fn("events", k.Events[i].Pos); err != nil {
			return err
		}
	}
	for i := range k.Sessions {
		if err := fn("sessions", k.Sessions[i].Pos); err != nil {
			return err
		}
	}
	for i := range k.Alerts {
		if err := fn("alerts", k.Alerts[i].Pos); err != nil {
			return err
		}
	}
	for i := range k.DeadLetters {
		if err := fn("dead_letters", k.DeadLetters[i].Pos); err != nil {
			return err
		}
	}
	return nil
}

// OffsetTopics returns the topics of offsets, each once.
func OffsetTopics(offsets []Offset) []string {
	topics := make([]string, 0, len(offsets))
	for _, o := range offsets {
		if !slices.Contains(topics, o.Topic) {
			topics = append(topics, o.Topic)
		}
	}
	return topics
}

// Since returns the part of b that is new given the next offsets a
// warehouse already holds: rows at or beyond their partition's stored next
// offset, and the offsets that move forward. Partitions absent from stored
// start at 0. Implementations call it inside their transaction, after
// reading the offsets table, so the filter and the writes are atomic.
func (b *Batch) Since(stored map[TopicPartition]int64) Batch {
	keep := func(p Position) bool {
		n, ok := stored[p.TopicPartition()]
		return !ok || p.Offset >= n
	}
	out := Batch{
		Events:       filter(b.Events, func(r *EventRow) bool { return keep(r.Pos) }),
		Sessions:     filter(b.Sessions, func(r *SessionRow) bool { return keep(r.Pos) }),
		KPIs:         filter(b.KPIs, func(r *KPIRow) bool { return keep(r.Pos) }),
		Completeness: filter(b.Completeness, func(r *CompletenessRow) bool { return keep(r.Pos) }),
		Alerts:       filter(b.Alerts, func(r *AlertRow) bool { return keep(r.Pos) }),
		DeadLetters:  filter(b.DeadLetters, func(r *DeadLetterRow) bool { return keep(r.Pos) }),
	}
	if b.AtLeastOnce.Rows() > 0 {
		k := &b.AtLeastOnce
		out.AtLeastOnce = KeyedRows{
			Events:      filter(k.Events, func(r *EventRow) bool { return keep(r.Pos) }),
			Sessions:    filter(k.Sessions, func(r *SessionRow) bool { return keep(r.Pos) }),
			Alerts:      filter(k.Alerts, func(r *AlertRow) bool { return keep(r.Pos) }),
			DeadLetters: filter(k.DeadLetters, func(r *DeadLetterRow) bool { return keep(r.Pos) }),
		}
	}
	for _, o := range b.Offsets {
		if n, ok := stored[TopicPartition{o.Topic, o.Partition}]; !ok || o.Next > n {
			out.Offsets = append(out.Offsets, o)
		}
	}
	return out
}

// filter returns the rows of s that keep accepts; s itself when it accepts
// them all (the common case: no redelivery), without copying. It calls keep
// once per row, in order.
func filter[T any](s []T, keep func(*T) bool) []T {
	for i := range s {
		if !keep(&s[i]) {
			out := append(make([]T, 0, len(s)-1), s[:i]...)
			for j := i + 1; j < len(s); j++ {
				if keep(&s[j]) {
					out = append(out, s[j])
				}
			}
			return out
		}
	}
	return s
}

// LatestKPIs returns the KPI rows of rows that an upsert keeps, one per
// key (window, start, game, platform, country): the highest version, and of
// equal versions the later row. Its order is the first appearance of each
// key. A warehouse then only needs "replace when the new version ≥ the
// stored one" for rows from different batches.
func LatestKPIs(rows []KPIRow) []KPIRow {
	type key struct {
		w                       Window
		start                   int64
		game, platform, country string
	}
	idx := make(map[key]int, len(rows))
	out := make([]KPIRow, 0, len(rows))
	for _, r := range rows {
		k := key{r.Window, r.Start.UnixNano(), r.Game, r.Platform, r.Country}
		if i, ok := idx[k]; ok {
			if r.Version >= out[i].Version {
				out[i] = r
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}

// LatestCompleteness returns one completeness row per key (start, game,
// platform, app build): the last one, since each record carries the sums so
// far.
func LatestCompleteness(rows []CompletenessRow) []CompletenessRow {
	type key struct {
		start                 int64
		game, platform, build string
	}
	idx := make(map[key]int, len(rows))
	out := make([]CompletenessRow, 0, len(rows))
	for _, r := range rows {
		k := key{r.Start.UnixNano(), r.Game, r.Platform, r.AppBuild}
		if i, ok := idx[k]; ok {
			out[i] = r
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}

// Window is a KPI window length; its rows go to kpi_minute or kpi_hour.
type Window string

// The KPI windows.
const (
	Minute Window = "minute"
	Hour   Window = "hour"
)

// EventRow is a row of events: an enriched event.
type EventRow struct {
	EventID       string
	EventType     string
	GameID        string
	PlayerID      string
	SessionID     string
	Seq           int64
	EventTime     time.Time // client_time truncated to the millisecond, UTC
	ReceivedAt    time.Time // zero: NULL
	Platform      string    // normalized (enrichment.platform_norm)
	Country       string    // normalized (enrichment.country_norm)
	AppVersion    string
	AppBuild      string
	SchemaVersion int32
	// Money in micro-USD: revenue_usd_micros and revenue_usd DECIMAL(18,6).
	RevenueUSDMicros       int64
	FirstSeen              time.Time // zero: NULL
	DaysSinceInstall       int64
	LifetimeSpendUSDMicros int64
	Payer                  bool
	SessionCount           int64
	NewPlayer              bool
	// Payload is the JSON of the event type's payload member ("{}" if none).
	Payload string
	// Extra is a JSON object of the event's other members (device, fields
	// added to the schema later), "" when there are none: a new optional
	// field reaches the warehouse without DDL.
	Extra string
	Pos   Position
}

// SessionRow is a row of sessions: a closed session.
type SessionRow struct {
	SessionID        string
	PlayerID         string
	GameID           string
	Platform         string
	Country          string
	Start            time.Time
	End              time.Time
	DurationMs       int64
	Events           int64
	RevenueUSDMicros int64
	LevelsPlayed     int64
	ClosedBy         string
	Pos              Position
}

// Level is one level's counts in a KPI row (stored in its levels JSON).
type Level struct {
	Level       int32 `json:"level"`
	Starts      int64 `json:"starts"`
	Completions int64 `json:"completions"`
	Fails       int64 `json:"fails"`
}

// KPIRow is a row of kpi_minute or kpi_hour (by Window). Its key is
// (Start, Game, Platform, Country); "*" platform and country are the
// game-level row.
type KPIRow struct {
	Window                       Window
	Start, End                   time.Time
	Game, Platform, Country      string
	ActivePlayers                int64
	NewPlayers                   int64
	SessionsStarted              int64
	Purchases                    int64
	Payers                       int64
	RevenueUSDMicros             int64
	PurchaseRevenueUSDMicros     int64
	Refunds                      int64
	RefundUSDMicros              int64
	AdImpressions                int64
	AdRevenueUSDMicros           int64
	Levels                       []Level
	Gaps, Duplicates, OutOfOrder int64
	Final                        bool
	Version                      int64
	Watermark                    time.Time // zero: NULL
	Pos                          Position
}

// CompletenessRow is a row of completeness: the ledger sums of one (minute,
// game, platform, app build).
type CompletenessRow struct {
	Start                        time.Time
	Game, Platform, AppBuild     string
	Gaps, Duplicates, OutOfOrder int64
	Watermark                    time.Time // zero: NULL
	Pos                          Position
}

// AlertRow is a row of alerts.
type AlertRow struct {
	Rule        string
	Subject     string // a player id (player rules) or a game id (game rules)
	GameID      string
	WindowStart time.Time
	WindowEnd   time.Time
	Observed    float64
	Baseline    float64
	Threshold   float64
	Message     string
	Pos         Position
}

// DeadLetterRow is a row of dead_letters: a record the processor rejected.
type DeadLetterRow struct {
	Code            string
	Reason          string
	Original        []byte // the original record's value
	SourceTopic     string // where the original was read (headers)
	SourcePartition int32  // -1: unknown
	SourceOffset    int64  // -1: unknown
	Pos             Position
}
