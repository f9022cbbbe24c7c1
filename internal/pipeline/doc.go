// Package pipeline is gamepulse's stream processor: it runs the jobs
// (internal/jobs, internal/kpi) on the engine (internal/engine) over Kafka,
// exactly once. It is the glue between what is
// computed and how, as docs/design/processor.md draws it:
//
//   - Stage 1, one task per raw partition (consumer group AppID.stage1):
//     jobs.Stage validates, ledgers, deduplicates, enriches and sessionizes
//     each record; the task writes dead letters, enriched events, sessions,
//     late events and per-player alerts, and once per transaction the KPI
//     partials of the rows its records touched (one aggregate per minute row,
//     detail and game level), the completeness-ledger deltas, and its
//     watermark mark to every partials partition. The partition's watermark
//     comes from a process-wide engine.Watermarks; a mark carries the
//     partition's effective watermark, so an idle partition does not hold
//     stage 2 back.
//   - Stage 2, one task per partials partition (group AppID.stage2): a
//     kpi.Merger merges the partials of every source partition, emits final
//     minute and hour rows when the global watermark (the minimum of the
//     sources' marks) passes their end, corrections after, and the
//     game-level alerts; completeness rows are summed here and upserted to the
//     KPI topic as they change.
//
// Every task's state is changelogged (AppID.<stage>.<store>.changelog,
// compacted, co-partitioned with the stage's input) in the transaction that
// commits its outputs and input offsets, and restored on assignment.
//
// # The partials topic
//
// Internal, binary. Every value starts with a kind byte (1 partial, 2 mark,
// 3 ledger delta), a version byte (1) and the source partition (varint).
// A partial carries the minute row's key (kpi.Key's string form) and the
// aggregate (kpi.Aggregate's encoding); it is keyed game|platform|country,
// so that all of a game's rows meet in one stage-2 task. A mark carries the
// watermark (Unix ms, varint) and an idle byte, and goes to every partition.
// A ledger delta carries game, platform, app build, minute and the three
// counts, keyed game|platform|build.
//
// # Outputs
//
// The KPI topic (compacted upserts) holds kpi.Result rows keyed
// minute|…|game|platform|country and hour|…, and completeness rows keyed
// completeness|minute|<start>|game|platform|build with gaps, duplicates and
// out_of_order: the sums over the row's events so far, re-emitted whenever a
// late delta changes them.
package pipeline
