"""Python client for ``lethed``, the Lethe machine-unlearning daemon.

Standard library only. Talks JSON-RPC 2.0 over the daemon's Unix socket::

    import lethe

    with lethe.Client() as client:          # $LETHE_SOCKET, else lethed's default path
        client.load_dataset()               # Fashion-MNIST
        client.create_split("fashion-mnist", fraction=0.1, name="s")
        client.create_model("m", "mlp", "fashion-mnist", hidden=[128])
        client.train("m", "fashion-mnist", epochs=2, progress=print)
        print(client.forget("m", "s", "finetune"))

See :class:`Client` for calls, progress, cancellation and timeouts, and
:mod:`lethe.errors` for the exceptions.
"""

__version__ = "0.1.0"

from .client import Client
from .errors import (
    AlreadyExists,
    Busy,
    Cancelled,
    ConnectionLost,
    DaemonUnavailable,
    InternalError,
    Interrupted,
    InvalidData,
    InvalidParams,
    InvalidRequest,
    LetheError,
    LetheTimeout,
    MethodNotFound,
    NotFound,
    ParseError,
    ProtocolError,
    RPCError,
    ShapeMismatch,
    ShuttingDown,
)
from .naming import camel_case
from .npy import NpyArray, load_npy, read_npy
from .paths import daemon_default_socket_path, default_socket_path
from .daemon import find_lethed, start_daemon

__all__ = [
    "Client",
    "LetheError",
    "DaemonUnavailable",
    "ConnectionLost",
    "ProtocolError",
    "LetheTimeout",
    "Interrupted",
    "RPCError",
    "ParseError",
    "InvalidRequest",
    "MethodNotFound",
    "InvalidParams",
    "InternalError",
    "Cancelled",
    "NotFound",
    "AlreadyExists",
    "InvalidData",
    "ShapeMismatch",
    "Busy",
    "ShuttingDown",
    "camel_case",
    "find_lethed",
    "start_daemon",
    "load_npy",
    "read_npy",
    "NpyArray",
    "default_socket_path",
    "daemon_default_socket_path",
    "__version__",
]
