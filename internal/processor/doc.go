// Package processor runs stream tasks over Kafka exactly once: a consumer
// group application in which every poll's outputs, the state changes of the
// tasks (as changelog records) and the consumed offsets commit in one Kafka
// transaction (franz-go's GroupTransactSession, read_committed everywhere).
//
// The processor owns I/O and the task lifecycle; what a task computes is the
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
package processor
