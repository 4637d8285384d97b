#!/usr/bin/env bash
# etcd compatibility, checked with etcd's own CLI: etcdctl (v3 API, Debian's etcd-client 3.4)
# drives a fresh local 3-node cluster (scripts/local-cluster.sh: web ports 7481-7483, etcd API
# ports 23791-23793) twice, once through all three endpoints and once through a single
# follower, and compares every output with what etcd prints. One line per check, then
# `etcdctl: N passed, M failed`; the exit status is 1 when a check failed.
#
# Installs etcd-client when etcdctl is missing (apt-get; through sudo unless root). Every
# etcdctl call is bounded by --command-timeout and `timeout`; the cluster runs in a temporary
# directory that is stopped and removed on exit.
#
# Outputs are compared exactly, with exceptions that vary by nature: the member id in a
# header (any member may answer a call through several endpoints; through one endpoint it must
# be that member's), the Raft term (an election may happen during the run), the figures of
# `endpoint status` (database size, Raft indexes) and `endpoint health` (latency), checked as
# patterns, the hash of `endpoint hashkv` (checked equal on every member), and the figures of
# `check perf`, which depend on the machine: it must finish with its summary and no request
# error, and its lines are printed.
#
# The maintenance checks run last, through all three endpoints: watch (--rev, --prev-kv,
# --prefix over a transaction), alarm list, defrag, endpoint hashkv, snapshot save (through the
# follower), move-leader (to that follower, which then leads) and check perf --load=s (60 s).
#
# Then membership: member list, endpoint status --cluster, member add of a fourth member that
# is then started and joins, member remove.
#
# Lock and election run after the follower suite: etcdctl 3.4's `lock` and `elect` are its own
# recipes over KV, Lease and Watch (not the Lock and Election services): a lock held around a
# command, a second locker waiting while a holder in the background keeps it, the holder's release
# on SIGINT, `elect` and `elect -l` (observe), and no key left behind.
#
# Auth comes after everything else, so all of the above runs without it: users, roles and a
# prefix permission, the root role (granted before it exists, then added, listed and read, as
# etcd 3.4 does), auth enable (refused without a root user), a permitted and a denied put, an
# anonymous get, a wrong password, root-only calls as another user, a revoked permission that
# holds from the next request on, and auth disable as root, which leaves the cluster open; then
# the root role deleted while auth is off, which etcdctl's auth enable adds and grants again.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ETCDCTL_API=3
all_endpoints="127.0.0.1:23791,127.0.0.1:23792,127.0.0.1:23793"

if ! command -v etcdctl >/dev/null; then
  sudo=()
  [[ $EUID -ne 0 ]] && sudo=(sudo)
  echo "etcdctl: not installed; installing etcd-client" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y etcd-client >/dev/null \
    || { "${sudo[@]}" apt-get update >/dev/null && "${sudo[@]}" apt-get install -y etcd-client >/dev/null; } \
    || { echo "etcdctl: cannot install etcd-client" >&2; exit 1; }
fi
echo "etcdctl: $(etcdctl version | sed -n 1p)"

for n in 1 2 3; do
  if curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:748$n/health/live"; then
    echo "etcdctl: port 748$n already serves a Capstan member; stop that cluster first" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
