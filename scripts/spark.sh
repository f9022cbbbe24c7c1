#!/usr/bin/env bash
# A local Apache Spark Connect server (Structured Streaming with the Kafka
# connector) for tests. Spark comes from the pyspark wheel on PyPI (it carries
# the Spark jars, the Spark Connect server and spark-submit), the Kafka
# connector from Maven Central; no Docker, no tarball download.
# See internal/sparkconnect (the Go client) and docs/spark.md.
#
# Usage:
#   scripts/spark.sh install            create the virtualenv .cache/spark/venv (pyspark[connect])
#                                       and fetch the Kafka connector jars into .cache/spark/jars
#                                       once (prints SPARK_HOME; no pip/mvn run when cached)
#   scripts/spark.sh start DIR          start a Spark Connect server in DIR, wait until a test
#                                       query answers; prints its remote (sc://127.0.0.1:PORT)
#                                       on stdout and writes it to DIR/remote
#   scripts/spark.sh stop DIR           stop the server of DIR and its children (TERM, then
#                                       KILL); idempotent
#   scripts/spark.sh kill DIR           KILL the server of DIR at once (as a crash would);
#                                       `start DIR` afterwards brings it back on the same port
#   scripts/spark.sh status DIR         exit 0 and print the remote if running
#
# stdout carries only results (SPARK_HOME, remote); progress goes to stderr.
# Files in DIR: spark.log (previous run: spark.log.1), spark.pid, port, remote,
#   probe.log, watchdog.pid and watch.pid (with SPARK_WATCH_PID), work/ (spark.local.dir, the
#   warehouse dir, java.io.tmpdir). Checkpoints are wherever the queries say.
# A second `start` on a stopped or killed DIR reuses the port kept in DIR/port, so
# clients configured with the old remote reconnect to the new server. A new server
# has no sessions, views or queries: clients restart their queries from their
# checkpoints.
#
# The server runs `local[2]` with spark.sql.shuffle.partitions=2, the UI off, the
# session time zone UTC, and every port on loopback (SPARK_LOCAL_IP,
# spark.connect.grpc.binding.address, spark.driver.bindAddress, spark.driver.host):
# by default Spark binds its internal ports to the machine's external address.
#
# Environment (all optional):
#   SPARK_VERSION          pyspark and connector version           (default 4.2.0)
#   SPARK_PYTHON           python3 to build the virtualenv with    (default python3)
#   SPARK_DRIVER_MEMORY    driver heap (the whole server: local mode) (default 2g)
#   SPARK_MASTER           Spark master                            (default local[2])
#   SPARK_SHUFFLE_PARTITIONS spark.sql.shuffle.partitions          (default 2)
#   SPARK_PORT             Spark Connect gRPC port                 (default: DIR/port, else a free port)
#   SPARK_EXTRA_CONF       extra `key=value` Spark confs (newline separated), passed last
#   SPARK_START_TIMEOUT    seconds to wait for readiness           (default 240)
#   SPARK_STOP_TIMEOUT     seconds between TERM and KILL           (default 20)
#   SPARK_WATCH_PID        if set, a watchdog kills the server when this PID exits
#                          (e.g. the test script, so a crashed test leaks no server);
#                          kept in DIR/watch.pid: a later `start DIR` without the
#                          variable is watched by the same process (set it empty for none)
#   JAVA_HOME              java to use (Spark 4 needs Java 17+; default: java on PATH)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SPARK_VERSION="${SPARK_VERSION:-4.2.0}"
# pandas 3 is not supported by pyspark 4.2's Connect client (the probe uses it).
PINS=("pyspark[connect]==$SPARK_VERSION" "pandas<3")
POM="$REPO/scripts/spark/pom.xml"
# Physical path: a worktree's .cache may be a symlink to another checkout's,
# and a venv keeps the path it was built at.
mkdir -p "$REPO/.cache"
CACHE="$(cd "$REPO/.cache" && pwd -P)/spark"
M2="$REPO/.cache/m2"
VENV="$CACHE/venv"
JARS="$CACHE/jars"
PYTHON="${SPARK_PYTHON:-python3}"
SERVER_CLASS=org.apache.spark.sql.connect.service.SparkConnectServer

