package dashboards

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// announced are metrics being added with the business gauges, the consumer
// lag measurement and the processor's state and window metrics, under these
// exact names. Once they are in the source, the scan below finds them there
// and they may be dropped from this list.
var announced = []string{
	"gamepulse_processor_consumer_lag_records",
	"gamepulse_loader_consumer_lag_records",
	"gamepulse_business_active_players",
	"gamepulse_business_revenue_usd_per_minute",
	"gamepulse_business_sessions_started_per_minute",
	"gamepulse_business_level_starts_per_minute",
	"gamepulse_business_level_fails_per_minute",
	"gamepulse_processor_state_entries",
	"gamepulse_processor_window_result_latency_seconds",
	"gamepulse_reconcile_differences",
}

// kpromNames are the series franz-go's kprom plugin exports by default
// under the namespace newKafkaClient gives it ("gamepulse_kafka").
var kpromNames = []string{"connects_total", "connect_errors_total", "disconnects_total", "write_bytes_total",
	"write_errors_total", "read_bytes_total", "read_errors_total", "produce_bytes_total", "fetch_bytes_total",
	"buffered_produce_records_total", "buffered_produce_bytes", "buffered_fetch_records_total", "buffered_fetch_bytes"}

// sourceMetrics returns the "gamepulse_..." string literals of the non-test Go
// files under internal/ and cmd/: the metric names the code registers.
func sourceMetrics(t *testing.T) map[string]bool {
	t.Helper()
	lit := regexp.MustCompile(`"(gamepulse_[a-z0-9_]+)"`)
	names := map[string]bool{}
	for _, dir := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range lit.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestQueriesUseExistingMetrics fails on a metric name the code does not
// register (a typo, or a metric renamed under the dashboards).
func TestQueriesUseExistingMetrics(t *testing.T) {
	known := sourceMetrics(t)
	var pending []string
	for _, n := range announced {
		if !known[n] {
			pending = append(pending, n)
			known[n] = true
		}
	}
	if len(pending) > 0 {
		t.Logf("announced, not in the source yet: %s", strings.Join(pending, ", "))
	}
	if known["gamepulse_kafka"] {
		for _, n := range kpromNames {
			known["gamepulse_kafka_"+n] = true
		}
	}
	exists := func(m string) bool {
		if known[m] {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(m, suffix); ok && known[base] {
				return true
			}
		}
		return false
	}
	qs, err := Queries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 50 {
		t.Fatalf("only %d queries", len(qs))
	}
	for _, q := range qs {
		ms := q.Metrics()
		if len(ms) == 0 && !strings.HasPrefix(q.Panel, "annotation: ") {
			t.Errorf("%s: reads no gamepulse metric", q)
		}
		for _, m := range ms {
			if !exists(m) {
				t.Errorf("%s: no metric %s in the code", q, m)
			}
		}
		if p := q.PromQL(); strings.Contains(p, "$") {
			t.Errorf("%s: PromQL form keeps a variable: %s", q, p)
		}
	}
}

func TestPromQLReplacesGrafanaVariables(t *testing.T) {
	q := Query{Expr: `sum(avg_over_time(x{game=~"$game"}[$__range])) * $__range_s / 60 + rate(y[$__rate_interval])`}
	want := `sum(avg_over_time(x{game=~".*"}[1h])) * 3600 / 60 + rate(y[1m])`
	if got := q.PromQL(); got != want {
		t.Fatalf("PromQL:\n got %s\nwant %s", got, want)
	}
}

// TestPromtoolChecksQueries parses every query with promtool, when it is
// there: PROMTOOL, or the copy scripts/prometheus.sh install unpacks.
func TestPromtoolChecksQueries(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		promtool = "../../.cache/prometheus/root/usr/bin/promtool"
	}
	if _, err := os.Stat(promtool); err != nil {
		t.Skipf("no promtool (%v): run scripts/prometheus.sh install, or set PROMTOOL", err)
	}
	rules, err := RecordingRules()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(f, rules, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", f).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	qs, _ := Queries()
	if want := []byte("SUCCESS: " + strconv.Itoa(len(qs)) + " rules found"); !bytes.Contains(out, want) {
		t.Fatalf("promtool did not check every query (want %q):\n%s", want, out)
	}
}

// TestPanels checks what a reader relies on: every panel has a unit, a
// description and our datasource; ids are unique; panels do not overlap
// and fit in Grafana's 24 columns.
func TestPanels(t *testing.T) {
	ds, err := All()
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, d := range ds {
		uid := deref(d.Uid)
		if uids[uid] {
			t.Errorf("uid %s twice", uid)
		}
		uids[uid] = true
		ids := map[uint32]bool{}
		type rect struct{ x, y, w, h uint32 }
		var placed []rect
		place := func(title string, id uint32, r rect) {
			if ids[id] {
				t.Errorf("%s: panel id %d twice", uid, id)
			}
			ids[id] = true
			if r.x+r.w > 24 {
				t.Errorf("%s / %s: wider than the grid: %+v", uid, title, r)
			}
			for _, o := range placed {
				if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
					t.Errorf("%s / %s: overlaps another panel: %+v, %+v", uid, title, r, o)
				}
			}
			placed = append(placed, r)
		}
		for _, p := range d.Panels {
			if r := p.RowPanel; r != nil {
				place(deref(r.Title), r.Id, rect{r.GridPos.X, r.GridPos.Y, r.GridPos.W, r.GridPos.H})
				continue
			}
			p := p.Panel
			title := deref(p.Title)
			place(title, deref(p.Id), rect{p.GridPos.X, p.GridPos.Y, p.GridPos.W, p.GridPos.H})
			if p.FieldConfig == nil || deref(p.FieldConfig.Defaults.Unit) == "" {
				t.Errorf("%s / %s: no unit", uid, title)
			}
			if deref(p.Description) == "" {
				t.Errorf("%s / %s: no description", uid, title)
			}
			if p.Datasource == nil || deref(p.Datasource.Uid) != "${datasource}" {
				t.Errorf("%s / %s: datasource %v", uid, title, p.Datasource)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s / %s: no query", uid, title)
			}
		}
	}
}