n4_pid=""
cleanup() {
  if [[ -n "$n4_pid" ]]; then
    kill "$n4_pid" 2>/dev/null && timeout 30 tail --pid="$n4_pid" -f /dev/null
  fi
  timeout 90 "$root/scripts/local-cluster.sh" stop "$work/cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! timeout 300 "$root/scripts/local-cluster.sh" start "$work/cluster" >"$work/start.log" 2>&1; then
  cat "$work/start.log" >&2
  echo "etcdctl: the local cluster did not start" >&2
  exit 1
fi
serving=0
for _ in $(seq 1 120); do
  serving=0
  for n in 1 2 3; do
    curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:748$n/health/ready" && serving=$((serving + 1))
  done
  [[ $serving -eq 3 ]] && break
  sleep 0.5
done
if [[ $serving -ne 3 ]]; then
  echo "etcdctl: the local cluster never had 3 serving members" >&2
  tail -n 20 "$work"/cluster/n*.log >&2
  exit 1
fi

passed=0
failed=0
endpoints="$all_endpoints"
# Member ids (decimal) that may answer through $endpoints; headers show them as "member_id":M.
answering=()

ctl() {
  timeout 20 etcdctl --endpoints="$endpoints" --dial-timeout=5s --command-timeout=10s "$@"
}

# Runs a command; OUT is its stdout then its stderr without the client's retry log lines
# (etcdctl 3.4 prints endpoint health on stderr), RC its exit status.
run() {
  OUT=$("$@" 2>"$work/stderr")
  RC=$?
  local err
  err=$(grep -v '^{"level"' "$work/stderr")
  if [[ -n "$err" ]]; then
    OUT="${OUT:+$OUT$'\n'}$err"
  fi
  return 0
}

# Replaces the ids of the members allowed to answer, and the Raft term, with M and T.
normalise() {
  local text="$1" id
  for id in "${answering[@]}"; do
    text="${text//\"member_id\":$id,/\"member_id\":M,}"
  done
  sed -E 's/"raft_term":[0-9]+/"raft_term":T/g' <<<"$text"
}

record() {
  local name="$1" ok="$2" want="$3"
  if [[ "$ok" == yes ]]; then
    passed=$((passed + 1))
    echo "ok    $name"
  else
    failed=$((failed + 1))
    echo "FAIL  $name"
    echo "      want (exit $4): ${want//$'\n'/$'\n'      }"
    echo "      got  (exit $RC): ${OUT//$'\n'/$'\n'      }"
  fi
}

# expect NAME EXIT WANT COMMAND...: the output must equal WANT (after normalise).
expect() {
  local name="$1" want_rc="$2" want="$3"
  shift 3
  run "$@"
  OUT=$(normalise "$OUT")
  local ok=no
  [[ "$RC" == "$want_rc" && "$OUT" == "$want" ]] && ok=yes
  record "$name" "$ok" "$want" "$want_rc"
}

# expect_match NAME EXIT REGEX COMMAND...: for outputs with figures that vary by nature.
expect_match() {
  local name="$1" want_rc="$2" pattern="$3"
  shift 3
  run "$@"
  local ok=no
  [[ "$RC" == "$want_rc" && "$OUT" =~ ^${pattern}$ ]] && ok=yes
  record "$name" "$ok" "/$pattern/" "$want_rc"
}

b64() { printf '%s' "$1" | base64 -w0; }

# field NAME: one value from `endpoint status -w fields` output in OUT.
field() { sed -n -E "s/^\"$1\" : \"?([^\"]*)\"?$/\\1/p" <<<"$OUT" | sed -n 1p; }

cluster_id=""
declare -A member_of leader_of
for port in 23791 23792 23793; do
  endpoints="127.0.0.1:$port"
  run ctl endpoint status -w fields
  member_of[$port]=$(field MemberID)
  leader_of[$port]=$(field Leader)
  cluster_id=$(field ClusterID)
done
leader_port=""
follower_port=""
for port in 23791 23792 23793; do
  if [[ "${member_of[$port]}" == "${leader_of[$port]}" ]]; then
    leader_port=$port
  elif [[ -z "$follower_port" ]]; then
    follower_port=$port
  fi
done
if [[ -z "$leader_port" || -z "$follower_port" || -z "$cluster_id" ]]; then
  echo "etcdctl: cannot tell the leader from the followers; endpoint status said: $OUT" >&2
  exit 1
fi
echo "etcdctl: leader 127.0.0.1:$leader_port, follower used alone 127.0.0.1:$follower_port"

header() { echo "{\"cluster_id\":$cluster_id,\"member_id\":M,\"revision\":$1,\"raft_term\":T}"; }

# etcd numbers an empty store's revision 1, so its first write has revision 2.
endpoints="$all_endpoints"
answering=("${member_of[@]}")
expect "empty store is at revision 1" 0 "{\"header\":$(header 1)}" ctl get probe -w json

# suite NAME: every check, on keys under NAME/, through $endpoints.
suite() {
  local p="$1" t="[$1]"
  run ctl get "$p/" --prefix -w json
  local rev
  if [[ $RC -ne 0 || "$OUT" != '{"header":'* ]]; then
    record "$t current revision" no "a header" 0
    return
  fi
  # JSON leaves a revision of 0 out.
  rev=$(sed -n -E 's/.*"revision":([0-9]+).*/\1/p' <<<"$OUT" | sed -n 1p)
  rev=${rev:-0}

  # put and get
  expect "$t put" 0 "OK" ctl put "$p/a" one
  local a1=$((rev + 1))
  expect "$t put -w json" 0 "{\"header\":$(header $((rev + 2)))}" ctl put "$p/b" two -w json
  expect "$t put --prev-kv" 0 "OK
$p/b
two" ctl put "$p/b" two --prev-kv
  local b=$((rev + 3))
  expect "$t put c" 0 "OK" ctl put "$p/c" three
  rev=$((rev + 4))
  expect "$t get" 0 "$p/a
one" ctl get "$p/a"
  expect "$t get -w json" 0 "{\"header\":$(header $rev),\"kvs\":[{\"key\":\"$(b64 "$p/a")\",\"create_revision\":$a1,\"mod_revision\":$a1,\"version\":1,\"value\":\"$(b64 one)\"}],\"count\":1}" \
    ctl get "$p/a" -w json
  expect "$t get missing key" 0 "" ctl get "$p/none"
  expect "$t get --prefix" 0 "$p/a
one
$p/b
two
$p/c
three" ctl get "$p/" --prefix
  expect "$t get --prefix --limit" 0 "$p/a
one
$p/b
two" ctl get "$p/" --prefix --limit 2
  expect "$t get --limit -w json (more, count)" 0 "{\"header\":$(header $rev),\"kvs\":[{\"key\":\"$(b64 "$p/a")\",\"create_revision\":$a1,\"mod_revision\":$a1,\"version\":1,\"value\":\"$(b64 one)\"}],\"more\":true,\"count\":3}" \
    ctl get "$p/" --prefix --limit 1 -w json
  expect "$t get range [a, c)" 0 "$p/a
one
$p/b
two" ctl get "$p/a" "$p/c"
  expect "$t get --from-key" 0 "$p/b
two
$p/c
three" ctl get "$p/b" --from-key --limit 2
  expect "$t put a again" 0 "OK" ctl put "$p/a" uno
  rev=$((rev + 1))
  local a2=$rev
  expect "$t get --rev (before the rewrite)" 0 "$p/a
one" ctl get "$p/a" --rev "$a1"
  expect "$t get --rev (after)" 0 "$p/a
uno" ctl get "$p/a" --rev "$a2"
  expect "$t get --rev (future)" 1 "Error: etcdserver: mvcc: required revision is a future revision" \
    ctl get "$p/a" --rev $((rev + 1000))
  expect "$t get --sort-by=MODIFY --order=ASCEND" 0 "$p/b
two
$p/c
three
$p/a
uno" ctl get "$p/" --prefix --sort-by=MODIFY --order=ASCEND
  expect "$t get --sort-by=CREATE --order=DESCEND" 0 "$p/c
three
$p/b
two
$p/a
uno" ctl get "$p/" --prefix --sort-by=CREATE --order=DESCEND
  expect "$t get --sort-by=KEY --order=DESCEND" 0 "$p/c
three
$p/b
two
$p/a
uno" ctl get "$p/" --prefix --sort-by=KEY --order=DESCEND
  expect "$t get --sort-by=VALUE" 0 "$p/c
three
$p/b
two
$p/a
uno" ctl get "$p/" --prefix --sort-by=VALUE
  expect "$t get --sort-by=VERSION --limit 1" 0 "$p/c
three" ctl get "$p/" --prefix --sort-by=VERSION --limit 1
  expect "$t get --keys-only" 0 "$p/a

$p/b

$p/c" ctl get "$p/" --prefix --keys-only
  expect "$t get --print-value-only" 0 "uno
two
three" ctl get "$p/" --prefix --print-value-only
  expect "$t get -w json (version 2, lease 0 left out)" 0 "{\"header\":$(header $rev),\"kvs\":[{\"key\":\"$(b64 "$p/a")\",\"create_revision\":$a1,\"mod_revision\":$a2,\"version\":2,\"value\":\"$(b64 uno)\"}],\"count\":1}" \
    ctl get "$p/a" -w json
  expect "$t get empty key" 1 "Error: etcdserver: key is not provided" ctl get ""

  # del
  expect "$t del" 0 "1" ctl del "$p/c"
  rev=$((rev + 1))
  expect "$t del (nothing there)" 0 "0" ctl del "$p/c"
  expect "$t del -w json (revision unchanged)" 0 "{\"header\":$(header $rev)}" ctl del "$p/c" -w json
  expect "$t put d/1" 0 "OK" ctl put "$p/d/1" x
  expect "$t put d/2" 0 "OK" ctl put "$p/d/2" y
  expect "$t del --prefix --prev-kv" 0 "2
$p/d/1
x
$p/d/2
y" ctl del "$p/d/" --prefix --prev-kv
  rev=$((rev + 3))
  expect "$t get after del --prefix" 0 "" ctl get "$p/d/" --prefix

  # txn, interactive, from stdin
  expect "$t txn -i (compares hold)" 0 "compares:
success requests (get, put, del):
failure requests (get, put, del):
SUCCESS

OK

$p/a
uno" ctl txn -i <<EOF
value("$p/a") = "uno"
mod("$p/b") = "$b"
create("$p/none") = "0"
version("$p/a") > "1"

put $p/t yes
get $p/a

put $p/t no

EOF
  rev=$((rev + 1))
  expect "$t txn -i (a compare fails)" 0 "compares:
success requests (get, put, del):
failure requests (get, put, del):
FAILURE

$p/t
yes

1
$p/t
yes" ctl txn -i <<EOF
value("$p/a") = "uno"
mod("$p/b") < "$b"

put $p/t again

get $p/t
del $p/t --prev-kv

EOF
  rev=$((rev + 1))
  # Each response inside a transaction has a header with the revision it saw, as in etcd.
  expect "$t txn -w json (headers inside)" 0 "{\"header\":$(header $((rev + 1))),\"succeeded\":true,\"responses\":[{\"Response\":{\"ResponseRange\":{\"header\":{\"revision\":$rev},\"kvs\":[{\"key\":\"$(b64 "$p/b")\",\"create_revision\":$((a1 + 1)),\"mod_revision\":$b,\"version\":2,\"value\":\"$(b64 two)\"}],\"count\":1}}},{\"Response\":{\"ResponsePut\":{\"header\":{\"revision\":$((rev + 1))}}}},{\"Response\":{\"ResponseDeleteRange\":{\"header\":{\"revision\":$((rev + 1))}}}}]}" \
    ctl txn -w json <<EOF

get $p/b
put $p/u v
del $p/none


EOF
  rev=$((rev + 1))
  expect "$t txn (duplicate key)" 1 "Error: etcdserver: duplicate key given in txn request" ctl txn <<EOF

put $p/u 1
put $p/u 2


EOF
  expect "$t txn (malformed compare)" 3 "Error: malformed comparison: bogus" ctl txn <<EOF
bogus



EOF

  # leases
  run ctl lease grant 60
  local id=""
  if [[ $RC -eq 0 && "$OUT" =~ ^lease\ ([0-9a-f]{16})\ granted\ with\ TTL\(60s\)$ ]]; then
    id="${BASH_REMATCH[1]}"
  fi
  record "$t lease grant" "$([[ -n "$id" ]] && echo yes || echo no)" "lease <16 hex digits> granted with TTL(60s)" 0
  [[ -z "$id" ]] && id=0000000000000000
  expect "$t put --lease" 0 "OK" ctl put "$p/leased" v --lease="$id"
  rev=$((rev + 1))
  expect_match "$t lease timetolive --keys" 0 \
    "lease $id granted with TTL\(60s\), remaining\((5[0-9]|60)s\), attached keys\(\[$p/leased\]\)" \
    ctl lease timetolive "$id" --keys
  expect "$t lease keep-alive --once" 0 "lease $id keepalived with TTL(60)" ctl lease keep-alive --once "$id"
  expect_match "$t lease keep-alive (stream, first answer)" 124 "lease $id keepalived with TTL\(60\)(
lease $id keepalived with TTL\(60\))*" \
    timeout 3 etcdctl --endpoints="$endpoints" --dial-timeout=2s lease keep-alive "$id"
  expect "$t lease list" 0 "found 1 leases
$id" ctl lease list
  expect "$t lease revoke" 0 "lease $id revoked" ctl lease revoke "$id"
  rev=$((rev + 1))
  expect "$t key of a revoked lease is gone" 0 "" ctl get "$p/leased"
  expect "$t lease timetolive (revoked)" 0 "lease $id already expired" ctl lease timetolive "$id"
  expect "$t lease revoke (revoked)" 1 "Error: failed to revoke lease (etcdserver: requested lease not found)" \
    ctl lease revoke "$id"
  expect "$t lease keep-alive --once (revoked)" 2 "Error: etcdserver: requested lease not found" \
    ctl lease keep-alive --once "$id"
  expect "$t put --lease (no such lease)" 1 "Error: etcdserver: requested lease not found" \
    ctl put "$p/x" v --lease=7fffffffffff0001
  expect "$t lease list (none left)" 0 "found 0 leases" ctl lease list
  expect "$t lease grant (TTL too large)" 1 "Error: failed to grant lease (etcdserver: too large lease TTL)" \
    ctl lease grant 9000000001

  # compaction
  expect "$t compaction" 0 "compacted revision $rev" ctl compaction "$rev"
  expect "$t get --rev below the compaction" 1 "Error: etcdserver: mvcc: required revision has been compacted" \
    ctl get "$p/a" --rev "$a1"
  expect "$t compaction (again)" 1 "Error: etcdserver: mvcc: required revision has been compacted" \
    ctl compaction "$rev"
  expect "$t compaction (future)" 1 "Error: etcdserver: mvcc: required revision is a future revision" \
    ctl compaction $((rev + 1000))
  expect "$t get at the compaction revision" 0 "$p/a
uno" ctl get "$p/a" --rev "$rev"
  expect "$t txn get --rev below the compaction" 1 "Error: etcdserver: mvcc: required revision has been compacted" \
    ctl txn <<EOF

get $p/a --rev=$a1


EOF
}

