#!/usr/bin/env bash
# Drives the launcher the way the README shows: the single-node default (on free ports in a
# scratch directory) until /health/ready, SIGTERM and a clean exit; then the local 3-node
# cluster (scripts/local-cluster.sh, fixed ports 7481-7483 and 23791-23793): a write through
# one member's JSON gateway read back linearizably from another, then stop. Bounded loops.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true
  "$root/scripts/local-cluster.sh" stop "$work/cluster" >/dev/null 2>&1 || true
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

# The local cluster, as the README shows it.
"$root/scripts/local-cluster.sh" start "$work/cluster"
serving=0
for _ in $(seq 1 120); do
  serving=0
  for n in 1 2 3; do
    curl -fs -o /dev/null "http://127.0.0.1:748$n/health/ready" && serving=$((serving + 1))
  done
  [[ $serving -eq 3 ]] && break
  sleep 0.5
done
if [[ $serving -ne 3 ]]; then
  echo "smoke: the local cluster never had 3 serving members" >&2
  "$root/scripts/local-cluster.sh" status "$work/cluster" >&2 || true
  tail -n 30 "$work"/cluster/n*.log >&2
  exit 1
fi
key=$(printf 'smoke/key' | base64)
value=$(printf 'replicated' | base64)
curl -fsS -X POST "http://127.0.0.1:7481/v3/kv/put" -d "{\"key\":\"$key\",\"value\":\"$value\"}" >/dev/null
read_back=$(curl -fsS -X POST "http://127.0.0.1:7483/v3/kv/range" -d "{\"key\":\"$key\"}")
if [[ "$read_back" != *"\"value\":\"$value\""* ]]; then
  echo "smoke: n3 did not return what n1 wrote: $read_back" >&2
  exit 1
fi
echo "smoke: n1 wrote, n3 read: $read_back"
"$root/scripts/local-cluster.sh" stop "$work/cluster"
echo "smoke: 2 passed, 0 failed"
