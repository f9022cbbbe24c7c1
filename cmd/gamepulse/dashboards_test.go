package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runDashboards(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	err = (&DashboardsCommand{}).Run(context.Background(), env, args)
	return out.String(), err
}

// treeFiles returns the files under dir (slash paths relative to it) and
// their contents.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDashboardsCommittedFresh keeps deploy/grafana equal to what the code
// generates: every exported file identical, and no dashboard or provisioning
// file there that the export no longer writes.
func TestDashboardsCommittedFresh(t *testing.T) {
	const fix = "stale: run `go run ./cmd/gamepulse dashboards export deploy/grafana`"
	dir := t.TempDir()
	if _, err := runDashboards(t, "export", dir); err != nil {
		t.Fatal(err)
	}
	want := treeFiles(t, dir)
	committed := filepath.Join("..", "..", "deploy", "grafana")
	got := treeFiles(t, committed)
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("deploy/grafana/%s is missing; %s", p, fix)
		case g != w:
			t.Errorf("deploy/grafana/%s differs from the generated file; %s", p, fix)
		}
	}
	for p := range got {
		owned := strings.HasPrefix(p, "dashboards/") || strings.HasPrefix(p, "provisioning/")
		if _, ok := want[p]; owned && !ok {
			t.Errorf("deploy/grafana/%s is not generated any more (delete it); %s", p, fix)
		}
	}
}

func TestDashboardsExportFlags(t *testing.T) {
	dir := t.TempDir()
	if _, err := runDashboards(t, "export", "--prometheus-url", "http://127.0.0.1:9999", "--dashboards-path", "/srv/dash", dir); err != nil {
		t.Fatal(err)
	}
	files := treeFiles(t, dir)
	if ds := files["provisioning/datasources/prometheus.yml"]; !strings.Contains(ds, `url: "http://127.0.0.1:9999"`) {
		t.Errorf("datasource:\n%s", ds)
	}
	if p := files["provisioning/dashboards/gamepulse.yml"]; !strings.Contains(p, `path: "/srv/dash"`) {
		t.Errorf("provider:\n%s", p)
	}
	if len(files) != 6 {
		t.Errorf("%d files: %v", len(files), files)
	}
}

func TestDashboardsQueries(t *testing.T) {
	out, err := runDashboards(t, "queries")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 50 || strings.Contains(out, "$") {
		t.Fatalf("queries: %d lines, want ≥ 50 without Grafana variables:\n%s", len(lines), out)
	}
	out, err = runDashboards(t, "queries", "--format", "rules")
	if err != nil || !strings.HasPrefix(out, "#") || !strings.Contains(out, "\ngroups:\n") {
		t.Fatalf("rules: %v\n%s", err, out)
	}
}

func TestDashboardsHelp(t *testing.T) {
	out, err := runDashboards(t, "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(out, "Usage: gamepulse dashboards export") || !strings.Contains(out, "GAMEPULSE_PROMETHEUS_URL") {
		t.Fatalf("help: %v\n%s", err, out)
	}
}

func TestDashboardsUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give an action"},
		{[]string{"import"}, `unknown action "import"`},
		{[]string{"export"}, "give the directory"},
		{[]string{"export", "a", "b"}, "give the directory"},
		{[]string{"queries", "--format", "yaml"}, "--format must be"},
	} {
		if _, err := runDashboards(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}
