#!/usr/bin/env bash
# Measures writes/s and p50/p99 latency of 256-byte puts through the state machine of a local
# 3-member cluster, at 1, 16 and 64 concurrent writers, over the web-layer and the gRPC Raft
# transports, and prints one table. Takes about 1.5 minutes with the defaults.
#
#   scripts/bench.sh [capstan bench options]    e.g. --seconds 30 --writers 1,8 --dir /var/tmp
#
# Options are passed on to `capstan bench` (see `scripts/capstan bench --help`). The clusters'
# data lives under --dir (default: the system temporary directory) on the disk being measured:
# every write is fsynced by a quorum before it counts. Exit code 1 if a cluster failed to form.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/capstan" bench "$@"
