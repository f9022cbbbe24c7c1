package sparkjobs

// EventSchema is the Spark DDL schema with which the jobs parse a raw
// record's JSON (event.AppendJSON's form of gamepulse.v1.Event, protojson
// names): int64 and uint64 fields are strings in protojson and are cast
// where used; google.protobuf.Timestamp is an RFC 3339 string; a custom
// event's properties (google.protobuf.Struct) and the device are not read.
const EventSchema = "schema_version BIGINT, event_id STRING, event_type STRING, game_id STRING, " +
	"player_id STRING, session_id STRING, seq STRING, client_time STRING, received_at STRING, " +
	"platform STRING, app_version STRING, app_build STRING, country STRING, " +
	"session_start STRUCT<entry_point: STRING>, " +
	"session_end STRUCT<duration_ms: STRING>, " +
	"login STRUCT<method: STRING>, " +
	"purchase STRUCT<sku: STRING, price: DOUBLE, currency: STRING, store: STRING, store_transaction_id: STRING>, " +
	"refund STRUCT<store_transaction_id: STRING, sku: STRING, amount: DOUBLE, currency: STRING>, " +
	"level_start STRUCT<level: INT, duration_ms: STRING, score: STRING>, " +
	"level_complete STRUCT<level: INT, duration_ms: STRING, score: STRING>, " +
	"level_fail STRUCT<level: INT, duration_ms: STRING, score: STRING>, " +
	"ad_impression STRUCT<network: STRING, placement: STRING, revenue: DOUBLE, currency: STRING>, " +
	"currency_earn STRUCT<currency: STRING, amount: STRING, reason: STRING, item: STRING>, " +
	"currency_spend STRUCT<currency: STRING, amount: STRING, reason: STRING, item: STRING>, " +
	"custom STRUCT<name: STRING>"

// EnrichedSchema is the Spark DDL schema with which the KPI, session and
// fraud jobs read an enriched record back (record.DecodeEnriched's
// members, those the jobs use).
const EnrichedSchema = "event_id STRING, event_type STRING, game_id STRING, player_id STRING, " +
	"session_id STRING, client_time STRING, " +
	"level_start STRUCT<level: INT>, level_complete STRUCT<level: INT>, level_fail STRUCT<level: INT>, " +
	"enrichment STRUCT<platform_norm: STRING, country_norm: STRING, revenue_usd_micros: BIGINT>"