# status_line PORT IS_LEADER: etcdctl's simple status line; size and indexes vary.
status_line() {
  printf '127\\.0\\.0\\.1:%s, %x, 3\\.5\\.0, [0-9.]+ [kMG]?B, %s, false, [0-9]+, [0-9]+, [0-9]+, ' \
    "$1" "${member_of[$1]}" "$2"
}
is_leader() { [[ "$1" == "$leader_port" ]] && echo true || echo false; }
# Endpoints answer in any order.
health_sorted() {
  ctl endpoint health 2>&1 | grep -v '^{"level"' | sort
  return "${PIPESTATUS[0]}"
}
health_line() { printf '127\\.0\\.0\\.1:%s is healthy: successfully committed proposal: took = [0-9.]+(µs|ms|s)' "$1"; }

suite all
for port in 23791 23792 23793; do
  endpoints="127.0.0.1:$port"
  expect_match "[all] endpoint status 127.0.0.1:$port" 0 "$(status_line "$port" "$(is_leader "$port")")" \
    ctl endpoint status
done
endpoints="$all_endpoints"
expect_match "[all] endpoint health" 0 "$(health_line 23791)
$(health_line 23792)
$(health_line 23793)" health_sorted

endpoints="127.0.0.1:$follower_port"
answering=("${member_of[$follower_port]}")
suite follower
expect_match "[follower] endpoint status" 0 "$(status_line "$follower_port" false)" ctl endpoint status
expect_match "[follower] endpoint health" 0 "$(health_line "$follower_port")" ctl endpoint health

