// Package observability holds the integration test of the monitoring as
// code: a real Prometheus (Debian's package, scripts/prometheus.sh)
// scrapes a running `gamepulse demo` with the committed alerting rules
// loaded, and every series the rules and dashboards use must exist and
// move. It runs with -tags integration from scripts/test.sh.
package observability
