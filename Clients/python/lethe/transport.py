"""One line-framed JSON-RPC connection to ``lethed`` over a Unix socket.

Each message is one compact JSON value followed by ``\\n`` (the daemon picks
line framing from the first byte, ``{``). Writes are serialised by a lock, so a
``$/cancelRequest`` can be sent from another thread while a call reads.
"""

import json
import math
import selectors
import socket
import threading

from .errors import ConnectionLost, DaemonUnavailable, ProtocolError


def _wire_value(value):
    """``value`` with non-finite floats as the strings the daemon reads ("NaN", "Infinity", "-Infinity")."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: _wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire_value(v) for v in value]
    return value


def encode(message):
    """The bytes of one message in line framing."""
    return json.dumps(_wire_value(message), separators=(",", ":"), allow_nan=False).encode("utf-8") + b"\n"


class LineConnection:
    """A connected Unix socket speaking newline-delimited JSON-RPC.

    Raises :class:`DaemonUnavailable` when it cannot connect. Not for use on
    its own: :class:`lethe.Client` drives it.
    """

    def __init__(self, path):
        self.path = path
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError as error:
            sock.close()
            raise DaemonUnavailable(path, error) from None
        self._sock = sock
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._buffer = bytearray()
        self._write_lock = threading.Lock()
        self.closed = False

    def fileno(self):
        """The socket's file descriptor (-1 once closed)."""
        return self._sock.fileno()

    def send(self, message):
        """Sends one message (a dict); raises :class:`ConnectionLost` if the socket is gone."""
        data = encode(message)
        with self._write_lock:
            if self.closed:
                raise ConnectionLost("the connection to {} is closed".format(self.path))
            try:
                self._sock.sendall(data)
            except OSError as error:
                raise ConnectionLost("cannot send to lethed at {}: {}".format(self.path, error)) from None

    def read(self, timeout):
        """The next message, parsed; None if none arrived within ``timeout`` seconds (None: wait).

        Raises :class:`ConnectionLost` at end of stream and :class:`ProtocolError`
        on a line that is not JSON.
        """
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                line = line.strip()
                if not line:
                    continue
                try:
                    return json.loads(line.decode("utf-8"))
                except ValueError as error:
                    raise ProtocolError("lethed sent a line that is not JSON ({}): {!r}".format(error, line[:200]))
            if self.closed:
                raise ConnectionLost("the connection to {} is closed".format(self.path))
            if timeout is not None:
                try:
                    ready = self._selector.select(max(0.0, timeout))
                except (OSError, ValueError) as error:  # closed from another thread
                    raise ConnectionLost("the connection to {} was closed: {}".format(self.path, error)) from None
                if not ready:
                    if self.closed:
                        raise ConnectionLost("the connection to {} is closed".format(self.path))
                    return None
            try:
                chunk = self._sock.recv(1 << 16)
            except (OSError, ValueError) as error:
                raise ConnectionLost("cannot read from lethed at {}: {}".format(self.path, error)) from None
            if not chunk:
                raise ConnectionLost("lethed closed the connection ({})".format(self.path))
            self._buffer += chunk
            # Only one select per read: after new bytes, look for a line again and
            # return None rather than wait twice as long as asked.
            if timeout is not None and self._buffer.find(b"\n") < 0:
                return None

    def close(self):
        """Closes the socket; idempotent."""
        with self._write_lock:
            if self.closed:
                return
            self.closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._selector.close()
        self._sock.close()
