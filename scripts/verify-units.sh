#!/usr/bin/env bash
# Checks Capstan's systemd units with `systemd-analyze verify`; installs systemd's tools from
# Debian's packages when they are missing.
#
# Usage: scripts/verify-units.sh [--exec LAUNCHER] [UNIT_FILE...]
#   UNIT_FILE  units to check (default: scripts/systemd/*.service)
#   LAUNCHER   an existing executable standing in for /usr/bin/capstan (default: a stub)
#
# verify fails when ExecStart's binary does not exist on this machine, and /usr/bin/capstan must
# not have to be installed to test the units. So it checks copies, in a temporary directory, whose
# only change is ExecStart's binary: LAUNCHER instead of /usr/bin/capstan (package-test.sh passes
# the launcher unpacked from the .deb). Everything else is verified as shipped, and this script
# checks on its own that each shipped ExecStart runs /usr/bin/capstan. (Verifying with --root and a
# scratch tree was the alternative: verify then needs all of systemd's own units, sysinit.target
# and the rest, inside that tree.) verify does not look up User=, so the capstan user need not exist.
#
# verify exits 0 even on lines it ignores ("Unknown key name", "Failed to parse"), so any output
# at all counts as a failure. A template is checked as instance n1, so %i gets expanded.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

launcher=""
if [[ "${1:-}" == "--exec" ]]; then
  launcher="$2"
  shift 2
fi
units=("$@")
if ((${#units[@]} == 0)); then
  units=("$root"/scripts/systemd/*.service)
fi

if ! command -v systemd-analyze >/dev/null; then
  echo "verify-units: installing systemd (for systemd-analyze)" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q systemd
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -z "$launcher" ]]; then
  launcher="$work/bin/capstan"
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexit 0\n' >"$launcher"
  chmod 755 "$launcher"
fi
if [[ ! -x "$launcher" ]]; then
  echo "verify-units: $launcher is not an executable" >&2
  exit 2
fi

failed=0
for unit in "${units[@]}"; do
  name="$(basename "$unit")"
  execs="$(grep -c '^ExecStart=' "$unit" || true)"
  if [[ "$execs" != 1 ]] || ! grep -q '^ExecStart=/usr/bin/capstan serve --config /etc/capstan/' "$unit"; then
    echo "verify-units: $name: want one ExecStart=/usr/bin/capstan serve --config /etc/capstan/..." >&2
    failed=$((failed + 1))
    continue
  fi
  sed "s#^ExecStart=/usr/bin/capstan #ExecStart=$launcher #" "$unit" >"$work/$name"
  target="$work/$name"
  [[ "$name" == *@.service ]] && target="$work/${name%@.service}@n1.service"
  if output="$(systemd-analyze verify "$target" 2>&1)" && [[ -z "$output" ]]; then
    echo "verify-units: $name ok"
  else
    echo "verify-units: $name FAILED:" >&2
    echo "$output" >&2
    failed=$((failed + 1))
  fi
done
exit $((failed > 0))
