// Package stream owns the pure parts of the stream-processing engine
// (docs/design/processor.md): event-time windows, watermarks, window timers
// and changelogged state stores. It does no I/O and knows nothing of games
// or of Kafka; the engine's transactional loop drives these types and moves
// their changelog entries to and from Kafka.
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
// # Timers
//
// Timers holds the windows a task has open; Advance(watermark) removes and
// returns those whose end is at or before the watermark, by end time, and of
// windows ending together the shorter first (a minute before the hour that
// rolls it up). Timers are rebuilt from the restored state after a restore.
//
// # Stores and their changelog
//
// Store[V] is a map from string keys to values, with a Codec[V] that encodes
// values for its changelog. The contract with the engine:
//
//   - Every Put and Delete since the last Drain is in the next Drain, as one
//     ChangelogEntry per key: the key's value encoded at Drain time, or a
//     tombstone (Value == nil, as a Kafka null value). Deleting an absent key
//     logs nothing. The engine writes the entries to the changelog topic
//     (key = store key, partition = the task's partition) in the transaction
//     that commits the outputs they go with.
//   - Replaying the committed changelog from its start, in order (the last
//     entry of a key wins, a tombstone deletes), rebuilds the state the store
//     had at the last commit. Compaction keeps this true, since it keeps each
//     key's last entry. Restore = Reset + Replay; Replay can be called once
//     per fetch.
//   - After an aborted transaction the store's state is not trusted: Discard
//     the pending changes, then Restore from the changelog.
//
// Len and Bytes (keys plus encoded values, as of the last Drain) are for
// metrics. Expiry is the caller's: it deletes what it no longer needs.
package stream
