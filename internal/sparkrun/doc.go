// Package sparkrun keeps gamepulse's Spark jobs (package sparkjobs) running
// on a Spark Connect server: it is what "gamepulse process --engine spark"
// does while it stays attached.
//
// A Runner dials the server with a stable session id, applies the plan's
// settings and views, and for each streaming query either reattaches to
// the query of that name already running in the session (after a restart
// of gamepulse) or starts it from its checkpoint. It then polls every
// query: progress reports become Prometheus metrics (input and processed
// rows per second, batch duration, state rows and memory, watermark, rows
// dropped by the watermark, offsets behind the Kafka end), and a query
// that stopped is started again from its checkpoint with a backoff. When
// the server cannot be reached (it was restarted, or is down), the Runner
// dials again with a backoff; a new session starts every query from its
// checkpoint, which is Spark's recovery. When its context ends, the
// Runner stops the queries (SIGTERM) unless told to leave them running.
//
// Spark's Kafka sink is at-least-once: a micro-batch cut short by a crash
// is written again after the restart. The records carry the
// delivery=at-least-once header, and the loader loads them idempotently
// (see docs/engines.md).
package sparkrun
