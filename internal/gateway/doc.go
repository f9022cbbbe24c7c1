// Package gateway is the HTTP ingest front door: it authenticates each game by
// its write key, bounds what a request may cost (body, decompressed size,
// events, event size, nesting, clock skew, rate), validates every event of a
// batch on its own, and answers 2xx only after Kafka has acknowledged every
// accepted event (acks=all, idempotent producer, keyed by player_id).
//
// Memory is bounded: events waiting for Kafka hold a share of a fixed budget,
// and a request that cannot get its share, or arrives while Kafka is failing,
// gets 503 with Retry-After instead of waiting in an unbounded queue. A
// background probe notices when Kafka is back.
package gateway
