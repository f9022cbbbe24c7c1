#!/usr/bin/env bash
# Gateway benchmark against real Apache Kafka (see docs/benchmarks.md):
# peak events/s and events per gateway CPU-second for JSON and Protobuf
# batches of 100, then latency at half of each peak.
#
#   scripts/bench.sh                 # all of it, ~3 minutes
#   DURATION=30s scripts/bench.sh    # longer runs
#   PROFILE=1 scripts/bench.sh       # also save a CPU profile of the JSON peak run
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
DURATION=${DURATION:-20s}
CONC=${CONC:-8}
mkdir -p artifacts
go build -o bin/ ./cmd/gamepulse ./cmd/gamepulse-bench # the processor harness: bin/gamepulse-bench process (docs/benchmarks.md)

KDIR=$(mktemp -d "${TMPDIR:-/tmp}/gamepulse-bench-kafka.XXXXXX")
GW_PID=
cleanup() {
  [[ -n $GW_PID ]] && kill "$GW_PID" 2>/dev/null && wait "$GW_PID" 2>/dev/null || true
  scripts/kafka.sh stop "$KDIR" >/dev/null 2>&1 || true
  rm -rf "$KDIR"
}
trap cleanup EXIT
BOOTSTRAP=$(KAFKA_WATCH_PID=$$ scripts/kafka.sh start "$KDIR")

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(freeport)
ADMIN_PORT=$(freeport) # /metrics and --pprof are on the admin address, not the public port
GAMEPULSE_API_KEYS=bench-key=bench-game bin/gamepulse gateway --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$ADMIN_PORT" \
  --brokers "$BOOTSTRAP" --rate-limit 0 --partitions 6 --pprof --log-level warn 2>artifacts/bench-gateway.log &
GW_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done

OUT=artifacts/bench-gateway.jsonl
: >"$OUT"
lt() { bin/gamepulse loadtest --gateway "http://127.0.0.1:$PORT" --api-key bench-key --gateway-pid "$GW_PID" \
  --concurrency "$CONC" --duration "$DURATION" --json "$@" | tee -a "$OUT"; }
peak() { python3 -c 'import json,sys; print(json.loads(sys.stdin.readlines()[-1])["events_per_second"])' <"$OUT"; }

for fmt in json protobuf; do
  if [[ ${PROFILE:-} == 1 && $fmt == json ]]; then
    (sleep 5; curl -fs "http://127.0.0.1:$ADMIN_PORT/debug/pprof/profile?seconds=10" -o artifacts/gateway-json.pprof) &
  fi
  lt --format "$fmt"
  half=$(python3 -c "print(int($(peak) / 2))")
  lt --format "$fmt" --rate "$half"
done
wait

echo
echo "| format | target | events/s | p50 ms | p99 ms | p99.9 ms | gateway CPU-s | events per gateway CPU-s | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
python3 - "$OUT" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    target = "peak" if r["target_rate"] == 0 else f'{r["target_rate"]:.0f}/s (half)'
    print(f'| {r["format"]} | {target} | {r["events_per_second"]:,.0f} | {r["p50_ms"]:.2f} | {r["p99_ms"]:.2f} | {r["p999_ms"]:.2f} | {r["gateway_cpu_seconds"]:.1f} | {r["events_per_gateway_cpu_second"]:,.0f} | {r["errors"]} |')
PY
