package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/gamepulse/gamepulse/internal/engine"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/kpi"
)

// Stage names: each stage is a consumer group AppID.<stage>, and its stores
// are AppID.<stage>.<store>.
const (
	stage1Name = "stage1"
	stage2Name = "stage2"
)

// DefaultAppID names the processor's consumer groups, transactional ids and
// changelog topics.
const DefaultAppID = "gamepulse.processor"

// DefaultPartialsTopic is the default name of the internal topic from stage
// 1 to stage 2 (KPI partials, ledger deltas and watermark marks).
const DefaultPartialsTopic = "gamepulse.kpi.partials"

// ErrTopicMissing is returned by Run when a topic it needs does not exist
// (after retrying for a while, since new topics take time to show up).
var ErrTopicMissing = errors.New("topic does not exist")

// Config configures the stream processor.
type Config struct {
	AppID      string // prefix of groups, transactional ids and changelog topics (default DefaultAppID)
	InstanceID string // stable per instance across restarts (fences its zombie); unique among instances
	Topics     kafka.Topics
	// PartialsTopic is the internal topic from stage 1 to stage 2 (default
	// DefaultPartialsTopic), partitioned like the raw topic when created.
	PartialsTopic string
	Delivery      engine.Delivery
	// MaxPollRecords bounds the records of one transaction (per stage).
	MaxPollRecords int
	TxnTimeout     time.Duration
	SessionTimeout time.Duration // consumer-group session timeout (0: franz-go's default, 45 s)
	// LagInterval is how often the groups' consumer lag is measured
	// (default kafka.LagEvery).
	LagInterval time.Duration

	Jobs      jobs.Config
	Watermark engine.WatermarkConfig
	Merger    kpi.MergerConfig // Sources are filled from the raw topic's partitions
}

// DefaultConfig returns the defaults of every field that has one: the
// engine's (exactly-once, records per transaction, transaction timeout), a
// 45 s session timeout, the default topics, and the jobs', watermarks' and
// merger's defaults. InstanceID has none.
func DefaultConfig() Config {
	e := engine.DefaultConfig()
	c := Config{AppID: DefaultAppID, Topics: kafka.DefaultTopicConfig(), PartialsTopic: DefaultPartialsTopic, Delivery: e.Delivery,
		MaxPollRecords: e.MaxPollRecords, TxnTimeout: e.TxnTimeout, SessionTimeout: DefaultSessionTimeout,
		LagInterval: kafka.LagEvery, Watermark: engine.DefaultWatermarkConfig()}
	c.Jobs.EnsureDefaults()
	c.Merger.EnsureDefaults()
	return c
}

// DefaultSessionTimeout is the consumer-group session timeout of
// DefaultConfig (franz-go's default too).
const DefaultSessionTimeout = 45 * time.Second

// EnsureDefaults fills zero fields. (SessionTimeout stays zero: franz-go's
// default, the same 45 s.)
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.AppID == "" {
		c.AppID = d.AppID
	}
	if c.PartialsTopic == "" {
		c.PartialsTopic = d.PartialsTopic
	}
	if c.Delivery == "" {
		c.Delivery = d.Delivery
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = d.MaxPollRecords
	}
	if c.TxnTimeout == 0 {
		c.TxnTimeout = d.TxnTimeout
	}
	if c.LagInterval == 0 {
		c.LagInterval = d.LagInterval
	}
	c.Jobs.EnsureDefaults()
	c.Watermark.EnsureDefaults()
	c.Merger.EnsureDefaults()
}

// Validate reports the first problem with c, naming the field.
func (c *Config) Validate() error {
	if c.InstanceID == "" {
		return errors.New("pipeline: InstanceID is required")
	}
	for _, t := range []struct{ field, name string }{{"Topics.Raw", c.Topics.Raw}, {"PartialsTopic", c.PartialsTopic}, {"Topics.KPI", c.Topics.KPI}} {
		if t.name == "" {
			return fmt.Errorf("pipeline: %s must not be empty", t.field)
		}
	}
	if c.LagInterval < 0 {
		return fmt.Errorf("pipeline: LagInterval must be >= 0, got %v", c.LagInterval)
	}
	// The engine's errors name its fields, which are the pipeline's too.
	ec := c.stageConfig(stage1Name, c.Topics.Raw)
	if err := ec.Validate(); err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	if err := c.Jobs.Validate(); err != nil {
		return fmt.Errorf("pipeline: Jobs: %w", err)
	}
	if err := c.Watermark.Validate(); err != nil {
		return fmt.Errorf("pipeline: Watermark: %w", err)
	}
	if c.Jobs.AllowedLateness != c.Watermark.AllowedLateness {
		return fmt.Errorf("pipeline: Jobs.AllowedLateness (%s) must equal Watermark.AllowedLateness (%s)", c.Jobs.AllowedLateness, c.Watermark.AllowedLateness)
	}
	return nil
}

