// Package integration holds the tests that run against real services started
// by scripts/test.sh: Apache Kafka in KRaft mode (and, as later stages land,
// the Snowflake emulator, Prometheus and Spark). They are built only with
// `-tags integration` and fail, rather than skip, when a service is missing.
//
// Environment set by scripts/test.sh:
//
//	GAMEPULSE_TEST_KAFKA_BROKERS  bootstrap address of the real broker
//	GAMEPULSE_TEST_KAFKA_DIR      its directory, for scripts/kafka.sh stop/start
package integration
