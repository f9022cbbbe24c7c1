// Package oracle is the straightforward batch computation the processor is
// compared against: given the raw topic's records in arrival order and the
// rule parameters, it computes with plain maps and no engine what the
// pipeline must produce: dead-letter counts by code, dedup drops, closed
// sessions and the sessions still open, minute and hour KPI rows (exact
// counters and distinct counts, plus the HyperLogLog estimates of the exact
// sets), completeness counts, and the number of late events.
//
// It follows the rules of stage 1 exactly as internal/jobs/doc.go states
// them (the jobs are the reference where docs/design/processor.md leaves a
// choice open), and rule 6 as internal/kpi/doc.go states what an event
// counts. It is an independent implementation: it does not import the
// jobs, the engine or package kpi (only the event schema, whose Validate
// rule 1 names, and the HyperLogLog library the pipeline uses).
// Normalization, FX conversion, the partitioner and every rule are written
// here again, with other data structures (TestJobsAgree runs both over the
// same simulated records and requires equal outputs).
//
// Feed records with Oracle.Add (or Run, RunNDJSON) and read Report. One
// million simulated records take about 7 s and 1 GB of heap.
//
// # Partitions and time
//
// Like the pipeline, the oracle keeps all its state per partition of the
// raw topic: a record's partition is Record.Partition when HasPartition
// (records read from Kafka), else (murmur2(player_id) & 0x7fffffff) mod
// Params.Partitions, as the gateway's producer partitions by key (tested
// against franz-go's partitioner). A record that did not decode touches no
// state, so its partition does not matter.
//
// An event's time t is client_time truncated to the millisecond; its
// minute and hour windows are UTC. A partition's max is the largest t of
// its events that passed validation (duplicates included, dead letters
// not), raised before anything else is done with the event; from it,
// cutoff = max − DedupHorizon (what the partition remembers) and the
// partition's watermark = max − Lateness (what closes idle sessions).
//
// # Order of the rules per record
//
// In arrival order: decode → validate (rule 1) → the partition's max →
// completeness ledger (rule 3) → dedup (rule 2) → enrichment and player
// state (rule 4) → lateness (rule 7) → KPI rows (rule 6) → sessions (rule
// 5) → sessions closed by the partition's watermark. Rule 3 runs before
// dedup, so the ledger sees duplicates that dedup then drops.
//
// # Rule 1: validation
//
// Every check dead-letters with its code, and a dead letter touches no
// state (not the max, the ledger, dedup, players or sessions). In order:
//
//   - A record that does not decode: the decoder's code (ScanNDJSON:
//     malformed or not_an_object; a Record without Event and Code:
//     malformed). The pipeline reading the Kafka topic sees such bytes as
//     an undecodable value in the record's encoding, which it calls
//     malformed; DecodeRaw reads a raw record of either encoding (binary
//     Protobuf, or JSON by the event package's JSON event decoder, by the
//     content-type header) the same way.
//   - event.Validate with Rules{MaxDepth: Params.MaxDepth} (the pipeline
//     uses 0: no bound), no wall-clock check.
//   - game_id set, else missing_field; received_at set (missing_field) and
//     valid (invalid_value). Record.Game and Record.ReceivedAt, the
//     gateway's server-side fields, stand in for the event's own when set
//     (the gateway overwrites them). ScanNDJSON stamps every record with
//     one received_at, since a simulator file has none.
//   - A purchase, refund or ad impression: its currency in Params.Rates,
//     compared case-insensitively, empty meaning USD, whose rate is always
//     1 (else unknown_currency); and |round(amount × rate × 1e6)| ≤ 2^53
//     (else invalid_value).
//   - Last, t ≤ received_at + Params.MaxFuture (default 10m), else
//     clock_skew: a client clock far ahead must not move the partition's
//     max. An early client_time is no skew.
//
// # Rule 3: completeness ledger
//
// Ledgered events: session_id set, 1 ≤ seq ≤ 2^40 and t ≥ cutoff (older
// ones are not counted at all). A row is (game, normalized platform,
// app_build as sent, minute of t). Per session (game, player_id,
// session_id) of the partition the oracle keeps the highest seq (initially
// 0), every jump past missing seqs as a hole with the row of the event that
// revealed it, and the seqs that filled holes since. For seq s, in the
// event's row: s > highest+1: gaps += s − highest − 1, a hole; s =
// highest+1: nothing counted; s ≤ highest in a hole and not filled yet:
// out_of_order + 1, and gaps − 1 in the hole's row (which may be another
// minute, platform or build); else duplicates + 1. A session's state is
// forgotten once its max ledgered t is < cutoff: its next event starts
// afresh from highest 0. A minute's gaps can be negative.
//
// # Rule 2: dedup
//
// Per partition, event_id → t of the accepted event that recorded it, and
// (purchases only) store_transaction_id → likewise; an id counts as seen
// while that t ≥ cutoff. An event whose event_id is seen is dropped
// (DuplicateEvents); else a purchase whose store_transaction_id is seen
// (DuplicatePurchases). A dropped event records nothing. An accepted event
// with t ≥ cutoff records its event_id and, for a purchase, its
// store_transaction_id; an older one records nothing (events older than
// the horizon always pass). Refunds are deduplicated by event_id only.
//
// # Rule 4: enrichment and player state
//
//   - Platform: trimmed of spaces (space, tab, CR, LF), lower-cased
//     (ASCII), then ios, iphone, ipad, ipados, ipod → ios; android →
//     android; web, webgl, html5, browser → web; windows, win, pc, win32,
//     win64 → windows; macos, mac, osx, macosx, "mac os", "mac os x" →
//     macos; linux → linux; switch, "nintendo switch", nintendo_switch,
//     nintendoswitch → switch; playstation, ps, ps4, ps5 → playstation;
//     xbox, xboxone, "xbox one", xbox_one, xboxseries, "xbox series",
//     xbox_series → xbox; anything else, the empty string included →
//     other.
//   - Country: upper-cased (ASCII); empty → ZZ.
//   - Revenue micros: purchase round(price × rate × 1e6); refund
//     −round(amount × rate × 1e6); ad impression round(revenue × rate ×
//     1e6); others 0. The product is evaluated left to right in float64 and
//     rounded half away from zero (math.Round).
//   - New player: the first accepted event of (game, player_id) in its
//     partition, any type.
//
// # Rule 7: lateness
//
// The combined watermark is the minimum over partitions of (max −
// Lateness), never decreasing; a partition that has had no valid event yet
// holds it where it is. There is no wall clock here, so no partition is
// ever idle: with Params.Partitions above the number of partitions that
// receive events, it never moves. The watermark in force for an event is
// the one computed from the events before it. An accepted event is late
// when its minute's end ≤ that watermark. The pipeline advances its
// watermark per poll, not per record, and honours idleness, so its count
// can differ from this idealised one: compare with tolerance, or use one
// partition. Late events go through everything else like any other.
//
// # Rule 6: KPI rows
//
// Each accepted event adds to four rows: its minute and its hour, each for
// (game, platform, country) and (game, *, *). Active players: players with
// any accepted event except refunds. Payers: players with a purchase.
// new_players: events that were the player's first. Revenue = purchases +
// ads − refunds (refund_usd_micros is the positive amount). Levels: per
// level number, level_start/complete/fail counts. Distinct counts are exact
// (ActivePlayersExact, PayersExact); ActivePlayers and Payers are
// HyperLogLog estimates of those exact sets (axiomhq, precision 14,
// sparse, player_id bytes inserted), which the pipeline's merged sketches
// must equal exactly, since a sketch's estimate depends only on the set
// inserted.
//
// # Rule 5: sessions
//
// Streamed per partition in arrival order. A player has at most one open
// session; events without session_id do not touch sessions. For an
// accepted event with session_id S at t, and the player's open session O:
//
//  1. If O and O.last + SessionGap ≤ t: O closes (closed_by gap).
//  2. If O is still open with another id: if t < O.start the event is a
//     stray (of an earlier session, arriving late) and stops here; else O
//     closes (closed_by next).
//  3. With no open session, the event is a stray when it is a session_end,
//     or when S is the id of the player's last closed session and t < that
//     session's end + SessionGap (a straggler). Else it opens session S
//     with its normalized platform and country.
//  4. The session counts it: events + 1, revenue + its revenue micros,
//     start = min and last = max of event times, a level_start's level
//     into its set of levels.
//  5. A session_end closes it (closed_by session_end).
//
// After every record that passed validation (accepted or dropped), every
// open session of the partition with last + SessionGap ≤ the partition's
// watermark closes (closed_by watermark), in order of last, ties by game
// then player. A closed session reports session_id, player_id, game_id,
// platform and country (of the event that opened it), start, end (its last
// event), duration_ms = end − start, events, revenue_usd_micros,
// levels_played (distinct levels started) and closed_by, with the JSON
// names of the pipeline's sessions topic. Report.Sessions are the sessions
// closed during the input; the pipeline leaves the others open too, and
// they are in Report.OpenSessions (closed_by empty). Both lists are sorted
// by SortSessions.
package oracle
