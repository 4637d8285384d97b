#!/usr/bin/env bash
# One fault run: a 3- or 5-member cluster (Capstan, or etcd for comparison) as separate processes on
# 127.0.0.1, concurrent clients over the etcd v3 gRPC API (put, linearizable get, txn compare-and-set,
# delete, leases with attached keys and keep-alives, watches), faults on a schedule drawn from the seed
# (SIGKILL of a random member or of the leader, SIGSTOP/SIGCONT pauses longer than an election
# timeout, SIGKILL of every member and a restart, partitions and one-way drops, membership changes),
# then the history checked: linearizability per key,
# lost or duplicated writes, reads of failed writes, watch gaps and duplicates, lease expiry, revisions
# per client.
#
#   scripts/faults/run.sh --seed N --minutes M [--members 3|5] [--target capstan|etcd] [--dir DIR] [--faults K,K]
#   scripts/faults/run.sh --seed N --seconds S ...       (the same, the length in seconds)
#
# --faults limits the kinds drawn (default all): kill, kill-leader, pause, pause-leader, kill-all, isolate-leader,
# partition, drop-one-way (these three drop Raft messages between Capstan members through their admin route
# /v1/faults/peers; etcd has no such seam, so against etcd they are skipped), member-change and
# member-change-learner (a member removed through the Cluster API, wiped, added back and started to join).
#
# It prints where the run's directory is (default ./data/faults/<target>-<members>-seed<N>-<time>), then
# one summary. The directory keeps history.jsonl (every invocation and completion, every watch event),
# faults.jsonl (each fault's start and end on the same clock, each membership request with the member it
# went to and its answer, also printed as the run goes), summary.txt and each member's log; the
# members' data is deleted after a passing run and kept otherwise. `java -jar
# faults/target/capstan-faults.jar check DIR/history.jsonl` checks a kept history again.
#
# Exit codes: 0 passed; 1 a violation (or the cluster did not recover after the faults); 2 usage;
# 3 inconclusive (a check gave up); 4 the cluster did not start; 5 the harness failed (its error printed).
#
# Ports are fixed, and no other script of the project uses them: Capstan member n serves its web port on
# 27480+n and its etcd API on 27580+n (27680+n is its unused Raft gRPC port); etcd member n its client
# port on 27780+n and its peer port on 27880+n. One run at a time per machine; where other fixed-port
# scripts may run too, run it under the shared lock:
#   flock /tmp/capstan-fixed-ports.lock scripts/faults/run.sh --seed 1 --minutes 1
# Every process it started is stopped when it exits, however it exits. It builds the jars it needs
# (controller/target/capstan.jar, faults/target/capstan-faults.jar) when they are missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

usage() {
  echo "usage: $0 --seed N (--minutes M | --seconds S) [--members 3|5] [--target capstan|etcd] [--dir DIR]" \
    "[--faults K,K,...]" >&2
  exit 2
}

seed="" seconds="" members=3 target=capstan dir="" faults=()
while (($#)); do
  case "$1" in
    --seed) seed="${2:-}"; shift 2 || usage ;;
    --minutes) [[ "${2:-}" =~ ^[0-9]+$ ]] || usage; seconds=$((60 * $2)); shift 2 ;;
    --seconds) seconds="${2:-}"; shift 2 || usage ;;
    --members) members="${2:-}"; shift 2 || usage ;;
    --target) target="${2:-}"; shift 2 || usage ;;
    --dir) dir="${2:-}"; shift 2 || usage ;;
    --faults) [[ -n "${2:-}" ]] || usage; faults=(--faults "$2"); shift 2 ;;
    *) usage ;;
  esac
done
[[ "$seed" =~ ^-?[0-9]+$ && "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 ]] || usage
[[ "$members" == 3 || "$members" == 5 ]] || usage
[[ "$target" == capstan || "$target" == etcd ]] || usage
if [[ "$target" == etcd ]] && ! command -v etcd >/dev/null; then
  echo "etcd is not installed: apt-get install -y etcd-server" >&2
  exit 2
fi
dir="$(realpath -m "${dir:-$root/data/faults/$target-$members-seed$seed-$(date -u +%Y%m%dT%H%M%SZ)}")"

jar="$root/faults/target/capstan-faults.jar"
if [[ ! -f "$jar" || ! -f "$root/controller/target/capstan.jar" ]]; then
  echo "building the jars (mvn package, tests skipped)" >&2
  (cd "$root" && mvn -q -B -ntp -DskipTests package -pl faults -am) >&2
fi

mkdir -p "$dir"
echo "fault run: seed $seed, $seconds s, $members $target members; history and logs in $dir"

# The harness runs in a process group of its own, which its members join: on any exit of this script
# the whole group is killed, members included, even when the harness could not stop them itself.
harness=""
cleanup() {
  if [[ -n "$harness" ]]; then
    kill -KILL -- "-$harness" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setsid java -Xmx1g -jar "$jar" run --seed "$seed" --seconds "$seconds" --members "$members" \
  --target "$target" --dir "$dir" --root "$root" --etcd "$(command -v etcd || echo /usr/bin/etcd)" "${faults[@]}" &
harness=$!
rc=0
wait "$harness" || rc=$?
if ((rc != 0)); then
  echo "fault run FAILED (exit $rc): seed $seed, $members $target members; history in $dir/history.jsonl" >&2
fi
exit "$rc"
