package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	ddb "github.com/duckdb/duckdb-go/v2"

	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// Warehouse is the embedded warehouse: a DuckDB database file (or
// ":memory:" for an empty path). Apply calls are serialized; DuckDB itself
// lets only one process open a file for writing.
type Warehouse struct {
	db *sql.DB
	mu sync.Mutex // serializes Apply and Migrate
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// ErrNoWarehouse is wrapped by OpenExisting's error when there is no
// database file at the path: a reader must not create an empty warehouse
// and report on it.
var ErrNoWarehouse = errors.New("no warehouse")

// ErrWarehouseBusy is wrapped by the error of opening a DuckDB file that
// another process holds open for writing.
var ErrWarehouseBusy = errors.New("the warehouse is being written by another gamepulse process (load or demo)")

// Open opens (creating if needed) the DuckDB database at path. Call
// Migrate before Apply.
func Open(path string) (*Warehouse, error) {
	return openDSN(path, path)
}

// OpenExisting opens the DuckDB database at path, which must exist
// (ErrNoWarehouse): read-only when readOnly, so that several readers can
// share the file and a read-only file is readable; for writing otherwise.
// DuckDB lets a file be open for writing in one process only, with no
// reader beside it (ErrWarehouseBusy).
func OpenExisting(path string, readOnly bool) (*Warehouse, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("warehouse: %w: an in-memory database is empty", ErrNoWarehouse)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s", ErrNoWarehouse, path)
		}
		return nil, fmt.Errorf("warehouse: open duckdb %q: %w", path, err)
	}
	dsn := path
	if readOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	return openDSN(path, dsn)
}

func openDSN(path, dsn string) (*Warehouse, error) {
	db, err := sql.Open("duckdb", dsn)
	if err == nil {
		if err = db.Ping(); err != nil {
			db.Close()
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), "Could not set lock on file") {
			// DuckDB's own message names the lock, not what to do.
			return nil, fmt.Errorf("%w: DuckDB lets no other process open %s while it runs; stop it first, or query a copy of the file", ErrWarehouseBusy, path)
		}
		return nil, fmt.Errorf("warehouse: open duckdb %q: %w", path, err)
	}
	return &Warehouse{db: db}, nil
}

// Dialect returns DuckDB's SQL dialect.
func (d *Warehouse) Dialect() warehouse.Dialect { return Dialect{} }

// DB returns the database, for queries (gamepulse query, kpis, reconcile).
// Writing through it bypasses the exactly-once protocol.
func (d *Warehouse) DB() *sql.DB { return d.db }

// Close closes the database.
func (d *Warehouse) Close() error { return d.db.Close() }

