#!/usr/bin/env bash
# Installs, from Debian's packages, whatever the test suite needs and the machine lacks.
# Idempotent: does nothing when everything is present.
set -euo pipefail

need=()
command -v java >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
# etcd's own CLI, a client the tests check Capstan against.
command -v etcdctl >/dev/null || need+=(etcd-client)
# libfaketime moves a member's wall clock in a process test (leases must not follow it).
compgen -G '/usr/lib/*/faketime/libfaketime.so.1' >/dev/null || need+=(faketime)
# Node.js and npm run tus-js-client, the reference tus client, against the uploads endpoint.
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)

if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}"
fi

# The Node.js test clients (test-tools/package-lock.json pins them), from the npm registry.
tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test-tools"
if [[ ! -d "$tools/node_modules/tus-js-client" || "$tools/package-lock.json" -nt "$tools/node_modules" ]]; then
  echo "installing the Node.js test clients in $tools" >&2
  (cd "$tools" && npm ci --no-audit --no-fund)
fi
