#!/usr/bin/env bash
# Real Prometheus (and promtool) for tests, from Debian's `prometheus` package.
# Unpacked with `apt-get download` + `dpkg -x` into .cache/prometheus: nothing is
# installed into the system (root is needed only if apt's package lists are missing
# and `apt-get update` must run), no Docker, no tarball download.
#
# Usage:
#   scripts/prometheus.sh install             download + unpack once into .cache/prometheus;
#                                             prints the directory holding the prometheus
#                                             and promtool binaries (no download when cached)
#   scripts/prometheus.sh start DIR [CONFIG]  start Prometheus with storage in DIR/data and
#                                             CONFIG (default deploy/prometheus/prometheus.yml)
#                                             on a free loopback port; waits for /-/ready and
#                                             prints its address (127.0.0.1:PORT) on stdout and
#                                             writes it to DIR/address
#   scripts/prometheus.sh stop DIR            stop the server of DIR (TERM, then KILL); idempotent
#   scripts/prometheus.sh status DIR          exit 0 and print the address if running
#   scripts/prometheus.sh promtool [ARG...]   run the cached promtool, e.g.
#                                             promtool check rules deploy/prometheus/rules/*.yml
#
# stdout carries only results (bin dir, address, promtool's output); progress goes to stderr.
# Files in DIR: data/ (TSDB), prometheus.log (previous run: prometheus.log.1),
#   prometheus.pid, address, config (the absolute CONFIG path used), watchdog.pid
#   (with PROMETHEUS_WATCH_PID).
# Relative paths in CONFIG (rule_files) resolve against CONFIG's directory, as always
# with Prometheus; CONFIG is used in place, not copied. The lifecycle API is on:
# `curl -X POST http://ADDR/-/reload` re-reads CONFIG and its rules.
# A second `start` on a stopped DIR keeps the TSDB in DIR/data (on a new port unless
# PROMETHEUS_PORT is set). `rm -rf DIR` after `stop` discards everything.
#
# Environment (all optional):
#   PROMETHEUS_DEB_VERSION  Debian package version to fetch   (default 2.42.0+ds-5+deb12u1;
#                           when the archive no longer has it, the candidate is used)
#   PROMETHEUS_PORT         web/API port                       (default: a free port)
#   PROMETHEUS_RETENTION    TSDB retention time                (default 1d)
#   PROMETHEUS_EXTRA_ARGS   extra prometheus flags (space separated), appended last
#   PROMETHEUS_START_TIMEOUT seconds to wait for /-/ready      (default 60)
#   PROMETHEUS_STOP_TIMEOUT seconds between TERM and KILL      (default 30)
#   PROMETHEUS_WATCH_PID    if set, a watchdog kills the server when this PID exits
#                           (e.g. the test process, so a crashed test leaks no server)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROMETHEUS_DEB_VERSION="${PROMETHEUS_DEB_VERSION:-2.42.0+ds-5+deb12u1}"
CACHE="$REPO/.cache/prometheus"
ROOT="$CACHE/root"      # the unpacked package (dpkg -x)
BIN="$ROOT/usr/bin"
MARKER="$ROOT/.complete" # holds the .deb file name it was unpacked from
DEFAULT_CONFIG="$REPO/deploy/prometheus/prometheus.yml"

SERVICE_SCRIPT=prometheus.sh
# shellcheck source=scripts/lib/service.sh
source "$REPO/scripts/lib/service.sh"

# ---------------------------------------------------------------- install

installed() {
  [[ -f "$MARKER" && -x "$BIN/prometheus" && -x "$BIN/promtool" ]]
}

# Both binaries start on this machine (Debian links them against libc only, but a
# machine without the right glibc would fail here rather than at first use).
binaries_run() {  # BINDIR
  "$1/prometheus" --version >/dev/null 2>&1 && "$1/promtool" --version >/dev/null 2>&1
}

# apt-get download PKG into the current directory; on a machine whose package lists
# are missing or stale, refresh them once (needs root) and retry.
apt_download() {  # PKG LOG
  local pkg="$1" logf="$2" sandbox=()
  # As root, apt drops to the _apt user for downloads and warns when that user
  # cannot write here; stay root instead (the file lands in our own cache).
  [[ $(id -u) -eq 0 ]] && sandbox=(-o APT::Sandbox::User=root)
  apt-get "${sandbox[@]}" -q download "$pkg" >>"$logf" 2>&1 && return 0
  if [[ $(id -u) -eq 0 ]]; then
    log "apt-get download $pkg failed; running apt-get update once and retrying"
    apt-get -q update >>"$logf" 2>&1 || true
    apt-get "${sandbox[@]}" -q download "$pkg" >>"$logf" 2>&1 && return 0
  fi
  return 1
}

