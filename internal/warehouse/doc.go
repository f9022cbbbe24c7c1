// Package warehouse is the warehouse side's protocol: the tables the loader
// writes (Migrations, documented below), the rows that go into them, the
// Sink interface the loader writes through with its exactly-once protocol
// (Batch, Offsets, Batch.Since, LatestKPIs, ReadOffsets, and the replay
// steps ReplayBatch, CheckLoaded, DeleteRanges), the Warehouse a reader
// queries and its Dialect, and the Usage a metered backend counts. It has
// no Kafka dependency and no driver: the loader reads records, decodes them
// into rows (DecodeEnriched, DecodeSession, DecodeKPI, DecodeAlert,
// DecodeDeadLetter), sets each row's Pos, and hands Batches to a Sink.
//
// The packages under it:
//
//	warehouse/duckdb        the embedded backend (DuckDB Appenders, INSERT … ON CONFLICT)
//	warehouse/snowflake     the Snowflake backend (gosnowflake; bound JSON + FLATTEN, DELETE/INSERT upserts)
//	warehouse/backend       Open: the warehouse a URL names (duckdb:…, snowflake://…), for commands
//	warehouse/warehousetest the suite every Sink passes, incl. redelivery, overlap and atomicity
//
// and the reports that read a warehouse (gamepulse kpis and reconcile) are
// in internal/report.
//
// # Adding a backend
//
// A package warehouse/NAME with a type that implements Warehouse: Migrate
// runs Migrations translated into its types (as snowflake.Migrations
// does); Apply and Replay follow the steps below, in one transaction, with
// ReadOffsets, Batch.Since, LatestKPIs, LatestCompleteness, ReplayBatch,
// CheckLoaded and DeleteRanges, and KeyedRows.FirstByKey and Span for the
// rows of at-least-once producers; Dialect returns its SQL for the Dialect
// fragments. Its tests run warehousetest.Run and the reporttest tests;
// backend.Open gets its URL scheme.
//
// # Exactly once
//
// A Batch carries its rows, each with its Kafka Position, and the Offsets
// it covers (per partition, the next offset to read). Apply, in ONE
// warehouse transaction:
//
//  1. reads the offsets table for the batch's topics;
//  2. drops every row whose offset is below its partition's stored
//     next_offset, and every offset that does not move forward
//     (Batch.Since): a redelivered batch applies nothing, an overlapping
//     one only its new part;
//  3. upserts KPI rows (LatestKPIs: per key the highest version, equal
//     versions the later row; a stored row is replaced only when the new
//     version ≥ the stored one) and completeness rows (the later row wins:
//     each carries the sums so far);
//  4. appends events, sessions, alerts and dead letters; those of
//     at-least-once producers (Batch.AtLeastOnce) only when no row with
//     the same natural key is stored or earlier in the batch (KeyedRows);
//  5. writes the new next offsets (never backwards) and commits.
//
// Exactly once per offset is exactly once per row when the producer writes
// each record once, as the Go engine does (Kafka transactions). A producer
// with an at-least-once sink (Spark's Kafka sink, after a restart from its
// checkpoint) may write a record again at a new offset; it marks its records
// with a header (record.AtLeastOnce), the loader puts their rows in
// Batch.AtLeastOnce, and step 4 skips the copies by key. Its KPI and
// completeness rows need nothing more: a copy repeats its row and version,
// and the upsert of step 3 leaves the row as it was (its kafka_* columns
// then name the copy's position).
//
// Any error rolls the whole transaction back: a batch is never half
// applied, and its offsets stay where they were. On start and on every
// partition assignment the loader resumes from Offsets, not from Kafka's
// committed offsets. The DuckDB backend serializes Apply calls; DuckDB lets
// one process write a file. A Sink with concurrent writers for one
// partition (zombie loaders) must rely on its transaction isolation to
// make step 1 and step 5 conflict.
//
// # Schema
//
// Every table but offsets and schema_migrations ends with kafka_topic,
// kafka_partition, kafka_offset: where the loader read the row. Times are
// TIMESTAMPTZ (UTC); money is integer micro-USD (*_usd_micros).
//
// schema_migrations: version (PK), name, applied_at. Migrations run in
// order, each in its own transaction (on DuckDB), and only add.
//
// offsets: topic, partition (PK together), next_offset (the next offset to
// read), updated_at.
//
// events (append-only; one row per enriched event): event_id, event_type,
// game_id, player_id, session_id, seq, event_time (client_time truncated to
// the millisecond), received_at (gateway; NULL if absent), platform and
// country (normalized by the processor), app_version, app_build,
// schema_version, revenue_usd DECIMAL(18,6) and revenue_usd_micros
// (purchases > 0, refunds < 0, ad revenue ≥ 0), first_seen,
// days_since_install, lifetime_spend_usd_micros, payer, session_count,
// new_player (the player's state after this event), payload JSON (the
// member named by event_type, "{}" if none), extra JSON (every other
// member, e.g. device and fields added to the event schema later; NULL if
// none).
//
// sessions (append-only): session_id, player_id, game_id, platform,
// country, start_time, end_time, duration_ms, events, revenue_usd_micros,
// levels_played, closed_by (session_end, next, gap, watermark). A session
// id split by a gap gives two rows with different start_time.
//
// kpi_minute, kpi_hour (upsert; PK window_start, game_id, platform,
// country; platform = country = '*' is the game-level row): window_end,
// active_players, payers (HyperLogLog estimates), new_players,
// sessions_started, purchases, revenue_usd_micros,
// purchase_revenue_usd_micros, refunds, refund_usd_micros, ad_impressions,
// ad_revenue_usd_micros, levels JSON ([{level, starts, completions,
// fails}]), gaps, duplicates, out_of_order, final, version (0 provisional,
// 1 first final, +1 per correction), watermark (at emission; NULL if
// absent).
//
// completeness (upsert; PK window_start, game_id, platform, app_build):
// gaps, duplicates, out_of_order (sums so far), watermark.
//
// alerts (append-only): rule, subject (player or game), game_id,
// window_start, window_end, observed, baseline, threshold, message.
//
// dead_letters (append-only): code, reason, original BLOB (the rejected
// record's bytes), source_topic, source_partition, source_offset (where the
// processor read it; -1 if unknown).
package warehouse
