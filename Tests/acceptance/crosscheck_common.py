"""What the PyTorch cross-checks share: a one-request-per-connection JSON-RPC call to lethed, and the IDX reader for
Debian's Fashion-MNIST. Standard library and numpy only."""
import gzip
import json
import os
import socket

import numpy as np

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def caller(sock_path):
    """A `call(method, params)` that sends one request over a fresh connection and returns its result (or raises)."""
    counter = [0]

    def call(method, params):
        counter[0] += 1
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(sock_path)
            s.sendall((json.dumps({"jsonrpc": "2.0", "id": counter[0], "method": method, "params": params}) + "\n").encode())
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    return call


def idx(path):
    """An IDX file of the Fashion-MNIST package (gzipped) as a numpy array."""
    with gzip.open(os.path.join(FASHION_MNIST, path)) as f:
        data = f.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * data[3]).reshape(dims)