cmd_install() {
  [[ $# -eq 0 ]] || die "usage: $0 install"
  if installed; then echo "$BIN"; return 0; fi
  mkdir -p "$CACHE"
  # Serialise concurrent installs (e.g. parallel test packages).
  exec 9>"$CACHE/.install.lock"
  flock -w 600 9 || die "timed out waiting for $CACHE/.install.lock"
  if installed; then exec 9>&-; echo "$BIN"; return 0; fi
  command -v apt-get >/dev/null || die "apt-get not found (Debian's prometheus package is fetched with it)"
  command -v dpkg >/dev/null || die "dpkg not found (needed to unpack the package)"
  local t0 tmp logf deb; t0=$(now)
  tmp="$CACHE/tmp.$$"; logf="$CACHE/install.log"
  rm -rf "$tmp"; mkdir -p "$tmp"; : >"$logf"
  log "fetching Debian's prometheus $PROMETHEUS_DEB_VERSION with apt-get download ..."
  if ! (cd "$tmp" && apt_download "prometheus=$PROMETHEUS_DEB_VERSION" "$logf"); then
    log "prometheus=$PROMETHEUS_DEB_VERSION is not available; trying the candidate version"
    if ! (cd "$tmp" && apt_download prometheus "$logf"); then
      tail -n 20 "$logf" >&2; rm -rf "$tmp"
      die "apt-get download prometheus failed (full log: $logf)"
    fi
  fi
  local debs=("$tmp"/prometheus_*.deb)
  [[ -f "${debs[0]}" ]] || { rm -rf "$tmp"; die "apt-get download left no prometheus_*.deb in $tmp"; }
  deb="${debs[0]##*/}"
  if ! dpkg -x "$tmp/$deb" "$tmp/root" >>"$logf" 2>&1; then
    tail -n 20 "$logf" >&2; rm -rf "$tmp"; die "dpkg -x $deb failed (full log: $logf)"
  fi
  if ! binaries_run "$tmp/root/usr/bin"; then
    "$tmp/root/usr/bin/promtool" --version >&2 || true
    ldd "$tmp/root/usr/bin/prometheus" >&2 || true
    rm -rf "$tmp"; die "the unpacked prometheus/promtool do not run on this machine"
  fi
  echo "$deb" >"$tmp/root/.complete"
  rm -rf "$ROOT"; mv "$tmp/root" "$ROOT"; rm -rf "$tmp"
  log "unpacked $deb into $ROOT in $(elapsed "$t0")s ($("$BIN/prometheus" --version 2>&1 | head -n 1))"
  exec 9>&-
  echo "$BIN"
}

# ---------------------------------------------------------------- helpers

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
  else
    local p
    while :; do
      p=$((20000 + RANDOM % 40000))
      port_open "$p" || { echo "$p"; return; }
    done
  fi
}


# GET http://ADDR/PATH, body on stdout; fails on a non-2xx answer.
http_get() {  # ADDR PATH
  if command -v curl >/dev/null; then
    curl -fsS --max-time 5 "http://$1$2"
  else
    python3 -c '
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://" + sys.argv[1] + sys.argv[2], timeout=5).read().decode())' "$1" "$2"
  fi
}

pid_alive() {  # PID DIR: pid is alive and is OUR prometheus for DIR (guards against PID reuse)
  local pid="$1" dir="$2"
  [[ -n "$pid" ]] && running "$pid" \
    && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"--storage.tsdb.path=$dir/data "* ]]
}