// Migrate applies the warehouse.Migrations not yet recorded in
// schema_migrations, each in its own transaction.
func (d *Warehouse) Migrate(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, err := d.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("warehouse: migrate: %w", err)
	}
	for _, m := range warehouse.Migrations {
		if err := d.migrate(ctx, m); err != nil {
			return fmt.Errorf("warehouse: migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

func (d *Warehouse) migrate(ctx context.Context, m warehouse.Migration) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	for _, s := range m.SQL {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, ?)`, m.Version, m.Name, time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// Offsets returns the stored next offsets of topics (all if empty).
func (d *Warehouse) Offsets(ctx context.Context, topics []string) (map[warehouse.TopicPartition]int64, error) {
	out, err := warehouse.ReadOffsets(ctx, d.db, topics)
	if err != nil {
		return nil, fmt.Errorf("warehouse: offsets: %w", err)
	}
	return out, nil
}

// Apply writes b in one transaction (see Sink).
func (d *Warehouse) Apply(ctx context.Context, b warehouse.Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if len(b.Offsets) == 0 {
		return nil
	}
	return d.transact(ctx, "apply", func(conn *sql.Conn) (bool, error) {
		stored, err := warehouse.ReadOffsets(ctx, conn, warehouse.OffsetTopics(b.Offsets))
		if err != nil {
			return false, fmt.Errorf("read offsets: %w", err)
		}
		nb := b.Since(stored)
		if len(nb.Offsets) == 0 {
			return false, nil // a redelivery: nothing new
		}
		if err := writeRows(ctx, conn, &nb); err != nil {
			return false, err
		}
		now := time.Now().UTC()
		for _, o := range nb.Offsets {
			if _, err := conn.ExecContext(ctx, `INSERT OR REPLACE INTO offsets VALUES (?, ?, ?, ?)`, o.Topic, o.Partition, o.Next, now); err != nil {
				return false, fmt.Errorf("offsets: %w", err)
			}
		}
		return true, nil
	})
}

// Replay rewrites the ranges in one transaction (see warehouse.Sink).
func (d *Warehouse) Replay(ctx context.Context, ranges []warehouse.Range, b warehouse.Batch) error {
	b, err := warehouse.ReplayBatch(ranges, b)
	if err != nil {
		return err
	}
	return d.transact(ctx, "replay", func(conn *sql.Conn) (bool, error) {
		if err := warehouse.CheckLoaded(ctx, conn, b.Offsets); err != nil {
			return false, err
		}
		if err := warehouse.DeleteRanges(ctx, conn.ExecContext, ranges); err != nil {
			return false, err
		}
		return true, writeRows(ctx, conn, &b)
	})
}

// transact runs fn in one transaction on one connection, under d.mu:
// BEGIN, fn, then COMMIT, or ROLLBACK when fn fails, returns false (nothing
// to write) or ctx ends. A connection whose ROLLBACK fails is discarded
// rather than returned to the pool.
func (d *Warehouse) transact(ctx context.Context, what string, fn func(conn *sql.Conn) (commit bool, err error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("warehouse: %s: %w", what, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN TRANSACTION`); err != nil {
		return fmt.Errorf("warehouse: %s: %w", what, err)
	}
	commit, err := fn(conn)
	if err == nil && commit {
		if err = ctx.Err(); err == nil {
			if _, err = conn.ExecContext(ctx, `COMMIT`); err == nil {
				return nil
			}
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`); rerr != nil && !strings.Contains(rerr.Error(), "no transaction is active") {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	if err != nil {
		return fmt.Errorf("warehouse: %s: %w", what, err)
	}
	return nil
}

// writeRows writes b's rows in the connection's transaction: the KPI and
// completeness upserts first, the bulk append-only tables next, the rows of
// at-least-once producers last (a failure anywhere leaves the transaction to
// roll back all of them).
func writeRows(ctx context.Context, conn *sql.Conn, b *warehouse.Batch) error {
	if err := upsertKPIs(ctx, conn, warehouse.LatestKPIs(b.KPIs)); err != nil {
		return fmt.Errorf("kpi: %w", err)
	}
	if err := upsertCompleteness(ctx, conn, warehouse.LatestCompleteness(b.Completeness)); err != nil {
		return fmt.Errorf("completeness: %w", err)
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T", dc)
		}
		if err := appendRows(ctx, c, b); err != nil {
			return err
		}
		if b.AtLeastOnce.Rows() == 0 {
			return nil
		}
		return appendKeyed(ctx, c, b.AtLeastOnce.FirstByKey())
	})
}

// appendRows appends the rows of the append-only tables through DuckDB
// Appenders on the transaction's connection.
func appendRows(ctx context.Context, c driver.Conn, b *warehouse.Batch) error {
	err := appendTable(ctx, c, "sessions", tableAppender("sessions"), b.Sessions, sessionValues)
	if err == nil {
		err = appendTable(ctx, c, "alerts", tableAppender("alerts"), b.Alerts, alertValues)
	}
	if err == nil {
		err = appendTable(ctx, c, "dead_letters", tableAppender("dead_letters"), b.DeadLetters, deadLetterValues)
	}
	if err == nil {
		err = appendEvents(ctx, c, eventsAppender(""), b.Events)
	}
	return err
}

// appendEvents appends rows through the events Appender newAppender
// returns.
func appendEvents(ctx context.Context, c driver.Conn, newAppender func(driver.Conn) (*ddb.Appender, error), rows []warehouse.EventRow) error {
	vals := make([]driver.Value, len(eventColumns)) // reused: AppendRow copies the values
	err := appendTable(ctx, c, "events", newAppender, rows, func(r *warehouse.EventRow) []driver.Value {
		vals[0], vals[1], vals[2], vals[3], vals[4] = r.EventID, r.EventType, r.GameID, r.PlayerID, r.SessionID
		vals[5], vals[6], vals[7], vals[8], vals[9] = r.Seq, r.EventTime, nullTime(r.ReceivedAt), r.Platform, r.Country
		vals[10], vals[11], vals[12] = r.AppVersion, r.AppBuild, r.SchemaVersion
		// A DECIMAL(18,6) is stored as its unscaled int64, which for
		// revenue_usd is exactly the micros.
		vals[13], vals[14] = r.RevenueUSDMicros, r.RevenueUSDMicros
		vals[15], vals[16] = nullTime(r.FirstSeen), r.DaysSinceInstall
		vals[17], vals[18], vals[19], vals[20] = r.LifetimeSpendUSDMicros, r.Payer, r.SessionCount, r.NewPlayer
		vals[21], vals[22] = r.Payload, nullString(r.Extra)
		vals[23], vals[24], vals[25] = r.Pos.Topic, r.Pos.Partition, r.Pos.Offset
		return vals
	})
	if err != nil {
		if p, ok := firstInvalidJSON(rows); ok {
			err = fmt.Errorf("invalid JSON in payload or extra of the event at %s/%d@%d: %w", p.Topic, p.Partition, p.Offset, err)
		}
	}
	return err
}

// appendKeyed appends the rows of at-least-once producers (one per key,
// warehouse.KeyedRows.FirstByKey) that are not stored yet. Each table's
// rows go through a query Appender whose INSERT … SELECT … FROM
// appended_data keeps the rows for which NOT EXISTS finds no stored row
// with the same key. The lookup is restricted to the rows' range of times
// (as constants in the SQL, which DuckDB's zone maps prune row groups by),
// so it reads only the table's recent part. The Appender runs its INSERT
// per flushed chunk; a later chunk sees the earlier ones' rows, as they are
// in the same transaction.
func appendKeyed(ctx context.Context, c driver.Conn, k warehouse.KeyedRows) error {
	var err error
	if len(k.Events) > 0 {
		lo, hi := warehouse.Span(k.Events, func(r *warehouse.EventRow) time.Time { return r.EventTime })
		err = appendEvents(ctx, c, eventsAppender(`WHERE NOT EXISTS (SELECT 1 FROM events t WHERE t.event_id = s.event_id AND `+
			timeRange("t.event_time", lo, hi)+`)`), k.Events)
	}
	if err == nil && len(k.Sessions) > 0 {
		lo, hi := warehouse.Span(k.Sessions, func(r *warehouse.SessionRow) time.Time { return r.Start })
		err = appendTable(ctx, c, "sessions", keyedAppender("sessions", sessionColumns,
			`t.session_id = s.session_id AND t.start_time = s.start_time AND `+timeRange("t.start_time", lo, hi)), k.Sessions, sessionValues)
	}
	if err == nil && len(k.Alerts) > 0 {
		lo, hi := warehouse.Span(k.Alerts, func(r *warehouse.AlertRow) time.Time { return r.WindowStart })
		err = appendTable(ctx, c, "alerts", keyedAppender("alerts", alertColumns,
			`t.rule = s.rule AND t.subject = s.subject AND t.window_start = s.window_start AND `+timeRange("t.window_start", lo, hi)), k.Alerts, alertValues)
	}
	if err == nil && len(k.DeadLetters) > 0 {
		// A dead letter with an unknown source has no key (SourceKnown):
		// the condition on s keeps NOT EXISTS true for it.
		err = appendTable(ctx, c, "dead_letters", keyedAppender("dead_letters", deadLetterColumns,
			`t.source_topic = s.source_topic AND t.source_partition = s.source_partition AND t.source_offset = s.source_offset
			AND s.source_topic <> '' AND s.source_partition >= 0 AND s.source_offset >= 0`), k.DeadLetters, deadLetterValues)
	}
	return err
}

// timeRange returns "col BETWEEN lo AND hi" with the times as TIMESTAMPTZ
// literals of microsecond precision (DuckDB's), widened to whole
// microseconds around them.
func timeRange(col string, lo, hi time.Time) string {
	const layout = "2006-01-02 15:04:05.000000"
	lo = lo.UTC().Truncate(time.Microsecond)
	if t := hi.UTC().Truncate(time.Microsecond); t.Equal(hi) {
		hi = t
	} else {
		hi = t.Add(time.Microsecond)
	}
	return col + ` BETWEEN TIMESTAMPTZ '` + lo.Format(layout) + `+00' AND TIMESTAMPTZ '` + hi.UTC().Format(layout) + `+00'`
}

// The columns of the append-only tables in table order (warehouse.Migrations),
// as the rows' values list them: keyedAppender names appended_data's
// columns by them.
var (
	sessionColumns = []string{"session_id", "player_id", "game_id", "platform", "country", "start_time", "end_time",
		"duration_ms", "events", "revenue_usd_micros", "levels_played", "closed_by", "kafka_topic", "kafka_partition", "kafka_offset"}
	alertColumns = []string{"rule", "subject", "game_id", "window_start", "window_end", "observed", "baseline",
		"threshold", "message", "kafka_topic", "kafka_partition", "kafka_offset"}
	deadLetterColumns = []string{"code", "reason", "original", "source_topic", "source_partition", "source_offset",
		"kafka_topic", "kafka_partition", "kafka_offset"}
)

// keyedAppender returns a constructor of a query Appender into table (whose
// columns, in order, are cols) that inserts only the appended rows s for
// which no stored row t satisfies match.
func keyedAppender(table string, cols []string, match string) func(driver.Conn) (*ddb.Appender, error) {
	return func(c driver.Conn) (*ddb.Appender, error) {
		q := `INSERT INTO ` + table + ` SELECT * FROM appended_data AS s(` + strings.Join(cols, ", ") + `) WHERE NOT EXISTS (SELECT 1 FROM ` +
			table + ` t WHERE ` + match + `)`
		return ddb.NewTableAppender(c, q, "", "", table, nil)
	}
}

func sessionValues(r *warehouse.SessionRow) []driver.Value {
	return []driver.Value{r.SessionID, r.PlayerID, r.GameID, r.Platform, r.Country, r.Start, r.End,
		r.DurationMs, r.Events, r.RevenueUSDMicros, r.LevelsPlayed, r.ClosedBy, r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

func alertValues(r *warehouse.AlertRow) []driver.Value {
	return []driver.Value{r.Rule, r.Subject, r.GameID, r.WindowStart, r.WindowEnd, r.Observed, r.Baseline,
		r.Threshold, r.Message, r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

func deadLetterValues(r *warehouse.DeadLetterRow) []driver.Value {
	orig := r.Original
	if orig == nil {
		orig = []byte{}
	}
	return []driver.Value{r.Code, r.Reason, orig, r.SourceTopic, r.SourcePartition, r.SourceOffset,
		r.Pos.Topic, r.Pos.Partition, r.Pos.Offset}
}

// eventColumns are the columns of events, in table order, with the types
// the events Appender writes. payload and extra are written as VARCHAR and
// converted to JSON by the Appender's INSERT: DuckDB's cast validates them
// there and fails the batch on malformed JSON, so neither a Go-side check nor
// the json.Marshal the Appender applies to values of a JSON column is needed.
var eventColumns = []struct {
	name string
	typ  ddb.Type
}{
	{"event_id", ddb.TYPE_VARCHAR}, {"event_type", ddb.TYPE_VARCHAR}, {"game_id", ddb.TYPE_VARCHAR},
	{"player_id", ddb.TYPE_VARCHAR}, {"session_id", ddb.TYPE_VARCHAR}, {"seq", ddb.TYPE_BIGINT},
	{"event_time", ddb.TYPE_TIMESTAMP_TZ}, {"received_at", ddb.TYPE_TIMESTAMP_TZ}, {"platform", ddb.TYPE_VARCHAR},
	{"country", ddb.TYPE_VARCHAR}, {"app_version", ddb.TYPE_VARCHAR}, {"app_build", ddb.TYPE_VARCHAR},
	{"schema_version", ddb.TYPE_INTEGER}, {"revenue_usd", ddb.TYPE_DECIMAL}, {"revenue_usd_micros", ddb.TYPE_BIGINT},
	{"first_seen", ddb.TYPE_TIMESTAMP_TZ}, {"days_since_install", ddb.TYPE_BIGINT},
	{"lifetime_spend_usd_micros", ddb.TYPE_BIGINT}, {"payer", ddb.TYPE_BOOLEAN}, {"session_count", ddb.TYPE_BIGINT},
	{"new_player", ddb.TYPE_BOOLEAN}, {"payload", ddb.TYPE_VARCHAR}, {"extra", ddb.TYPE_VARCHAR},
	{"kafka_topic", ddb.TYPE_VARCHAR}, {"kafka_partition", ddb.TYPE_INTEGER}, {"kafka_offset", ddb.TYPE_BIGINT},
}

// eventsAppender returns a constructor of an Appender whose rows s are
// inserted into events (see eventColumns), those that where (a WHERE
// clause; "": all) keeps.
func eventsAppender(where string) func(driver.Conn) (*ddb.Appender, error) {
	return func(c driver.Conn) (*ddb.Appender, error) {
		names := make([]string, len(eventColumns))
		infos := make([]ddb.TypeInfo, len(eventColumns))
		for i, col := range eventColumns {
			var err error
			if col.typ == ddb.TYPE_DECIMAL {
				infos[i], err = ddb.NewDecimalInfo(18, 6)
			} else {
				infos[i], err = ddb.NewTypeInfo(col.typ)
			}
			if err != nil {
				return nil, err
			}
			names[i] = col.name
		}
		list := strings.Join(names, ", ")
		return ddb.NewQueryAppender(c, `INSERT INTO events (`+list+`) SELECT `+list+` FROM appended_data s `+where, "", infos, names)
	}
}

// tableAppender returns a constructor of a plain Appender into table.
func tableAppender(table string) func(driver.Conn) (*ddb.Appender, error) {
	return func(c driver.Conn) (*ddb.Appender, error) { return ddb.NewAppenderFromConn(c, "", table) }
}

// appendTable appends rows through the Appender newAppender returns, then
// closes it, which flushes them into the transaction.
func appendTable[T any](ctx context.Context, c driver.Conn, table string, newAppender func(driver.Conn) (*ddb.Appender, error),
	rows []T, values func(*T) []driver.Value) error {
	if len(rows) == 0 {
		return nil
	}
	a, err := newAppender(c)
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	for i := range rows {
		if err = a.AppendRow(values(&rows[i])...); err != nil {
			err = fmt.Errorf("row %d: %w", i, err)
			break
		}
	}
	if err != nil {
		_ = a.Close()
		return fmt.Errorf("%s: %w", table, err)
	}
	if err := a.CloseWithCancel(ctx); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// firstInvalidJSON returns the position of the first event whose payload or
// extra is not valid JSON; it only explains a failed append.
func firstInvalidJSON(rows []warehouse.EventRow) (warehouse.Position, bool) {
	for i := range rows {
		r := &rows[i]
		if !json.Valid([]byte(r.Payload)) || (r.Extra != "" && !json.Valid([]byte(r.Extra))) {
			return r.Pos, true
		}
	}
	return warehouse.Position{}, false
}

func nullTime(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t
}

func nullString(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

// upsertChunk is the number of rows of one multi-row INSERT.
const upsertChunk = 256

func upsertKPIs(ctx context.Context, conn *sql.Conn, rows []warehouse.KPIRow) error {
	for _, w := range []warehouse.Window{warehouse.Minute, warehouse.Hour} {
		var part []warehouse.KPIRow
		for _, r := range rows {
			if r.Window == w {
				part = append(part, r)
			}
		}
		table := "kpi_" + string(w)
		cols := strings.Fields(strings.ReplaceAll(warehouse.KPIColumns, ",", " "))
		var set strings.Builder
		for i, c := range cols[5:] { // all but the key
			if i > 0 {
				set.WriteString(", ")
			}
			fmt.Fprintf(&set, "%s = excluded.%s", c, c)
		}
		suffix := ` ON CONFLICT (window_start, game_id, platform, country) DO UPDATE SET ` + set.String() +
			` WHERE excluded.version >= ` + table + `.version`
		for chunk := range slices.Chunk(part, upsertChunk) {
			args := make([]any, 0, len(chunk)*len(cols))
			for _, r := range chunk {
				levels, err := json.Marshal(r.Levels)
				if err != nil {
					return err
				}
				if r.Levels == nil {
					levels = []byte("[]")
				}
				args = append(args, r.Start, r.End, r.Game, r.Platform, r.Country, r.ActivePlayers, r.NewPlayers,
					r.SessionsStarted, r.Purchases, r.Payers, r.RevenueUSDMicros, r.PurchaseRevenueUSDMicros, r.Refunds,
					r.RefundUSDMicros, r.AdImpressions, r.AdRevenueUSDMicros, string(levels), r.Gaps, r.Duplicates, r.OutOfOrder,
					r.Final, r.Version, nullTime(r.Watermark), r.Pos.Topic, r.Pos.Partition, r.Pos.Offset)
			}
			q := `INSERT INTO ` + table + ` (` + warehouse.KPIColumns + `) VALUES ` + placeholders(len(chunk), len(cols)) + suffix
			if _, err := conn.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
	}
	return nil
}

func upsertCompleteness(ctx context.Context, conn *sql.Conn, rows []warehouse.CompletenessRow) error {
	const cols = 11
	for chunk := range slices.Chunk(rows, upsertChunk) {
		args := make([]any, 0, len(chunk)*cols)
		for _, r := range chunk {
			args = append(args, r.Start, r.Game, r.Platform, r.AppBuild, r.Gaps, r.Duplicates, r.OutOfOrder,
				nullTime(r.Watermark), r.Pos.Topic, r.Pos.Partition, r.Pos.Offset)
		}
		q := `INSERT OR REPLACE INTO completeness VALUES ` + placeholders(len(chunk), cols)
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders returns "(?, …), (?, …)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	var sb strings.Builder
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(one)
	}
	return sb.String()
}
