// Package sparkjobs defines the gamepulse jobs for Apache Spark Structured
// Streaming: SQL text a Spark user can read (sql/*.sql, embedded), with
// ${placeholders} for the settings, and Plan, which fills them from the
// same settings as the Go engine (topic names, jobs.Config) and returns
// the steps to run on a Spark Connect session: views over streaming Kafka
// reads, and named, checkpointed streaming queries writing to the same
// topics in the same record formats (internal/record), so that `gamepulse
// load` loads their output unchanged. It does no I/O: a Spark Connect
// client (internal/sparkconnect) runs the steps.
//
// # The plan
//
//	gamepulse_raw          Kafka read of the raw topic (JSON encoding)
//	gamepulse_fx           the FX table as VALUES (FXValues)
//	gamepulse_checked      sql/checked.sql: parse and validate (rule 1, currency of rule 4)
//	gamepulse_valid        sql/valid.sql: valid events, WATERMARK t DELAY OF the dedup horizon
//	gamepulse_dedup_id     dropDuplicatesWithinWatermark(event_id)
//	gamepulse_dedup        dropDuplicatesWithinWatermark(dedup_key): purchases by store transaction id
//	gamepulse_enriched_in  Kafka read of the enriched topic
//	gamepulse_facts_all    sql/facts.sql: enriched events, WATERMARK t DELAY OF the allowed lateness
//	gamepulse_facts        dropDuplicatesWithinWatermark(event_id): the sink is at-least-once
//
//	query gamepulse_deadletter   sql/deadletter.sql → dead-letter topic
//	query gamepulse_enrich       sql/enrich.sql     → enriched topic
//	query gamepulse_kpi_minute   sql/kpi.sql        → kpi topic (minute rows)
//	query gamepulse_kpi_hour     sql/kpi.sql        → kpi topic (hour rows)
//	query gamepulse_sessions     sql/sessions.sql   → sessions topic
//	query gamepulse_fraud        sql/fraud.sql      → alerts topic
//
// Like the Go engine's two stages, the jobs are two levels joined by a
// topic: validation, dedup and enrichment read the raw topic with the dedup
// horizon as the watermark delay (dropDuplicatesWithinWatermark keeps an id
// for that long), and the windowed jobs read the enriched topic with the
// allowed lateness as theirs: one streaming query has one watermark per
// column, and a 24 h watermark would hold every KPI window open for a day.
// The windowed jobs deduplicate by event_id again within their watermark,
// so that an enrich micro-batch that Spark's at-least-once Kafka sink
// writes twice (after a restart) does not count twice.
//
// Spark SQL has no clause for dropDuplicatesWithinWatermark: a DedupView
// step is a plan relation (Spark Connect's Deduplicate with
// within_watermark) over a read of its input view.
//
// What differs from the Go engine, rule by rule, and why, is in
// docs/engines.md.
package sparkjobs