// stageConfig is the engine configuration of one stage.
func (c *Config) stageConfig(stage, input string) engine.Config {
	return engine.Config{Group: c.AppID + "." + stage, InstanceID: c.InstanceID, Input: input,
		Delivery: c.Delivery, MaxPollRecords: c.MaxPollRecords, TxnTimeout: c.TxnTimeout, SessionTimeout: c.SessionTimeout}
}

// Pipeline is the stream processor: stage 1 over the raw topic and stage 2
// over the partials topic, each a engine.Processor (a consumer group
// running exactly-once transactions).
type Pipeline struct {
	cfg     Config
	base    []kgo.Opt
	log     *slog.Logger
	metrics *Metrics
	pm      *engine.Metrics
	wm      *watermarks

	partialsPartitions int32
}

// New returns a pipeline. base holds the connection options; m its metrics
// (nil: unregistered); pm the engine's.
func New(cfg Config, base []kgo.Opt, m *Metrics, pm *engine.Metrics, log *slog.Logger) (*Pipeline, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if _, err := jobs.NewStage(cfg.Jobs); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	wm, err := newWatermarks(cfg.Watermark)
	if err != nil {
		return nil, err
	}
	return &Pipeline{cfg: cfg, base: base, log: log, metrics: m, pm: pm, wm: wm}, nil
}

// Stats returns the pipeline's live counters.
func (p *Pipeline) Stats() *Stats { return &p.metrics.stats }

// Specs returns every topic the processor writes or keeps state in (beyond
// the raw and dead-letter topics), partitioned like the raw topic: the
// output topics, the partials topic and the compacted changelogs.
func (p *Pipeline) Specs() []kafka.TopicSpec {
	t := p.cfg.Topics
	specs := append(t.ProcessorSpecs(), kafka.TopicSpec{Name: p.cfg.PartialsTopic, Partitions: t.Partitions, Replication: t.Replication})
	compact := "compact"
	for _, s := range p.changelogs() {
		specs = append(specs, kafka.TopicSpec{Name: s, Partitions: t.Partitions, Replication: t.Replication,
			Configs: map[string]*string{"cleanup.policy": &compact}})
	}
	return specs
}

func (p *Pipeline) stores(stage string) []string {
	var names []string
	if stage == stage1Name {
		names = jobs.Stores()
	} else {
		names = stage2Stores()
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = p.storeName(stage, n)
	}
	return out
}

func (p *Pipeline) changelogs() []string {
	var out []string
	for _, stage := range []string{stage1Name, stage2Name} {
		for _, s := range p.stores(stage) {
			out = append(out, engine.ChangelogTopic(s))
		}
	}
	return out
}

// partitionCounts checks the topology: the changelogs of each stage must
// have as many partitions as its input. It returns the raw and partials
// topics' partition counts.
func (p *Pipeline) partitionCounts(ctx context.Context, adm *kadm.Client) (raw, partials int32, err error) {
	names := append([]string{p.cfg.Topics.Raw, p.cfg.PartialsTopic}, p.changelogs()...)
	details, err := adm.ListTopics(ctx, names...)
	if err != nil {
		return 0, 0, fmt.Errorf("pipeline: list topics: %w", err)
	}
	count := func(name string) (int32, error) {
		d, ok := details[name]
		if !ok || d.Err != nil {
			return 0, fmt.Errorf("pipeline: topic %s: %w (create Specs() before Run)", name, ErrTopicMissing)
		}
		return int32(len(d.Partitions)), nil
	}
	if raw, err = count(p.cfg.Topics.Raw); err != nil {
		return 0, 0, err
	}
	if partials, err = count(p.cfg.PartialsTopic); err != nil {
		return 0, 0, err
	}
	for _, stage := range []string{stage1Name, stage2Name} {
		want := raw
		if stage == stage2Name {
			want = partials
		}
		for _, s := range p.stores(stage) {
			n, err := count(engine.ChangelogTopic(s))
			if err != nil {
				return 0, 0, err
			}
			if n != want {
				return 0, 0, fmt.Errorf("pipeline: changelog %s has %d partitions, its input %d: they must be co-partitioned",
					engine.ChangelogTopic(s), n, want)
			}
		}
	}
	return raw, partials, nil
}

