package sparkjobs

import (
	"embed"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/event"
	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/record"
)

//go:embed sql/*.sql
var sqlFiles embed.FS

// Kind is what a Step does on the Spark Connect session.
type Kind int

// The kinds of Step, in the order a Plan uses them.
const (
	// Conf sets the session's runtime configuration (Step.Conf).
	Conf Kind = iota + 1
	// StreamView registers a temporary view over a streaming read:
	// readStream.format(Format).options(Options).load().
	StreamView
	// View registers a temporary view over SQL text (Step.SQL), which may
	// read streaming views.
	View
	// DedupView registers a temporary view that is Step.Input with
	// dropDuplicatesWithinWatermark(Step.Columns): Spark SQL has no clause
	// for it, so this is a plan relation (Spark Connect's Deduplicate with
	// within_watermark set) over a read of the input view.
	DedupView
	// Query starts a named streaming query: writeStream of Step.SQL's
	// result to Format with Options, OutputMode, and its checkpoint in
	// Step.Checkpoint.
	Query
)

func (k Kind) String() string {
	switch k {
	case Conf:
		return "conf"
	case StreamView:
		return "stream view"
	case View:
		return "view"
	case DedupView:
		return "dedup view"
	case Query:
		return "query"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Step is one thing to do on the Spark Connect session, in Plan order.
type Step struct {
	Kind Kind
	// Name is the view's name (views) or the query's name (Query:
	// gamepulse_<job>).
	Name string
	// Conf holds the runtime settings of a Conf step.
	Conf map[string]string
	// SQL is the SQL text of a View or Query, placeholders filled.
	SQL string
	// Format and Options are the source (StreamView) or sink (Query)
	// format and its options.
	Format  string
	Options map[string]string
	// Input and Columns are a DedupView's input view and key columns.
	Input   string
	Columns []string
	// OutputMode ("append") and Checkpoint (CheckpointRoot/Name) of a
	// Query.
	OutputMode string
	Checkpoint string
	// File is the sql/ file the SQL comes from ("" for the others).
	File string
}

// Config is what Plan needs. Call EnsureDefaults, then Validate (Plan does
// both on a copy).
type Config struct {
	// Brokers is the Kafka bootstrap list, as Spark's Kafka source and sink
	// read it (kafka.bootstrap.servers).
	Brokers []string
	// Topics are the topic names (the raw topic in its JSON encoding; see
	// docs/engines.md).
	Topics kafka.Topics
	// Jobs are the rules' parameters, as for the Go engine: DedupHorizon,
	// AllowedLateness, SessionGap, FraudMaxPurchases, MaxFuture, Rates.
	Jobs jobs.Config
	// CheckpointRoot is the directory or URI (as the Spark server sees it)
	// under which every query keeps its checkpoint, in a subdirectory
	// named after the query.
	CheckpointRoot string
	// StartingOffsets is where a query without a checkpoint starts reading
	// ("earliest", the default, or "latest").
	StartingOffsets string
	// KafkaOptions are added to every Kafka source and sink (e.g.
	// kafka.security.protocol); they must start with "kafka.".
	KafkaOptions map[string]string
	// MaxOffsetsPerTrigger bounds each micro-batch of the raw read (0: no
	// bound).
	MaxOffsetsPerTrigger int64
}

// EnsureDefaults fills zero fields with their defaults.
func (c *Config) EnsureDefaults() {
	def := kafka.DefaultTopicConfig()
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&c.Topics.Raw, def.Raw}, {&c.Topics.DeadLetter, def.DeadLetter}, {&c.Topics.Enriched, def.Enriched},
		{&c.Topics.Sessions, def.Sessions}, {&c.Topics.KPI, def.KPI}, {&c.Topics.Alerts, def.Alerts},
		{&c.StartingOffsets, "earliest"},
	} {
		if *f.dst == "" {
			*f.dst = f.v
		}
	}
	c.Jobs.EnsureDefaults()
}

// Validate reports every invalid field.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("sparkjobs: no Kafka brokers"))
	}
	if c.CheckpointRoot == "" {
		errs = append(errs, errors.New("sparkjobs: no checkpoint root"))
	}
	if c.StartingOffsets != "earliest" && c.StartingOffsets != "latest" {
		errs = append(errs, fmt.Errorf("sparkjobs: starting offsets %q: want earliest or latest", c.StartingOffsets))
	}
	for k := range c.KafkaOptions {
		if !strings.HasPrefix(k, "kafka.") {
			errs = append(errs, fmt.Errorf("sparkjobs: Kafka option %q: must start with \"kafka.\"", k))
		}
	}
	if c.MaxOffsetsPerTrigger < 0 {
		errs = append(errs, fmt.Errorf("sparkjobs: max offsets per trigger %d: must be ≥ 0", c.MaxOffsetsPerTrigger))
	}
	if err := c.Jobs.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("sparkjobs: %w", err))
	}
	return errors.Join(errs...)
}

