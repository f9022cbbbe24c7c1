// Package snowflake is the Snowflake warehouse backend: a
// warehouse.Warehouse through gosnowflake (Open takes its DSN; see Open for
// real accounts, key-pair authentication and the fakesnow emulator).
//
// Migrations translates warehouse.Migrations into Snowflake's types, so
// both backends hold the same tables and columns and the same queries run
// on both. Apply and Replay run the warehouse package's exactly-once
// protocol in one transaction, serialized against a concurrent writer by
// an UPDATE of the offsets rows first (see Warehouse). Rows are bound as
// one JSON array per statement and read back with FLATTEN, cast by the
// schema's types (boundTable); upserts are DELETE … USING then INSERT … WHERE
// NOT EXISTS (mergeRows); the rows of at-least-once producers go in by the
// bound INSERT with a NOT EXISTS on their key (insertNew). Usage counts the statements, transactions and
// bytes sent, the drivers of Snowflake's cloud-services cost, for the
// loader's metrics.
//
// Its integration tests (go test -tags integration -run TestSnowflake)
// run the shared sink suite and the report tests against fakesnow
// (scripts/fakesnow.sh).
package snowflake
