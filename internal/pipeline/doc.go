// Package pipeline is gamepulse's stream processor: it wires the rules
// (internal/jobs for stage 1, internal/kpi for stage 2) to the engine
// (internal/engine) over Kafka, exactly once. It owns no rule: it names the
// topics, builds the two stages' engines and tasks, moves records between
// Kafka and the rules, and counts them (metrics). As
// docs/design/processor.md draws it:
//
//   - Stage 1, one task per raw partition (consumer group AppID.stage1):
//     jobs.Stage validates, ledgers, deduplicates, enriches, sessionizes,
//     judges late events and adds the KPI partials of each record; the task
//     writes dead letters, enriched events, sessions, late events and
//     per-player alerts, and once per transaction the partials (one
//     aggregate per minute row, detail and game level), the
//     completeness-ledger deltas, and its watermark mark to every partials
//     partition. The watermark in force comes from a process-wide
//     engine.Watermarks over the raw partitions this instance owns; a mark
//     carries the partition's own watermark while it is active and the
//     combined one once it is idle, so an idle partition does not hold stage
//     2 back and a partition with a backlog does not claim more than it has.
//   - Stage 2, one task per partials partition (group AppID.stage2): a
//     kpi.Merger merges the partials of every source partition, emits final
//     minute and hour rows when the global watermark (the minimum of the
//     sources' marks) passes their end, corrections after, and the
//     game-level alerts; kpi.Completeness sums the ledger deltas into
//     completeness rows, upserted to the KPI topic as they change.
//
// Config follows the component contract: DefaultConfig, EnsureDefaults,
// Validate (errors name Config's fields; the command maps them to its
// flags), New(cfg, deps…) and Run(ctx). The internal partials topic is
// Config.PartialsTopic; Specs lists it with the outputs and changelogs.
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
