#!/bin/sh
# Runs the tests and the example against a private lethed (make check).
#
#   LETHED=/path/to/lethed sh tests/check.sh BUILD_DIR
#
# Starts lethed on a socket in a fresh mktemp directory (1 thread), waits for
# the socket, runs build/test_lethe and then build/forget_evaluate_attack on a
# tiny IDX dataset, and stops the daemon (SIGTERM) and removes the directory
# however it ends. Exits non-zero when anything failed. VALGRIND, if set, is
# put in front of both programs (e.g. VALGRIND="valgrind --leak-check=full --error-exitcode=9").
set -u

build=${1:?usage: check.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
lethed=${LETHED:-lethed}
valgrind=${VALGRIND:-}

if ! command -v "$lethed" >/dev/null 2>&1; then
    echo "check: no lethed at '$lethed'; pass LETHED=/path/to/lethed" >&2
    exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/lethe-c-check.XXXXXX") || exit 1
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sock=$dir/lethed.sock
"$lethed" --socket "$sock" --state-dir "$dir/state" --threads 1 2>"$dir/lethed.log" &
pid=$!

# Wait for the socket (at most 10 s), giving up early if lethed died.
tries=0
while [ ! -S "$sock" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "check: lethed exited before listening:" >&2
        cat "$dir/lethed.log" >&2
        pid=
        exit 1
    fi
    tries=$((tries + 1))
    if [ "$tries" -gt 200 ]; then
        echo "check: lethed did not create $sock within 10 s" >&2
        exit 1
    fi
    sleep 0.05
done

status=0
echo "== tests ($build/test_lethe)"
TMPDIR="$dir" $valgrind "$build/test_lethe" --socket "$sock" --pid "$pid" --openrpc "$here/../../../Protocol/lethe.openrpc.json" || status=1

echo "== example ($build/forget_evaluate_attack on a tiny dataset)"
mkdir "$dir/tiny" && "$build/mkidx" "$dir/tiny" 200 100 8 3 || status=1
$valgrind "$build/forget_evaluate_attack" --socket "$sock" --method gradient-ascent "$dir/tiny" 3 || status=1

if [ "$status" -ne 0 ]; then
    echo "check: FAILED (lethed's log follows)" >&2
    tail -n 40 "$dir/lethed.log" >&2
else
    echo "check: all passed"
fi
exit "$status"
