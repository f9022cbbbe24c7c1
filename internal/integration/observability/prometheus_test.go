//go:build integration

package observability

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/gamepulse/gamepulse/internal/dashboards"
)

// repo is the repository's root, from this package's directory.
const repo = "../../.."

// quiet are series that a healthy demo leaves flat: error counters and
// gauges that are constant while nothing is wrong. They must exist, not
// move.
var quiet = map[string]string{
	"gamepulse_gateway_kafka_up":                          "1 while Kafka is up",
	"gamepulse_gateway_in_flight_requests":                "instantaneous: 0 between the simulator's requests at most scrapes",
	"gamepulse_gateway_pending_events":                    "instantaneous: 0 between the simulator's requests at most scrapes",
	"gamepulse_gateway_rate_limited_requests_total":       "no demo client exceeds its rate",
	"gamepulse_kafka_buffered_produce_records_total":      "kprom's count of buffered records: 0 between batches",
	"gamepulse_processor_dead_letters_total":              "the gateway refuses what the processor would dead-letter",
	"gamepulse_processor_corrupt_partials_total":          "a bug counter",
	"gamepulse_processor_kpi_partials_dropped_total":      "nothing in the demo is later than the 2 h retention",
	"gamepulse_processor_late_events_total":               "late beyond the demo's 10 s lateness is rare",
	"gamepulse_processor_consumer_lag_records":            "0 or 1 (a commit marker) while the processor keeps up",
	"gamepulse_processor_restore_duration_seconds_bucket": "observed once per partition, at start",
	"gamepulse_processor_restore_duration_seconds_count":  "observed once per partition, at start",
	"gamepulse_processor_restore_duration_seconds_sum":    "observed once per partition, at start",
	"gamepulse_processor_tasks":                           "the partitions this instance owns: constant",
	"gamepulse_loader_apply_failures_total":               "the warehouse does not fail",
	"gamepulse_reconcile_differences":                     "0 while the KPI tables agree with the events",
	"gamepulse_reconcile_last_run_timestamp_seconds":      "moves once per --reconcile-every",
}