# Lock and election with etcdctl's own recipes, through every endpoint. A holder runs in the
# background until SIGINT, when it releases the lock or resigns.
endpoints="$all_endpoints"
answering=("${member_of[@]}")
# background NAME ARGS...: etcdctl ARGS in the background (output in $work/NAME.out), once it
# printed what it holds.
background() {
  local name="$1"
  shift
  timeout 60 etcdctl --endpoints="$endpoints" --dial-timeout=5s "$@" >"$work/$name.out" 2>"$work/$name.err" &
  bg_pid=$!
  for _ in $(seq 1 40); do
    [[ -s "$work/$name.out" ]] && return
    sleep 0.25
  done
}
# stop_background NAME: SIGINT, then its output in OUT and its exit status in RC.
stop_background() {
  kill -INT "$bg_pid" 2>/dev/null
  wait "$bg_pid"
  RC=$?
  OUT=$(cat "$work/$1.out"; grep -v '^{"level"' "$work/$1.err")
}
expect_match "[concurrency] lock NAME COMMAND runs it holding the lock" 0 "locks/run/[0-9a-f]+" \
  ctl lock locks/run printenv ETCD_LOCK_KEY
background holder lock locks/busy
expect_match "[concurrency] lock waits while another holds it" 124 "(Error: context canceled)?" \
  timeout 2 etcdctl --endpoints="$endpoints" --dial-timeout=2s lock locks/busy echo got
