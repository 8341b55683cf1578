#!/usr/bin/env bash
# Runs the Python client's tests against a private lethed, and checks that `pip install` works.
#
#   Clients/python/run-tests.sh LETHED_DIR        # e.g. /tmp/lethe-bin or .build/release
#
# LETHED_DIR holds `lethed` (and its Lethe_LetheDaemon.resources). The script starts lethed in a
# temporary directory (--threads 1), exports LETHE_SOCKET, runs `python3 -m unittest discover -s
# Clients/python/tests -v` with PYTHONPATH=Clients/python, then pip-installs the package into a
# fresh venv (offline when it can, see below) and makes one status() call from it. It stops the
# daemon, removes the temporary directory, and exits non-zero if anything failed.
# PYTHON overrides the interpreter (default python3).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/lethed" ]; then
    echo "usage: $0 LETHED_DIR   (a directory holding an executable lethed)" >&2
    exit 2
fi
LETHED="$(cd "$1" && pwd)/lethed"
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-python3}"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/lethe-python-tests.XXXXXX")"
DAEMON_PID=""
cleanup() {
    if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -TERM "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- a private daemon
SOCKET="$TMP/lethed.sock"
"$LETHED" --socket "$SOCKET" --state-dir "$TMP/state" --threads 1 --log-level warning 2>"$TMP/lethed.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do
    [ -S "$SOCKET" ] && break
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
        echo "lethed exited before listening:" >&2
        cat "$TMP/lethed.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ ! -S "$SOCKET" ]; then
    echo "lethed did not create $SOCKET within 10 s" >&2
    exit 1
fi
export LETHE_SOCKET="$SOCKET"
export LETHED  # test_autostart starts its own daemons with it

status=0

# ---------------------------------------------------------------- the tests
echo "== unit tests ($("$PYTHON" --version 2>&1), $LETHED)"
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" "$PYTHON" -m unittest discover -s "$HERE/tests" -v || status=1

# ---------------------------------------------------------------- pip install
echo "== pip install into a fresh venv"
# Build from a copy so that setuptools' build/ and *.egg-info stay out of the source tree.
cp -R "$HERE" "$TMP/src"
rm -rf "$TMP/src/build" "$TMP/src"/*.egg-info "$TMP/src/lethe/__pycache__" "$TMP/src/tests/__pycache__"
# Offline (--no-index --no-build-isolation), the build runs on what the venv sees: its own
# setuptools (from ensurepip) and, through --system-site-packages, the interpreter's `wheel`,
# which setuptools < 70.1 needs for bdist_wheel. Use the first interpreter that has it (Debian's
# python3 does, with python3-wheel); with none, fall back to an ordinary online install, where
# pip fetches setuptools and wheel into an isolated build environment.
PIP_PYTHON=""
for candidate in "$PYTHON" python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import ensurepip, venv, wheel" 2>/dev/null; then
        PIP_PYTHON="$candidate"
        break
    fi
done
if [ -n "$PIP_PYTHON" ]; then
    PIP_MODE="offline"
    PIP_ARGS=(--no-index --no-build-isolation)
else
    PIP_PYTHON="$PYTHON"
    PIP_MODE="online: no interpreter here has the wheel package an offline build needs"
    PIP_ARGS=()
fi
echo "pip install with $("$PIP_PYTHON" --version 2>&1) ($(command -v "$PIP_PYTHON")), $PIP_MODE"
if "$PIP_PYTHON" -m venv --system-site-packages "$TMP/venv" \
    && "$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        ${PIP_ARGS[@]+"${PIP_ARGS[@]}"} "$TMP/src" \
    && (cd "$TMP" && VENV="$TMP/venv" "$TMP/venv/bin/python" - <<'PY'
import os
import lethe
here = os.path.dirname(os.path.realpath(lethe.__file__))
assert here.startswith(os.path.realpath(os.environ["VENV"])), "imported lethe from " + here
with lethe.Client() as client:
    status = client.status()
print("installed lethe {} in {}; lethed {} answers status()".format(lethe.__version__, here, status["version"]))
PY
    ); then
    echo "pip install: ok"
else
    echo "pip install: FAILED" >&2
    status=1
fi

# ---------------------------------------------------------------- the daemon survived
if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    echo "lethed died during the tests:" >&2
    cat "$TMP/lethed.log" >&2
    status=1
fi
if [ "$status" -eq 0 ]; then echo "== all passed"; else echo "== FAILED" >&2; fi
exit $status