// The views and queries of a Plan.
const (
	ViewRaw        = "gamepulse_raw"         // streaming read of the raw topic
	ViewFX         = "gamepulse_fx"          // the FX table, VALUES (code, rate)
	ViewChecked    = "gamepulse_checked"     // raw records parsed and validated
	ViewValid      = "gamepulse_valid"       // valid events, watermark = dedup horizon
	ViewDedupID    = "gamepulse_dedup_id"    // … deduplicated by event_id
	ViewDedup      = "gamepulse_dedup"       // … and purchases by store transaction id
	ViewEnrichedIn = "gamepulse_enriched_in" // streaming read of the enriched topic
	ViewFactsAll   = "gamepulse_facts_all"   // enriched events parsed, watermark = lateness
	ViewFacts      = "gamepulse_facts"       // … deduplicated by event_id (sink redelivery)

	QueryDeadLetter = "gamepulse_deadletter"
	QueryEnrich     = "gamepulse_enrich"
	QueryKPIMinute  = "gamepulse_kpi_minute"
	QueryKPIHour    = "gamepulse_kpi_hour"
	QuerySessions   = "gamepulse_sessions"
	QueryFraud      = "gamepulse_fraud"
)

// HLLRelativeSD is approx_count_distinct's relative standard deviation
// argument: Spark derives the precision p = ⌈2·log2(1.106/rsd)⌉ = 14 from
// it, the Go engine's precision (kpi.Precision).
const HLLRelativeSD = "0.01"

// Plan returns the steps that run the gamepulse jobs on a Spark Connect
// session: the session's configuration, the views, then the queries (see
// the package documentation). Every query is named gamepulse_<job> and
// checkpointed in CheckpointRoot/<name>.
func Plan(cfg Config) ([]Step, error) {
	cfg.KafkaOptions = maps.Clone(cfg.KafkaOptions)
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	j := cfg.Jobs
	vars := map[string]string{
		"raw_view":          ViewRaw,
		"fx_view":           ViewFX,
		"checked_view":      ViewChecked,
		"deduplicated_view": ViewDedup,
		"enriched_in_view":  ViewEnrichedIn,
		"facts_view":        ViewFacts,
		"event_schema":      Quote(EventSchema),
		"enriched_schema":   Quote(EnrichedSchema),
		"schema_version":    strconv.Itoa(event.SchemaVersion),
		"max_future_us":     strconv.FormatInt(j.MaxFuture.Microseconds(), 10),
		"max_future_text":   Quote(j.MaxFuture.String()),
		"dedup_horizon":     Interval(j.DedupHorizon),
		"lateness":          Interval(j.AllowedLateness),
		"session_gap":       Duration(j.SessionGap),
		"fraud_max":         strconv.Itoa(j.FraudMaxPurchases),
		"hll_rsd":           HLLRelativeSD,
		"deadletter_topic":  Quote(cfg.Topics.DeadLetter),
		"enriched_topic":    Quote(cfg.Topics.Enriched),
		"sessions_topic":    Quote(cfg.Topics.Sessions),
		"kpi_topic":         Quote(cfg.Topics.KPI),
		"alerts_topic":      Quote(cfg.Topics.Alerts),
		// Every output record says that it may be written twice: the
		// loader then loads its row only once (record.AtLeastOnce).
		"delivery_header": fmt.Sprintf("named_struct('key', %s, 'value', CAST(%s AS BINARY))",
			Quote(record.HeaderDelivery), Quote(record.DeliveryAtLeastOnce)),
	}
	fill := func(file string, extra map[string]string) (string, error) {
		text, err := sqlFiles.ReadFile(path.Join("sql", file))
		if err != nil {
			return "", fmt.Errorf("sparkjobs: %w", err)
		}
		v := vars
		if extra != nil {
			v = maps.Clone(vars)
			maps.Copy(v, extra)
		}
		s, err := Fill(string(text), v)
		if err != nil {
			return "", fmt.Errorf("sparkjobs: sql/%s: %w", file, err)
		}
		return s, nil
	}

	kafkaOpts := func(m map[string]string) map[string]string {
		out := map[string]string{"kafka.bootstrap.servers": strings.Join(cfg.Brokers, ",")}
		maps.Copy(out, cfg.KafkaOptions)
		maps.Copy(out, m)
		return out
	}
	source := func(topic string, bound int64) map[string]string {
		m := kafkaOpts(map[string]string{"subscribe": topic, "startingOffsets": cfg.StartingOffsets, "includeHeaders": "true"})
		if bound > 0 {
			m["maxOffsetsPerTrigger"] = strconv.FormatInt(bound, 10)
		}
		return m
	}

	steps := []Step{
		{Kind: Conf, Name: "session", Conf: map[string]string{
			// KPI keys, windows and RFC 3339 texts are UTC.
			"spark.sql.session.timeZone": "UTC",
			// A row's end is emitted when the watermark passes it even when
			// no new data comes (the Go engine's idle partitions do so too).
			"spark.sql.streaming.noDataMicroBatches.enabled": "true",
		}},
		{Kind: StreamView, Name: ViewRaw, Format: "kafka", Options: source(cfg.Topics.Raw, cfg.MaxOffsetsPerTrigger)},
		{Kind: View, Name: ViewFX, SQL: FXValues(j.Rates)},
	}
	views := []struct{ name, file string }{{ViewChecked, "checked.sql"}, {ViewValid, "valid.sql"}}
	for _, v := range views {
		s, err := fill(v.file, nil)
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Kind: View, Name: v.name, SQL: s, File: v.file})
	}
	steps = append(steps,
		Step{Kind: DedupView, Name: ViewDedupID, Input: ViewValid, Columns: []string{"event_id"}},
		Step{Kind: DedupView, Name: ViewDedup, Input: ViewDedupID, Columns: []string{"dedup_key"}},
		Step{Kind: StreamView, Name: ViewEnrichedIn, Format: "kafka", Options: source(cfg.Topics.Enriched, 0)},
	)
	facts, err := fill("facts.sql", nil)
	if err != nil {
		return nil, err
	}
	steps = append(steps,
		Step{Kind: View, Name: ViewFactsAll, SQL: facts, File: "facts.sql"},
		Step{Kind: DedupView, Name: ViewFacts, Input: ViewFactsAll, Columns: []string{"event_id"}},
	)

	queries := []struct {
		name, file string
		extra      map[string]string
	}{
		{QueryDeadLetter, "deadletter.sql", nil},
		{QueryEnrich, "enrich.sql", nil},
		{QueryKPIMinute, "kpi.sql", map[string]string{"window": "minute", "window_size": Quote("1 minute")}},
		{QueryKPIHour, "kpi.sql", map[string]string{"window": "hour", "window_size": Quote("1 hour")}},
		{QuerySessions, "sessions.sql", nil},
		{QueryFraud, "fraud.sql", nil},
	}
	for _, q := range queries {
		s, err := fill(q.file, q.extra)
		if err != nil {
			return nil, err
		}
		steps = append(steps, Step{Kind: Query, Name: q.name, SQL: s, File: q.file, Format: "kafka",
			Options: kafkaOpts(nil), OutputMode: "append",
			Checkpoint: strings.TrimRight(cfg.CheckpointRoot, "/") + "/" + q.name})
	}
	return steps, nil
}

