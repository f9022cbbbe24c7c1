// Package loader moves the stream processor's output topics into a
// warehouse exactly once: a consumer group (read_committed) whose position
// is the warehouse's, not Kafka's. On every assignment the loader asks the
// warehouse where each partition's applied rows end (its offsets table) and
// starts there; every batch it applies carries the offsets it covers, written
// in the same warehouse transaction as its rows (warehouse.Sink.Apply), and
// the warehouse skips anything below the offsets it already holds. So a
// crash, a rebalance or a redelivery can neither lose a row nor apply one
// twice. Kafka offsets are committed too, after each batch, only so that
// consumer lag shows in the usual tools.
//
// A producer that may write a record twice at different offsets (Spark's
// at-least-once Kafka sink) marks its records with the delivery header
// (record.AtLeastOnce); their rows go to warehouse.Batch.AtLeastOnce, which
// the warehouse appends only when their natural key is not loaded yet.
package loader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/warehouse"
)

// DefaultGroup is the loader's consumer group.
const DefaultGroup = "gamepulse.loader"

// Config configures a Loader.
type Config struct {
	Group  string
	Topics kafka.Topics // Enriched, DeadLetter, Sessions, KPI and Alerts are read
	// A batch is applied when it holds BatchRows rows or BatchBytes bytes of
	// record values, or BatchInterval after its first record: the trade
	// between freshness and warehouse statements (cost, on Snowflake).
	BatchRows     int
	BatchBytes    int
	BatchInterval time.Duration
	// SessionTimeout is the consumer group's session timeout (0: franz-go's
	// 45 s): how long a dead loader keeps its partitions.
	SessionTimeout time.Duration
	// AutoSuspend is the warehouse's auto-suspend delay (Snowflake's
	// AUTO_SUSPEND, default 60 s) for the estimate of its running time,
	// gamepulse_loader_warehouse_active_seconds_total.
	AutoSuspend time.Duration
	// LagInterval is how often the group's consumer lag is measured
	// (default kafka.LagEvery).
	LagInterval time.Duration
}

// DefaultConfig returns the documented defaults (Topics aside: the caller
// names them, usually kafka.DefaultTopicConfig()).
func DefaultConfig() Config {
	return Config{
		Group:          DefaultGroup,
		BatchRows:      50000,
		BatchBytes:     32 << 20,
		BatchInterval:  time.Second,
		SessionTimeout: 45 * time.Second, // franz-go's default
		AutoSuspend:    time.Minute,
		LagInterval:    kafka.LagEvery,
	}
}

// EnsureDefaults fills zero fields from DefaultConfig.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Group == "" {
		c.Group = d.Group
	}
	if c.BatchRows == 0 {
		c.BatchRows = d.BatchRows
	}
	if c.BatchBytes == 0 {
		c.BatchBytes = d.BatchBytes
	}
	if c.BatchInterval == 0 {
		c.BatchInterval = d.BatchInterval
	}
	if c.AutoSuspend == 0 {
		c.AutoSuspend = d.AutoSuspend
	}
	if c.LagInterval == 0 {
		c.LagInterval = d.LagInterval
	}
}

// Validate reports the first problem with c, naming the field at fault
// ("loader: BatchRows must be ≥ 1, got 0"). New applies EnsureDefaults
// first, so only a negative number or a missing topic fails there.
func (c *Config) Validate() error {
	t := c.Topics
	switch {
	case c.Group == "":
		return errors.New("loader: no consumer group (Group is empty)")
	case t.Enriched == "" || t.DeadLetter == "" || t.Sessions == "" || t.KPI == "" || t.Alerts == "":
		return errors.New("loader: Topics must name the enriched, dead-letter, sessions, KPI and alerts topics")
	case c.BatchRows < 1:
		return fmt.Errorf("loader: BatchRows must be ≥ 1, got %d", c.BatchRows)
	case c.BatchBytes < 1:
		return fmt.Errorf("loader: BatchBytes must be ≥ 1, got %d", c.BatchBytes)
	case c.BatchInterval < 0:
		return fmt.Errorf("loader: BatchInterval must be ≥ 0, got %s", c.BatchInterval)
	case c.SessionTimeout < 0:
		return fmt.Errorf("loader: SessionTimeout must be ≥ 0, got %s", c.SessionTimeout)
	case c.AutoSuspend < 0:
		return fmt.Errorf("loader: AutoSuspend must be ≥ 0, got %s", c.AutoSuspend)
	case c.LagInterval < 0:
		return fmt.Errorf("loader: LagInterval must be ≥ 0, got %s", c.LagInterval)
	}
	return nil
}

