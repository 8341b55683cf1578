"""What the benchmark scripts share: a one-connection JSON-RPC client of lethed (line framing, standard library only),
and a private release daemon to talk to."""
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time


@contextlib.contextmanager
def private_daemon(prefix, *extra):
    """Starts the release `lethed` (build it first: swift build -c release) on a socket in a fresh temporary
    directory, yields the socket's path once it exists, and stops the daemon on the way out."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix=prefix)
    sock = os.path.join(work, "lethed.sock")
    daemon = subprocess.Popen([os.path.join(bin_dir, "lethed"), "--socket", sock, "--state-dir", os.path.join(work, "state"), *extra],
                              stderr=open(os.path.join(work, "lethed.log"), "w"))
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        yield sock
    finally:
        daemon.terminate()
        daemon.wait()


class Client:
    """Calls methods in order on one connection; `progress` prints `$/progress` notifications to stderr."""

    def __init__(self, path, progress=False):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rwb")
        self.next = 1
        self.progress = progress

    def call(self, method, params):
        request = {"jsonrpc": "2.0", "id": self.next, "method": method, "params": params}
        self.next += 1
        self.file.write((json.dumps(request) + "\n").encode())
        self.file.flush()
        while True:
            reply = json.loads(self.file.readline())
            if "id" not in reply:
                if self.progress:
                    value = reply.get("params", {}).get("value", {})
                    print(f"    {value.get('stage')} {value.get('unit')} {value.get('step')}/{value.get('steps')}", file=sys.stderr)
                continue
            if "error" in reply:
                raise RuntimeError(f"{method}: {reply['error']}")
            return reply["result"]