abs_file() { [[ -f "$1" ]] || die "no such file: $1"; echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

launch() {  # DIR CONFIG PORT -> sets SERVER_PID
  local dir="$1" config="$2" port="$3"
  # shellcheck disable=SC2086  # word splitting of PROMETHEUS_EXTRA_ARGS is intended
  nohup "$BIN/prometheus" \
    --config.file="$config" \
    --web.listen-address="127.0.0.1:$port" \
    --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time="${PROMETHEUS_RETENTION:-1d}" \
    --web.enable-lifecycle \
    --web.local-assets="$ROOT/usr/share/prometheus/web/" \
    --web.console.templates="$ROOT/etc/prometheus/consoles" \
    --web.console.libraries="$ROOT/etc/prometheus/console_libraries" \
    ${PROMETHEUS_EXTRA_ARGS:-} \
    </dev/null >>"$dir/prometheus.log" 2>&1 &
  SERVER_PID=$!
  echo "$SERVER_PID" >"$dir/prometheus.pid"
  if [[ -n "${PROMETHEUS_WATCH_PID:-}" ]]; then
    start_watchdog "$PROMETHEUS_WATCH_PID" "$SERVER_PID" "${PROMETHEUS_STOP_TIMEOUT:-30}" prometheus-watchdog "$dir/watchdog.pid"
  fi
}

# ---------------------------------------------------------------- start/stop

cmd_start() {
  [[ $# -ge 1 && $# -le 2 ]] || die "usage: $0 start DIR [CONFIG]"
  local dir config t0; config="$(abs_file "${2:-$DEFAULT_CONFIG}")"; dir="$(abs_dir "$1")"; t0=$(now)
  if pid_alive "$(cat "$dir/prometheus.pid" 2>/dev/null || true)" "$dir"; then
    die "a Prometheus is already running for $dir (pid $(cat "$dir/prometheus.pid")); stop it first"
  fi
  cmd_install >/dev/null
  # A bad config or rule file would only show as an early exit; say why up front.
  "$BIN/promtool" check config "$config" >"$dir/check-config.log" 2>&1 \
    || { cat "$dir/check-config.log" >&2; die "promtool check config $config failed"; }
  local timeout="${PROMETHEUS_START_TIMEOUT:-60}"
  local deadline; deadline=$(awk -v t="$t0" -v d="$timeout" 'BEGIN{printf "%d", t+d}')
  local attempt port state addr
  rm -f "$dir/address"
  echo "$config" >"$dir/config"
  for attempt in 1 2 3; do
    port="${PROMETHEUS_PORT:-$(free_port)}"
    addr="127.0.0.1:$port"
    [[ -s "$dir/prometheus.log" ]] && mv -f "$dir/prometheus.log" "$dir/prometheus.log.1"
    launch "$dir" "$config" "$port"
    state="wait"
    while :; do
      if ! running "$SERVER_PID"; then state=died; break; fi
      if (( $(date +%s) >= deadline )); then state=timeout; break; fi
      # Ready = /-/ready answers 200 from the process we started (a foreign server on
      # the port would not be ours: check that our pid still runs and the port is bound).
      if http_get "$addr" /-/ready >/dev/null 2>&1 && running "$SERVER_PID"; then
        state=ready; break
      fi
      sleep 0.2
    done
    if [[ $state == ready ]]; then
      echo "$addr" >"$dir/address"
      log "Prometheus ready at $addr (pid $SERVER_PID, dir $dir, config $config) in $(elapsed "$t0")s"
      echo "$addr"
      return 0
    fi
    if [[ $state == died && -z "${PROMETHEUS_PORT:-}" ]] \
       && grep -q 'address already in use' "$dir/prometheus.log"; then
      log "port collision on $port, retrying with a new port (attempt $attempt)"
      rm -f "$dir/prometheus.pid"
      continue
    fi
    break
  done
  log "Prometheus failed to become ready ($state) after $(elapsed "$t0")s; last log lines ($dir/prometheus.log):"
  tail -n 40 "$dir/prometheus.log" >&2 || true
  cmd_stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 stop DIR"
  [[ -d "$1" ]] || return 0
  local dir pid; dir="$(cd "$1" && pwd)"
  pid=$(cat "$dir/prometheus.pid" 2>/dev/null || true)
  if pid_alive "$pid" "$dir"; then
    stop_pid "$pid" "${PROMETHEUS_STOP_TIMEOUT:-30}" Prometheus
  fi
  stop_watchdog "$dir/watchdog.pid" prometheus-watchdog
  rm -f "$dir/prometheus.pid" "$dir/watchdog.pid" "$dir/address"
}

cmd_status() {
  [[ $# -eq 1 ]] || die "usage: $0 status DIR"
  local dir; dir="$(cd "$1" 2>/dev/null && pwd)" || { log "no Prometheus running for $1"; return 1; }
  if pid_alive "$(cat "$dir/prometheus.pid" 2>/dev/null || true)" "$dir" && [[ -f "$dir/address" ]]; then
    cat "$dir/address"
  else
    log "no Prometheus running for $1"; return 1
  fi
}

cmd_promtool() {
  cmd_install >/dev/null
  exec "$BIN/promtool" "$@"
}

case "${1:-}" in
  install)  shift; cmd_install "$@" ;;
  start)    shift; cmd_start "$@" ;;
  stop)     shift; cmd_stop "$@" ;;
  status)   shift; cmd_status "$@" ;;
  promtool) shift; cmd_promtool "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
