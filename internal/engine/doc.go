// Package engine is gamepulse's stream-processing engine: the exactly-once
// loop that runs tasks over Kafka partitions, restores their state from
// changelogs, and the event-time windows and watermarks the tasks judge
// records by. It knows nothing of games: it imports no other gamepulse
// package, and what a task computes is the caller's (internal/jobs and
// internal/kpi, wired by internal/pipeline).
//
// It was two packages, processor (the loop) and stream (windows,
// watermarks and a generic state store). They are one here because they are
// one thing to a reader and to the next engine (Spark) that replaces them:
// the loop decides when a watermark advances (once per flush), and the
// windows decide what that advance closes. The generic store went: the jobs
// keep their state in their own typed maps and emit changelog records
// through Outputs.Changelog, which is the engine's whole state contract
// (see State below).
//
// # The exactly-once loop
//
// Engine runs stream tasks over Kafka exactly once: a consumer
// group application in which every poll's outputs, the state changes of the
// tasks (as changelog records) and the consumed offsets commit in one Kafka
// transaction (franz-go's GroupTransactSession, read_committed everywhere).
//
// The Engine owns I/O and the task lifecycle; what a task computes is the
// caller's (see internal/jobs). For each assigned input partition it creates
// a Task, restores the task's state from the changelog partitions of the
// same number (up to their last stable offset, so a zombie's open
// transaction is never read), and feeds it records in offset order. When a
// transaction aborts — a rebalance, a fenced producer, a failed produce — the
// tasks are dropped and rebuilt from the changelog, since their in-memory
// state may hold changes that never committed; the consumer resumes from the
// committed offsets.
//
// At-least-once mode (no transactions; offsets committed after the outputs
// are acknowledged) exists only to measure what exactly-once costs.
//
// # Windows
//
// Windows are tumbling and aligned to the Unix epoch, so minutes and hours
// are aligned to UTC: Windowing{Size}.Assign(t) is [floor(t/Size)·Size,
// +Size), half-open. Minute and Hour are the two the jobs use. An event is
// late (design rule 7) when its window's end is at or before the watermark
// in force when it arrives: IsLate.
//
// # Watermarks
//
// Watermarks tracks the partitions a process is assigned. A partition's
// watermark is its maximum event time minus the allowed lateness (default
// 2 minutes). The combined watermark, advanced by Combined(now) once per
// flush, is the minimum over the partitions that are not idle, and:
//
//   - never decreases: neither revoking a partition, nor assigning one, nor a
//     partition coming back from idleness with old events moves it back; such
//     a partition holds it where it is until its own watermark passes it;
//   - is zero until there is data, and an assigned partition that is active
//     but has no event yet holds it where it is (it may have a backlog);
//   - leaves out a partition that had no record for longer than the idle
//     timeout (default 30 s, wall clock): it no longer holds the others back,
//     and its effective watermark follows the combined one;
//   - stays where it was when every partition is idle: event time does not
//     advance on the wall clock. The last windows close when events resume.
//
// Wall-clock time is always passed in ("now"), so the tracker is
// deterministic. Observe, called per record, is cheap and lock-free; it may
// run concurrently for distinct partitions, but not alongside Assign, Revoke,
// Combined or Partition. Combined is the only method that advances the
// combined watermark; Current returns it, and is the watermark that IsLate
// judges arriving records against until the next flush.
//
// Watermarks are not changelogged: a process starts at zero, and a partition
// assigned to a new owner starts afresh. Downstream consumers of watermark
// marks must keep their own maximum per source partition.
//
// # State
//
// A task's state is its own. The contract with the engine:
//
//   - Every change since the last commit is emitted with Outputs.Changelog
//     (key = the store's key, value = the encoded value, nil = a tombstone)
//     in the transaction that commits the outputs it goes with; the engine
//     writes it to the store's changelog topic (ChangelogTopic), partition =
//     the task's partition, which must be co-partitioned with the input.
//   - Before the first Process call, Task.Restore receives the committed
//     changelog from its start, in order (the last record of a key wins, a
//     tombstone deletes); compaction keeps this true.
//   - After an aborted transaction the task is dropped (Closer.Close) and a
//     new one is restored from the changelog: in-memory state that never
//     committed is never trusted.
//
// Expiry is the task's: it deletes, and logs a tombstone for, what it no
// longer needs.
package engine
