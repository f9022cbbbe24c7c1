package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Task processes one input partition. Its methods are called from one
// goroutine at a time.
type Task interface {
	// Restore applies one changelog record (value nil: a tombstone), in
	// changelog order, before any Process call.
	Restore(store string, key, value []byte) error
	// Process handles one input record and adds its outputs (including
	// changelog records for every state change) to out.
	Process(rec *kgo.Record, out *Outputs) error
	// Flush is called once per transaction after the poll's records (and on
	// idle polls), for timers driven by watermarks or the clock.
	Flush(now time.Time, out *Outputs) error
}

// Closer is implemented by tasks that hold resources beyond their state
// (for example a share of a process-wide watermark tracker): Close is called
// once when the task is dropped, on revocation or after an aborted
// transaction, and the task is not used again.
type Closer interface {
	Close()
}

// TaskFactory makes the task of an input partition. An error stops the
// engine's Run with it (a task that cannot be built is a configuration
// error, not something a retry fixes).
type TaskFactory func(topic string, partition int32) (Task, error)

// Outputs collects the records a task emits in one transaction.
type Outputs struct {
	recs []*kgo.Record
}

// Add emits a record to topic. partition < 0 lets the producer partition by
// key; changelog records must name the task's partition.
func (o *Outputs) Add(topic string, partition int32, key, value []byte, headers ...kgo.RecordHeader) {
	r := &kgo.Record{Topic: topic, Key: key, Value: value, Headers: headers, Partition: partition}
	o.recs = append(o.recs, r)
}

// Changelog emits a state change of store for the task's partition.
func (o *Outputs) Changelog(store string, partition int32, key, value []byte) {
	o.Add(ChangelogTopic(store), partition, key, value)
}

// Len returns the number of records collected.
func (o *Outputs) Len() int { return len(o.recs) }

// ChangelogTopic names the changelog topic of a state store.
func ChangelogTopic(store string) string { return store + ".changelog" }

// Delivery is the processing guarantee.
type Delivery string

// Delivery modes.
const (
	ExactlyOnce Delivery = "exactly-once"
	AtLeastOnce Delivery = "at-least-once"
)

// Config configures a Engine.
type Config struct {
	Group          string        // consumer group (and transactional id prefix)
	InstanceID     string        // stable per instance: its transactional id is Group-InstanceID, which fences its zombie after a restart
	Input          string        // input topic
	Stores         []string      // state store names; each has a changelog topic co-partitioned with Input
	Delivery       Delivery      // ExactlyOnce (default) or AtLeastOnce
	MaxPollRecords int           // records per transaction at most
	TxnTimeout     time.Duration // transaction timeout (a zombie's open transaction blocks readers at most this long)
	SessionTimeout time.Duration // group session timeout: how long a silent instance keeps its partitions (0: franz-go's 45 s)
}

// Defaults of Config.
const (
	DefaultMaxPollRecords = 10000
	DefaultTxnTimeout     = 30 * time.Second
)

// DefaultConfig returns the defaults: exactly-once, DefaultMaxPollRecords,
// DefaultTxnTimeout. Group, InstanceID and Input have none.
func DefaultConfig() Config {
	return Config{Delivery: ExactlyOnce, MaxPollRecords: DefaultMaxPollRecords, TxnTimeout: DefaultTxnTimeout}
}

// EnsureDefaults fills zero fields with DefaultConfig's.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Delivery == "" {
		c.Delivery = d.Delivery
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = d.MaxPollRecords
	}
	if c.TxnTimeout == 0 {
		c.TxnTimeout = d.TxnTimeout
	}
}

// Validate reports the first problem with c, naming the field.
func (c *Config) Validate() error {
	switch {
	case c.Group == "":
		return errors.New("engine: Group is required")
	case c.Input == "":
		return errors.New("engine: Input is required")
	case c.InstanceID == "":
		return errors.New("engine: InstanceID is required (stable across restarts, unique per instance)")
	case c.Delivery != ExactlyOnce && c.Delivery != AtLeastOnce:
		return fmt.Errorf("engine: Delivery must be %s or %s, got %q", ExactlyOnce, AtLeastOnce, c.Delivery)
	case c.MaxPollRecords < 0:
		return fmt.Errorf("engine: MaxPollRecords must be >= 0 (0: the default), got %d", c.MaxPollRecords)
	case c.TxnTimeout < 0:
		return fmt.Errorf("engine: TxnTimeout must be >= 0 (0: the default), got %v", c.TxnTimeout)
	case c.SessionTimeout < 0:
		return fmt.Errorf("engine: SessionTimeout must be >= 0 (0: franz-go's default), got %v", c.SessionTimeout)
	}
	return nil
}

// Engine runs tasks over the input topic's assigned partitions.
type Engine struct {
	cfg     Config
	base    []kgo.Opt
	factory TaskFactory
	log     *slog.Logger
	m       *Metrics

	mu       sync.Mutex
	tasks    map[int32]Task
	assigned map[int32]bool

	// testHook, if set, is called at points of the loop; returning true at
	// "produced" simulates a crash (the loop returns without ending the
	// transaction or closing the client).
	testHook func(point string) bool
}