stop_background holder
record "[concurrency] lock holder printed its key, released it on SIGINT" \
  "$([[ $RC -eq 0 && "$OUT" =~ ^locks/busy/[0-9a-f]+$ ]] && echo yes || echo no)" "locks/busy/<lease in hex>" 0
expect "[concurrency] lock after the holder released it" 0 "got" ctl lock locks/busy echo got
expect "[concurrency] no key left under locks/" 0 "" ctl get locks/ --prefix --keys-only
background leader elect elections/e one
expect_match "[concurrency] elect -l shows the leader's proposal" 124 "elections/e/[0-9a-f]+
one" timeout 3 etcdctl --endpoints="$endpoints" --dial-timeout=2s elect -l elections/e
stop_background leader
record "[concurrency] elect printed its key and proposal, resigned on SIGINT" \
  "$([[ $RC -eq 0 && "$OUT" =~ ^elections/e/[0-9a-f]+$'\n'one$ ]] && echo yes || echo no)" "elections/e/<lease in hex>
one" 0
expect "[concurrency] elect -l with no leader shows nothing" 124 "" \
  timeout 3 etcdctl --endpoints="$endpoints" --dial-timeout=2s elect -l elections/e
expect "[concurrency] no key left under elections/" 0 "" ctl get elections/ --prefix --keys-only

# revision_of KEY: the mod revision of KEY through $endpoints, or empty.
revision_of() { ctl get "$1" -w json | sed -n -E 's/.*"mod_revision":([0-9]+).*/\1/p'; }

