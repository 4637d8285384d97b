#!/usr/bin/env bash
# Capstan side by side with etcd on this machine: a 3-member etcd 3.4 (Debian's etcd-server) and
# then a 3-member Capstan, each on 127.0.0.1 with fsync on (both systems' default: a write is
# acknowledged once a majority has it on disk), loaded by the same client code.
#
#   scripts/bench/compare-etcd.sh [options] [OUT_DIR]
#
#   --seconds N           measured seconds of each point (default 10)
#   --warmup-seconds N    unmeasured seconds before each point (default 3)
#   --system-warmup-seconds N   unmeasured seconds of puts, then of linearizable ranges, at 16
#                         clients, once per system before its first point (default 30): both
#                         systems are measured in their steady state, as a long-running member
#                         meets its load (Capstan's JIT compiler needs about a minute of load)
#   --clients LIST        client counts (default 1,16,64,256)
#   --workloads LIST      gRPC workloads of `capstan bench --endpoints` (default
#                         put,range-linearizable,range-serializable,txn-cas,watch)
#   --gateway-workloads LIST   wrk workloads over the JSON gateway (default
#                         put,range-linearizable,range-serializable; "none" for none)
#   --systems LIST        etcd,capstan (default both, in that order)
#
# For each system: starts its members on new data directories and times the cold start (launch of
# all three to the first write acknowledged through the JSON gateway); runs every gRPC workload
# at every client count against the leader (`capstan bench --endpoints ... --json`, CPU sampled
# from /proc over each measured window); then, when wrk is installed, each gateway workload
# (scripts/bench/etcd-gateway.lua) against the leader's gateway, CPU sampled around each wrk run;
# reads each member's peak RSS (VmHWM); stops the members, starts them again on the same data and
# times that restart to the first write; stops them. Then `capstan bench report` writes
# OUT_DIR/bench-report.md (the table, with Capstan / etcd ratios, CPU per operation, RSS, cold
# starts, the machine) and OUT_DIR/bench-report.png (throughput and p99 against clients).
# OUT_DIR (default ./data/bench/compare-<time>) also keeps results/ (every JSON result) and logs/
# (members' logs); the members' data directories are deleted at the end.
#
# Installs etcd-server and wrk from Debian's packages when missing (apt-get; through sudo unless
# root); runs without the gateway points when wrk cannot be installed. Ports (fixed, apart from
# scripts/local-cluster.sh's): etcd clients 24791-24793 and peers 24891-24893; Capstan web
# 7581-7583, etcd API 25791-25793, Raft gRPC 7591-7593. Every process it starts is stopped when it
# exits, however it exits. The machine's other work skews every figure: the report gives the load
# average when each run began. With the defaults it takes about 27 minutes.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
seconds=10
warmup=3
system_warmup=30
clients=1,16,64,256
workloads=put,range-linearizable,range-serializable,txn-cas,watch
gateway_workloads=put,range-linearizable,range-serializable
systems=etcd,capstan
out=""
value_bytes=255
range_keys=1000

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while (($#)); do
  case "$1" in
    --seconds) seconds="${2:?}"; shift 2 ;;
    --warmup-seconds) warmup="${2:?}"; shift 2 ;;
    --system-warmup-seconds) system_warmup="${2:?}"; shift 2 ;;
    --clients) clients="${2:?}"; shift 2 ;;
    --workloads) workloads="${2:?}"; shift 2 ;;
    --gateway-workloads) gateway_workloads="${2:?}"; shift 2 ;;
    --systems) systems="${2:?}"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "compare-etcd: unknown option $1" >&2; usage ;;
    *) [[ -z "$out" ]] || usage; out="$1"; shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ && "$warmup" =~ ^[0-9]+$ && "$system_warmup" =~ ^[0-9]+$ && "$clients" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || {
  echo "compare-etcd: --seconds, --warmup-seconds, --system-warmup-seconds and --clients take whole numbers" >&2
  exit 2
}
[[ "$systems" =~ ^(etcd|capstan)(,(etcd|capstan))?$ ]] || { echo "compare-etcd: --systems: etcd, capstan" >&2; exit 2; }
[[ "$gateway_workloads" == none ]] && gateway_workloads=""

