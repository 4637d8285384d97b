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

if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${need[@]}"
fi
