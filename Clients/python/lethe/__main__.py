"""``python -m lethe METHOD ['{"param": ...}']``: one call, its result printed as JSON.

Options: ``--socket PATH`` (default: ``$LETHE_SOCKET``, else lethed's default
path), ``--timeout SECONDS``, ``--progress`` (print ``$/progress`` values on
standard error; only for methods that take a workDoneToken). An error reply is
printed on standard error as JSON and exits with 1; Ctrl-C cancels the request
and exits with 130.
"""

import argparse
import json
import sys

from .client import Client
from .errors import Interrupted, LetheError, RPCError


def main(argv=None):
    """Runs the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m lethe", description="Call one lethed method and print its result.")
    parser.add_argument("method", help="e.g. server/status, model/info")
    parser.add_argument("params", nargs="?", default="{}", help="the params as a JSON object (default: {})")
    parser.add_argument("--socket", help="lethed's socket (default: $LETHE_SOCKET, else lethed's default path)")
    parser.add_argument("--timeout", type=float, help="seconds before the request is cancelled")
    parser.add_argument("--progress", action="store_true", help="print $/progress values on standard error")
    args = parser.parse_args(argv)
    try:
        params = json.loads(args.params)
    except ValueError as error:
        parser.error("params are not JSON: {}".format(error))
    if not isinstance(params, dict):
        parser.error("params must be a JSON object")

    def progress(value):
        print(json.dumps(value, sort_keys=True), file=sys.stderr, flush=True)

    try:
        with Client(args.socket) as client:
            result = client.call(args.method, progress=progress if args.progress else None,
                                 timeout=args.timeout, params=params)
    except RPCError as error:
        print(json.dumps({"code": error.code, "message": error.message, "data": error.data}), file=sys.stderr)
        return 1
    except LetheError as error:
        print("lethe: {}".format(error), file=sys.stderr)
        return 1
    except Interrupted as interrupted:
        print("lethe: {}".format(interrupted), file=sys.stderr)
        return 130
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