out="$(realpath -m "${out:-./data/bench/compare-$(date +%Y%m%d-%H%M%S)}")"
results="$out/results"
logs="$out/logs"
data="$out/data"
mkdir -p "$results" "$logs"
rm -rf "$data"

log() {
  echo "compare-etcd: $*" >&2
}

# --- what it needs -------------------------------------------------------------------------

sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
apt_updated=""
install() {
  if [[ -z "$apt_updated" ]]; then
    "${sudo_cmd[@]}" apt-get update -q >&2 || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "$@" >&2
}
"$root/scripts/install-test-deps.sh"
command -v etcd >/dev/null || install etcd-server
command -v wrk >/dev/null || install wrk || log "wrk could not be installed: no gateway points"
# The chart draws text with the JVM's fonts, which come from fontconfig.
[[ -n "$(fc-list 2>/dev/null)" ]] || install fontconfig fonts-dejavu-core
command -v wrk >/dev/null || gateway_workloads=""
# Builds the jar when it is missing, once, before anything is timed.
"$root/scripts/capstan" version >/dev/null
capstan_version="$("$root/scripts/capstan" version)"
etcd_version="$(etcd --version | sed -n 1p)"  # sed reads it all: no SIGPIPE under pipefail

# --- processes -----------------------------------------------------------------------------

members=(1 2 3)
pids=()

# Stops the processes in pids: SIGTERM, then SIGKILL after 30 s.
stop_members() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "process $pid did not stop within 30 s: killed"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}