// TestFilesDeterministic: two exports are byte for byte equal, the JSON
// parses, and nothing in it changes with the clock.
func TestFilesDeterministic(t *testing.T) {
	a, err := Files(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Files(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Path != b[i].Path || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Fatalf("%s differs between two exports", a[i].Path)
		}
		if strings.HasSuffix(a[i].Path, ".json") {
			var v map[string]any
			if err := json.Unmarshal(a[i].Data, &v); err != nil {
				t.Fatalf("%s: %v", a[i].Path, err)
			}
			if v["id"] != nil || v["version"] != nil {
				t.Errorf("%s: has an id or version Grafana would fight over", a[i].Path)
			}
		}
	}
	got := map[string]string{}
	for _, f := range a {
		got[f.Path] = string(f.Data)
	}
	for _, want := range []string{"README.md", "dashboards/gamepulse-pipeline.json", "dashboards/gamepulse-kafka.json",
		"dashboards/gamepulse-game-kpis.json", "provisioning/dashboards/gamepulse.yml", "provisioning/datasources/prometheus.yml"} {
		if _, ok := got[want]; !ok {
			t.Errorf("no %s in the export", want)
		}
	}
	if ds := got["provisioning/datasources/prometheus.yml"]; !strings.Contains(ds, "uid: "+DatasourceUID) || !strings.Contains(ds, `url: "http://prometheus:9090"`) {
		t.Errorf("datasource provisioning:\n%s", ds)
	}
	if p := got["provisioning/dashboards/gamepulse.yml"]; !strings.Contains(p, `path: "/var/lib/grafana/dashboards/gamepulse"`) {
		t.Errorf("dashboard provisioning:\n%s", p)
	}
}