// Tables are the warehouse tables the loader writes, in the order of
// Stats.ByTable (kpi: kpi_minute and kpi_hour).
var Tables = [...]string{"events", "sessions", "kpi", "completeness", "alerts", "dead_letters"}

// Stats are live totals for status lines.
type Stats struct {
	Rows, Batches, Rejected int64
	ByTable                 [len(Tables)]int64 // rows by table, as Tables names them
	LastApplied             time.Time          // wall clock of the last applied batch
	Freshness               time.Duration
	Lag                     int64 // records, as gamepulse_loader_consumer_lag_records last measured it; -1: not yet
}

// Loader reads the output topics and applies them to a warehouse.
type Loader struct {
	stalledUntil atomic.Int64 // Unix nanoseconds (Stall)

	cfg  Config
	base []kgo.Opt
	sink warehouse.Sink
	log  *slog.Logger
	m    *Metrics
}

// New returns a loader writing into sink, after EnsureDefaults and Validate
// on cfg. base holds the connection options; m and log may be nil.
func New(cfg Config, base []kgo.Opt, sink warehouse.Sink, m *Metrics, log *slog.Logger) (*Loader, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("loader: no warehouse sink")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	m.watch(sink, cfg.AutoSuspend)
	return &Loader{cfg: cfg, base: base, sink: sink, log: log, m: m}, nil
}

func (l *Loader) topics() []string {
	t := l.cfg.Topics
	return []string{t.Enriched, t.DeadLetter, t.Sessions, t.KPI, t.Alerts}
}