// Queries returns the names of the queries of a plan, in order.
func Queries(steps []Step) []string {
	var out []string
	for _, s := range steps {
		if s.Kind == Query {
			out = append(out, s.Name)
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_]*)\}`)

// Fill replaces every ${name} in text with vars[name], verbatim (values are
// SQL text: Quote string literals). An unknown name is an error, and so is
// a "${" left over.
func Fill(text string, vars map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		return "", fmt.Errorf("unknown placeholder(s) %s", strings.Join(slices.Compact(missing), ", "))
	}
	if i := strings.Index(out, "${"); i >= 0 {
		return "", fmt.Errorf("malformed placeholder at %q", out[i:min(len(out), i+20)])
	}
	return out, nil
}

// Quote returns s as a Spark SQL string literal: in single quotes, with
// backslashes and single quotes escaped.
func Quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// Interval returns d as a Spark SQL interval literal in whole
// milliseconds (Config.Validate requires whole milliseconds).
func Interval(d time.Duration) string {
	return "INTERVAL " + strconv.FormatInt(d.Milliseconds(), 10) + " MILLISECONDS"
}

// Duration returns d as the string literal of a duration that window()
// and session_window() take ('300000 milliseconds'): they refuse an
// interval expression.
func Duration(d time.Duration) string {
	return Quote(strconv.FormatInt(d.Milliseconds(), 10) + " milliseconds")
}

// FXValues returns the SQL of the FX view: the rate table as an inline
// VALUES table (code, rate), codes upper-case, rates as the exact float64
// (each written in Go's shortest round-trip form and cast to DOUBLE).
func FXValues(r *jobs.Rates) string {
	if r == nil {
		r = jobs.DefaultRates()
	}
	var b strings.Builder
	b.WriteString("SELECT code, rate FROM VALUES\n")
	for i, code := range r.Currencies() {
		rate, _ := r.Rate(code)
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, "  (%s, CAST(%s AS DOUBLE))", Quote(code), Quote(strconv.FormatFloat(rate, 'g', -1, 64)))
	}
	b.WriteString("\nAS fx(code, rate)")
	return b.String()
}
