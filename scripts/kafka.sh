#!/usr/bin/env bash
# Real Apache Kafka (KRaft, single combined broker+controller) for tests.
# Built only from Maven Central jars; no Docker, no tarball download.
# See docs/real-kafka.md.
#
# Usage:
#   scripts/kafka.sh fetch              resolve the broker jars into .cache/kafka/<ver>/libs
#                                       (prints that libs dir; no mvn run when already cached)
#   scripts/kafka.sh start DIR          format + start a broker in DIR, wait until it serves
#                                       requests; prints the bootstrap address (127.0.0.1:PORT)
#                                       on stdout and writes it to DIR/bootstrap
#   scripts/kafka.sh stop DIR           stop the broker of DIR (TERM, then KILL); idempotent
#   scripts/kafka.sh status DIR         exit 0 and print the bootstrap address if running
#   scripts/kafka.sh run CLASS [ARG...] run a Kafka CLI class on the broker classpath, e.g.
#                                       run org.apache.kafka.tools.TopicCommand --bootstrap-server B --list
#
# stdout carries only results (libs dir, bootstrap address); progress goes to stderr.
# Files in DIR: server.properties, log4j2.properties, data/ (log.dirs), kafka.log
#   (previous run: kafka.log.1), kafka.pid, bootstrap, controller_port, format.log,
#   probe.log, watchdog.pid (with KAFKA_WATCH_PID).
# A second `start` on a stopped DIR restarts the same node on the same ports with its
# data (after a KILL the restart takes ~10 s more: the old broker session must expire).
# `rm -rf DIR` after `stop` discards everything.
#
# Environment (all optional):
#   KAFKA_VERSION          Kafka version to fetch/run            (default 4.4.0)
#   KAFKA_LOG4J_VERSION    log4j2 version for the slf4j bridge    (default: the pom's)
#   KAFKA_HEAP_OPTS        broker heap                            (default "-Xmx512m -Xms256m")
#   KAFKA_JVM_PERFORMANCE_OPTS  broker GC/JIT flags               (default: Kafka's G1 flags)
#   KAFKA_OPTS             extra broker JVM flags
#   KAFKA_PORT             PLAINTEXT port                         (default: a free port)
#   KAFKA_CONTROLLER_PORT  CONTROLLER port                        (default: a free port)
#   KAFKA_EXTRA_PROPS      extra server.properties lines (newline separated), appended last
#   KAFKA_START_TIMEOUT    seconds to wait for readiness          (default 90)
#   KAFKA_STOP_TIMEOUT     seconds between TERM and KILL          (default 30)
#   KAFKA_WATCH_PID        if set, a watchdog kills the broker when this PID exits
#                          (e.g. the test process, so a crashed test leaks no broker)
#   JAVA_HOME / JAVA       java to use (Kafka 4 brokers need Java 17+)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
POM="$REPO/scripts/kafka/pom.xml"
CACHE="$REPO/.cache"
M2="$CACHE/m2"
KHOME="$CACHE/kafka/$KAFKA_VERSION"
LIBS="$KHOME/libs"
MARKER="$LIBS/.complete"
if [[ -n "${JAVA:-}" ]]; then :
elif [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java; fi

SERVICE_SCRIPT=kafka.sh
# shellcheck source=scripts/lib/service.sh
source "$REPO/scripts/lib/service.sh"

# ---------------------------------------------------------------- fetch

# Identifies what a complete libs dir was built from; a change re-fetches.
fetch_key() {
  printf 'kafka=%s log4j=%s pom=%s\n' "$KAFKA_VERSION" "${KAFKA_LOG4J_VERSION:-default}" \
    "$(sha256sum "$POM" | cut -d' ' -f1)"
}

libs_complete() {
  [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(fetch_key)" \
     && -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]]
}

cmd_fetch() {
  if libs_complete; then echo "$LIBS"; return 0; fi
  mkdir -p "$CACHE/kafka"
  # Serialise concurrent fetches (e.g. parallel test packages).
  exec 9>"$CACHE/kafka/.fetch.lock"
  flock -w 900 9 || die "timed out waiting for $CACHE/kafka/.fetch.lock"
  if libs_complete; then exec 9>&-; echo "$LIBS"; return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch Kafka $KAFKA_VERSION jars)"
  local t0 tmp; t0=$(now)
  tmp="$KHOME/libs.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central (repo $M2) ..."
  local mvnargs=(-q -B -Dstyle.color=never -Dmaven.repo.local="$M2" -f "$POM"
                 -Dkafka.version="$KAFKA_VERSION"
                 -DincludeScope=runtime -DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true)
  [[ -n "${KAFKA_LOG4J_VERSION:-}" ]] && mvnargs+=(-Dlog4j.version="$KAFKA_LOG4J_VERSION")
  if ! mvn "${mvnargs[@]}" dependency:copy-dependencies >"$KHOME/fetch.log" 2>&1; then
    tail -n 40 "$KHOME/fetch.log" >&2
    rm -rf "$tmp"
    die "mvn dependency:copy-dependencies failed (full log: $KHOME/fetch.log)"
  fi
  local j
  for j in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" \
           "kafka-server-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar"; do
    [[ -f "$tmp/$j" ]] || { rm -rf "$tmp"; die "fetch incomplete: $j missing"; }
  done
  ls "$tmp"/log4j-slf4j-impl-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "fetch incomplete: log4j-slf4j-impl missing"; }
  fetch_key >"$tmp/.complete"
  rm -rf "$LIBS"; mv "$tmp" "$LIBS"
  log "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) into $LIBS in $(elapsed "$t0")s"
  exec 9>&-
  echo "$LIBS"
}

