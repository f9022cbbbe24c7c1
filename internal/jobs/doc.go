// Package jobs owns the game logic of stage 1 of the stream processor, per
// input partition: validation, completeness ledger, dedup, enrichment,
// sessionization, the KPI partials, the late rule and the per-player fraud
// rule (rules 1–7 and the first rule of 8 of docs/design/processor.md; the
// stage-2 rules are internal/kpi's). It is pure: a Stage is a function of
// (record, state) → (state', outputs) over in-memory state, with no I/O, no
// clock and no Kafka. The engine (internal/engine) feeds it records in
// offset order and persists its state through changelogs: Changes reports
// every changed key once per transaction, Restore replays them.
//
// This comment states the rules exactly, beyond the design where the design
// leaves a choice open, so that the batch oracle can reproduce every output
// from the same records in the same arrival order.
//
// # Time
//
// The event time t of an event is client_time truncated to the millisecond
// (floor), as Unix milliseconds. Its window is the UTC minute
// [⌊t/60000⌋·60000, +60000). The partition's clock, max, is the largest t of
// the valid events processed so far (duplicates included, dead letters
// not), updated before anything else is done with an event. From it:
//
//	cutoff    = max − DedupHorizon    (default 24h): what state remembers
//	watermark = max − AllowedLateness (default 2m):  what closes idle sessions
//
// # One record
//
//  1. Validation (rule 1). The value must decode as an Event in the
//     record's raw encoding (record.RawEncoding of its headers: binary
//     Protobuf, or JSON read by event.DecodeJSONEvent, the gateway's JSON
//     event decoder), else code malformed, and pass, in this order: event.Validate with zero
//     Rules (no wall-clock check, no depth limit); game_id set
//     (missing_field); received_at set (missing_field) and valid
//     (invalid_value); for a purchase, refund or ad impression, its currency
//     in the FX table, compared case-insensitively, empty meaning USD
//     (unknown_currency; rule 4's check is made here, so that every dead
//     letter comes from one place and a dead letter touches no state);
//     |round(amount × rate × 1e6)| ≤ 2^53 (invalid_value); and, last,
//     t ≤ received_at + MaxFuture (default 10m, the gateway's default;
//     else clock_skew): a client clock far ahead of the server's would
//     otherwise move the partition's clock and close every open session.
//     An early client_time is no skew. A dead letter changes nothing
//     else: not the clock, the ledger, dedup or sessions.
//  2. The clock: max = max(max, t); state older than the cutoff is expired
//     (see State).
//  3. Ledger (rule 3), before dedup, so duplicates count.
//  4. Dedup (rule 2). A dropped event stops here, except for step 8.
//  5. Enrichment and player state (rule 4).
//  6. Sessionization (rule 5).
//  7. Fraud rule (rule 8, per player).
//  8. Watermark: close every open session with last + SessionGap ≤ watermark
//     (see Sessions), also after a dropped event.
//
// # Ledger (rule 3)
//
// Ledgered events: session_id set, 1 ≤ seq ≤ 2^40 and t ≥ cutoff (an older
// event is not counted at all). A row is (game_id, normalized platform,
// app_build as sent, window of t). Per session (game_id, player_id,
// session_id) the ledger keeps the highest seq and the missing seqs below
// it, as ranges, each with the row whose event revealed it. For an event with
// seq s, in the event's own row:
//
//   - s > highest+1: gaps += s−highest−1, and the range highest+1…s−1 is
//     attributed to this row; highest = s.
//   - s = highest+1: highest = s (nothing counted).
//   - s ≤ highest and s missing: out_of_order += 1 in this row, and gaps −= 1
//     in the row that counted s missing (which may be another window, build
//     or platform: that row's count is corrected, it may go below what it
//     was); s is no longer missing.
//   - s ≤ highest and not missing: duplicates += 1.
//
// So a gap belongs to the window of the event that revealed it, for as long
// as it stays missing. A session's state is forgotten when its max ledgered
// event time is < cutoff; the next event of that session starts a fresh
// state (highest 0: a seq of 5 then counts 4 gaps again). The rows are not
// state: DrainLedger returns the changes since the last drain (rows whose
// three deltas are all 0 are left out), which the engine emits as partials
// in the same transaction; a window's figures are the sums of its deltas.
//
// # Dedup (rule 2)
//
// An id is remembered with the event time of the event that carried it, and
// counts as seen while that time is ≥ cutoff (exactly; expiry that deletes
// entries runs per hour of event time and is only a memory bound). An event
// is dropped when its event_id is seen (kind event_id); else, when it is a
// purchase whose store_transaction_id is seen (kind store_transaction_id).
// A dropped event records nothing. An accepted event with t ≥ cutoff records
// its event_id and, for a purchase, its store_transaction_id; an older one
// records nothing (it cannot be deduplicated: events older than the horizon
// always pass). Refunds are deduplicated by event_id only. Ids are kept as
// 128-bit hashes (MurmurHash3 x64-128): two different ids collide with
// probability ~n²/2^129, which the oracle may ignore.
//
// # Enrichment (rule 4)
//
// platform_norm: the platform trimmed of spaces and lower-cased (ASCII),
// then
//
//	ios, iphone, ipad, ipados, ipod                              → ios
//	android                                                      → android
//	web, webgl, html5, browser                                   → web
//	windows, win, pc, win32, win64                               → windows
//	macos, mac, osx, macosx, mac os, mac os x                    → macos
//	linux                                                        → linux
//	switch, nintendo switch, nintendo_switch, nintendoswitch     → switch
//	playstation, ps, ps4, ps5                                    → playstation
//	xbox, xboxone, xbox one, xbox_one, xboxseries, xbox series,
//	xbox_series                                                  → xbox
//	anything else, including empty                              → other
//
// country_norm: country upper-cased (ASCII), ZZ when empty. The ledger and
// sessions use the same normalized values.
//
// revenue_usd_micros: purchase: round(price × rate × 1e6); refund:
// −round(amount × rate × 1e6); ad impression: round(revenue × rate × 1e6);
// other events 0. The product is evaluated left to right in float64 and
// rounded half away from zero (Go's math.Round; not banker's rounding).
// rate is USD per one unit of the currency, from the table (Rates: the
// built-in DefaultRates or a file of CUR=rate lines that replaces it; USD is
// always 1).
//
// Player state, per (game_id, player_id), never forgotten; the figures of an
// enriched event are the state after that event:
//
//   - new_player: this is the player's first accepted event.
//   - first_seen: the smallest t of the player's accepted events (an earlier
//     late event moves it back).
//   - days_since_install: ⌊(t − first_seen) / 24h⌋ (≥ 0).
//   - lifetime_spend_usd_micros: the sum of the revenue of accepted
//     purchases and refunds (ad revenue excluded); it may go negative.
//   - payer: at least one accepted purchase (refunds do not undo it).
//   - session_count: the number of sessions the sessionizer has opened for
//     the player, including one this event opened.
//
// # Sessions (rule 5)
//
// A player has at most one open session. Events without session_id do not
// touch sessions. For an accepted event e with session_id S, event time t,
// and the player's open session O (if any), in this order:
//
//  1. If O and O.last + SessionGap ≤ t: close O (closed_by gap).
//  2. If O (still open) has another id than S: if t < O.start, e is a stray
//     (an event of an earlier session arriving late): stop; else close O
//     (closed_by next: a different session_id closes the open one, whether
//     or not e is a session_start).
//  3. If no session is open: e is a stray, and stops here, when it is a
//     session_end (a session_end never opens a session) or when S is the id
//     of the player's last closed session and t < that session's end +
//     SessionGap (a straggler of the session just closed). Otherwise open a
//     session S with e's normalized platform and country.
//  4. Add e to the open session: events += 1, revenue += its
//     revenue_usd_micros, start = min, last = max of event times; a
//     level_start adds its level to the session's set of levels.
//  5. If e is a session_end: close the session (closed_by session_end).
//
// A session_start of the already open session is just an event of it. A
// stray is still enriched (Result.Stray marks it) but is in no session.
// After each record (step 8 above) and on Advance(w), every open session
// whose last + SessionGap ≤ w closes (closed_by watermark), in order of last,
// ties by game_id then player_id; so a late event that arrives after its
// session closed is a stray or opens a new session. Process uses only the
// partition's own watermark, which makes the output a function of the
// records alone. The engine should call Advance (with the combined
// watermark) only for an idle partition: a watermark beyond the partition's
// own can close a session that a later record would have joined, which the
// oracle cannot reproduce.
//
// A closed session: session_id, player_id, game_id, platform and country
// (of the event that opened it), start and end (min and max event time of
// its events: an explicit end and a gap both end it at its last event),
// duration_ms = end − start, events, revenue_usd_micros, levels_played (the
// number of distinct levels of its level_start events), closed_by. The same
// session_id yields a second session when a gap splits it.
//
// # Fraud rule (rule 8, per player)
//
// Accepted purchases with t ≥ cutoff are counted per (game_id, player_id,
// window). The purchase that makes a count FraudMaxPurchases+1 (default 6)
// raises one Alert (rule player_purchases_per_minute, subject player_id);
// later ones in that window raise none. Counts are forgotten when their
// window ends at or before the cutoff.
//
// # KPI partials (rule 6)
//
// Every accepted event (late ones included) adds, as a kpi.Input, to the
// aggregate of its minute's detail row (game, platform, country) and its
// game row (kpi.Keys). DrainPartials returns the rows' aggregates since the
// last drain, by key; the caller drains once per transaction and sends them
// to stage 2, which merges every partition's (kpi.Merger). Partials are not
// state: a transaction that aborts loses them with the Stage.
//
// # Late events (rule 7)
//
// SetWatermark sets the combined watermark in force (the pipeline's
// process-wide tracker over every raw partition it owns; zero: nothing is
// late). An accepted event is Late when its minute ends at or before it
// (engine.IsLate); Result.LateWatermark is that watermark. A late event is
// still enriched and counted: it is also written to the late topic.
//
// # State
//
// Stores (names in Store*; value formats are the Encode forms of Clock,
// DedupEntry, LedgerSession, PlayerState and FraudCount): the clock, dedup
// ids, ledger sessions, players (enrichment state and the open session) and
// fraud counts. Expiry of dedup ids, ledger sessions and fraud counts is
// indexed by hour of event time and emits tombstones. Changes coalesces:
// one record per changed key per call. A Stage rebuilt by Restore from the
// records of Changes (compacted or not) continues exactly as the original
// (TestRestoreAnywhere).
//
// # Tests
//
// testdata/*.txt are data-driven cases: input events (the gateway's JSON
// form, one per line) and directives, a line "----", and the expected
// outputs; the format is described at TestDataDriven. Every case also runs
// with the Stage rebuilt from its changelog after each input line.
package jobs