cleanup() {
  local status=$?
  stop_members
  rm -rf "$data"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

etcd_cluster="e1=http://127.0.0.1:24891,e2=http://127.0.0.1:24892,e3=http://127.0.0.1:24893"

start_etcd() {
  local n
  for n in "${members[@]}"; do
    etcd --name "e$n" --data-dir "$data/etcd/e$n" \
      --listen-client-urls "http://127.0.0.1:2479$n" --advertise-client-urls "http://127.0.0.1:2479$n" \
      --listen-peer-urls "http://127.0.0.1:2489$n" --initial-advertise-peer-urls "http://127.0.0.1:2489$n" \
      --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token capstan-compare \
      >>"$logs/etcd-e$n.log" 2>&1 &
    pids+=($!)
  done
}

start_capstan() {
  local n
  mkdir -p "$data/capstan"
  [[ -f "$data/capstan/cluster.secret" ]] || (umask 077 && head -c 32 /dev/urandom | base64 >"$data/capstan/cluster.secret")
  for n in "${members[@]}"; do
    cat >"$data/capstan/n$n.conf" <<CONF
capstan {
  node { id = "n$n", data-dir = "$data/capstan/n$n", host = "127.0.0.1" }
  web.port = 758$n
  api.port = 2579$n
  raft {
    peers = ["n1=127.0.0.1:7581", "n2=127.0.0.1:7582", "n3=127.0.0.1:7583"]
    secret-file = "$data/capstan/cluster.secret"
    grpc-port = 759$n
  }
}
CONF
    "$root/scripts/capstan" serve --config "$data/capstan/n$n.conf" >>"$logs/capstan-n$n.log" 2>&1 &
    pids+=($!)
  done
}

# The members' etcd gRPC endpoints and JSON gateway base URLs, by system.
grpc_endpoints() {
  if [[ $1 == etcd ]]; then
    echo "127.0.0.1:24791,127.0.0.1:24792,127.0.0.1:24793"
  else
    echo "127.0.0.1:25791,127.0.0.1:25792,127.0.0.1:25793"
  fi
}
gateway() {
  if [[ $1 == etcd ]]; then echo "http://127.0.0.1:2479$2"; else echo "http://127.0.0.1:758$2"; fi
}

now_ns() {
  date +%s%N
}

# Puts a key through the members' gateways in turn until one acknowledges it (HTTP 200 with a
# header); prints the seconds since $2 (nanoseconds). Gives up after 120 s.
first_write() {
  local system=$1 started=$2 deadline=$(($(date +%s) + 120)) n=0 body
  body="{\"key\":\"$(printf 'bench/first-write' | base64)\",\"value\":\"$(printf 'x' | base64)\"}"
  while (($(date +%s) < deadline)); do
    n=$((n % 3 + 1))
    if curl -sf -m 1 -X POST "$(gateway "$system" "$n")/v3/kv/put" -d "$body" 2>/dev/null | grep -q '"header"'; then
      echo "$(( ($(now_ns) - started) / 1000000 ))" | awk '{ printf "%.3f", $1 / 1000 }'
      return 0
    fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { log "$system member (pid $pid) exited; see $logs"; return 1; }
    done
    sleep 0.05
  done
  log "$system acknowledged no write within 120 s"
  return 1
}

# The gateway URL of the member that leads (from /v3/maintenance/status on each).
leader_gateway() {
  local system=$1 n status member leader
  for n in "${members[@]}"; do
    status=$(curl -sf -m 5 -X POST "$(gateway "$system" "$n")/v3/maintenance/status" -d '{}' || true)
    member=$(sed -n 's/.*"member_id":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$status")
    leader=$(sed -n 's/.*"leader":"\{0,1\}\([0-9]*\).*/\1/p' <<<"$status")
    if [[ -n "$member" && "$member" == "$leader" ]]; then
      gateway "$system" "$n"
      return 0
    fi
  done
  return 1
}

# Sum of utime + stime of the members, in clock ticks.
cpu_ticks() {
  local pid total=0
  for pid in "${pids[@]}"; do
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
  done
  echo "$total"
}

peak_rss_kib() {
  local pid list=()
  for pid in "${pids[@]}"; do
    list+=("$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")")
  done
  local IFS=,
  echo "${list[*]}"
}

# --- one system ----------------------------------------------------------------------------

failures=0

run_grpc() {
  local system=$1 workload
  local pid_list
  pid_list=$(IFS=,; echo "${pids[*]}")
  for workload in ${workloads//,/ }; do
    log "$system: gRPC $workload at $clients clients"
    if ! "$root/scripts/capstan" bench --endpoints "$(grpc_endpoints "$system")" --label "$system" \
        --workload "$workload" --clients "$clients" --seconds "$seconds" --warmup-seconds "$warmup" \
        --sample-pids "$pid_list" --json >"$results/$system-grpc-$workload.json" 2>>"$logs/bench-$system.log"; then
      log "$system: gRPC $workload failed; see $logs/bench-$system.log"
      failures=$((failures + 1))
    fi
  done
}

# Load before the first point, not measured: puts, then linearizable ranges, at 16 clients.
warm_up() {
  local system=$1 workload
  ((system_warmup > 0)) || return 0
  log "$system: warming up, ${system_warmup} s each of put and range-linearizable at 16 clients"
  for workload in put range-linearizable; do
    "$root/scripts/capstan" bench --endpoints "$(grpc_endpoints "$system")" --label "$system-warmup" \
      --workload "$workload" --clients 16 --seconds "$system_warmup" --warmup-seconds 0 --json \
      >/dev/null 2>>"$logs/bench-$system.log" || log "$system: warm-up $workload failed; see $logs/bench-$system.log"
  done
}

run_gateway() {
  local system=$1 workload n url threads before after tick
  tick=$(getconf CLK_TCK)
  url=$(leader_gateway "$system") || { log "$system: no leader found for the gateway points"; failures=$((failures + 1)); return; }
  for workload in ${gateway_workloads//,/ }; do
    for n in ${clients//,/ }; do
      log "$system: gateway $workload at $n clients ($url)"
      threads=$((n < 2 ? n : 2))
      export BENCH_WORKLOAD="$workload" BENCH_VALUE_BYTES="$value_bytes" BENCH_KEYS="$range_keys" BENCH_CLIENTS="$n"
      export BENCH_OUT="$data/wrk-point.json"
      if ((warmup > 0)); then
        BENCH_PREFIX="bench/gateway-warmup/$n/" \
          wrk -t "$threads" -c "$n" -d "${warmup}s" --timeout 30s -s "$root/scripts/bench/etcd-gateway.lua" "$url" \
          >>"$logs/wrk-$system.log" 2>&1 || true
      fi
      before=$(cpu_ticks)
      if ! BENCH_PREFIX="bench/gateway/$workload/$n/" \
          wrk -t "$threads" -c "$n" -d "${seconds}s" --timeout 30s -s "$root/scripts/bench/etcd-gateway.lua" "$url" \
          >>"$logs/wrk-$system.log" 2>&1; then
        log "$system: wrk $workload at $n clients failed; see $logs/wrk-$system.log"
        failures=$((failures + 1))
        continue
      fi
      after=$(cpu_ticks)
      # The point wrk wrote, with the members' CPU time over the run added as its first field.
      printf '{"label":"%s","api":"gateway","workload":"%s","valueBytes":%d,"warmupSeconds":%d,"points":[{"cpuMicros":%d,%s]}\n' \
        "$system" "$workload" "$value_bytes" "$warmup" $(((after - before) * 1000000 / tick)) \
        "$(sed 's/^{//' "$BENCH_OUT")" >"$results/$system-gateway-$workload-$n.json"
    done
  done
}

measure_system() {
  local system=$1 started cold restart rss version
  log "$system: starting 3 members on new data"
  started=$(now_ns)
  "start_$system"
  cold=$(first_write "$system" "$started") || { failures=$((failures + 1)); stop_members; return; }
  log "$system: first write acknowledged ${cold} s after launch"
  warm_up "$system"
  run_grpc "$system"
  [[ -z "$gateway_workloads" ]] || run_gateway "$system"
  rss=$(peak_rss_kib)
  log "$system: peak RSS per member (KiB): $rss; stopping"
  stop_members
  log "$system: starting the members again on the run's data"
  started=$(now_ns)
  "start_$system"
  restart=$(first_write "$system" "$started") || restart=null
  log "$system: first write after restart: ${restart} s"
  stop_members
  if [[ $system == etcd ]]; then version=$etcd_version; else version=$capstan_version; fi
  printf '{"label":"%s","version":"%s","coldStartSeconds":%s,"restartSeconds":%s,"peakRssKiB":[%s]}\n' \
    "$system" "$version" "$cold" "$restart" "$rss" >"$results/$system.system.json"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
log "writing into $out; load average $load_start; $(nproc) cores"
for system in ${systems//,/ }; do
  measure_system "$system"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

"$root/scripts/capstan" bench report --results "$results" --out "$out"
cat >>"$out/bench-report.md" <<RUN

## This run

$(date -u +%Y-%m-%dT%H:%MZ), \`scripts/bench/compare-etcd.sh\`: each system warmed up by ${system_warmup} s of puts and ${system_warmup} s of
linearizable ranges at 16 clients after its cold start, then ${seconds} s measured after ${warmup} s of warm-up per
point; clients $clients; ${value_bytes}-byte values; 3 members of each system on 127.0.0.1, one system at a time,
fsync on; the load generators run on the same machine. $(nproc) cores; load average (1, 5, 15 min)
$load_start at the start, $load_end at the end. $etcd_version; $capstan_version.
RUN
log "report: $out/bench-report.md, chart: $out/bench-report.png"
if ((failures)); then
  log "$failures step(s) failed; their results are missing from the report"
  exit 1
fi