// New returns an engine. base holds the connection options (seeds, TLS,
// SASL); the engine adds the group, transactional and fetch options.
func New(cfg Config, base []kgo.Opt, factory TaskFactory, m *Metrics, log *slog.Logger) (*Engine, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if factory == nil {
		return nil, errors.New("engine: a TaskFactory is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Engine{cfg: cfg, base: base, factory: factory, log: log, m: m, tasks: map[int32]Task{}, assigned: map[int32]bool{}}, nil
}

func (p *Engine) clientOpts() []kgo.Opt {
	opts := append([]kgo.Opt{}, p.base...)
	opts = append(opts,
		kgo.ConsumerGroup(p.cfg.Group),
		kgo.ConsumeTopics(p.cfg.Input),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.RecordPartitioner(newPartitioner()),
		kgo.FetchMaxWait(idlePoll),
		// Right after a commit, the coordinator may still be writing the
		// markers and answers the next transaction's first produce with
		// CONCURRENT_TRANSACTIONS; franz-go's default backoff (250 ms,
		// doubling) then stalls the loop for seconds. Retry soon instead.
		kgo.RetryBackoffFn(retryBackoff),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) { p.onAssigned(a[p.cfg.Input]) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, r map[string][]int32) { p.onRevoked(r[p.cfg.Input]) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) { p.onRevoked(l[p.cfg.Input]) }),
	)
	if p.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(p.cfg.SessionTimeout))
	}
	if p.cfg.Delivery == ExactlyOnce {
		opts = append(opts,
			kgo.TransactionalID(p.cfg.Group+"-"+p.cfg.InstanceID),
			kgo.TransactionTimeout(p.cfg.TxnTimeout),
		)
	}
	return opts
}

func (p *Engine) onAssigned(parts []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, part := range parts {
		p.assigned[part] = true
	}
	p.log.Info("partitions assigned", "partitions", parts)
}

func (p *Engine) onRevoked(parts []int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, part := range parts {
		delete(p.assigned, part)
		closeTask(p.tasks[part])
		delete(p.tasks, part)
	}
	p.log.Info("partitions revoked", "partitions", parts)
}

// dropTasks forgets every task; they are rebuilt from the changelog.
func (p *Engine) dropTasks() {
	p.mu.Lock()
	for _, t := range p.tasks {
		closeTask(t)
	}
	p.tasks = map[int32]Task{}
	p.mu.Unlock()
}

// retryBackoff is 10 ms doubling per failure, at most 1 s.
func retryBackoff(fails int) time.Duration {
	d := 10 * time.Millisecond << min(fails, 7)
	return min(d, time.Second)
}

func closeTask(t Task) {
	if c, ok := t.(Closer); ok {
		c.Close()
	}
}

// task returns the task of a partition, creating and restoring it.
func (p *Engine) task(ctx context.Context, adm *kadm.Client, cl *kgo.Client, part int32) (Task, error) {
	p.mu.Lock()
	t, ok := p.tasks[part]
	p.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := p.factory(p.cfg.Input, part)
	if err != nil {
		return nil, fmt.Errorf("make the task of partition %d: %w", part, err)
	}
	start := time.Now()
	n, err := restore(ctx, adm, p.base, p.cfg.Stores, part, t)
	if err != nil {
		return nil, fmt.Errorf("restore partition %d: %w", part, err)
	}
	took := time.Since(start)
	p.m.restoreSeconds.Observe(took.Seconds())
	p.log.Info("restored task state", "partition", part, "changelog_records", n, "took", took)
	p.mu.Lock()
	p.tasks[part] = t
	p.mu.Unlock()
	return t, nil
}

// restore reads every store's changelog partition up to its last stable
// offset into t, and returns the records applied.
func restore(ctx context.Context, adm *kadm.Client, base []kgo.Opt, stores []string, part int32, t Task) (int, error) {
	if len(stores) == 0 {
		return 0, nil
	}
	topics := make([]string, len(stores))
	for i, s := range stores {
		topics[i] = ChangelogTopic(s)
	}
	ends, err := adm.ListCommittedOffsets(ctx, topics...)
	if err != nil {
		return 0, fmt.Errorf("list changelog offsets: %w", err)
	}
	want := map[string]map[int32]kgo.Offset{}
	left := map[string]int64{}
	for i, topic := range topics {
		o, ok := ends.Lookup(topic, part)
		if !ok || o.Err != nil {
			return 0, fmt.Errorf("changelog %s partition %d: not found (is it co-partitioned with the input?)", topic, part)
		}
		if o.Offset > 0 {
			want[topic] = map[int32]kgo.Offset{part: kgo.NewOffset().AtStart()}
			left[stores[i]] = o.Offset
		}
	}
	if len(left) == 0 {
		return 0, nil
	}
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, base...),
		kgo.ConsumePartitions(want), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Transaction markers take offsets too: without them the last
		// offset before the LSO is never seen and the end never reached.
		kgo.KeepControlRecords())...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	storeOf := map[string]string{}
	for _, s := range stores {
		storeOf[ChangelogTopic(s)] = s
	}
	n := 0
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var ferr error
		fs.EachError(func(topic string, p int32, err error) { ferr = fmt.Errorf("fetch %s/%d: %w", topic, p, err) })
		if ferr != nil {
			return n, ferr
		}
		var aerr error
		fs.EachRecord(func(r *kgo.Record) {
			store := storeOf[r.Topic]
			end, open := left[store]
			if !open || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				if err := t.Restore(store, r.Key, r.Value); err != nil && aerr == nil {
					aerr = fmt.Errorf("apply %s offset %d: %w", r.Topic, r.Offset, err)
				}
				n++
			}
			if r.Offset+1 >= end {
				delete(left, store)
			}
		})
		if aerr != nil {
			return n, aerr
		}
	}
	return n, nil
}