# Maintenance and watch, through every endpoint; the leader moves at the end.
endpoints="$all_endpoints"
answering=("${member_of[@]}")
p="maintenance"
run ctl put "$p/k" v1
from=$(revision_of "$p/k")
# The watch replays from --rev, so the writes below may race its start.
timeout 8 etcdctl --endpoints="$endpoints" --dial-timeout=5s watch "$p/k" --rev "${from:-1}" --prev-kv \
  >"$work/watch.out" 2>"$work/watch.err" &
watch_pid=$!
run ctl put "$p/k" v2
run ctl del "$p/k"
run ctl put "$p/k" v3
wait "$watch_pid"
RC=$?
OUT=$(cat "$work/watch.out"; grep -v '^{"level"' "$work/watch.err")
want="PUT
$p/k
v1
PUT
$p/k
v1
$p/k
v2
DELETE
$p/k
v2
$p/k

PUT
$p/k
v3"
record "[maintenance] watch --rev --prev-kv (in the background, 4 events)" \
  "$([[ $RC -eq 124 && "$OUT" == "$want" ]] && echo yes || echo no)" "$want" 124

# A transaction's events come in the order of its operations, as etcd emits them.
run ctl put "$p/t/c" 0
run ctl put "$p/t/d" 0
run ctl txn <<TXN

put $p/t/z 1
del $p/t/c $p/t/y
put $p/t/b 2


TXN
txn_rev=$(revision_of "$p/t/z")
expect "[maintenance] watch --prefix over a transaction (operation order)" 124 "PUT
$p/t/z
1
DELETE
$p/t/c

DELETE
$p/t/d

PUT
$p/t/b
2" timeout 3 etcdctl --endpoints="$endpoints" --dial-timeout=2s watch "$p/t/" --prefix --rev "${txn_rev:-1}"

expect "[maintenance] alarm list (none)" 0 "" ctl alarm list
expect "[maintenance] defrag" 0 "Finished defragmenting etcd member[127.0.0.1:23791]
Finished defragmenting etcd member[127.0.0.1:23792]
Finished defragmenting etcd member[127.0.0.1:23793]" ctl defrag

# Every member hashes the history up to one revision alike; a follower may apply it a moment later.
hash_rev=$(revision_of "$p/k")
for _ in $(seq 1 20); do
  run ctl endpoint hashkv --rev="${hash_rev:-1}"
  [[ $RC -eq 0 ]] && break
  sleep 0.5
done
hashes=$(sed -n -E 's/^127\.0\.0\.1:2379[1-3], ([0-9]+)$/\1/p' <<<"$OUT" | sort -u)
record "[maintenance] endpoint hashkv --rev (3 members, one hash)" \
  "$([[ $RC -eq 0 && $(wc -l <<<"$OUT") -eq 3 && $(wc -l <<<"$hashes") -eq 1 && -n "$hashes" ]] && echo yes || echo no)" \
  "127.0.0.1:2379N, H (the same H three times)" 0

endpoints="127.0.0.1:$follower_port"
expect "[maintenance] snapshot save (through the follower)" 0 "Snapshot saved at $work/snapshot.db" \
  ctl snapshot save "$work/snapshot.db"
size=$(stat -c %s "$work/snapshot.db" 2>/dev/null || echo 0)
OUT="$size bytes"
RC=0
# etcd's layout: whole 512-byte blocks of data, then its 32-byte SHA-256.
record "[maintenance] snapshot file: non-empty, 512-byte blocks + sha256" \
  "$([[ $size -gt 32 && $((size % 512)) -eq 32 ]] && echo yes || echo no)" "N * 512 + 32 bytes" 0

endpoints="$all_endpoints"
leader_hex=$(printf %x "${member_of[$leader_port]}")
target_hex=$(printf %x "${member_of[$follower_port]}")
expect "[maintenance] move-leader (to the follower)" 0 "Leadership transferred from $leader_hex to $target_hex" \
  ctl move-leader "$target_hex"
endpoints="127.0.0.1:$follower_port"
expect_match "[maintenance] endpoint status: the follower now leads" 0 "$(status_line "$follower_port" true)" \
  ctl endpoint status

# Membership, as etcd does it: list, add a fourth member, start it (it joins by itself), see it
# listed as started with its client URL, remove it. The list is compared sorted: etcd orders it by id.
endpoints="$all_endpoints"
member_line() { printf '%x, started, n%s, http://127.0.0.1:748%s, http://127.0.0.1:2379%s, false' "$1" "$2" "$2" "$2"; }
three_members=$(for n in 1 2 3; do member_line "${member_of[2379$n]}" "$n"; echo; done | sort)
members_sorted() {
  ctl member list 2>&1 | grep -v '^{"level"' | sort
  return "${PIPESTATUS[0]}"
}
expect "[cluster] member list" 0 "$three_members" members_sorted
# --cluster dials the client URLs the members published, and names each endpoint by its URL.
expect_match "[cluster] endpoint status --cluster (three members from the list)" 0 \
  "http://$(status_line 23791 '(true|false)')