// Run processes until ctx is done: both stages, each in its own consumer
// group. It returns the first stage's error.
func (p *Pipeline) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(p.base...)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	// Topics created a moment ago may not be in every broker's metadata yet:
	// retry for a while before calling the topology wrong.
	var raw, partials int32
	for attempt := 0; ; attempt++ {
		raw, partials, err = p.partitionCounts(ctx, kadm.NewClient(cl))
		if err == nil || attempt == 20 || ctx.Err() != nil {
			break
		}
		p.log.Debug("topics not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
	cl.Close()
	if ctx.Err() != nil {
		return nil // stopped while starting
	}
	if err != nil {
		return err
	}
	p.partialsPartitions = partials
	p.cfg.Merger.Sources = make([]int32, raw)
	for i := range raw {
		p.cfg.Merger.Sources[i] = i
	}
	if err := p.cfg.Merger.Validate(); err != nil {
		return err
	}
	c1 := p.cfg.stageConfig(stage1Name, p.cfg.Topics.Raw)
	c1.Stores = p.stores(stage1Name)
	s1, err := engine.New(c1, p.base, p.newStage1, p.pm, p.log.With("stage", stage1Name))
	if err != nil {
		return err
	}
	c2 := p.cfg.stageConfig(stage2Name, p.cfg.PartialsTopic)
	c2.Stores = p.stores(stage2Name)
	s2, err := engine.New(c2, p.base, p.newStage2, p.pm, p.log.With("stage", stage2Name))
	if err != nil {
		return err
	}
	p.log.Info("processor starting", "instance", p.cfg.InstanceID, "delivery", p.cfg.Delivery,
		"raw_partitions", raw, "partials_partitions", partials)
	lagClient, err := kgo.NewClient(p.base...)
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	defer lagClient.Close()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s1.Run(gctx) })
	g.Go(func() error { return s2.Run(gctx) })
	g.Go(func() error {
		kafka.WatchLag(gctx, kadm.NewClient(lagClient), []string{p.cfg.AppID + "." + stage1Name, p.cfg.AppID + "." + stage2Name},
			p.metrics.lag, true, p.cfg.LagInterval, p.log)
		return nil
	})
	return g.Wait()
}

// drainPoll is how often Drain measures what is left.
const drainPoll = 250 * time.Millisecond

// Drain returns once the processor has processed everything its input
// held when Drain was called, as at the end of the input: stage 1 every raw
// record, then stage 2 every partial and watermark mark stage 1 wrote up to
// then, so the windows the last events close are emitted, and their
// corrections too. Call it while Run runs, after the producers of the raw
// topic stopped; then end Run. It returns ctx's error if ctx ends first.
func (p *Pipeline) Drain(ctx context.Context) error {
	cl, err := kgo.NewClient(p.base...)
	if err != nil {
		return fmt.Errorf("pipeline: drain: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, s := range []struct{ stage, input string }{{stage1Name, p.cfg.Topics.Raw}, {stage2Name, p.cfg.PartialsTopic}} {
		group := p.cfg.AppID + "." + s.stage
		ends, err := kafka.Ends(ctx, adm, s.input)
		if err != nil {
			return fmt.Errorf("pipeline: drain: %w", err)
		}
		for {
			n, err := func() (int64, error) {
				at, err := kafka.GroupOffsets(ctx, adm, group)
				if err != nil {
					return 0, err
				}
				return kafka.Unconsumed(ctx, p.base, at, ends)
			}()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil && n == 0 {
				break
			}
			p.log.Debug("draining", "stage", s.stage, "records_left", n, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(drainPoll):
			}
		}
		p.log.Info("drained", "stage", s.stage, "input", s.input)
	}
	return nil
}
