// Package oracle is the straightforward batch computation the processor is
// compared against: given the raw topic's records in arrival order and the
// rule parameters, it computes with plain maps, no expiry and no engine
// what the rules of docs/design/processor.md say the pipeline must produce:
// dead-letter counts by code, dedup drops, sessions, minute and hour KPI
// rows (exact counters and distinct counts, plus the HyperLogLog estimates
// of the exact sets), completeness counts, and the number of late events.
//
// It is an independent implementation: it does not import the jobs, the
// engine or package kpi (only the event schema, whose Validate rule 1
// names, and the HyperLogLog library the pipeline uses). Normalization, FX
// conversion, the partitioner and every rule are written here again from
// the design's text. Where that text leaves a choice open, the choice is
// written below; the processor's jobs must make the same ones.
//
// Feed records with Oracle.Add (or Run, RunNDJSON) and read Report. One
// million simulated records take about 9 s and 1.2 GB of heap.
//
// # Order of the rules per record
//
// In arrival order: decode → validate (rule 1) → watermark observation →
// completeness ledger (rule 3) → dedup (rule 2) → enrichment with the
// unknown-currency check (rule 4) → player state → lateness (rule 7) → KPI
// rows (rule 6) → session grouping (rule 5). Rule 3 says "before dedup",
// so the ledger sees duplicates that dedup then drops.
//
// # Rule 1: validation
//
//   - A record that does not decode is dead-lettered with the decoder's
//     code (ScanNDJSON: malformed or not_an_object; a Record without Event
//     and Code: malformed). Note that the pipeline reading the Kafka topic
//     sees such bytes as an undecodable Protobuf value, which it would call
//     malformed.
//   - event.Validate with Rules{MaxDepth: Params.MaxDepth}, no clock-skew
//     check; its code is the dead-letter code.
//   - Then game_id and received_at must be set, else missing_field.
//     Record.Game and Record.ReceivedAt, the gateway's server-side fields,
//     stand in for the event's own when set (the gateway overwrites them).
//     ScanNDJSON stamps every record with one received_at, since a
//     simulator file has none.
//
// # Partitions and the watermark (rule 7)
//
// A record's partition is (murmur2(player_id) & 0x7fffffff) mod
// Params.Partitions, as Kafka's Java client and franz-go partition by key
// (tested against franz-go's partitioner). Every validated event — also
// duplicates and events later dead-lettered for their currency — raises
// its partition's max event time (client_time). The combined watermark is
// the minimum over partitions of (max event time − Lateness), never
// decreasing; a partition that has had no event yet holds it where it is
// (zero at the start). There is no wall clock here, so no partition is
// ever idle: with Params.Partitions above the number of partitions that
// receive events, the watermark never moves. The watermark in force for an
// event is the one computed from the events before it (whether the event's
// own time is counted first cannot change its verdict). An event that is
// processed (validated, not a duplicate, known currency) is late when its
// minute's end ≤ that watermark. The pipeline advances its watermark per
// poll, not per record, and honours idleness, so its count can differ from
// this idealised one: compare with tolerance, or use one partition.
//
// Late events go through everything else like any other event: they count
// in the KPI rows (as the corrections the pipeline emits), sessions,
// player state and the ledger.
//
// # Rule 2: dedup
//
// Per partition, two maps: event_id → event time of the event that
// recorded it, and (purchases only) store_transaction_id → likewise. The
// partition's max event time is raised by the event first. An event is a
// duplicate when its event_id has an entry with time ≥ max − DedupHorizon
// (counted in DuplicateEvents); else a purchase is a duplicate purchase when
// its store_transaction_id has such an entry (DuplicatePurchases). Entries
// older than that are as good as expired, whether or not the streaming
// implementation has deleted them yet. A non-duplicate records its ids
// (overwriting expired entries) before enrichment, so a later copy of an
// event that was dead-lettered for its currency counts as a duplicate.
// Refunds never match or record transaction ids.
//
// # Rule 3: completeness ledger
//
// Over validated events with a session_id and seq > 0 (refunds without a
// session are left out), per session (game, player_id, session_id), keeping
// the highest seq seen (initially 0) and the set of seqs seen: seq seen →
// duplicates+1; else seq < highest → out_of_order+1 and gaps−1 (the seq was
// counted in a gap when the jump past it was seen: with highest starting at
// 0, a session first seen at seq 3 has 2 gaps); else gaps += seq −
// highest − 1 and highest = seq. Counts go to (game, normalized platform,
// app_build as sent, the minute of the event's client_time); so a minute's
// gaps can be negative. No state expires.
//
// # Rule 4: enrichment
//
//   - Platform: lower-cased, then ios, iphone, ipad, ipados → ios;
//     android, web, windows, macos, linux, switch, playstation, xbox →
//     themselves; anything else, the empty string included, → other. No
//     trimming.
//   - Country: upper-cased; empty → ZZ.
//   - Revenue micros: purchase round(price × rate × 1e6); refund
//     −round(amount × rate × 1e6); ad impression round(revenue × rate ×
//     1e6); others 0. The product is evaluated left to right in float64 and
//     rounded half away from zero (math.Round). The currency is upper-cased
//     before the lookup; an empty refund or ad currency is USD. A currency
//     missing from Params.Rates, or a result that does not fit in an int64,
//     dead-letters the event with unknown_currency.
//   - New player: the first processed event of a player_id (arrival order,
//     any type, after dedup and enrichment) is the player's first ever.
//     first_seen is not lowered by later-arriving earlier events.
//
// # Rule 6: KPI rows
//
// Each processed event adds to four rows: its minute and its hour, each
// for (game, platform, country) and (game, *, *). Active players: players
// with any processed event except refunds. Payers: players with a
// purchase. new_players: events that were the player's first. Revenue =
// purchases + ads − refunds (refund_usd_micros is the positive amount).
// Levels: per level number, level_start/complete/fail counts. Distinct
// counts are exact (ActivePlayersExact, PayersExact); ActivePlayers and
// Payers are HyperLogLog estimates of those exact sets (axiomhq, precision
// 14, sparse, player_id bytes inserted), which the pipeline's merged
// sketches must equal exactly, since a sketch's estimate depends only on
// the set inserted.
//
// # Rule 5: sessions (batch view)
//
// A session is the processed events of one (game, player_id, session_id),
// sorted by client_time (ties in arrival order), split into several
// sessions with the same id wherever two consecutive events are more than
// SessionGap apart. Events without a session_id are in no session. Start
// and end are the first and last event times, duration = end − start (not
// session_end's duration_ms), events counts every processed event of it
// (session_start and session_end included), revenue sums their revenue
// micros, levels_played counts the distinct levels of its level_start
// events. This is what a streaming implementation converges to if it
// closes on session_end, on the next session_start of the player or after
// SessionGap of inactivity, and lets a later event with the id of a closed
// session update that session (an upsert by session id) instead of opening
// a new one. Sessions are reported at the end of input, sorted by game,
// player, id, start.
package oracle