http://$(status_line 23792 '(true|false)')
http://$(status_line 23793 '(true|false)')" \
  bash -c "ETCDCTL_API=3 timeout 20 etcdctl --endpoints=$all_endpoints --command-timeout=10s endpoint status --cluster 2>&1 | grep -v '^{\"level\"' | sort"
cluster_hex=$(printf %16x "$cluster_id")
run ctl member add n4 --peer-urls=http://127.0.0.1:7484
n4_hex=""
if [[ $RC -eq 0 && "$OUT" =~ ^Member\ ([\ 0-9a-f]{16})\ added\ to\ cluster\ $cluster_hex ]]; then
  n4_hex="${BASH_REMATCH[1]// /}"
fi
added_pattern="Member [ 0-9a-f]{16} added to cluster $cluster_hex

ETCD_NAME=\"n4\"
ETCD_INITIAL_CLUSTER=\"(n[1-4]=http://127\.0\.0\.1:748[1-4],){3}n[1-4]=http://127\.0\.0\.1:748[1-4]\"
ETCD_INITIAL_ADVERTISE_PEER_URLS=\"http://127\.0\.0\.1:7484\"
ETCD_INITIAL_CLUSTER_STATE=\"existing\""
record "[cluster] member add n4" \
  "$([[ -n "$n4_hex" && "$OUT" =~ ^${added_pattern}$ && "$OUT" == *n4=http://127.0.0.1:7484* ]] && echo yes || echo no)" \
  "$added_pattern" 0
CAPSTAN_NODE_ID=n4 CAPSTAN_WEB_PORT=7484 CAPSTAN_API_PORT=23794 CAPSTAN_DATA_DIR="$work/cluster/n4" \
  CAPSTAN_INITIAL_CLUSTER_STATE=existing \
  CAPSTAN_PEERS="n1=127.0.0.1:7481,n2=127.0.0.1:7482,n3=127.0.0.1:7483,n4=127.0.0.1:7484" \
  nohup "$root/scripts/capstan" serve --config "$work/cluster/n1.conf" >"$work/n4.log" 2>&1 &
n4_pid=$!
four_members=$( (echo "$three_members"; member_line "0x$n4_hex" 4) | sort)
for _ in $(seq 1 60); do
  run members_sorted
  [[ "$OUT" == "$four_members" ]] && break
  sleep 1
done
expect "[cluster] member list (n4 joined and published its client URL)" 0 "$four_members" members_sorted
# etcdctl pads both ids to 16 characters with spaces ("%16x").
expect "[cluster] member remove n4" 0 "Member $(printf %16x "0x${n4_hex:-0}") removed from cluster $cluster_hex" \
  ctl member remove "$n4_hex"
expect "[cluster] member list (n4 gone)" 0 "$three_members" members_sorted
expect "[cluster] member remove (unknown id)" 1 "Error: etcdserver: member not found" ctl member remove 1234
kill "$n4_pid" 2>/dev/null && timeout 30 tail --pid="$n4_pid" -f /dev/null
n4_pid=""

# Writes for 60 s; its throughput and latency verdicts depend on the machine, so they are printed.
endpoints="$all_endpoints"
run timeout 150 etcdctl --endpoints="$endpoints" --dial-timeout=5s check perf --load=s
# Its progress bar may still be drawing while it prints the summary, so the summary's pieces are
# picked out wherever they stand.
perf=$(tr '\r' '\n' <<<"$OUT" | grep -oE '(PASS|FAIL)(: [A-Za-z :]+[0-9.]+( writes/s|s))?|Slowest request took too long: [0-9.]+s|Stddev too high: [0-9.]+s|FAIL: too many errors|FAIL: ERROR.*')
echo "etcdctl: check perf --load=s (exit $RC) printed:"
sed 's/^/      /' <<<"$perf"
record "[maintenance] check perf --load=s finishes with its summary, no request error" \
  "$([[ "$perf" == *"writes/s"* && "$perf" != *"too many errors"* && "$(tail -n 1 <<<"$perf")" =~ ^(PASS|FAIL)$ ]] && echo yes || echo no)" \
  "a summary with writes/s, no 'FAIL: too many errors'" 0

