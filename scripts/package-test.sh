#!/usr/bin/env bash
# Checks the Debian package that `mvn package` builds (packaging/target/capstan_*_all.deb; built
# here when missing) without installing it, so it is safe on a developer's own machine:
# control fields, file list and modes, conffiles, the maintainer scripts (run against stub
# commands), then the package unpacked with dpkg-deb -x into a temporary directory: its launcher
# runs `capstan version` from the unpacked jar (CAPSTAN_JAR) and passes its jvm.options and then
# JAVA_OPTS to the JVM, its units pass
# scripts/verify-units.sh, and `capstan serve` with its own config, on free ports and a scratch
# data directory, sends READY=1, watchdog pings and STOPPING=1 to a notify socket and exits 0.
# Prints `package: N passed, M failed`; exits non-zero when a check failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need=()
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  echo "package: installing ${need[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}"
fi

shopt -s nullglob
debs=("$root"/packaging/target/capstan_*_all.deb)
if ((${#debs[@]} == 0)); then
  echo "package: no .deb in packaging/target; building it (mvn package, tests skipped)" >&2
  (cd "$root" && mvn -q -B -ntp -DskipTests package -pl packaging -am) >&2
  debs=("$root"/packaging/target/capstan_*_all.deb)
fi
shopt -u nullglob
if ((${#debs[@]} != 1)); then
  echo "package: expected one capstan_*_all.deb in packaging/target, found ${#debs[@]}" >&2
  exit 1
fi
deb="${debs[0]}"
echo "package: checking $(basename "$deb")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
# check NAME COMMAND...: runs COMMAND, counts the result, shows its output when it failed. It runs
# in a background subshell so that set -e holds inside it (an `if` condition would switch it off).
check() {
  local name="$1"
  shift
  (set -e; "$@") >"$work/check.log" 2>&1 &
  if wait $!; then
    passed=$((passed + 1))
    echo "package: ok   $name"
  else
    failed=$((failed + 1))
    echo "package: FAIL $name" >&2
    sed 's/^/    /' "$work/check.log" >&2
  fi
}

# expect WANT GOT: fails, saying both, unless equal.
expect() {
  if [[ "$1" != "$2" ]]; then
    printf 'want: %s\ngot:  %s\n' "$1" "$2"
    return 1
  fi
}

control_fields() {
  expect capstan "$(dpkg-deb -f "$deb" Package)"
  expect all "$(dpkg-deb -f "$deb" Architecture)"
  expect "openjdk-17-jre-headless | java17-runtime-headless, adduser" "$(dpkg-deb -f "$deb" Depends)"
  [[ "$(dpkg-deb -f "$deb" Version)" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "bad Version"; return 1; }
}

file_list() {
  dpkg-deb -c "$deb" | awk '{print $1, $2, $6}' | sort >"$work/contents"
  local want
  for want in \
      "-rwxr-xr-x root/root ./usr/bin/capstan" \
      "-rw-r--r-- root/root ./usr/share/capstan/capstan.jar" \
      "-rw-r--r-- root/root ./etc/capstan/capstan.conf" \
      "-rw-r--r-- root/root ./etc/capstan/jvm.options" \
      "-rw-r--r-- root/root ./lib/systemd/system/capstan.service" \
      "-rw-r--r-- root/root ./lib/systemd/system/capstan@.service" \
      "drwxr-x--- root/root ./var/lib/capstan/"; do
    grep -qxF -- "$want" "$work/contents" || { echo "missing: $want"; cat "$work/contents"; return 1; }
  done
  local files
  files="$(grep -c '^-' "$work/contents")"
  expect 6 "$files"
}

conffiles() {
  expect "$(printf '/etc/capstan/capstan.conf\n/etc/capstan/jvm.options')" "$(dpkg-deb -I "$deb" conffiles | sort)"
}

# The maintainer scripts against stub commands that log their calls: nothing on this machine
# changes. First configure: the user, group and directory owner are created and the class-data
# archive's training bench runs; second: no new user or group.
maintainer_scripts() {
  dpkg-deb -e "$deb" "$work/debian"
  local script
  for script in postinst prerm postrm; do
    [[ -x "$work/debian/$script" ]] || { echo "$script missing or not executable"; return 1; }
    sh -n "$work/debian/$script"
  done
  mkdir -p "$work/stubs"
  for cmd in getent addgroup adduser chown chmod systemctl mkdir rm mktemp capstan; do
    cat >"$work/stubs/$cmd" <<STUB
#!/bin/sh
echo "$cmd \$*" >>"$work/calls"
[ "$cmd" != getent ] || grep -qx "\$2" "$work/known" 2>/dev/null
STUB
    chmod 755 "$work/stubs/$cmd"
  done
  : >"$work/known"
  : >"$work/calls"
  PATH="$work/stubs:$PATH" "$work/debian/postinst" configure
  grep -q '^addgroup --system capstan$' "$work/calls"
  grep -q '^adduser --system --ingroup capstan --home /var/lib/capstan .*capstan$' "$work/calls"
  grep -q '^chown capstan:capstan /var/lib/capstan$' "$work/calls"
  grep -q '^capstan bench --workload=put-api .*--transports=web' "$work/calls"
  printf 'capstan\n' >"$work/known"
  : >"$work/calls"
  PATH="$work/stubs:$PATH" "$work/debian/postinst" configure
  if grep -qE '^(adduser|addgroup)' "$work/calls"; then
    echo "second configure created the user again:"
    cat "$work/calls"
    return 1
  fi
}

units_as_in_the_source() {
  dpkg-deb -x "$deb" "$work/root"
  cmp "$root/scripts/systemd/capstan.service" "$work/root/lib/systemd/system/capstan.service"
  cmp "$root/scripts/systemd/capstan@.service" "$work/root/lib/systemd/system/capstan@.service"
}

launcher_version() {
  local out
  out="$(CAPSTAN_JAR="$work/root/usr/share/capstan/capstan.jar" "$work/root/usr/bin/capstan" version)"
  [[ "$out" =~ ^capstan\ [0-9]+\.[0-9]+\.[0-9]+ ]] || { echo "capstan version printed: $out"; return 1; }
  grep -q '^jar="${CAPSTAN_JAR:-/usr/share/capstan/capstan.jar}"$' "$work/root/usr/bin/capstan"
}

# The packaged jvm.options reach the JVM (its -Xmx and collector), and JAVA_OPTS overrides them.
launcher_java_opts() {
  local out
  out="$(JAVA_OPTS="-XX:+PrintCommandLineFlags" CAPSTAN_JVM_OPTIONS="$work/root/etc/capstan/jvm.options" \
    CAPSTAN_JAR="$work/root/usr/share/capstan/capstan.jar" "$work/root/usr/bin/capstan" version)"
  [[ "$out" == *"-XX:MaxHeapSize=1073741824"* && "$out" == *"-XX:+UseParallelGC"* && "$out" == *"capstan "* ]] \
    || { echo "$out"; return 1; }
  out="$(JAVA_OPTS="-Xmx77m -XX:+PrintCommandLineFlags" CAPSTAN_JVM_OPTIONS="$work/root/etc/capstan/jvm.options" \
    CAPSTAN_JAR="$work/root/usr/share/capstan/capstan.jar" "$work/root/usr/bin/capstan" version)"
  [[ "$out" == *"-XX:MaxHeapSize=80740352"* && "$out" == *"capstan "* ]] || { echo "$out"; return 1; }
}

# The launcher passes the class-data archive made for its jar (postinst's; here one that a run of
# `capstan version` made), and the JVM maps the daemon's classes from it.
launcher_class_archive() {
  local jar="$work/root/usr/share/capstan/capstan.jar" out
  CAPSTAN_CLASS_ARCHIVE="$work/absent.jsa" JAVA_OPTS="-XX:ArchiveClassesAtExit=$work/capstan.jsa" \
    CAPSTAN_JAR="$jar" "$work/root/usr/bin/capstan" version >/dev/null 2>&1
  [[ -s "$work/capstan.jsa" ]] || { echo "the JVM wrote no archive"; return 1; }
  out="$(CAPSTAN_CLASS_ARCHIVE="$work/capstan.jsa" JAVA_OPTS="-Xlog:class+load=info:stdout" \
    CAPSTAN_JAR="$jar" "$work/root/usr/bin/capstan" version)"
  [[ "$out" == *"io.capstan.controller.Main source: shared objects file (top)"* ]] \
    || { echo "$out" | grep -m1 'io.capstan.controller.Main'; return 1; }
}

units_verify() {
  "$root/scripts/verify-units.sh" --exec "$work/root/usr/bin/capstan" \
    "$work/root/lib/systemd/system/capstan.service" "$work/root/lib/systemd/system/capstan@.service"
}

# systemd's side of Type=notify with WatchdogSec=2s, in Python: a bound AF_UNIX datagram socket.
serve_under_notify() {
  python3 - "$work" <<'PY'
import os, signal, socket, subprocess, sys, time
work = sys.argv[1]
def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port
path = os.path.join(work, "notify.sock")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="2000000",
           CAPSTAN_JAR=os.path.join(work, "root/usr/share/capstan/capstan.jar"),
           CAPSTAN_JVM_OPTIONS=os.path.join(work, "root/etc/capstan/jvm.options"),
           CAPSTAN_DATA_DIR=os.path.join(work, "data"),
           CAPSTAN_WEB_PORT=str(free_port()), CAPSTAN_API_PORT=str(free_port()))
log = open(os.path.join(work, "serve.log"), "w")
proc = subprocess.Popen([os.path.join(work, "root/usr/bin/capstan"), "serve", "--config",
                         os.path.join(work, "root/etc/capstan/capstan.conf")], env=env, stdout=log, stderr=log)
def until(accept, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message = sock.recv(4096).decode()
        except socket.timeout:
            break
        print("  got:", message.replace("\n", " | "))
        if accept(message):
            return message
    raise SystemExit("the awaited notification did not come; daemon log:\n" + open(log.name).read())
try:
    ready = until(lambda m: m.startswith("READY=1"), 60)
    assert "MAINPID=%d" % proc.pid in ready, "MAINPID is not the launcher's pid (no exec?): " + ready
    pings = []
    until(lambda m: m == "WATCHDOG=1" and (pings.append(m) or len(pings) == 2), 30)
    proc.send_signal(signal.SIGTERM)
    until(lambda m: m.startswith("STOPPING=1"), 30)
    code = proc.wait(60)
    assert code == 0, "exit code %d after SIGTERM" % code
finally:
    if proc.poll() is None:
        proc.kill()
PY
}

check "control fields (Package, Architecture, Depends, Version)" control_fields
check "file list and modes" file_list
check "conffiles: /etc/capstan/capstan.conf and jvm.options" conffiles
check "maintainer scripts: user, group and data dir created once" maintainer_scripts
check "units are scripts/systemd's" units_as_in_the_source
check "launcher runs capstan version from the unpacked jar" launcher_version
check "launcher passes jvm.options, then JAVA_OPTS, to the JVM" launcher_java_opts
check "launcher passes the class-data archive" launcher_class_archive
check "systemd-analyze verify of the unpacked units" units_verify
check "serve with the packaged config: READY=1, watchdog, STOPPING=1, exit 0" serve_under_notify

echo "package: $passed passed, $failed failed"
((failed == 0))