// Run loads until ctx is done. The batch being built when ctx ends is
// applied first (with a short grace), so a clean stop loses no work.
func (l *Loader) Run(ctx context.Context) error {
	// The warehouse's offsets of newly assigned partitions, to commit to
	// Kafka: when an earlier instance applied its last batch and died
	// before its Kafka commit, nothing new arrives to commit, and the
	// group's lag would show records the warehouse already holds.
	var resumed atomic.Pointer[map[string]map[int32]kgo.EpochOffset]
	opts := append(append([]kgo.Opt{}, l.base...),
		kgo.ConsumerGroup(l.cfg.Group),
		kgo.ConsumeTopics(l.topics()...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.AdjustFetchOffsetsFn(func(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
			out, stored, err := l.resume(ctx, assigned)
			if err == nil && len(stored) > 0 {
				resumed.Store(&stored)
			}
			return out, err
		}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			l.log.Info("partitions assigned", "partitions", a)
		}),
	)
	if l.cfg.SessionTimeout > 0 {
		opts = append(opts, kgo.SessionTimeout(l.cfg.SessionTimeout))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("loader: %w", err)
	}
	defer cl.Close()
	lctx, stopLag := context.WithCancel(ctx)
	lagDone := make(chan struct{})
	go func() {
		defer close(lagDone)
		kafka.WatchLag(lctx, kadm.NewClient(cl), []string{l.cfg.Group}, l.m.lag, false, l.cfg.LagInterval, l.log)
	}()
	defer func() { stopLag(); <-lagDone }()
	var (
		b       batch
		started time.Time
	)
	flush := func(ctx context.Context) error {
		if b.empty() {
			return nil
		}
		if err := l.apply(ctx, &b); err != nil {
			return err
		}
		if err := cl.CommitRecords(ctx, b.last...); err != nil && ctx.Err() == nil {
			l.log.Debug("kafka offset commit failed (only lag reporting needs it)", "err", err)
		}
		b = batch{}
		return nil
	}
	for {
		if until := time.Unix(0, l.stalledUntil.Load()); time.Now().Before(until) {
			select { // a fault switch: read and apply nothing
			case <-ctx.Done():
			case <-time.After(min(time.Until(until), 200*time.Millisecond)):
			}
			if ctx.Err() == nil {
				continue
			}
		}
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		fs := cl.PollRecords(pctx, l.cfg.BatchRows)
		cancel()
		if ctx.Err() != nil {
			gctx, gcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer gcancel()
			return flush(gctx)
		}
		if stored := resumed.Swap(nil); stored != nil {
			cl.CommitOffsetsSync(ctx, *stored, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, _ *kmsg.OffsetCommitResponse, err error) {
				if err != nil && ctx.Err() == nil {
					l.log.Debug("kafka offset commit of the warehouse's offsets failed (only lag reporting needs it)", "err", err)
				}
			})
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				l.log.Warn("fetch failed; retrying", "topic", t, "partition", p, "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if b.empty() {
				started = time.Now()
			}
			l.add(&b, r)
		})
		if !b.empty() && (b.rows() >= l.cfg.BatchRows || b.bytes >= l.cfg.BatchBytes || time.Since(started) >= l.cfg.BatchInterval) {
			if err := flush(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// resume replaces Kafka's committed offsets with the warehouse's, and
// returns those it found in the warehouse for a Kafka commit too.
func (l *Loader) resume(ctx context.Context, assigned map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, map[string]map[int32]kgo.EpochOffset, error) {
	topics := make([]string, 0, len(assigned))
	for t := range assigned {
		topics = append(topics, t)
	}
	stored, err := l.sink.Offsets(ctx, topics)
	if err != nil {
		return nil, nil, fmt.Errorf("loader: read the warehouse's offsets: %w", err)
	}
	out := make(map[string]map[int32]kgo.Offset, len(assigned))
	commit := map[string]map[int32]kgo.EpochOffset{}
	for t, parts := range assigned {
		out[t] = make(map[int32]kgo.Offset, len(parts))
		for p := range parts {
			if n, ok := stored[warehouse.TopicPartition{Topic: t, Partition: p}]; ok {
				out[t][p] = kgo.NewOffset().At(n).WithEpoch(-1)
				if commit[t] == nil {
					commit[t] = map[int32]kgo.EpochOffset{}
				}
				commit[t][p] = kgo.EpochOffset{Epoch: -1, Offset: n}
			} else {
				out[t][p] = kgo.NewOffset().AtStart()
			}
		}
	}
	l.log.Info("resuming from the warehouse's offsets", "partitions", len(stored))
	return out, commit, nil
}

// apply writes a batch, retrying transient warehouse failures until ctx
// ends; a batch the warehouse calls invalid is an error.
func (l *Loader) apply(ctx context.Context, b *batch) error {
	wb := b.warehouse()
	delay := 200 * time.Millisecond
	for {
		start := time.Now()
		err := l.sink.Apply(ctx, wb)
		if err == nil {
			l.m.observe(&wb, start, time.Since(start), b.accepted)
			return nil
		}
		l.m.failures.Inc()
		if errors.Is(err, warehouse.ErrInvalidBatch) || ctx.Err() != nil {
			return fmt.Errorf("loader: apply: %w", err)
		}
		l.log.Warn("warehouse apply failed; retrying the same batch", "err", err, "rows", wb.Rows(), "retry_in", delay)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 10*time.Second)
	}
}

// Stall makes the loader read and apply nothing for d, from now (a fault
// switch for the demo: freshness and lag grow, alerts fire, then it
// catches up).
func (l *Loader) Stall(d time.Duration) { l.stalledUntil.Store(time.Now().Add(d).UnixNano()) }

// Stats returns the loader's totals.
func (l *Loader) Stats() Stats { return l.m.snapshot() }

// drainPoll is how often Drain measures what is left.
const drainPoll = 250 * time.Millisecond

// Drain returns once the loader has applied every record its topics held
// when Drain was called: the warehouse's offsets (not the group's commits,
// which only serve lag reporting) reach the topics' ends. Call it while Run
// runs, after the processor stopped writing; then end Run. It returns ctx's
// error if ctx ends first.
func (l *Loader) Drain(ctx context.Context) error {
	cl, err := kgo.NewClient(l.base...)
	if err != nil {
		return fmt.Errorf("loader: drain: %w", err)
	}
	defer cl.Close()
	ends, err := kafka.Ends(ctx, kadm.NewClient(cl), l.topics()...)
	if err != nil {
		return fmt.Errorf("loader: drain: %w", err)
	}
	for {
		n, err := func() (int64, error) {
			stored, err := l.sink.Offsets(ctx, l.topics())
			if err != nil {
				return 0, err
			}
			at := kafka.Offsets{}
			for tp, o := range stored {
				if at[tp.Topic] == nil {
					at[tp.Topic] = map[int32]int64{}
				}
				at[tp.Topic][tp.Partition] = o
			}
			return kafka.Unconsumed(ctx, l.base, at, ends)
		}()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && n == 0 {
			l.log.Info("drained")
			return nil
		}
		l.log.Debug("draining", "records_left", n, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(drainPoll):
		}
	}
}