# Auth, last, so that every check above runs without it, through every endpoint: a root user
# with the root role, a role with a prefix permission and its user, auth enable; then
# every call carries a user (etcdctl authenticates, then sends the token), and auth disable as
# root opens the cluster again.
endpoints="$all_endpoints"
answering=("${member_of[@]}")
root_password="root-secret"
app_password="app-secret"
as_root=(--user "root:$root_password")
as_app=(--user "app:$app_password")
expect "[auth] auth enable (no root user)" 1 "Error: etcdserver: root user does not exist" ctl auth enable
expect "[auth] user add root --new-user-password" 0 "User root created" \
  ctl user add root --interactive=false --new-user-password="$root_password"
expect "[auth] user grant-role root root (before role add root)" 0 "Role root is granted to user root" \
  ctl user grant-role root root
expect "[auth] role get root (not added yet)" 1 "Error: etcdserver: role name not found" ctl role get root
expect "[auth] role add app" 0 "Role app created" ctl role add app
expect "[auth] role grant-permission --prefix readwrite" 0 "Role app updated" \
  ctl role grant-permission app --prefix readwrite app/
expect "[auth] role get app" 0 "Role app
KV Read:
	[app/, app0) (prefix app/)
KV Write:
	[app/, app0) (prefix app/)" ctl role get app
expect "[auth] user add NAME:PASSWORD" 0 "User app created" ctl user add "app:$app_password" --interactive=false
expect "[auth] user add (name already exists)" 1 "Error: etcdserver: user name already exists" \
  ctl user add app:other --interactive=false
expect "[auth] user grant-role app app" 0 "Role app is granted to user app" ctl user grant-role app app
expect "[auth] user grant-role (no such role)" 1 "Error: etcdserver: role name not found" \
  ctl user grant-role app nosuch
expect "[auth] role list (root not added)" 0 "app" ctl role list
expect "[auth] role add root" 0 "Role root created" ctl role add root
expect "[auth] role add root (again)" 1 "Error: etcdserver: role name already exists" ctl role add root
expect "[auth] role list (root added)" 0 "app
root" ctl role list
expect "[auth] role get root" 0 "Role root
KV Read:
KV Write:" ctl role get root
expect "[auth] user list" 0 "app
root" ctl user list
expect "[auth] user get app" 0 "User: app
Roles: app" ctl user get app
expect "[auth] auth enable" 0 "Authentication Enabled" ctl auth enable
expect "[auth] put under the role's prefix" 0 "OK" ctl "${as_app[@]}" put app/x 1
expect "[auth] get under the prefix (--user NAME --password)" 0 "app/x
1" ctl --user app --password "$app_password" get app/x
expect "[auth] put outside the prefix (denied)" 1 "Error: etcdserver: permission denied" \
  ctl "${as_app[@]}" put other 1
expect "[auth] anonymous get" 1 "Error: etcdserver: user name is empty" ctl get app/x
expect "[auth] wrong password" 2 "Error: etcdserver: authentication failed, invalid user ID or password" \
  ctl --user app:wrong get app/x
expect "[auth] role list as a user without root (denied)" 1 "Error: etcdserver: permission denied" \
  ctl "${as_app[@]}" role list
expect "[auth] role list as root" 0 "app
root" ctl "${as_root[@]}" role list
expect "[auth] role delete root while auth is on" 1 "Error: etcdserver: invalid auth management" \
  ctl "${as_root[@]}" role delete root
expect "[auth] user get app as root" 0 "User: app
Roles: app" ctl "${as_root[@]}" user get app
# A permission change holds from the next request on.
expect "[auth] role revoke-permission as root" 0 "Permission of range [app/, app0) is revoked from role app" \
  ctl "${as_root[@]}" role revoke-permission app --prefix app/
expect "[auth] put under the revoked prefix (denied)" 1 "Error: etcdserver: permission denied" \
  ctl "${as_app[@]}" put app/x 2
expect "[auth] auth disable as a user without root (denied)" 1 "Error: etcdserver: permission denied" \
  ctl "${as_app[@]}" auth disable
expect "[auth] auth disable as root" 0 "Authentication Disabled" ctl "${as_root[@]}" auth disable
expect "[auth] anonymous get once auth is off" 0 "app/x
1" ctl get app/x
# Deleting the root role takes it from its users; etcdctl's auth enable adds and grants it again.
expect "[auth] role delete root while auth is off" 0 "Role root deleted" ctl role delete root
expect "[auth] user get root (role taken)" 0 "User: root
Roles:" ctl user get root
expect "[auth] auth enable (etcdctl adds the root role back)" 0 "Authentication Enabled" ctl auth enable
expect "[auth] user get root as root (role granted again)" 0 "User: root
Roles: root" ctl "${as_root[@]}" user get root
expect "[auth] auth disable as root (again)" 0 "Authentication Disabled" ctl "${as_root[@]}" auth disable

echo "etcdctl: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