SERVICE_SCRIPT=spark.sh
# shellcheck source=scripts/lib/service.sh
source "$REPO/scripts/lib/service.sh"

# ---------------------------------------------------------------- install

venv_key() { printf '%s\n' "${PINS[@]}"; }
jars_key() { printf 'spark=%s pom=%s\n' "$SPARK_VERSION" "$(sha256sum "$POM" | cut -d' ' -f1)"; }
venv_complete() { [[ -f "$VENV/.complete" && "$(cat "$VENV/.complete")" == "$(venv_key)" ]]; }
jars_complete() {
  [[ -f "$JARS/.complete" && "$(cat "$JARS/.complete")" == "$(jars_key)" \
     && -f "$JARS/spark-sql-kafka-0-10_2.13-$SPARK_VERSION.jar" ]]
}
spark_home() { echo "$VENV/lib/$(ls "$VENV/lib")/site-packages/pyspark"; }

install_venv() {
  local t0; t0=$(now)
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (needed to build the pyspark virtualenv)"
  log "installing ${PINS[*]} into $VENV ..."
  # Built in place of its final path: venvs hard-code their path in scripts.
  rm -rf "$VENV"
  if ! { "$PYTHON" -m venv "$VENV" && "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"; } \
       >"$CACHE/install.log" 2>&1; then
    tail -n 40 "$CACHE/install.log" >&2
    rm -rf "$VENV"
    die "pip install failed (full log: $CACHE/install.log)"
  fi
  local home; home=$(spark_home)
  [[ -x "$home/bin/spark-submit" ]] && ls "$home"/jars/spark-connect_2.13-*.jar >/dev/null 2>&1 \
    || { rm -rf "$VENV"; die "the pyspark wheel has no bin/spark-submit or jars/spark-connect_2.13-*.jar"; }
  "$VENV/bin/pip" freeze >"$VENV/freeze.txt" 2>/dev/null || true
  venv_key >"$VENV/.complete"
  log "installed pyspark $SPARK_VERSION into $VENV ($(du -sh "$VENV" | cut -f1)) in $(elapsed "$t0")s"
}

fetch_jars() {
  local t0 tmp j; t0=$(now)
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Spark Kafka connector jars)"
  tmp="$CACHE/jars.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  log "fetching the Spark $SPARK_VERSION Kafka connector jars from Maven Central (repo $M2) ..."
  if ! mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$M2" -f "$POM" -Dspark.version="$SPARK_VERSION" \
         -DincludeScope=runtime -DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true \
         dependency:copy-dependencies >"$CACHE/fetch.log" 2>&1; then
    tail -n 40 "$CACHE/fetch.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full log: $CACHE/fetch.log)"
  fi
  for j in "spark-sql-kafka-0-10_2.13-$SPARK_VERSION.jar" "spark-token-provider-kafka-0-10_2.13-$SPARK_VERSION.jar"; do
    [[ -f "$tmp/$j" ]] || { rm -rf "$tmp"; die "fetch incomplete: $j missing"; }
  done
  ls "$tmp"/kafka-clients-*.jar "$tmp"/commons-pool2-*.jar >/dev/null 2>&1 \
    || { rm -rf "$tmp"; die "fetch incomplete: kafka-clients or commons-pool2 missing"; }
  jars_key >"$tmp/.complete"
  rm -rf "$JARS"; mv "$tmp" "$JARS"
  log "fetched $(find "$JARS" -name '*.jar' | wc -l) jars ($(du -sh "$JARS" | cut -f1)) into $JARS in $(elapsed "$t0")s"
}