# ---------------------------------------------------------------- helpers

# Runs a class on the Kafka classpath with a small, fast-starting JVM and WARN logging.
# Use as: "${TOOL[@]}" CLASS ARGS...  (after tool_init)
tool_init() {
  local cfg="$KHOME/tools-log4j2.properties"
  if [[ ! -f "$cfg" ]]; then
    cat >"$cfg.$$" <<'EOF'
status = warn
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = STDERR
EOF
    mv "$cfg.$$" "$cfg"
  fi
  TOOL=("$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$cfg" -cp "$LIBS/*")
}

# Prints two distinct free loopback TCP ports.
free_ports() {
  if command -v python3 >/dev/null; then
    python3 - <<'EOF'
import socket
ss = []
for _ in range(2):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    ss.append(s)
print(*[s.getsockname()[1] for s in ss])
EOF
  else
    local out=() p
    while ((${#out[@]} < 2)); do
      p=$((20000 + RANDOM % 40000))
      [[ " ${out[*]-} " == *" $p "* ]] && continue
      port_open "$p" || out+=("$p")
    done
    echo "${out[@]}"
  fi
}


# Base64url (no padding) of 16 random bytes, not starting with '-' (Kafka's Uuid format).
cluster_id() {
  if command -v python3 >/dev/null; then
    python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"): print(s); break'
  else
    "${TOOL[@]}" kafka.tools.StorageTool random-uuid
  fi
}

pid_alive() {  # pid is alive and is a Kafka broker (guards against PID reuse)
  local pid="$1"
  [[ -n "$pid" ]] && running "$pid" \
    && [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *" kafka.Kafka "* ]]
}


write_config() {  # DIR PORT CPORT
  local dir="$1" port="$2" cport="$3"
  cat >"$dir/server.properties" <<EOF
# Generated by scripts/kafka.sh: single-node KRaft, broker+controller combined.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
EOF
  if [[ -n "${KAFKA_EXTRA_PROPS:-}" ]]; then
    printf '# KAFKA_EXTRA_PROPS\n%s\n' "$KAFKA_EXTRA_PROPS" >>"$dir/server.properties"
  fi
  cat >"$dir/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF
  echo "$cport" >"$dir/controller_port"
}

launch() {  # DIR -> sets BROKER_PID
  local dir="$1"
  local heap="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
  local perf="${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
  # shellcheck disable=SC2086  # word splitting of the option strings is intended
  nohup "$JAVA" $heap $perf ${KAFKA_OPTS:-} \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$LIBS/*" kafka.Kafka "$dir/server.properties" \
    </dev/null >>"$dir/kafka.log" 2>&1 &
  BROKER_PID=$!
  echo "$BROKER_PID" >"$dir/kafka.pid"
  if [[ -n "${KAFKA_WATCH_PID:-}" ]]; then
    start_watchdog "$KAFKA_WATCH_PID" "$BROKER_PID" "${KAFKA_STOP_TIMEOUT:-30}" kafka-watchdog "$dir/watchdog.pid"
  fi
}

# ---------------------------------------------------------------- start/stop

cmd_start() {
  [[ $# -eq 1 ]] || die "usage: $0 start DIR"
  local dir t0; dir="$(abs_dir "$1")"; t0=$(now)
  if pid_alive "$(cat "$dir/kafka.pid" 2>/dev/null || true)"; then
    die "a broker is already running for $dir (pid $(cat "$dir/kafka.pid")); stop it first"
  fi
  cmd_fetch >/dev/null
  tool_init
  local timeout="${KAFKA_START_TIMEOUT:-90}"
  local deadline; deadline=$(awk -v t="$t0" -v d="$timeout" 'BEGIN{printf "%d", t+d}')
  local attempt port cport cid restart=0
  if [[ -f "$dir/data/meta.properties" && -f "$dir/server.properties" ]]; then
    restart=1  # formatted before: keep data, ports and config
  fi
  for attempt in 1 2 3; do
    if ((restart)); then
      port=$(sed -n 's#^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),.*#\1#p' "$dir/server.properties")
      cport=$(cat "$dir/controller_port")
      log "restarting existing broker in $dir on port $port"
    else
      read -r port cport < <(free_ports)
      port="${KAFKA_PORT:-$port}"; cport="${KAFKA_CONTROLLER_PORT:-$cport}"
      rm -rf "$dir/data" "$dir/bootstrap"
      write_config "$dir" "$port" "$cport"
      if ! "${TOOL[@]}" kafka.tools.StorageTool format -t "$(cluster_id)" \
             -c "$dir/server.properties" >"$dir/format.log" 2>&1; then
        cat "$dir/format.log" >&2
        die "kafka storage format failed"
      fi
    fi
    [[ -s "$dir/kafka.log" ]] && mv -f "$dir/kafka.log" "$dir/kafka.log.1"
    : >"$dir/probe.log"
    cid=$(sed -n 's/^cluster.id=//p' "$dir/data/meta.properties")
    [[ -n "$cid" ]] || die "no cluster.id in $dir/data/meta.properties"
    launch "$dir"
    local bootstrap="127.0.0.1:$port" state=wait got
    while :; do
      if ! running "$BROKER_PID"; then state=died; break; fi
      if (( $(date +%s) >= deadline )); then state=timeout; break; fi
      # Ready = the PLAINTEXT port accepts connections (KRaft opens it only once the
      # broker is unfenced) AND a real Kafka request (DescribeCluster via ClusterTool)
      # answers with OUR cluster id (so a foreign process on the port can't fool us).
      if port_open "$port" && got=$(timeout 20 "${TOOL[@]}" org.apache.kafka.tools.ClusterTool \
           cluster-id --bootstrap-server "$bootstrap" 2>>"$dir/probe.log"); then
        if [[ "$got" == *"Cluster ID: $cid"* ]]; then state=ready; break; fi
        echo "probe: $bootstrap answered '$got', want cluster id $cid" >>"$dir/probe.log"
      fi
      sleep 0.2
    done
    if [[ $state == ready ]]; then
      echo "$bootstrap" >"$dir/bootstrap"
      log "broker ready at $bootstrap (pid $BROKER_PID, dir $dir) in $(elapsed "$t0")s"
      echo "$bootstrap"
      return 0
    fi
    if [[ $state == died ]] && ((!restart)) && [[ -z "${KAFKA_PORT:-}${KAFKA_CONTROLLER_PORT:-}" ]] \
       && grep -q 'Address already in use' "$dir/kafka.log"; then
      log "port collision on $port/$cport, retrying with new ports (attempt $attempt)"
      rm -f "$dir/kafka.pid"
      continue
    fi
    break
  done
  log "broker failed to become ready ($state) after $(elapsed "$t0")s; last log lines ($dir/kafka.log):"
  tail -n 60 "$dir/kafka.log" >&2 || true
  cmd_stop "$dir" >/dev/null 2>&1 || true
  exit 1
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: $0 stop DIR"
  local dir="$1" pid
  [[ -d "$dir" ]] || return 0
  pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
  if pid_alive "$pid"; then
    stop_pid "$pid" "${KAFKA_STOP_TIMEOUT:-30}" broker
  fi
  stop_watchdog "$dir/watchdog.pid" kafka-watchdog
  rm -f "$dir/kafka.pid" "$dir/watchdog.pid"
}

cmd_status() {
  [[ $# -eq 1 ]] || die "usage: $0 status DIR"
  if pid_alive "$(cat "$1/kafka.pid" 2>/dev/null || true)" && [[ -f "$1/bootstrap" ]]; then
    cat "$1/bootstrap"
  else
    log "no broker running for $1"; return 1
  fi
}

cmd_run() {
  [[ $# -ge 1 ]] || die "usage: $0 run CLASS [ARG...]"
  cmd_fetch >/dev/null
  tool_init
  exec "${TOOL[@]}" "$@"
}

case "${1:-}" in
  fetch)  shift; cmd_fetch "$@" ;;
  start)  shift; cmd_start "$@" ;;
  stop)   shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  run)    shift; cmd_run "$@" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
