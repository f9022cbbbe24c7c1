package sparkjobs

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gamepulse/gamepulse/internal/jobs"
	"github.com/gamepulse/gamepulse/internal/kafka"
	"github.com/gamepulse/gamepulse/internal/record"
)

func testConfig() Config {
	return Config{Brokers: []string{"k1:9092", "k2:9092"}, CheckpointRoot: "file:///ckpt/gp/"}
}

func mustPlan(t *testing.T, cfg Config) []Step {
	t.Helper()
	steps, err := Plan(cfg)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return steps
}

func step(t *testing.T, steps []Step, name string) Step {
	t.Helper()
	for _, s := range steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %q", name)
	return Step{}
}

func TestPlanQueriesNamedAndCheckpointed(t *testing.T) {
	steps := mustPlan(t, testConfig())
	want := []string{QueryDeadLetter, QueryEnrich, QueryKPIMinute, QueryKPIHour, QuerySessions, QueryFraud}
	if got := Queries(steps); !slices.Equal(got, want) {
		t.Fatalf("queries %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for _, s := range steps {
		if seen[s.Name] {
			t.Errorf("step name %q twice", s.Name)
		}
		seen[s.Name] = true
		if s.Kind != Query {
			continue
		}
		if !strings.HasPrefix(s.Name, "gamepulse_") {
			t.Errorf("query %q: not named gamepulse_<job>", s.Name)
		}
		if s.Checkpoint != "file:///ckpt/gp/"+s.Name {
			t.Errorf("query %s: checkpoint %q, want under the root in a directory of its name", s.Name, s.Checkpoint)
		}
		if s.Format != "kafka" || s.OutputMode != "append" {
			t.Errorf("query %s: format %q mode %q, want kafka append", s.Name, s.Format, s.OutputMode)
		}
		if s.Options["kafka.bootstrap.servers"] != "k1:9092,k2:9092" {
			t.Errorf("query %s: options %v lack the brokers", s.Name, s.Options)
		}
		// The Kafka sink takes key, value, topic (and headers) columns.
		for _, col := range []string{"AS key", "AS value", "AS topic"} {
			if !strings.Contains(s.SQL, col) && !(col == "AS key" && strings.Contains(s.SQL, "  key,")) &&
				!(col == "AS value" && strings.Contains(s.SQL, "  value,")) {
				t.Errorf("query %s: SQL has no %q column", s.Name, col)
			}
		}
	}
}

// Every view or query reads only views defined by earlier steps, and no
// placeholder is left unfilled.
func TestPlanStepsReadEarlierViews(t *testing.T) {
	steps := mustPlan(t, testConfig())
	ident := regexp.MustCompile(`\bgamepulse_[a-z_]+\b`)
	comment := regexp.MustCompile(`--[^\n]*`)
	defined := map[string]bool{}
	for _, s := range steps {
		if strings.Contains(s.SQL, "${") {
			t.Errorf("step %s: unfilled placeholder in its SQL", s.Name)
		}
		refs := ident.FindAllString(comment.ReplaceAllString(s.SQL, ""), -1)
		if s.Input != "" {
			refs = append(refs, s.Input)
		}
		for _, r := range refs {
			if !defined[r] {
				t.Errorf("step %s reads %s, not defined before it", s.Name, r)
			}
		}
		if s.Kind != Query {
			defined[s.Name] = true
		}
	}
}

// The settings reach the SQL: topics quoted, durations as intervals or
// duration strings, the fraud threshold and the clock-skew bound.
func TestPlanFillsSettings(t *testing.T) {
	cfg := testConfig()
	cfg.Topics = kafka.Topics{Raw: "r.raw", DeadLetter: "r.dead", Enriched: "r.enr", Sessions: "r.sess", KPI: "r.kpi", Alerts: "r.alerts"}
	cfg.Jobs = jobs.Config{DedupHorizon: 6 * time.Hour, AllowedLateness: 45 * time.Second, SessionGap: 7 * time.Minute,
		FraudMaxPurchases: 9, MaxFuture: 90 * time.Second}
	cfg.StartingOffsets = "latest"
	cfg.MaxOffsetsPerTrigger = 5000
	cfg.KafkaOptions = map[string]string{"kafka.security.protocol": "SSL"}
	steps := mustPlan(t, cfg)

	for _, c := range []struct{ step, want string }{
		{ViewChecked, "unix_micros(received_ts) + 90000000 THEN"},
		{ViewChecked, "'1m30s'"},
		{ViewChecked, "FROM " + ViewRaw},
		{ViewChecked, "JOIN " + ViewFX + " fx"},
		{ViewValid, "WATERMARK t DELAY OF INTERVAL 21600000 MILLISECONDS"},
		{ViewFactsAll, "WATERMARK t DELAY OF INTERVAL 45000 MILLISECONDS"},
		{ViewFactsAll, "FROM " + ViewEnrichedIn},
		{QueryDeadLetter, "'r.dead' AS topic"},
		{QueryEnrich, "'r.enr' AS topic"},
		{QueryKPIMinute, "'r.kpi' AS topic"},
		{QueryKPIMinute, "window(t, '1 minute')"},
		{QueryKPIMinute, "'minute', start_text"},
		{QueryKPIMinute, "approx_count_distinct(CASE WHEN event_type <> 'refund' THEN player_id END, " + HLLRelativeSD + ")"},
		{QueryKPIHour, "window(t, '1 hour')"},
		{QueryKPIHour, "'hour', start_text"},
		{QuerySessions, "session_window(t, '420000 milliseconds')"},
		{QuerySessions, "'r.sess' AS topic"},
		{QueryFraud, "WHERE purchases > 9"},
		{QueryFraud, "'r.alerts' AS topic"},
	} {
		if s := step(t, steps, c.step); !strings.Contains(s.SQL, c.want) {
			t.Errorf("%s: SQL lacks %q", c.step, c.want)
		}
	}
	raw := step(t, steps, ViewRaw)
	for k, v := range map[string]string{"subscribe": "r.raw", "startingOffsets": "latest", "maxOffsetsPerTrigger": "5000", "includeHeaders": "true",
		"kafka.security.protocol": "SSL", "kafka.bootstrap.servers": "k1:9092,k2:9092"} {
		if raw.Options[k] != v {
			t.Errorf("raw view option %s = %q, want %q", k, raw.Options[k], v)
		}
	}
	if enr := step(t, steps, ViewEnrichedIn); enr.Options["subscribe"] != "r.enr" || enr.Options["maxOffsetsPerTrigger"] != "" {
		t.Errorf("enriched view options %v", enr.Options)
	}
	if q := step(t, steps, QueryEnrich); q.Options["kafka.security.protocol"] != "SSL" {
		t.Errorf("sink options %v lack the extra Kafka options", q.Options)
	}
	// The caller's map is not changed.
	if len(cfg.KafkaOptions) != 1 {
		t.Errorf("Plan changed the caller's KafkaOptions: %v", cfg.KafkaOptions)
	}
}

func TestPlanDedupSteps(t *testing.T) {
	steps := mustPlan(t, testConfig())
	for _, c := range []struct {
		name, input string
		cols        []string
	}{
		{ViewDedupID, ViewValid, []string{"event_id"}},
		{ViewDedup, ViewDedupID, []string{"dedup_key"}},
		{ViewFacts, ViewFactsAll, []string{"event_id"}},
	} {
		s := step(t, steps, c.name)
		if s.Kind != DedupView || s.Input != c.input || !slices.Equal(s.Columns, c.cols) {
			t.Errorf("%s: %v of %s by %v, want a dedup view of %s by %v", c.name, s.Kind, s.Input, s.Columns, c.input, c.cols)
		}
	}
}

// Every file in sql/ is used by the plan, so no job is silently left out.
func TestEverySQLFileUsed(t *testing.T) {
	used := map[string]bool{}
	for _, s := range mustPlan(t, testConfig()) {
		used[s.File] = true
	}
	files, err := fs.Glob(sqlFiles, "sql/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob: %v %v", files, err)
	}
	for _, f := range files {
		if !used[strings.TrimPrefix(f, "sql/")] {
			t.Errorf("%s is used by no step", f)
		}
	}
}

