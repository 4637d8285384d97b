#!/usr/bin/env bash
# Starts the daemon through the launcher as the README shows (single-node default, on free
# ports in a scratch directory), waits for /health/ready, stops it with SIGTERM and checks
# the clean exit. Bounded: gives up after 60 s.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web_port=$(free_port)
api_port=$(free_port)

cd "$work"
CAPSTAN_WEB_PORT=$web_port CAPSTAN_API_PORT=$api_port CAPSTAN_DATA_DIR="$work/data" \
  "$root/scripts/capstan" serve >"$work/out.log" 2>&1 &
pid=$!

ready=""
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$web_port/health/ready" >"$work/ready.json" 2>/dev/null; then
    ready=yes
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if [[ -z "$ready" ]]; then
  echo "smoke: daemon never became ready; its log:" >&2
  cat "$work/out.log" >&2
  exit 1
fi
echo "smoke: ready: $(cat "$work/ready.json")"

kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
if [[ $code -ne 0 ]]; then
  echo "smoke: exit code $code after SIGTERM, expected 0; its log:" >&2
  cat "$work/out.log" >&2
  exit 1
fi
"$root/scripts/capstan" version
echo "smoke: 1 passed, 0 failed"
