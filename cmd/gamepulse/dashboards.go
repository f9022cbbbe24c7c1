package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gamepulse/gamepulse/internal/dashboards"
)

// DashboardsCommand is "gamepulse dashboards":
// export the Grafana dashboards and provisioning files; list their queries.
type DashboardsCommand struct{}

func (*DashboardsCommand) Name() string { return "dashboards" }
func (*DashboardsCommand) Summary() string {
	return "export the Grafana dashboards and provisioning files; list their queries"
}
func (*DashboardsCommand) Usage() string {
	return `Usage: gamepulse dashboards export [flags] DIR
       gamepulse dashboards queries [--format text|rules]

The Grafana dashboards of gamepulse are Go code (internal/dashboards, built
with grafana-foundation-sdk): Pipeline health (throughput, latency, errors
and lag per stage, the freshness SLO), Kafka (records produced and consumed,
produce latency, lag per partition) and Game KPIs (active players, revenue,
sessions, level funnel, completeness per game).

export writes into DIR:
  dashboards/<uid>.json                    one file per dashboard
  provisioning/datasources/prometheus.yml  Prometheus at --prometheus-url,
                                           uid ` + dashboards.DatasourceUID + `
  provisioning/dashboards/gamepulse.yml    loads --dashboards-path
  README.md                                what to mount where
Mount DIR/provisioning at /etc/grafana/provisioning and DIR/dashboards at
--dashboards-path in Grafana's container. The same files, made with the
defaults, are committed under deploy/grafana; a test fails when they are
stale. Files in DIR that the export does not write are left alone.

queries prints every PromQL expression of the dashboards with Grafana's
variables filled in (All games, 1m rate interval, 1h range): one per line
(text), or as a rule file of recording rules for promtool (rules).

Examples:
  gamepulse dashboards export deploy/grafana
  gamepulse dashboards export --prometheus-url http://localhost:9090 /tmp/grafana
  gamepulse dashboards queries --format rules > /tmp/q.yml && promtool check rules /tmp/q.yml`
}

// Run parses args (flags, the environment, --config) and runs the command.
func (c *DashboardsCommand) Run(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, c)
	var opts dashboards.Options
	opts.EnsureDefaults()
	fs.StringVar(&opts.PrometheusURL, "prometheus-url", opts.PrometheusURL, "export: the Prometheus URL Grafana's server queries (the provisioned datasource)")
	fs.StringVar(&opts.DashboardsPath, "dashboards-path", opts.DashboardsPath, "export: where Grafana's server finds the dashboards/ files")
	fs.StringVar(&opts.Folder, "grafana-folder", opts.Folder, "export: the Grafana folder of the dashboards")
	format := fs.String("format", "text", "queries: text (one expression per line) or rules (a rule file for promtool check rules)")
	// gamepulse dashboards export [flags] DIR, or queries [flags].
	if err := resolveArgs(fs, env, args, -1); err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "export":
		if fs.NArg() != 2 {
			err := checkArgs(fs, 2) // names the stray ones
			if err == nil {
				err = errors.New("no directory")
			}
			return usagef("dashboards export: give the directory to write into, e.g. deploy/grafana (%v)", err)
		}
		return exportDashboards(env, fs.Arg(1), opts)
	case "queries":
		if err := checkArgs(fs, 1); err != nil {
			return err
		}
		return printDashboardQueries(env, *format)
	case "":
		return usagef("dashboards: give an action, export or queries (gamepulse help dashboards)")
	}
	return usagef("dashboards: unknown action %q: export or queries", fs.Arg(0))
}

// exportDashboards writes the export into dir, replacing the files it owns.
func exportDashboards(env *Env, dir string, opts dashboards.Options) error {
	files, err := dashboards.Files(opts)
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("dashboards export: %w", err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("dashboards export: %w", err)
		}
	}
	fmt.Fprintf(env.Stderr, "wrote %d files into %s\n", len(files), dir)
	return nil
}

func printDashboardQueries(env *Env, format string) error {
	switch format {
	case "rules":
		b, err := dashboards.RecordingRules()
		if err != nil {
			return err
		}
		_, err = env.Stdout.Write(b)
		return err
	case "text":
		qs, err := dashboards.Queries()
		if err != nil {
			return err
		}
		for _, q := range qs {
			fmt.Fprintln(env.Stdout, q.PromQL())
		}
		return nil
	}
	return fmt.Errorf("--format must be text or rules, got %q", format)
}
