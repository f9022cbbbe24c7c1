package warehouse

// Migration is one step of the warehouse schema. Migrations are applied in
// Version order, each in its own transaction with its row in
// schema_migrations, and are never destructive: they add tables and
// columns, never drop or retype them.
type Migration struct {
	Version int
	Name    string
	SQL     []string
}

// Migrations is the warehouse schema's history, in DuckDB's types: the
// duckdb backend runs it as it is, the snowflake backend translates its
// types (snowflake.Migrations), so both hold the same tables and columns
// and the same queries run on both. The tables and columns are documented
// in doc.go.
var Migrations = []Migration{{
	Version: 1,
	Name:    "initial schema",
	SQL: []string{
		`CREATE TABLE IF NOT EXISTS offsets (
			topic VARCHAR NOT NULL,
			partition INTEGER NOT NULL,
			next_offset BIGINT NOT NULL,
			updated_at TIMESTAMPTZ NOT NULL,
			PRIMARY KEY (topic, partition))`,
		`CREATE TABLE IF NOT EXISTS events (
			event_id VARCHAR NOT NULL CHECK (event_id <> ''),
			event_type VARCHAR NOT NULL,
			game_id VARCHAR NOT NULL,
			player_id VARCHAR NOT NULL,
			session_id VARCHAR NOT NULL,
			seq BIGINT NOT NULL,
			event_time TIMESTAMPTZ NOT NULL,
			received_at TIMESTAMPTZ,
			platform VARCHAR NOT NULL,
			country VARCHAR NOT NULL,
			app_version VARCHAR NOT NULL,
			app_build VARCHAR NOT NULL,
			schema_version INTEGER NOT NULL,
			revenue_usd DECIMAL(18,6) NOT NULL,
			revenue_usd_micros BIGINT NOT NULL,
			first_seen TIMESTAMPTZ,
			days_since_install BIGINT NOT NULL,
			lifetime_spend_usd_micros BIGINT NOT NULL,
			payer BOOLEAN NOT NULL,
			session_count BIGINT NOT NULL,
			new_player BOOLEAN NOT NULL,
			payload JSON NOT NULL,
			extra JSON,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS sessions (
			session_id VARCHAR NOT NULL,
			player_id VARCHAR NOT NULL,
			game_id VARCHAR NOT NULL,
			platform VARCHAR NOT NULL,
			country VARCHAR NOT NULL,
			start_time TIMESTAMPTZ NOT NULL,
			end_time TIMESTAMPTZ NOT NULL,
			duration_ms BIGINT NOT NULL,
			events BIGINT NOT NULL,
			revenue_usd_micros BIGINT NOT NULL,
			levels_played BIGINT NOT NULL,
			closed_by VARCHAR NOT NULL,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL)`,
		kpiTable("kpi_minute"),
		kpiTable("kpi_hour"),
		`CREATE TABLE IF NOT EXISTS completeness (
			window_start TIMESTAMPTZ NOT NULL,
			game_id VARCHAR NOT NULL,
			platform VARCHAR NOT NULL,
			app_build VARCHAR NOT NULL,
			gaps BIGINT NOT NULL,
			duplicates BIGINT NOT NULL,
			out_of_order BIGINT NOT NULL,
			watermark TIMESTAMPTZ,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL,
			PRIMARY KEY (window_start, game_id, platform, app_build))`,
		`CREATE TABLE IF NOT EXISTS alerts (
			rule VARCHAR NOT NULL,
			subject VARCHAR NOT NULL,
			game_id VARCHAR NOT NULL,
			window_start TIMESTAMPTZ NOT NULL,
			window_end TIMESTAMPTZ NOT NULL,
			observed DOUBLE NOT NULL,
			baseline DOUBLE NOT NULL,
			threshold DOUBLE NOT NULL,
			message VARCHAR NOT NULL,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS dead_letters (
			code VARCHAR NOT NULL,
			reason VARCHAR NOT NULL,
			original BLOB NOT NULL,
			source_topic VARCHAR NOT NULL,
			source_partition INTEGER NOT NULL,
			source_offset BIGINT NOT NULL,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL)`,
	},
}}

func kpiTable(name string) string {
	return `CREATE TABLE IF NOT EXISTS ` + name + ` (
			window_start TIMESTAMPTZ NOT NULL,
			window_end TIMESTAMPTZ NOT NULL,
			game_id VARCHAR NOT NULL,
			platform VARCHAR NOT NULL,
			country VARCHAR NOT NULL,
			active_players BIGINT NOT NULL,
			new_players BIGINT NOT NULL,
			sessions_started BIGINT NOT NULL,
			purchases BIGINT NOT NULL,
			payers BIGINT NOT NULL,
			revenue_usd_micros BIGINT NOT NULL,
			purchase_revenue_usd_micros BIGINT NOT NULL,
			refunds BIGINT NOT NULL,
			refund_usd_micros BIGINT NOT NULL,
			ad_impressions BIGINT NOT NULL,
			ad_revenue_usd_micros BIGINT NOT NULL,
			levels JSON NOT NULL,
			gaps BIGINT NOT NULL,
			duplicates BIGINT NOT NULL,
			out_of_order BIGINT NOT NULL,
			final BOOLEAN NOT NULL,
			version BIGINT NOT NULL,
			watermark TIMESTAMPTZ,
			kafka_topic VARCHAR NOT NULL,
			kafka_partition INTEGER NOT NULL,
			kafka_offset BIGINT NOT NULL,
			PRIMARY KEY (window_start, game_id, platform, country))`
}

// KPIColumns are the columns of kpi_minute and kpi_hour in table order, the
// key (window_start, game_id, platform, country) among the first five: the
// column list of both backends' KPI upserts.
const KPIColumns = `window_start, window_end, game_id, platform, country, active_players, new_players,
	sessions_started, purchases, payers, revenue_usd_micros, purchase_revenue_usd_micros, refunds,
	refund_usd_micros, ad_impressions, ad_revenue_usd_micros, levels, gaps, duplicates, out_of_order,
	final, version, watermark, kafka_topic, kafka_partition, kafka_offset`
