// Package record is the single definition of every record the pipeline
// writes to Kafka: each topic's key, value and headers, and their encoding.
// Producers (the processor's jobs, kpi and pipeline packages; the Spark
// engine to come, which must write the same bytes) and readers (the
// warehouse decoders, recordjson for `gamepulse tail`) import it; nothing
// else defines a topic format.
//
// The topics, in data-flow order (their names are settings, see
// kafka.Topics; docs/records.md is generated from Formats):
//
//   - raw, dead letters: an event.Event (package event owns the schema),
//     binary Protobuf or its JSON form, named by the content-type header
//     (Encoding, RawHeaders, RawEncoding; no header: Protobuf); dead
//     letters add the headers of DeadLetter.
//   - enriched, late: the event's JSON plus an "enrichment" member
//     (AppendEnriched, DecodeEnriched); late adds the header LateHeader.
//   - sessions: Session as JSON.
//   - kpi: KPI rows (minute and hour) and Completeness rows as JSON, told
//     apart by the key's first field.
//   - alerts: Alert as JSON, one shape for the player and the game rules.
//   - partials (internal, stage 1 → stage 2): Partial, Mark and
//     LedgerDelta in a small binary encoding (AppendPartial, DecodePartials).
//
// The package also holds the two helpers every producer of these records
// needs once: minute flooring (FloorMinute, FloorMs) and the varint Reader.
// A producer that may write a record twice (Spark's at-least-once Kafka
// sink) marks its records with the delivery header (AtLeastOnceHeaders,
// AtLeastOnce), so that the loader loads each row once by its key.
// It imports only package event.
package record