func TestSeriesExistAndMove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "gamepulse")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gamepulse")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// The demo: every component in one process, all metrics on one admin
	// address (the gateway's public --listen serves no /metrics).
	addr := freeAddr(t)
	demo := exec.CommandContext(ctx, bin, "demo", "--duration", "5m", "--data-dir", "", "--listen", freeAddr(t), "--metrics-listen", addr,
		"--warehouse", "duckdb://"+filepath.Join(dir, "w.duckdb"), "--reconcile-every", "10s", "--log-format", "json")
	logs, err := os.Create(filepath.Join(artifacts(t), "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	demo.Stdout, demo.Stderr = logs, logs
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = demo.Process.Kill(); _ = demo.Wait() }()

	// Prometheus: the three jobs of deploy/prometheus/prometheus.yml all
	// scrape the demo, with the committed rules.
	rules, err := filepath.Abs(filepath.Join(repo, "deploy/prometheus/rules/gamepulse.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files: [%q]
scrape_configs:
  - {job_name: gateway, static_configs: [{targets: [%q]}]}
  - {job_name: processor, static_configs: [{targets: [%q]}]}
  - {job_name: loader, static_configs: [{targets: [%q]}]}
`, rules, addr, addr, addr)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promDir := filepath.Join(dir, "prom")
	start := exec.CommandContext(ctx, filepath.Join(repo, "scripts/prometheus.sh"), "start", promDir, cfgPath)
	start.Env = append(os.Environ(), fmt.Sprintf("PROMETHEUS_WATCH_PID=%d", os.Getpid()))
	start.Stderr = os.Stderr
	out, err := start.Output()
	if err != nil {
		t.Fatalf("prometheus start: %v", err)
	}
	prom := "http://" + strings.TrimSpace(string(out))
	defer func() {
		_ = exec.Command(filepath.Join(repo, "scripts/prometheus.sh"), "stop", promDir).Run()
		copyFile(filepath.Join(promDir, "prometheus.log"), filepath.Join(artifacts(t), "prometheus.log"))
	}()
	t.Logf("demo metrics at %s, Prometheus at %s", addr, prom)

	names := ruleSeries(t, rules)
	dash, err := dashboards.Metrics()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d series used by the rules, %d by the dashboards", len(names), len(dash))
	for _, n := range dash {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)

	// Two minutes of traffic: minutes close (KPI rows, business gauges),
	// reconcile runs, rates have two windows of samples.
	deadline := time.Now().Add(150 * time.Second)
	for time.Now().Before(deadline) {
		if demo.ProcessState != nil {
			t.Fatal("the demo stopped early")
		}
		time.Sleep(5 * time.Second)
	}
	for _, name := range names {
		n, err := query(ctx, prom, "count("+name+")")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			if dashboards.SparkEngine(name) {
				t.Logf("%s: exported by process --engine spark only (its integration test checks it)", name)
				continue
			}
			if dashboards.Sparse(name) {
				t.Logf("%s: no series yet (it starts at its first increment)", name)
				continue
			}
			t.Errorf("%s: no series in Prometheus", name)
			continue
		}
		if why, ok := quiet[name]; ok {
			t.Logf("%s: %d series (flat when healthy: %s)", name, int(n), why)
			continue
		}
		moved, err := query(ctx, prom, "count(changes("+name+"[90s]) > 0)")
		if err != nil {
			t.Fatal(err)
		}
		if moved == 0 {
			t.Errorf("%s: %d series, none moved in 90 s", name, int(n))
			continue
		}
		t.Logf("%s: %d series, %d moved", name, int(n), int(moved))
	}
	// Every dashboard query runs (an empty result is fine: error panels).
	qs, err := dashboards.Queries()
	if err != nil {
		t.Fatal(err)
	}
	empty := 0
	for _, q := range qs {
		n, err := queryCount(ctx, prom, q.PromQL())
		if err != nil {
			t.Errorf("dashboard %s, panel %s: %v", q.Dashboard, q.Panel, err)
		}
		if n == 0 {
			empty++
		}
	}
	t.Logf("%d dashboard queries run, %d with an empty result", len(qs), empty)
	// Every recording rule yields data, and a healthy demo fires no alert.
	for _, rec := range recordNames(t, rules) {
		n, err := query(ctx, prom, "count("+rec+")")
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("recording rule %s: no data", rec)
		}
	}
	firing, err := query(ctx, prom, `count(ALERTS{alertstate="firing"})`)
	if err != nil {
		t.Fatal(err)
	}
	if firing > 0 {
		t.Errorf("%d alerts firing on a healthy demo", int(firing))
	}
}

// ruleFile is the part of a Prometheus rule file the test reads.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T, path string) ruleFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

var seriesName = regexp.MustCompile(`\bgamepulse_[a-zA-Z0-9_]+`)

// ruleSeries returns the gamepulse series the rules' expressions read.
func ruleSeries(t *testing.T, path string) []string {
	var out []string
	for _, g := range readRules(t, path).Groups {
		for _, r := range g.Rules {
			for _, n := range seriesName.FindAllString(r.Expr, -1) {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func recordNames(t *testing.T, path string) []string {
	var out []string
	for _, g := range readRules(t, path).Groups {
		for _, r := range g.Rules {
			if r.Record != "" && !slices.Contains(out, r.Record) {
				out = append(out, r.Record)
			}
		}
	}
	return out
}

// queryCount runs an instant query and returns the number of series it
// returns.
func queryCount(ctx context.Context, prom, q string) (int, error) {
	return runQuery(ctx, prom, q, nil)
}

// query runs an instant query whose result is one number (a count); no
// result is 0.
func query(ctx context.Context, prom, q string) (float64, error) {
	var v float64
	_, err := runQuery(ctx, prom, q, &v)
	return v, err
}

// runQuery runs an instant query; it returns the number of series and,
// when first is not nil, the first series' value.
func runQuery(ctx context.Context, prom, q string, first *float64) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prom+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("%s: %w", q, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("%s: %s", q, body.Error)
	}
	n := len(body.Data.Result)
	if n == 0 || first == nil {
		return n, nil
	}
	_, err = fmt.Sscan(fmt.Sprint(body.Data.Result[0].Value[1]), first)
	return n, err
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// artifacts is where logs go: $GAMEPULSE_TEST_ARTIFACTS or a temp dir.
func artifacts(t *testing.T) string {
	dir := os.Getenv("GAMEPULSE_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(from, to string) {
	if b, err := os.ReadFile(from); err == nil {
		_ = os.WriteFile(to, b, 0o644)
	}
}
