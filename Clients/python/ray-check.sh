#!/usr/bin/env bash
# lethe.ray on a local Ray cluster on this machine (`make scale-check`): Clients/python/tests_ray against the lethed in
# LETHED_DIR, with a Python that has Ray.
#
#   Clients/python/ray-check.sh LETHED_DIR
#
# RAY_PYTHON names a Python with `ray` installed; unset, the script makes (once) a venv in $RAY_VENV (default
# .build/ray-venv in the repository) and `pip install`s Ray from PyPI into it, the only download `make test` makes.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/lethed" ]; then
    echo "usage: $0 LETHED_DIR   (a directory holding an executable lethed)" >&2
    exit 2
fi
HERE="$(cd "$(dirname "$0")" && pwd)"
export LETHED="$(cd "$1" && pwd)/lethed"
RAY_VERSION="${RAY_VERSION:-2.60.0}"

if [ -z "${RAY_PYTHON:-}" ]; then
    RAY_VENV="${RAY_VENV:-$HERE/../../.build/ray-venv}"
    RAY_PYTHON="$RAY_VENV/bin/python"
    if ! "$RAY_PYTHON" -c "import ray" 2>/dev/null; then
        echo "== installing ray $RAY_VERSION into $RAY_VENV (once)"
        python3 -m venv "$RAY_VENV"
        "$RAY_PYTHON" -m pip install --quiet --disable-pip-version-check "ray==$RAY_VERSION"
    fi
fi
echo "== lethe.ray on a local Ray cluster ($("$RAY_PYTHON" -c 'import ray, sys; print("ray", ray.__version__, "python", sys.version.split()[0])'), $LETHED)"
# Ray's own start-up chatter goes to its log directory; the tests report what they check.
export RAY_DEDUP_LOGS=0 RAY_USAGE_STATS_ENABLED=0
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}" "$RAY_PYTHON" -m unittest discover -s "$HERE/tests_ray" -v