var fxRow = regexp.MustCompile(`\('([A-Z]{3})', CAST\('([^']+)' AS DOUBLE\)\)`)

func fxRows(t *testing.T, sql string) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, m := range fxRow.FindAllStringSubmatch(sql, -1) {
		f, err := strconv.ParseFloat(m[2], 64)
		if err != nil {
			t.Fatalf("rate %q: %v", m[2], err)
		}
		got[m[1]] = f
	}
	return got
}

func TestFXValuesFromJobsTable(t *testing.T) {
	custom, err := jobs.ParseRates(strings.NewReader("EUR=1.0812345678901234\nidr = 0.000063\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		rates *jobs.Rates
	}{{"default", jobs.DefaultRates()}, {"nil is default", nil}, {"custom", custom}} {
		t.Run(c.name, func(t *testing.T) {
			r := c.rates
			if r == nil {
				r = jobs.DefaultRates()
			}
			sql := FXValues(c.rates)
			got := fxRows(t, sql)
			if len(got) != len(r.Currencies()) || strings.Count(sql, "CAST(") != len(got) {
				t.Fatalf("VALUES has %d rows, the table %d currencies:\n%s", len(got), len(r.Currencies()), sql)
			}
			for _, code := range r.Currencies() {
				want, _ := r.Rate(code)
				if got[code] != want { // exact: the float64 round-trips
					t.Errorf("%s: %v in VALUES, %v in the table", code, got[code], want)
				}
			}
			if !strings.HasSuffix(sql, "AS fx(code, rate)") {
				t.Errorf("VALUES not named fx(code, rate):\n%s", sql)
			}
		})
	}
	// The plan's FX view is the configured table.
	cfg := testConfig()
	cfg.Jobs.Rates = custom
	if got := fxRows(t, step(t, mustPlan(t, cfg), ViewFX).SQL); len(got) != 3 || got["EUR"] != 1.0812345678901234 {
		t.Errorf("plan's FX view %v, want the custom table", got)
	}
}

func TestFill(t *testing.T) {
	vars := map[string]string{"a": "1", "topic": "'x'"}
	for _, c := range []struct{ in, want, err string }{
		{"SELECT ${a}", "SELECT 1", ""},
		{"${topic} AS topic, ${a}${a}", "'x' AS topic, 11", ""},
		{"no placeholders", "no placeholders", ""},
		{"${b} and ${c} and ${b}", "", "unknown placeholder(s) b, c"},
		{"${a} ${ broken", "", "malformed placeholder"},
		{"${}", "", "unknown placeholder(s) "},
	} {
		got, err := Fill(c.in, vars)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("Fill(%q): error %v, want %q", c.in, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("Fill(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestQuoteAndDurations(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"gamepulse.kpi", "'gamepulse.kpi'"},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"", "''"},
	} {
		if got := Quote(c.in); got != c.want {
			t.Errorf("Quote(%q) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := Interval(2 * time.Minute); got != "INTERVAL 120000 MILLISECONDS" {
		t.Errorf("Interval = %s", got)
	}
	if got := Duration(30 * time.Minute); got != "'1800000 milliseconds'" {
		t.Errorf("Duration = %s", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no brokers", func(c *Config) { c.Brokers = nil }, "no Kafka brokers"},
		{"no checkpoint", func(c *Config) { c.CheckpointRoot = "" }, "no checkpoint root"},
		{"offsets", func(c *Config) { c.StartingOffsets = "middle" }, "want earliest or latest"},
		{"option prefix", func(c *Config) { c.KafkaOptions = map[string]string{"subscribe": "x"} }, `"subscribe"`},
		{"negative bound", func(c *Config) { c.MaxOffsetsPerTrigger = -1 }, "max offsets per trigger"},
		{"jobs", func(c *Config) { c.Jobs.SessionGap = time.Microsecond }, "SessionGap"},
	} {
		cfg := testConfig()
		c.edit(&cfg)
		if _, err := Plan(cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// fakeSession records the calls Run makes.
type fakeSession struct {
	calls  []string
	failAt string
}

func (f *fakeSession) call(name string) error {
	f.calls = append(f.calls, name)
	if name == f.failAt {
		return errors.New("boom")
	}
	return nil
}

func (f *fakeSession) Conf(_ context.Context, conf map[string]string) error {
	return f.call("conf:" + conf["spark.sql.session.timeZone"])
}
func (f *fakeSession) CreateStreamView(_ context.Context, name, format string, _ map[string]string) error {
	return f.call("stream:" + name + ":" + format)
}
func (f *fakeSession) CreateView(_ context.Context, name, _ string) error {
	return f.call("view:" + name)
}
func (f *fakeSession) CreateDedupView(_ context.Context, name, input string, cols []string) error {
	return f.call("dedup:" + name + "<" + input + ":" + strings.Join(cols, ","))
}

func TestRun(t *testing.T) {
	steps := mustPlan(t, testConfig())
	f := &fakeSession{}
	var started []string
	err := Run(t.Context(), f, steps, func(_ context.Context, s Step) error {
		f.calls = append(f.calls, "query:"+s.Name)
		started = append(started, s.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(started, Queries(steps)) {
		t.Errorf("started %v", started)
	}
	want := []string{"conf:UTC", "stream:gamepulse_raw:kafka", "view:gamepulse_fx", "view:gamepulse_checked",
		"view:gamepulse_valid", "dedup:gamepulse_dedup_id<gamepulse_valid:event_id",
		"dedup:gamepulse_dedup<gamepulse_dedup_id:dedup_key", "stream:gamepulse_enriched_in:kafka",
		"view:gamepulse_facts_all", "dedup:gamepulse_facts<gamepulse_facts_all:event_id"}
	if !slices.Equal(f.calls[:len(want)], want) {
		t.Errorf("calls %v\nwant first %v", f.calls, want)
	}

	f = &fakeSession{failAt: "view:gamepulse_checked"}
	err = Run(t.Context(), f, steps, func(context.Context, Step) error { t.Error("query started after a failed view"); return nil })
	if err == nil || !strings.Contains(err.Error(), "view gamepulse_checked (sql/checked.sql): boom") {
		t.Errorf("error %v, want the step and its file named", err)
	}
}

// TestEveryQueryMarksItsRecordsAtLeastOnce: Spark's Kafka sink may write a
// micro-batch twice; every query's records must carry the delivery header
// so that the loader loads each row once.
func TestEveryQueryMarksItsRecordsAtLeastOnce(t *testing.T) {
	steps, err := Plan(Config{Brokers: []string{"k:9092"}, CheckpointRoot: "/cp"})
	if err != nil {
		t.Fatal(err)
	}
	want := "named_struct('key', '" + record.HeaderDelivery + "', 'value', CAST('" + record.DeliveryAtLeastOnce + "' AS BINARY))"
	for _, s := range steps {
		if s.Kind == Query && !strings.Contains(s.SQL, want) {
			t.Errorf("query %s (sql/%s) writes no %s header", s.Name, s.File, record.HeaderDelivery)
		}
	}
}
