# Shared by the scripts that start a test service in the background
# (kafka.sh, fakesnow.sh, prometheus.sh): logging, timing, process checks,
# the watchdog and the TERM-then-KILL stop. Source it after setting
# SERVICE_SCRIPT (the name in log lines).

log() { printf '%s: %s\n' "$SERVICE_SCRIPT" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid exists and is not a zombie (an exited orphan stays a zombie until init reaps it,
# which can take seconds here, and kill -0 still succeeds on it).
running() {
  local st
  kill -0 "$1" 2>/dev/null || return 1
  st=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  st=${st##*) }
  [[ "${st%% *}" != [ZX] ]]
}

# start_watchdog WATCHED PID GRACE TAG PIDFILE: a background process that
# stops PID (TERM, then KILL after GRACE seconds) when WATCHED exits, so a
# crashed test leaks no server. Its command line carries TAG (stop_watchdog
# checks it); its pid goes to PIDFILE.
start_watchdog() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  nohup bash -c "$(declare -f running)"'
    while running "$1" && running "$2"; do sleep 1; done
    running "$2" || exit 0
    kill -TERM "$2" 2>/dev/null
    for ((i = 0; i < $3 * 10; i++)); do running "$2" || exit 0; sleep 0.1; done
    kill -KILL "$2" 2>/dev/null' "$4" "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
  echo $! >"$5"
}

# stop_pid PID GRACE WHAT: TERM, then KILL after GRACE seconds.
stop_pid() {
  local pid="$1" grace="$2" what="$3" t0 i n
  t0=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  n=$((grace * 10))
  for ((i = 0; i < n; i++)); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then
    log "$what pid $pid ignored TERM for ${grace}s; sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do running "$pid" || break; sleep 0.1; done
  fi
  log "$what pid $pid stopped in $(elapsed "$t0")s"
}

# stop_watchdog PIDFILE TAG: stops the watchdog start_watchdog started, if
# the pid is still that watchdog.
stop_watchdog() {
  local w
  w=$(cat "$1" 2>/dev/null || true)
  if [[ -n "$w" ]] && running "$w" \
     && [[ "$(tr '\0' ' ' <"/proc/$w/cmdline" 2>/dev/null)" == *" $2 "* ]]; then
    kill "$w" 2>/dev/null || true
  fi
}
