"""The exceptions the Lethe client raises.

Everything that goes wrong talking to ``lethed`` is a :class:`LetheError`, except
:class:`Interrupted`, which is a :class:`KeyboardInterrupt` so that Ctrl-C still
stops a program whose ``except LetheError`` clauses handle daemon errors.

::

    LetheError (Exception)
    ├── DaemonUnavailable       cannot connect to the socket
    ├── ConnectionLost          the daemon closed the connection during a call
    ├── ProtocolError           the daemon sent something that is not JSON-RPC
    ├── LetheTimeout            a call's timeout ran out (also a TimeoutError)
    └── RPCError                a JSON-RPC error reply: .code, .message, .data
        ├── ParseError              -32700
        ├── InvalidRequest          -32600
        ├── MethodNotFound          -32601
        ├── InvalidParams           -32602
        ├── InternalError           -32603
        ├── Cancelled               -32800
        ├── NotFound                1
        ├── AlreadyExists           2
        ├── InvalidData             3
        ├── ShapeMismatch           4
        ├── Busy                    5
        └── ShuttingDown            6
    Interrupted (KeyboardInterrupt)  Ctrl-C during a call, after the daemon was told
"""


class LetheError(Exception):
    """Base class of every error the client raises (except :class:`Interrupted`)."""


class DaemonUnavailable(LetheError):
    """The client could not connect to ``lethed``'s socket.

    ``path`` is the socket path tried and ``reason`` the underlying ``OSError``.
    The message says how to start the daemon.
    """

    def __init__(self, path, reason):
        self.path = path
        self.reason = reason
        if isinstance(reason, FileNotFoundError):
            what = "there is no socket at {}".format(path)
        elif isinstance(reason, ConnectionRefusedError):
            what = "nothing listens on {} (a stale socket file?)".format(path)
        elif isinstance(reason, PermissionError):
            what = "permission denied on {} (lethed only serves its own user)".format(path)
        else:
            what = "{}: {}".format(path, reason)
        message = (
            "cannot connect to lethed: {}. Start the daemon with `lethed` "
            "(or `lethed --socket {}`), or point $LETHE_SOCKET or Client(path=...) "
            "at the socket of a running one.".format(what, path)
        )
        super().__init__(message)

    def __reduce__(self):  # picklable (a Ray task's error reaches its caller intact)
        return (type(self), (self.path, self.reason))


class ConnectionLost(LetheError):
    """The daemon closed the connection (or it broke) while a call was waiting.

    The client reconnects on its next call.
    """


class ProtocolError(LetheError):
    """The daemon sent a line that is not a JSON-RPC message."""


class LetheTimeout(LetheError, TimeoutError):
    """A call took longer than its ``timeout``.

    The client sent ``$/cancelRequest`` for it before raising. Attributes:

    - ``method``, ``request_id``, ``timeout``;
    - ``confirmed``: True when the daemon answered the cancelled request (with
      -32800, or with its result when it finished first) within the client's
      ``cancel_grace``; False when the client stopped waiting and dropped the
      connection (it reconnects on the next call);
    - ``result``: the result when the request finished before the cancellation
      reached it, else None.
    """

    def __init__(self, method, request_id, timeout, confirmed, result=None):
        self.method = method
        self.request_id = request_id
        self.timeout = timeout
        self.confirmed = confirmed
        self.result = result
        tail = "cancelled on the daemon" if confirmed else "the daemon did not confirm the cancellation"
        super().__init__("{} timed out after {} s; {}".format(method, timeout, tail))

    def __reduce__(self):
        return (type(self), (self.method, self.request_id, self.timeout, self.confirmed, self.result))


