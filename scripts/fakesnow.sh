#!/usr/bin/env bash
# fakesnow (a Snowflake emulator backed by DuckDB) as an HTTP server for tests:
# gosnowflake connects to it over plain HTTP on a loopback port. Installed from
# PyPI into a cached virtualenv; no Docker. See internal/warehouse/snowflake/.
#
# Usage:
#   scripts/fakesnow.sh install         create the virtualenv .cache/fakesnow/<ver>/venv once
#                                       (prints its dir; no pip run when already cached)
#   scripts/fakesnow.sh start DIR       start a server in DIR, wait until it answers a login;
#                                       prints its address (127.0.0.1:PORT) on stdout and
#                                       writes it to DIR/addr
#   scripts/fakesnow.sh stop DIR        stop the server of DIR (TERM, then KILL); idempotent
#   scripts/fakesnow.sh status DIR      exit 0 and print the address if running
#
# stdout carries only results (venv dir, address); progress goes to stderr.
# Files in DIR: fakesnow.log (previous run: fakesnow.log.1), fakesnow.pid, addr,
#   watchdog.pid (with FAKESNOW_WATCH_PID).
# The server keeps its databases in memory (all sessions share them): a restart
# starts empty. Each login creates the database and schema it names, so tests
# isolate themselves with a database per test.
#
# Environment (all optional):
#   FAKESNOW_PYTHON        python3 to build the virtualenv with   (default python3)
#   FAKESNOW_PORT          HTTP port                              (default: a free port)
#   FAKESNOW_START_TIMEOUT seconds to wait for readiness          (default 60)
#   FAKESNOW_STOP_TIMEOUT  seconds between TERM and KILL          (default 10)
#   FAKESNOW_WATCH_PID     if set, a watchdog kills the server when this PID exits
#                          (e.g. the test process, so a crashed test leaks no server)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Pinned: fakesnow 0.12.1 imports snowflake.connector.converter, which
# snowflake-connector-python 5.x no longer has; 4.8.1 works.
PINS=(
  "fakesnow[server]==0.12.1"
  "snowflake-connector-python==4.8.1"
  "duckdb==2.0.1"
  "sqlglot==30.22.0"
  "starlette==1.10.0"
  "uvicorn==0.54.0"
)
CACHE="$REPO/.cache/fakesnow"
KEY="$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -c1-12)"
VENV="$CACHE/$KEY/venv"
MARKER="$VENV/.complete"
PYTHON="${FAKESNOW_PYTHON:-python3}"

SERVICE_SCRIPT=fakesnow.sh
# shellcheck source=scripts/lib/service.sh
source "$REPO/scripts/lib/service.sh"

# ---------------------------------------------------------------- install

cmd_install() {
  if [[ -f "$MARKER" ]]; then echo "$VENV"; return 0; fi
  mkdir -p "$CACHE/$KEY"
  # Serialise concurrent installs (e.g. parallel test scripts).
  exec 9>"$CACHE/.install.lock"
  flock -w 900 9 || die "timed out waiting for $CACHE/.install.lock"
  if [[ -f "$MARKER" ]]; then exec 9>&-; echo "$VENV"; return 0; fi
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (needed to build the fakesnow virtualenv)"
  local t0; t0=$(now)
  log "installing ${PINS[*]} into $VENV ..."
  # The venv is built in place of its final path: venvs hard-code their path
  # in scripts, so it cannot be moved after the install.
  rm -rf "$VENV"
  if ! { "$PYTHON" -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"; } \
       >"$CACHE/$KEY/install.log" 2>&1; then
    tail -n 40 "$CACHE/$KEY/install.log" >&2
    rm -rf "$VENV"
    die "pip install failed (full log: $CACHE/$KEY/install.log)"
  fi
  "$VENV/bin/fakesnow" --help >/dev/null 2>>"$CACHE/$KEY/install.log" \
    || { tail -n 20 "$CACHE/$KEY/install.log" >&2; rm -rf "$VENV"; die "installed fakesnow does not run"; }
  "$VENV/bin/pip" freeze >"$VENV/freeze.txt" 2>/dev/null || true
  touch "$MARKER"
  log "installed fakesnow into $VENV in $(elapsed "$t0")s"
  exec 9>&-
  echo "$VENV"
}

# ---------------------------------------------------------------- helpers

free_port() {
  "$PYTHON" -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Exit 0 when the server on $1 answers a Snowflake login request.
probe() {
  "$VENV/bin/python" - "$1" <<'EOF'
import json, sys, urllib.request
req = urllib.request.Request(
    f"http://127.0.0.1:{sys.argv[1]}/session/v1/login-request",
    data=json.dumps({"data": {"SESSION_PARAMETERS": {}}}).encode(),
    headers={"Content-Type": "application/json"}, method="POST")
with urllib.request.urlopen(req, timeout=5) as r:
    sys.exit(0 if json.load(r).get("success") else 1)
EOF
}

pid_alive() {  # pid is alive and is a fakesnow server (guards against PID reuse)
  local pid="$1"
  [[ -n "$pid" ]] && running "$pid" \
    && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"fakesnow -s "* ]]
}


