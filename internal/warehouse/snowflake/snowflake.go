package snowflake

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	sf "github.com/snowflakedb/gosnowflake"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Warehouse is the Snowflake warehouse, through gosnowflake. It keeps the
// same tables and column names as DuckDB (Migrations), so queries
// run on both, and the same exactly-once protocol (see the package doc).
//
// Snowflake does not enforce primary keys: upserts delete the rows they
// replace and insert the missing ones, from a source that holds one row per
// key (LatestKPIs, LatestCompleteness); see mergeRows.
// Bulk rows go in as bound multi-row INSERT … SELECT … FROM VALUES
// statements (VARIANT columns need PARSE_JSON, which VALUES alone does not
// allow).
//
// Concurrent writers (a zombie loader) are serialized by Apply's first
// statement, an UPDATE of the batch's offsets rows: Snowflake lets only one
// transaction at a time hold a table's DML lock, so the second transaction
// reads the offsets only after the first one committed.
type Warehouse struct {
	db *sql.DB
	u  usage
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// Open opens a Snowflake warehouse named by a gosnowflake DSN and
// checks that it answers. Call Migrate before Apply.
//
// A real Snowflake account, with a password:
//
//	USER:PASSWORD@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE
//
// or with key-pair (JWT) authentication, the PKCS#8 private key
// base64url-encoded (DER) in privateKey:
//
//	USER@ACCOUNT/DATABASE/SCHEMA?warehouse=WH&role=ROLE&authenticator=SNOWFLAKE_JWT&privateKey=KEY
//
// ACCOUNT is the account identifier (ORG-ACCOUNT, or the locator with its
// region). gosnowflake.DSN builds this string from a gosnowflake.Config
// (Account, User, Password or PrivateKey with Authenticator
// AuthTypeJwt, Database, Schema, Warehouse, Role), which is the way to go
// when the key or password comes from the environment.
//
// The fakesnow emulator (scripts/fakesnow.sh) answers plain HTTP on a
// loopback port and accepts any user and password; it creates the database
// and schema it is logged into:
//
//	user:pass@127.0.0.1:PORT/DATABASE/PUBLIC?account=fakesnow&protocol=http
func Open(dsn string) (*Warehouse, error) {
	db, err := sql.Open("snowflake", dsn)
	if err != nil {
		return nil, fmt.Errorf("warehouse: open snowflake: %w", err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("warehouse: open snowflake: %w", err)
	}
	return &Warehouse{db: db}, nil
}

// DB returns the database, for queries (gamepulse query, kpis, reconcile).
// Writing through it bypasses the exactly-once protocol.
func (s *Warehouse) DB() *sql.DB { return s.db }

// Dialect returns Snowflake's SQL dialect.
func (s *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// Close closes the database.
func (s *Warehouse) Close() error { return s.db.Close() }

// Migrate applies the Migrations not yet recorded in
// schema_migrations. Snowflake commits DDL implicitly, so a migration is
// not one transaction there: its statements are idempotent (IF NOT EXISTS)
// and its schema_migrations row is written last, so an interrupted
// migration runs again whole.
func (s *Warehouse) Migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version NUMBER(10,0) NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP_TZ NOT NULL,
		PRIMARY KEY (version))`); err != nil {
		return fmt.Errorf("warehouse: migrate: %w", err)
	}
	for _, m := range Migrations {
		if err := s.migrate(ctx, m); err != nil {
			return fmt.Errorf("warehouse: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

func (s *Warehouse) migrate(ctx context.Context, m warehouse.Migration) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, q := range m.SQL {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// MERGE, not INSERT: two processes migrating at once record it once.
	_, err := s.db.ExecContext(ctx, `MERGE INTO schema_migrations t
		USING (SELECT column1 AS version, column2 AS name, column3 AS applied_at FROM VALUES (?, ?, ?)) s
		ON t.version = s.version
		WHEN NOT MATCHED THEN INSERT (version, name, applied_at) VALUES (s.version, s.name, s.applied_at)`,
		sf.DataTypeTimestampTz, int64(m.Version), m.Name, time.Now().UTC())
	return err
}

// Offsets returns the stored next offsets of topics (all if empty).
func (s *Warehouse) Offsets(ctx context.Context, topics []string) (map[warehouse.TopicPartition]int64, error) {
	out, err := warehouse.ReadOffsets(ctx, s.db, topics)
	if err != nil {
		return nil, fmt.Errorf("warehouse: offsets: %w", err)
	}
	return out, nil
}

// Apply writes b in one transaction (see Sink).
func (s *Warehouse) Apply(ctx context.Context, b warehouse.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if len(b.Offsets) == 0 {
		return nil
	}
	return s.transact(ctx, "apply", func(tx sqlTx) error {
		if err := lockOffsets(ctx, tx, b.Offsets); err != nil {
			return err
		}
		stored, err := warehouse.ReadOffsets(ctx, tx, warehouse.OffsetTopics(b.Offsets))
		if err != nil {
			return fmt.Errorf("read offsets: %w", err)
		}
		nb := b.Since(stored)
		if len(nb.Offsets) == 0 {
			return nil // a redelivery: nothing new (the empty transaction commits)
		}
		if err := writeRows(ctx, tx, &nb); err != nil {
			return err
		}
		if err := upsertOffsets(ctx, tx, nb.Offsets); err != nil {
			return fmt.Errorf("offsets: %w", err)
		}
		return nil
	})
}

// transact runs fn in one transaction, counted in the sink's usage: it
// commits when fn succeeds and ctx has not ended, else rolls back.
func (s *Warehouse) transact(ctx context.Context, what string, fn func(tx sqlTx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("warehouse: %s: %w", what, err)
	}
	if err = fn(countingTx{tx, &s.u}); err == nil {
		err = ctx.Err()
	}
	if err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("warehouse: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("warehouse: %s: commit: %w", what, err)
	}
	s.u.transactions.Add(1)
	s.u.statements.Add(2) // BEGIN and COMMIT
	return nil
}

// Replay rewrites the ranges in one transaction (see warehouse.Sink).
func (s *Warehouse) Replay(ctx context.Context, ranges []warehouse.Range, b warehouse.Batch) error {
	b, err := warehouse.ReplayBatch(ranges, b)
	if err != nil {
		return err
	}
	return s.transact(ctx, "replay", func(tx sqlTx) error {
		if err := lockOffsets(ctx, tx, b.Offsets); err != nil {
			return err
		}
		if err := warehouse.CheckLoaded(ctx, tx, b.Offsets); err != nil {
			return err
		}
		if err := warehouse.DeleteRanges(ctx, tx.ExecContext, ranges); err != nil {
			return err
		}
		return writeRows(ctx, tx, &b)
	})
}

// writeRows writes b's rows in the transaction: the KPI and completeness
// upserts, then the append-only tables, then the rows of at-least-once
// producers.
func writeRows(ctx context.Context, tx sqlTx, b *warehouse.Batch) error {
	if err := upsertKPIs(ctx, tx, warehouse.LatestKPIs(b.KPIs)); err != nil {
		return fmt.Errorf("kpi: %w", err)
	}
	if err := upsertCompleteness(ctx, tx, warehouse.LatestCompleteness(b.Completeness)); err != nil {
		return fmt.Errorf("completeness: %w", err)
	}
	if err := appendRows(ctx, tx, b); err != nil {
		return err
	}
	if b.AtLeastOnce.Rows() == 0 {
		return nil
	}
	return appendKeyed(ctx, tx, b.AtLeastOnce.FirstByKey())
}

// lockOffsets takes the offsets table's DML lock before the transaction
// reads it (see Snowflake).
func lockOffsets(ctx context.Context, tx sqlTx, offsets []warehouse.Offset) error {
	topics := warehouse.OffsetTopics(offsets)
	lock := `UPDATE offsets SET next_offset = next_offset WHERE topic IN (?` + strings.Repeat(`, ?`, len(topics)-1) + `)`
	if _, err := tx.ExecContext(ctx, lock, anys(topics)...); err != nil {
		return fmt.Errorf("lock offsets: %w", err)
	}
	return nil
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// chunkBytes bounds the JSON text of one statement's rows (see boundTable):
// Snowflake takes a VARCHAR bind and a VARIANT of up to 16 MB.
const chunkBytes = 8 << 20

// boundTable describes how one table's rows are bound. A statement binds a
// chunk of rows as one JSON array of objects, one member per non-NULL
// column, and reads it back as a table with FLATTEN:
//
//	SELECT value:c1::T1 AS c1, … FROM TABLE(FLATTEN(INPUT => PARSE_JSON(?)))
//
// One bind and a statement whose size does not grow with the rows: bound
// multi-row VALUES cost the emulator ~3 ms per row in SQL rewriting (350
// rows/s), this ~20 µs. The casts come from the table's DDL
// (columnTypes).
type boundTable struct {
	name string
	cols []string
}

// source returns the SELECT over a bound JSON array of rows.
func (t *boundTable) source() string {
	types := columnTypes()[t.name]
	var sb strings.Builder
	sb.WriteString("SELECT ")
	for i, c := range t.cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		v := "value:" + c
		switch typ := types[c]; typ {
		case "VARIANT":
		case "BINARY":
			v = "BASE64_DECODE_BINARY(" + v + "::VARCHAR)"
		case "":
			panic("warehouse: column " + t.name + "." + c + " is not in the Snowflake schema")
		default:
			v += "::" + typ
		}
		sb.WriteString(v + " AS " + c)
	}
	sb.WriteString(" FROM TABLE(FLATTEN(INPUT => PARSE_JSON(?)))")
	return sb.String()
}

// encodeChunks encodes rows as JSON arrays of objects (see boundTable), each at
// most about chunkBytes. values returns a row's column values in t.cols
// order: nil is NULL (the member is left out), time.Time an RFC 3339 UTC
// string, []byte base64, json.RawMessage the JSON itself (checked).
func encodeChunks[T any](t *boundTable, rows []T, values func(*T) []any) ([]string, error) {
	var out []string
	var sb strings.Builder
	for i := range rows {
		if sb.Len() == 0 {
			sb.WriteByte('[')
		} else {
			sb.WriteByte(',')
		}
		sb.WriteByte('{')
		first := true
		for c, v := range values(&rows[i]) {
			if v == nil {
				continue
			}
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC()
			}
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("%s: row %d: %s: %w", t.name, i, t.cols[c], err)
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			sb.WriteString(`"` + t.cols[c] + `":`)
			sb.Write(b)
		}
		sb.WriteByte('}')
		if sb.Len() >= chunkBytes {
			sb.WriteByte(']')
			out = append(out, sb.String())
			sb.Reset()
		}
	}
	if sb.Len() > 0 {
		sb.WriteByte(']')
		out = append(out, sb.String())
	}
	return out, nil
}

// insertRows appends rows to t.
func insertRows[T any](ctx context.Context, tx sqlTx, t *boundTable, rows []T, values func(*T) []any) error {
	chunks, err := encodeChunks(t, rows, values)
	if err != nil {
		return err
	}
	q := `INSERT INTO ` + t.name + ` (` + strings.Join(t.cols, ", ") + `) ` + t.source()
	for _, c := range chunks {
		if _, err := tx.ExecContext(ctx, q, c); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return nil
}

// mergeRows upserts rows into t on the key columns: a stored row is
// replaced when cond (over t and s) holds, or always when cond is "". rows
// hold one row per key.
//
// It is a DELETE … USING then an INSERT … WHERE NOT EXISTS, not a MERGE:
// fakesnow runs MERGE through a temporary table whose creation writes to
// its own catalog database, which DuckDB refuses inside a transaction that
// already wrote elsewhere ("a single transaction can only write to a single
// attached database"). On Snowflake both forms are transactional and give
// the same result; MERGE would be one statement and one scan instead of two.
func mergeRows[T any](ctx context.Context, tx sqlTx, t *boundTable, key []string, cond string, rows []T, values func(*T) []any) error {
	var on []string
	for _, c := range key {
		on = append(on, "t."+c+" = s."+c)
	}
	match := strings.Join(on, " AND ")
	del := match
	if cond != "" {
		del += " AND " + cond
	}
	cols := strings.Join(t.cols, ", ")
	chunks, err := encodeChunks(t, rows, values)
	if err != nil {
		return err
	}
	src := t.source()
	for _, c := range chunks {
		q := `DELETE FROM ` + t.name + ` t USING (` + src + `) s WHERE ` + del
		if _, err := tx.ExecContext(ctx, q, c); err != nil {
			return fmt.Errorf("%s: delete: %w", t.name, err)
		}
		q = `INSERT INTO ` + t.name + ` (` + cols + `) SELECT ` + cols + ` FROM (` + src + `) s WHERE NOT EXISTS (SELECT 1 FROM ` +
			t.name + ` t WHERE ` + match + `)`
		if _, err := tx.ExecContext(ctx, q, c); err != nil {
			return fmt.Errorf("%s: insert: %w", t.name, err)
		}
	}
	return nil
}

// insertNew appends the rows s of rows for which no stored row t of the
// table satisfies match (SQL over t and s; its placeholders bind args): the
// bound INSERT … SELECT over FLATTEN of insertRows with a NOT EXISTS. Each
// chunk's statement sees the rows of the chunks before it (the same
// transaction), so rows must hold one row per key.
func insertNew[T any](ctx context.Context, tx sqlTx, t *boundTable, rows []T, match string, args []any, values func(*T) []any) error {
	chunks, err := encodeChunks(t, rows, values)
	if err != nil {
		return err
	}
	cols := strings.Join(t.cols, ", ")
	q := `INSERT INTO ` + t.name + ` (` + cols + `) SELECT ` + cols + ` FROM (` + t.source() + `) s WHERE NOT EXISTS (SELECT 1 FROM ` +
		t.name + ` t WHERE ` + match + `)`
	for _, c := range chunks {
		if _, err := tx.ExecContext(ctx, q, append([]any{c}, args...)...); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return nil
}

// appendKeyed appends the rows of at-least-once producers (one per key,
// warehouse.KeyedRows.FirstByKey) that are not stored yet, each table's by
// insertNew on its key (see warehouse.KeyedRows). The lookup of events,
// sessions and alerts is restricted to the rows' range of times, bound as
// constants, which Snowflake prunes micro-partitions by: a copy has its
// original's time, so only the table's recent part is read.
func appendKeyed(ctx context.Context, tx sqlTx, k warehouse.KeyedRows) error {
	const between = ` BETWEEN CAST(? AS TIMESTAMP_TZ) AND CAST(? AS TIMESTAMP_TZ)`
	span := func(lo, hi time.Time) []any {
		return []any{lo.UTC().Format(time.RFC3339Nano), hi.UTC().Format(time.RFC3339Nano)}
	}
	var err error
	if len(k.Events) > 0 {
		err = insertNew(ctx, tx, eventsTable, k.Events, `t.event_id = s.event_id AND t.event_time`+between,
			span(warehouse.Span(k.Events, func(r *warehouse.EventRow) time.Time { return r.EventTime })), eventValues)
	}
	if err == nil && len(k.Sessions) > 0 {
		err = insertNew(ctx, tx, sessionsTable, k.Sessions, `t.session_id = s.session_id AND t.start_time = s.start_time AND t.start_time`+between,
			span(warehouse.Span(k.Sessions, func(r *warehouse.SessionRow) time.Time { return r.Start })), sessionValues)
	}
	if err == nil && len(k.Alerts) > 0 {
		err = insertNew(ctx, tx, alertsTable, k.Alerts, `t.rule = s.rule AND t.subject = s.subject AND t.window_start = s.window_start AND t.window_start`+between,
			span(warehouse.Span(k.Alerts, func(r *warehouse.AlertRow) time.Time { return r.WindowStart })), alertValues)
	}
	if err == nil && len(k.DeadLetters) > 0 {
		// A dead letter with an unknown source has no key (SourceKnown):
		// the condition on s keeps NOT EXISTS true for it.
		err = insertNew(ctx, tx, deadLettersTable, k.DeadLetters, `t.source_topic = s.source_topic AND t.source_partition = s.source_partition
			AND t.source_offset = s.source_offset AND s.source_topic <> '' AND s.source_partition >= 0 AND s.source_offset >= 0`,
			nil, deadLetterValues)
	}
	return err
}

var (
	eventsTable = &boundTable{name: "events", cols: []string{"event_id", "event_type", "game_id", "player_id", "session_id",
		"seq", "event_time", "received_at", "platform", "country", "app_version", "app_build", "schema_version",
		"revenue_usd", "revenue_usd_micros", "first_seen", "days_since_install", "lifetime_spend_usd_micros", "payer",
		"session_count", "new_player", "payload", "extra", "kafka_topic", "kafka_partition", "kafka_offset"}}
	sessionsTable = &boundTable{name: "sessions", cols: []string{"session_id", "player_id", "game_id", "platform", "country",
		"start_time", "end_time", "duration_ms", "events", "revenue_usd_micros", "levels_played", "closed_by",
		"kafka_topic", "kafka_partition", "kafka_offset"}}
	alertsTable = &boundTable{name: "alerts", cols: []string{"rule", "subject", "game_id", "window_start", "window_end",
		"observed", "baseline", "threshold", "message", "kafka_topic", "kafka_partition", "kafka_offset"}}
	deadLettersTable = &boundTable{name: "dead_letters", cols: []string{"code", "reason", "original",
		"source_topic", "source_partition", "source_offset", "kafka_topic", "kafka_partition", "kafka_offset"}}
	completenessTable = &boundTable{name: "completeness", cols: []string{"window_start", "game_id", "platform", "app_build",
		"gaps", "duplicates", "out_of_order", "watermark", "kafka_topic", "kafka_partition", "kafka_offset"}}
	offsetsTable = &boundTable{name: "offsets", cols: []string{"topic", "partition", "next_offset", "updated_at"}}
)

func kpiTable(w warehouse.Window) *boundTable {
	return &boundTable{name: "kpi_" + string(w), cols: strings.Fields(strings.ReplaceAll(warehouse.KPIColumns, ",", " "))}
}

// decimal6 formats micro-units as a decimal with 6 places: 1072000 → "1.072000".
func decimal6(micros int64) string {
	sign := ""
	u := uint64(micros)
	if micros < 0 {
		sign, u = "-", uint64(-micros)
	}
	return fmt.Sprintf("%s%d.%06d", sign, u/1_000_000, u%1_000_000)
}

func nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func appendRows(ctx context.Context, tx sqlTx, b *warehouse.Batch) error {
	err := insertRows(ctx, tx, sessionsTable, b.Sessions, sessionValues)
	if err == nil {
		err = insertRows(ctx, tx, alertsTable, b.Alerts, alertValues)
	}
	if err == nil {
		err = insertRows(ctx, tx, deadLettersTable, b.DeadLetters, deadLetterValues)
	}
	if err == nil {
		err = insertRows(ctx, tx, eventsTable, b.Events, eventValues)
	}
	return err
}

func sessionValues(r *warehouse.SessionRow) []any {
	return []any{r.SessionID, r.PlayerID, r.GameID, r.Platform, r.Country, r.Start, r.End,
		r.DurationMs, r.Events, r.RevenueUSDMicros, r.LevelsPlayed, r.ClosedBy, r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

func alertValues(r *warehouse.AlertRow) []any {
	return []any{r.Rule, r.Subject, r.GameID, r.WindowStart, r.WindowEnd, r.Observed, r.Baseline,
		r.Threshold, r.Message, r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

func deadLetterValues(r *warehouse.DeadLetterRow) []any {
	orig := r.Original
	if orig == nil {
		orig = []byte{}
	}
	return []any{r.Code, r.Reason, orig, r.SourceTopic, r.SourcePartition, r.SourceOffset,
		r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

// eventValues embeds payload and extra as JSON (json.RawMessage), which
// encodeChunks checks: invalid JSON fails the batch before a statement.
func eventValues(r *warehouse.EventRow) []any {
	var extra any
	if r.Extra != "" {
		extra = json.RawMessage(r.Extra)
	}
	return []any{r.EventID, r.EventType, r.GameID, r.PlayerID, r.SessionID,
		r.Seq, r.EventTime, nullTimeArg(r.ReceivedAt), r.Platform, r.Country, r.AppVersion, r.AppBuild, r.SchemaVersion,
		decimal6(r.RevenueUSDMicros), r.RevenueUSDMicros, nullTimeArg(r.FirstSeen), r.DaysSinceInstall,
		r.LifetimeSpendUSDMicros, r.Payer, r.SessionCount, r.NewPlayer, json.RawMessage(r.Payload), extra,
		r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

func upsertKPIs(ctx context.Context, tx sqlTx, rows []warehouse.KPIRow) error {
	for _, w := range []warehouse.Window{warehouse.Minute, warehouse.Hour} {
		var part []warehouse.KPIRow
		for _, r := range rows {
			if r.Window == w {
				part = append(part, r)
			}
		}
		err := mergeRows(ctx, tx, kpiTable(w), []string{"window_start", "game_id", "platform", "country"},
			"s.version >= t.version", part, func(r *warehouse.KPIRow) []any {
				levels := r.Levels
				if levels == nil {
					levels = []warehouse.Level{}
				}
				return []any{r.Start, r.End, r.Game, r.Platform, r.Country, r.ActivePlayers, r.NewPlayers,
					r.SessionsStarted, r.Purchases, r.Payers, r.RevenueUSDMicros, r.PurchaseRevenueUSDMicros, r.Refunds,
					r.RefundUSDMicros, r.AdImpressions, r.AdRevenueUSDMicros, levels, r.Gaps, r.Duplicates, r.OutOfOrder,
					r.Final, r.Version, nullTimeArg(r.Watermark), r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
			})
		if err != nil {
			return err
		}
	}
	return nil
}

func upsertCompleteness(ctx context.Context, tx sqlTx, rows []warehouse.CompletenessRow) error {
	return mergeRows(ctx, tx, completenessTable, []string{"window_start", "game_id", "platform", "app_build"}, "",
		rows, func(r *warehouse.CompletenessRow) []any {
			return []any{r.Start, r.Game, r.Platform, r.AppBuild, r.Gaps, r.Duplicates, r.OutOfOrder,
				nullTimeArg(r.Watermark), r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
		})
}

// upsertOffsets writes the batch's new next offsets; never backwards,
// even if a concurrent writer got past the lock.
func upsertOffsets(ctx context.Context, tx sqlTx, offsets []warehouse.Offset) error {
	now := time.Now().UTC()
	return mergeRows(ctx, tx, offsetsTable, []string{"topic", "partition"}, "s.next_offset > t.next_offset",
		offsets, func(o *warehouse.Offset) []any { return []any{o.Topic, o.Partition, o.Next, now} })
}
