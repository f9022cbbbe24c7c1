package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
)

// All returns the dashboards in their export order: Pipeline health, Kafka,
// Game KPIs.
func All() ([]dashboard.Dashboard, error) {
	var out []dashboard.Dashboard
	for _, f := range []func() (dashboard.Dashboard, error){PipelineHealth, Kafka, GameKPIs} {
		d, err := f()
		if err != nil {
			return nil, fmt.Errorf("dashboards: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Query is one PromQL expression of a dashboard panel.
type Query struct {
	Dashboard string // the dashboard's uid
	Panel     string // the panel's title
	RefID     string // the query's letter in the panel: A, B, ...
	Instant   bool   // evaluated once at the end of the range (stat and bar panels)
	Expr      string // as Grafana sends it, before it replaces $game, $__rate_interval...
}

func (q Query) String() string {
	return fmt.Sprintf("%s / %s / %s: %s", q.Dashboard, q.Panel, q.RefID, q.Expr)
}

// PromQL returns Expr with Grafana's variables replaced by the values
// Grafana would send with All games selected, a 1 h time range and a 15 s
// scrape interval ($__rate_interval = 4 × 15 s): an expression Prometheus and
// promtool accept as is.
func (q Query) PromQL() string {
	return strings.NewReplacer(
		`$__rate_interval`, `1m`,
		`$__range_s`, `3600`, // before $__range, its prefix
		`$__range`, `1h`,
		`$game`, `.*`,
	).Replace(q.Expr)
}

var metricName = regexp.MustCompile(`\bgamepulse_[a-z0-9_]+\b`)

// Metrics returns the metric names Expr reads (a histogram's _bucket, _sum
// or _count series by that name), sorted, without repeats.
func (q Query) Metrics() []string {
	names := metricName.FindAllString(q.Expr, -1)
	slices.Sort(names)
	return slices.Compact(names)
}

// Queries returns every query of every dashboard, in dashboard and panel
// order. A dashboard's first query marks when gamepulse's alerts fire on its
// graphs (an annotation reading ALERTS): empty while none fires.
func Queries() ([]Query, error) {
	ds, err := All()
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, d := range ds {
		uid := deref(d.Uid)
		for _, a := range d.Annotations.List {
			if a.Expr != nil {
				out = append(out, Query{Dashboard: uid, Panel: "annotation: " + a.Name, RefID: "Anno", Expr: *a.Expr})
			}
		}
		for _, p := range panels(d) {
			for _, t := range p.Targets {
				pq, ok := t.(prometheus.Dataquery)
				if !ok {
					return nil, fmt.Errorf("dashboards: %s / %s: a %T query, want prometheus", uid, deref(p.Title), t)
				}
				out = append(out, Query{Dashboard: uid, Panel: deref(p.Title), RefID: deref(pq.RefId),
					Instant: pq.Instant != nil && *pq.Instant, Expr: pq.Expr})
			}
		}
	}
	return out, nil
}

// Metrics returns the metric names the dashboards read, sorted, without
// repeats.
func Metrics() ([]string, error) {
	qs, err := Queries()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, q := range qs {
		names = append(names, q.Metrics()...)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// SparkEngine reports whether metric is exported only by the Spark engine
// (process --engine spark): a run of the Go engine has none of its series,
// and the Spark engine's integration test checks them instead.
func SparkEngine(metric string) bool {
	return strings.HasPrefix(metric, "gamepulse_spark_")
}

// Sparse reports whether metric has no series at all on a healthy run, so
// that a test of "every series exists" should not expect it after a short
// clean demo: counters by reason or code, created on their first increment
// (aborts, dead letters, rejections, duplicates).
func Sparse(metric string) bool {
	switch metric {
	case "gamepulse_gateway_events_rejected_total",
		"gamepulse_processor_dead_letters_total",
		"gamepulse_processor_duplicates_dropped_total",
		"gamepulse_processor_transactions_aborted_total",
		"gamepulse_loader_rejected_records_total":
		return true
	}
	return false
}

// panels returns the dashboard's panels, rows' panels included, in order.
func panels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// RecordingRules returns a Prometheus rule file holding every query (its
// PromQL form) as a recording rule, so that `promtool check rules FILE`
// checks that each one parses. Nothing should load it into a Prometheus.
func RecordingRules() ([]byte, error) {
	qs, err := Queries()
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.WriteString("# Every gamepulse dashboard query as a recording rule, for `promtool check rules`.\ngroups:\n  - name: gamepulse-dashboard-queries\n    rules:\n")
	for i, q := range qs {
		fmt.Fprintf(&b, "      # %s / %s / %s\n      - record: gamepulse_dashboards:query_%03d\n        expr: |\n          %s\n",
			q.Dashboard, q.Panel, q.RefID, i+1, strings.ReplaceAll(q.PromQL(), "\n", "\n          "))
	}
	return []byte(b.String()), nil
}