# ---------------------------------------------------------------- start/stop

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $0 start DIR"
  local dir t0; dir="$(abs_dir "$1")"; t0=$(now)
  if pid_alive "$(cat "$dir/fakesnow.pid" 2>/dev/null || true)"; then
    die "a server is already running for $dir (pid $(cat "$dir/fakesnow.pid")); stop it first"
  fi
  cmd_install >/dev/null
  local timeout="${FAKESNOW_START_TIMEOUT:-60}" attempt port pid state
  # The deadline counts from here: a first install does not eat into it.
  local deadline; deadline=$(awk -v t="$(now)" -v d="$timeout" 'BEGIN{printf "%d", t+d}')
  for attempt in 1 2 3; do
    port="${FAKESNOW_PORT:-$(free_port)}"
    rm -f "$dir/addr"
    [[ -s "$dir/fakesnow.log" ]] && mv -f "$dir/fakesnow.log" "$dir/fakesnow.log.1"
    nohup "$VENV/bin/fakesnow" -s -p "$port" --host 127.0.0.1 </dev/null >>"$dir/fakesnow.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/fakesnow.pid"
    state="wait"
    while :; do
      if ! running "$pid"; then state=died; break; fi
      if (( $(date +%s) >= deadline )); then state=timeout; break; fi
      if probe "$port" 2>/dev/null; then state=ready; break; fi
      sleep 0.2
    done
    if [[ $state == ready ]]; then
      if [[ -n "${FAKESNOW_WATCH_PID:-}" ]]; then
        start_watchdog "$FAKESNOW_WATCH_PID" "$pid" "${FAKESNOW_STOP_TIMEOUT:-10}" fakesnow-watchdog "$dir/watchdog.pid"
      fi
      echo "127.0.0.1:$port" >"$dir/addr"
      log "server ready at 127.0.0.1:$port (pid $pid, dir $dir) in $(elapsed "$t0")s"
      echo "127.0.0.1:$port"
      return 0
    fi
    if [[ $state == died && -z "${FAKESNOW_PORT:-}" ]] && grep -q 'address already in use' "$dir/fakesnow.log"; then
      log "port collision on $port, retrying with a new port (attempt $attempt)"
      rm -f "$dir/fakesnow.pid"
      continue
    fi
    break
  done
  log "server failed to become ready ($state) after $(elapsed "$t0")s; last log lines ($dir/fakesnow.log):"
  tail -n 40 "$dir/fakesnow.log" >&2 || true
  cmd_stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 stop DIR"
  local dir="$1" pid
  [[ -d "$dir" ]] || return 0
  pid=$(cat "$dir/fakesnow.pid" 2>/dev/null || true)
  if pid_alive "$pid"; then
    stop_pid "$pid" "${FAKESNOW_STOP_TIMEOUT:-10}" server
  fi
  stop_watchdog "$dir/watchdog.pid" fakesnow-watchdog
  rm -f "$dir/fakesnow.pid" "$dir/watchdog.pid" "$dir/addr"
}

cmd_status() {
  [[ $# -eq 1 ]] || die "usage: $0 status DIR"
  if pid_alive "$(cat "$1/fakesnow.pid" 2>/dev/null || true)" && [[ -f "$1/addr" ]]; then
    cat "$1/addr"
  else
    log "no server running for $1"; return 1
  fi
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start)   shift; cmd_start "$@" ;;
  stop)    shift; cmd_stop "$@" ;;
  status)  shift; cmd_status "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
