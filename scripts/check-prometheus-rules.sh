#!/usr/bin/env bash
# Checks the Prometheus configuration and alerting rules under deploy/prometheus with
# promtool (from Debian's prometheus package, unpacked by scripts/prometheus.sh into
# .cache/prometheus on first use):
#   promtool check config deploy/prometheus/prometheus.yml   (and the rule files it loads)
#   promtool check rules  deploy/prometheus/rules/*.yml
#   promtool test rules   deploy/prometheus/tests/*.yml      (every alert: fires / does not)
# Exits non-zero when any of them fails. Usage: scripts/check-prometheus-rules.sh
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PROM="$REPO/scripts/prometheus.sh"
BIN="$("$PROM" install)"
PROMTOOL="$BIN/promtool"

shopt -s nullglob
rules=(deploy/prometheus/rules/*.yml)
tests=(deploy/prometheus/tests/*.yml)
((${#rules[@]})) || { echo "check-prometheus-rules: no rule files in deploy/prometheus/rules" >&2; exit 1; }
((${#tests[@]})) || { echo "check-prometheus-rules: no rule tests in deploy/prometheus/tests" >&2; exit 1; }

failed=0
step() {  # NAME CMD...
  local name="$1"; shift
  echo "--- $name"
  if "$@"; then echo "ok: $name"; else echo "FAIL: $name"; failed=$((failed + 1)); fi
}
step "promtool check config" "$PROMTOOL" check config deploy/prometheus/prometheus.yml
step "promtool check rules" "$PROMTOOL" check rules "${rules[@]}"
step "promtool test rules" "$PROMTOOL" test rules "${tests[@]}"

if ((failed)); then
  echo "check-prometheus-rules: $failed of 3 checks failed" >&2
  exit 1
fi
echo "check-prometheus-rules: config, ${#rules[@]} rule file(s) and ${#tests[@]} test file(s) pass"
