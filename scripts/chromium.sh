#!/usr/bin/env bash
# Debian's Chromium for the browser tests (go test -tags browser ./internal/livepage/).
# No browser download of its own (that fails on this machine's closed network): the
# system package from Debian's archive, installed with apt as root.
#
# Usage:
#   scripts/chromium.sh install   install Debian's chromium unless the binary is already
#                                 there (apt-get update first when apt has no candidate);
#                                 prints the binary's path on stdout. Idempotent.
#   scripts/chromium.sh path      print the binary's path, or exit 1 when it is missing
#
# stdout carries only the path; progress goes to stderr.
#
# Environment:
#   GAMEPULSE_CHROMIUM   the binary to use (default /usr/bin/chromium); the browser
#                        test reads the same variable.
#
# Flags the tests start it with (see internal/livepage/browser_test.go): --headless
# --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
# --disable-component-update --disable-sync and a fresh --user-data-dir; without the
# background-networking flags Chromium keeps dialling Google's hosts, which this
# machine refuses.
set -euo pipefail

BIN="${GAMEPULSE_CHROMIUM:-/usr/bin/chromium}"

log() { printf 'chromium.sh: %s\n' "$*" >&2; }

have() { [[ -x $BIN ]]; }

install() {
  if have; then
    echo "$BIN"
    return
  fi
  if [[ $BIN != /usr/bin/chromium ]]; then
    log "GAMEPULSE_CHROMIUM=$BIN does not exist; unset it to install Debian's chromium"
    exit 1
  fi
  if [[ $(id -u) != 0 ]]; then
    log "installing chromium needs root (apt-get); run as root or install it yourself"
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # apt-cache policy prints "Candidate: (none)" (or nothing) before the lists exist.
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    log "apt-get update"
    apt-get update -qq >&2
  fi
  log "apt-get install chromium"
  if ! apt-get install -y -qq --no-install-recommends chromium >&2; then
    log "install failed; apt-get update and one more try (stale package lists?)"
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends chromium >&2
  fi
  if ! have; then
    log "chromium installed but $BIN is missing"
    exit 1
  fi
  log "$("$BIN" --version 2>/dev/null || true)"
  echo "$BIN"
}

case "${1:-}" in
  install) install ;;
  path)
    have || { log "$BIN not found (scripts/chromium.sh install)"; exit 1; }
    echo "$BIN"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
