"""What the benchmark scripts share: a one-connection JSON-RPC client of lethed (line framing, standard library only)."""
import json
import socket
import sys


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
