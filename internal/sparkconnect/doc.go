// Package sparkconnect is a small Go client of Spark Connect, the gRPC
// protocol of Apache Spark ≥ 3.4, for what gamepulse's Spark engine needs:
// run SQL, set confs, register (streaming) temporary views, and start,
// watch and stop Structured Streaming queries.
//
// # Why not spark-connect-go
//
// github.com/apache/spark-connect-go is Spark's own Go client, but it has no
// streaming API (no readStream/writeStream, no StreamingQuery) and keeps
// its generated protobuf types internal. Importing one of its public
// packages does register every spark.connect.* message descriptor in the
// global protobuf registry, though. This package builds its requests from
// those descriptors with dynamicpb (from their protojson form, which keeps
// the code close to the .proto files) and calls the service over a plain
// gRPC connection. Generating our own copy of the same .proto files is not
// an option: two registrations of one name panic at start.
//
// The descriptors are those of spark-connect-go's snapshot (Spark 4.0's
// protocol); the server is Spark 4.2 (scripts/spark.sh). Spark keeps the
// protocol backward compatible, so only fields added since 4.0 are out of
// reach (SqlCommand.input, for one: SqlCommand.sql, deprecated, still
// works). A relation the server returns is sent back as the message it
// came in, so newer fields in it survive.
//
// # Sessions
//
// Every Client talks in one Spark Connect session (a UUID; Dial makes a new
// one unless WithSessionID or the remote's session_id names one). Temporary
// views and runtime confs live in the session, and streaming queries belong
// to the session that started them: another session cannot see or stop
// them. A process that restarts with the same session id finds its queries
// again (Active, GetQuery). A restarted server has no sessions: the same id
// then names a new, empty session, ServerSessionID changes, and the
// queries have to be started again from their checkpoints.
//
// # Results and errors
//
// SQL returns small results as rows decoded from Spark's Arrow batches.
// Errors from Spark are *Error values carrying Spark's message (which names
// the problem, e.g. "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'"),
// its error class and SQLSTATE; ErrorClass extracts the class.
//
// # Progress
//
// LastProgress parses a query's StreamingQueryProgress JSON (ParseProgress):
// rates, batch duration, watermark, state store rows and memory, rows
// dropped by the watermark, and per-source offsets (KafkaOffsets decodes
// the Kafka source's).
//
// # Testing
//
// Unit tests run the client against a fake gRPC server built from the same
// descriptors. Integration tests (build tag integration) need a real server
// and a real Kafka broker; see integration_test.go for the environment.
package sparkconnect
