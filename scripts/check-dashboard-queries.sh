#!/usr/bin/env bash
# Checks that every PromQL query of the Grafana dashboards (internal/dashboards)
# parses: the test TestPromtoolChecksQueries writes them, Grafana's variables filled
# in, as recording rules into a temporary rule file and runs `promtool check rules`
# on it. promtool comes from Debian's prometheus package, unpacked by
# scripts/prometheus.sh into .cache/prometheus on first use.
# Usage: scripts/check-dashboard-queries.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
BIN="$(scripts/prometheus.sh install)"
PROMTOOL="$BIN/promtool" go test -count=1 -run '^TestPromtoolChecksQueries$' -v ./internal/dashboards