class RPCError(LetheError):
    """A JSON-RPC error reply.

    ``code`` (int), ``message`` (str) and ``data`` (the optional ``data`` member,
    else None) are the daemon's error object; ``method`` is the method called.
    Subclasses exist for the codes Lethe uses (see this module's docstring), so
    ``except lethe.NotFound`` works as well as checking ``e.code == 1``.
    """

    code = None

    def __init__(self, code, message, data=None, method=None):
        self.code = code
        self.message = message
        self.data = data
        self.method = method
        prefix = "{}: ".format(method) if method else ""
        super().__init__("{}{} (error {})".format(prefix, message, code))

    def __reduce__(self):
        return (type(self), (self.code, self.message, self.data, self.method))


class ParseError(RPCError):
    """-32700: the daemon could not read a message as JSON, or its frame."""


class InvalidRequest(RPCError):
    """-32600: the envelope of the request is wrong."""


class MethodNotFound(RPCError):
    """-32601: the daemon has no such method."""


class InvalidParams(RPCError):
    """-32602: a parameter is missing, mistyped, unknown or out of range; the message names it."""


class InternalError(RPCError):
    """-32603: an unexpected failure in the daemon."""


class Cancelled(RPCError):
    """-32800: the request was cancelled (``client.cancel()``); nothing was changed."""


class NotFound(RPCError):
    """1: a dataset, split, model or file is unknown; ``data`` names the kind and name."""


class AlreadyExists(RPCError):
    """2: the name is in use (``model/create``, ``forget``'s output, ``model/load``)."""


class InvalidData(RPCError):
    """3: a data or model file cannot be read (or written)."""


class ShapeMismatch(RPCError):
    """4: the model and the data (or a file's tensors) do not fit."""


class Busy(RPCError):
    """5: another job is writing the model, or a limit of the daemon was reached."""


class ShuttingDown(RPCError):
    """6: the daemon is shutting down and only accepts ``exit``."""


_BY_CODE = {
    -32700: ParseError,
    -32600: InvalidRequest,
    -32601: MethodNotFound,
    -32602: InvalidParams,
    -32603: InternalError,
    -32800: Cancelled,
    1: NotFound,
    2: AlreadyExists,
    3: InvalidData,
    4: ShapeMismatch,
    5: Busy,
    6: ShuttingDown,
}


def error_from_reply(error, method=None):
    """The :class:`RPCError` (subclass) for a JSON-RPC error object ``{"code", "message", "data"?}``."""
    if not isinstance(error, dict):
        return ProtocolError("malformed error object: {!r}".format(error))
    code = error.get("code")
    cls = _BY_CODE.get(code, RPCError)
    return cls(code, error.get("message", ""), error.get("data"), method)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) arrived while a call was waiting for the daemon.

    The client first sent ``$/cancelRequest`` for the call and waited for its
    reply, so the job is no longer running on the daemon when this is raised
    (unless ``confirmed`` is False: a second Ctrl-C stopped the wait, and the
    client dropped the connection, which cancels the job at its next progress
    notification, or lets a job without progress run to completion).

    It is a :class:`KeyboardInterrupt`, not a :class:`LetheError`, so that an
    ``except LetheError`` clause (a loop that skips failed methods, say) does
    not swallow Ctrl-C: an uncaught one ends the program as Ctrl-C always does.
    Attributes:

    - ``method``, ``request_id``;
    - ``confirmed``: whether the daemon answered the cancelled request;
    - ``error``: the :class:`Cancelled` reply (or another RPCError), when there
      was one;
    - ``result``: the result, when the request finished before the cancellation
      reached it (it took effect: a ``model/train`` did train), else None.
    """

    def __init__(self, method, request_id, confirmed, error=None, result=None):
        self.method = method
        self.request_id = request_id
        self.confirmed = confirmed
        self.error = error
        self.result = result
        if not confirmed:
            tail = "the client stopped waiting for the daemon's confirmation"
        elif error is not None:
            tail = "cancelled on the daemon"
        else:
            tail = "it had already finished"
        super().__init__("{} interrupted; {}".format(method, tail))

    def __reduce__(self):
        return (type(self), (self.method, self.request_id, self.confirmed, self.error, self.result))
