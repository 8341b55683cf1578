#!/usr/bin/env bash
# One-liners on server/status: the daemon, what it holds, which jobs run.
# Usage: status.sh        (lethed's socket: $LETHE_SOCKET or the default path; see lethe-rpc --help)
set -euo pipefail
command -v lethe-rpc >/dev/null || PATH="$(cd "$(dirname "$0")/.." && pwd):$PATH"

# The whole result (indented in a terminal, one line in a pipe). -n: no params, and do not read them from
# stdin, which may be a pipe when this script runs in one.
lethe-rpc -n server/status

# Fields picked out with jq.
lethe-rpc -n server/status | jq -r '"lethed \(.version), pid \(.pid), \(.threads) threads, up \(.uptimeSeconds | floor) s"'
lethe-rpc -n server/status | jq -r '"datasets: \(.datasets | join(" ")) | splits: \(.splits | join(" ")) | models: \(.models | join(" "))"'
lethe-rpc -n server/status | jq -r '"resident: \(.residentBytes / 1048576 * 100 | round / 100) MiB"'

# Running jobs, one tab-separated line each (nothing when idle).
lethe-rpc -n server/status | jq -r '.jobs[] | [.id, .method, .target, .seconds] | @tsv'
