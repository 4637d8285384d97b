#!/usr/bin/env bash
# A full disk, for real: one member whose data directory is a small ext4 image mounted through a
# loop device, driven with etcdctl (Debian's etcd-client 3.4). Needs root and loop devices; without
# them it says so and exits 2 (nothing was tested). Free ports, a scratch directory, bounded loops;
# the member is stopped and the image unmounted on exit.
#
# 1. The space quota (capstan.api.nospace.min-free = 24MiB): a filler file leaves less free than
#    that; the member raises NOSPACE by itself (etcdctl alarm list shows it), puts fail with etcd's
#    "etcdserver: mvcc: database space exceeded", reads and deletes go on. The filler removed and
#    the alarm disarmed (etcdctl alarm disarm), puts go on.
# 2. The disk itself full (the quota off): writes fill the Raft log until a write fails with ENOSPC;
#    the member then stops with exit code 1. With space freed it starts again with every write it
#    acknowledged, and takes new ones.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ETCDCTL_API=3
work="$(mktemp -d)"
mnt="$work/mnt"
pid=""
cleanup() {
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  mountpoint -q "$mnt" && umount "$mnt"
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
pass() { echo "disk-full: ok: $*"; passed=$((passed + 1)); }
fail() { echo "disk-full: FAILED: $*"; failed=$((failed + 1)); }

if [[ $EUID -ne 0 ]] || ! command -v mkfs.ext4 >/dev/null; then
  echo "disk-full: needs root and mkfs.ext4 (loop-mounted image); nothing tested" >&2
  exit 2
fi
mkdir -p "$mnt"
truncate -s 96M "$work/disk.img"
mkfs.ext4 -q -F "$work/disk.img"
if ! mount -o loop "$work/disk.img" "$mnt" 2>"$work/mount.err"; then
  echo "disk-full: cannot loop-mount an image here ($(cat "$work/mount.err")); nothing tested" >&2
  exit 2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web_port=$(free_port)
api_port=$(free_port)
endpoint="127.0.0.1:$api_port"
ctl() { timeout 20 etcdctl --endpoints="$endpoint" --command-timeout=10s "$@"; }
conf="$work/n1.conf"
cat >"$conf" <<EOF
capstan.node { id = "n1", data-dir = "$mnt/n1" }
capstan.web.port = $web_port
capstan.api.port = $api_port
capstan.api.nospace { min-free = 24MiB, check-interval = 200ms }
EOF

start() {
  "$root/scripts/capstan" serve --config "$conf" >>"$work/n1.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$web_port/health/ready" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "disk-full: the member never became ready; its log:" >&2
  tail -n 40 "$work/n1.log" >&2
  exit 1
}
# Fills the image until $1 bytes are left free.
fill_to() {
  local avail
  avail=$(df --output=avail -B1 "$mnt" | tail -n 1)
  if (( avail > $1 )); then
    fallocate -l $((avail - $1)) "$mnt/filler.$RANDOM" || dd if=/dev/zero of="$mnt/filler.$RANDOM" bs=1M \
      count=$(((avail - $1) >> 20)) status=none
  fi
}

start
ctl put disk/a 1 >/dev/null && pass "put before the disk fills" || fail "put before the disk fills"

# 1. The quota.
fill_to $((8 << 20))
alarm=""
for _ in $(seq 1 50); do
  alarm=$(ctl alarm list 2>&1)
  [[ "$alarm" == *"alarm:NOSPACE"* ]] && break
  sleep 0.2
done
[[ "$alarm" =~ ^memberID:[0-9]+\ alarm:NOSPACE\ ?$ ]] && pass "alarm list: $alarm" || fail "alarm list: '$alarm'"
out=$(ctl put disk/b 2 2>&1)
[[ $? -ne 0 && "$out" == *"etcdserver: mvcc: database space exceeded"* ]] \
  && pass "put refused: ${out##*$'\n'}" || fail "put while NOSPACE: '$out'"
out=$(ctl get disk/a --print-value-only 2>&1)
[[ "$out" == "1" ]] && pass "get goes on" || fail "get while NOSPACE: '$out'"
out=$(ctl del disk/a 2>&1)
[[ "$out" == "1" ]] && pass "delete goes on" || fail "delete while NOSPACE: '$out'"
rm -f "$mnt"/filler.*
out=$(ctl alarm disarm 2>&1)
[[ "$out" == *"alarm:NOSPACE"* ]] && pass "alarm disarm: $out" || fail "alarm disarm: '$out'"
out=$(ctl alarm list 2>&1)
[[ -z "$out" ]] && pass "no alarm once disarmed with room" || fail "alarm list after disarm: '$out'"
ctl put disk/a 3 >/dev/null && pass "put once disarmed" || fail "put once disarmed"

# 2. The disk itself: the quota off, the log fills the image.
kill -TERM "$pid"; wait "$pid"; pid=""
echo "capstan.api.nospace.min-free = 0" >>"$conf"
start
fill_to $((2 << 20))
value=$(head -c 65536 /dev/zero | tr '\0' v)
acked=0
for i in $(seq 1 400); do
  ctl put "disk/c$i" "$value" >/dev/null 2>>"$work/puts.err" || break
  acked=$i
done
code=""
for _ in $(seq 1 60); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"; code=$?; pid=""
    break
  fi
  sleep 0.5
done
[[ "$code" == "1" ]] && pass "the member stopped with exit code 1 when the log could not be written ($acked puts acknowledged)" \
  || fail "after $acked puts the member is $([[ -z "$code" ]] && echo "still running" || echo "gone with code $code")"
grep -q "the Raft log cannot be written" "$work/n1.log" && pass "it said why: $(grep -m1 -o 'the Raft log cannot be written.*' "$work/n1.log" | cut -c1-160)" \
  || fail "no log line saying the Raft log cannot be written"
if [[ -n "$pid" ]]; then kill -9 "$pid"; wait "$pid"; pid=""; fi
rm -f "$mnt"/filler.*
start
out=$(ctl get disk/c --prefix --keys-only 2>&1 | grep -c '^disk/c')
(( out >= acked )) && pass "restarted with room: $out of $acked acknowledged puts kept" \
  || fail "restarted with room: $out keys, $acked puts were acknowledged"
out=$(ctl get disk/a --print-value-only 2>&1)
[[ "$out" == "3" ]] && pass "earlier writes kept" || fail "disk/a after restart: '$out'"
ctl put disk/d 4 >/dev/null && pass "puts go on after the restart" || fail "put after the restart"

kill -TERM "$pid"; wait "$pid"; pid=""
echo "disk-full: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