cmd_install() {
  [[ $# -eq 0 ]] || die "usage: $0 install"
  if venv_complete && jars_complete; then spark_home; return 0; fi
  mkdir -p "$CACHE"
  # Serialise concurrent installs (e.g. parallel test scripts).
  exec 9>"$CACHE/.install.lock"
  flock -w 900 9 || die "timed out waiting for $CACHE/.install.lock"
  venv_complete || install_venv
  jars_complete || fetch_jars
  exec 9>&-
  spark_home
}

# ---------------------------------------------------------------- helpers

free_port() {
  "$PYTHON" -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes the readiness probe to $1: exit 0 when the server on port ARGV[1]
# answers a SQL query over Spark Connect (with pyspark's own client).
write_probe() {
  cat >"$1" <<'EOF'
import sys
from pyspark.sql import SparkSession
s = SparkSession.builder.remote(f"sc://127.0.0.1:{sys.argv[1]}").getOrCreate()
try:
    got = s.sql("SELECT 41 + 1 AS answer").collect()[0]["answer"]
    sys.exit(0 if got == 42 else 1)
finally:
    s.stop()
EOF
}

pid_alive() {  # pid is alive and is a Spark Connect server (guards against PID reuse)
  local pid="$1"
  [[ -n "$pid" ]] && running "$pid" \
    && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *" $SERVER_CLASS "* ]]
}

# Pids of the process group of $1 (the server starts in its own session, so this
# is the JVM and anything it forked).
group_pids() { ps -o pid= -g "$1" 2>/dev/null | tr -d ' ' || true; }

launch() {  # DIR PORT -> sets SERVER_PID
  local dir="$1" port="$2" home jars conf=()
  home=$(spark_home)
  jars=$(find "$JARS" -name '*.jar' | sort | paste -sd, -)
  mkdir -p "$dir/work/local" "$dir/work/tmp"
  conf=(
    --conf spark.connect.grpc.binding.address=127.0.0.1
    --conf "spark.connect.grpc.binding.port=$port"
    --conf spark.driver.bindAddress=127.0.0.1
    --conf spark.driver.host=127.0.0.1
    --conf "spark.sql.shuffle.partitions=${SPARK_SHUFFLE_PARTITIONS:-2}"
    --conf spark.ui.enabled=false
    --conf spark.sql.session.timeZone=UTC
    --conf "spark.local.dir=$dir/work/local"
    --conf "spark.sql.warehouse.dir=$dir/work/warehouse"
    --conf "spark.driver.extraJavaOptions=-Djava.io.tmpdir=$dir/work/tmp -Dderby.system.home=$dir/work"
  )
  local line
  while IFS= read -r line; do
    [[ -n "$line" ]] && conf+=(--conf "$line")
  done <<<"${SPARK_EXTRA_CONF:-}"
  # setsid: the server leads its own process group, so stop/kill reach every
  # process it starts. spark-submit execs the JVM, so the pid is the server's.
  # cwd DIR: Spark writes stray files (derby.log, metastore_db) to its cwd.
  (cd "$dir" && SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 SPARK_CONF_DIR="$dir/work" \
    PYSPARK_PYTHON="$VENV/bin/python" \
    exec setsid nohup "$home/bin/spark-submit" --class "$SERVER_CLASS" \
      --name "gamepulse-test-spark-connect" \
      --master "${SPARK_MASTER:-local[2]}" --driver-memory "${SPARK_DRIVER_MEMORY:-2g}" \
      --jars "$jars" "${conf[@]}" spark-internal \
      </dev/null >>"$dir/spark.log" 2>&1) &
  SERVER_PID=$!
  echo "$SERVER_PID" >"$dir/spark.pid"
}

# ---------------------------------------------------------------- start/stop

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $0 start DIR"
  local dir t0; dir="$(abs_dir "$1")"; t0=$(now)
  if pid_alive "$(cat "$dir/spark.pid" 2>/dev/null || true)"; then
    die "a server is already running for $dir (pid $(cat "$dir/spark.pid")); stop it first"
  fi
  cmd_install >/dev/null
  local timeout="${SPARK_START_TIMEOUT:-240}" attempt port state keep=0
  # The deadline counts from here: a first install does not eat into it.
  local deadline; deadline=$(awk -v t="$(now)" -v d="$timeout" 'BEGIN{printf "%d", t+d}')
  for attempt in 1 2 3; do
    if [[ -n "${SPARK_PORT:-}" ]]; then port=$SPARK_PORT; keep=1
    elif [[ -s "$dir/port" ]]; then port=$(cat "$dir/port"); keep=1
      log "restarting the server of $dir on its port $port"
    else port=$(free_port); fi
    echo "$port" >"$dir/port"
    rm -f "$dir/remote"
    [[ -s "$dir/spark.log" ]] && mv -f "$dir/spark.log" "$dir/spark.log.1"
    : >"$dir/probe.log"
    launch "$dir" "$port"
    write_probe "$dir/work/probe.py"
    state=wait
    while :; do
      if ! running "$SERVER_PID"; then state=died; break; fi
      if (( $(date +%s) >= deadline )); then state=timeout; break; fi
      if port_open "$port" && timeout 60 "$VENV/bin/python" "$dir/work/probe.py" "$port" \
           >>"$dir/probe.log" 2>&1; then
        state=ready; break
      fi
      sleep 0.5
    done
    if [[ $state == ready ]]; then
      # Unset SPARK_WATCH_PID: a restart (after stop or kill) is watched by
      # the process that watched the first start, if it still runs; set and
      # empty: no watchdog.
      local watch="${SPARK_WATCH_PID-$(cat "$dir/watch.pid" 2>/dev/null || true)}"
      if [[ -n "$watch" ]] && running "$watch"; then
        echo "$watch" >"$dir/watch.pid"
        start_watchdog "$watch" "$SERVER_PID" "${SPARK_STOP_TIMEOUT:-20}" spark-watchdog "$dir/watchdog.pid"
      else
        rm -f "$dir/watch.pid"
      fi
      echo "sc://127.0.0.1:$port" >"$dir/remote"
      log "Spark Connect server ready at sc://127.0.0.1:$port (pid $SERVER_PID, dir $dir) in $(elapsed "$t0")s"
      echo "sc://127.0.0.1:$port"
      return 0
    fi
    if [[ $state == died ]] && ((!keep)) && grep -q 'Address already in use' "$dir/spark.log"; then
      log "port collision on $port, retrying with a new port (attempt $attempt)"
      rm -f "$dir/spark.pid" "$dir/port"
      continue
    fi
    break
  done
  log "server failed to become ready ($state) after $(elapsed "$t0")s; last log lines ($dir/spark.log):"
  tail -n 60 "$dir/spark.log" >&2 || true
  cmd_stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 stop DIR"
  local dir="$1" pid p
  [[ -d "$dir" ]] || return 0
  pid=$(cat "$dir/spark.pid" 2>/dev/null || true)
  if pid_alive "$pid"; then
    local group; group=$(group_pids "$pid")
    stop_pid "$pid" "${SPARK_STOP_TIMEOUT:-20}" server
    for p in $group; do [[ $p != "$pid" ]] && running "$p" && kill -KILL "$p" 2>/dev/null; done
  fi
  stop_watchdog "$dir/watchdog.pid" spark-watchdog
  rm -f "$dir/spark.pid" "$dir/watchdog.pid" "$dir/remote"
}

cmd_kill() {
  [[ $# -eq 1 ]] || die "usage: $0 kill DIR"
  local dir="$1" pid i
  [[ -d "$dir" ]] || return 0
  pid=$(cat "$dir/spark.pid" 2>/dev/null || true)
  if pid_alive "$pid"; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.1; done
    log "server pid $pid killed"
  fi
  stop_watchdog "$dir/watchdog.pid" spark-watchdog
  rm -f "$dir/spark.pid" "$dir/watchdog.pid" "$dir/remote"
}

cmd_status() {
  [[ $# -eq 1 ]] || die "usage: $0 status DIR"
  if pid_alive "$(cat "$1/spark.pid" 2>/dev/null || true)" && [[ -f "$1/remote" ]]; then
    cat "$1/remote"
  else
    log "no server running for $1"; return 1
  fi
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start)   shift; cmd_start "$@" ;;
  stop)    shift; cmd_stop "$@" ;;
  kill)    shift; cmd_kill "$@" ;;
  status)  shift; cmd_status "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
