"""The client: one connection to ``lethed`` and the generic :meth:`Client.call`."""

import threading
import time

from .daemon import start_daemon
from .errors import ConnectionLost, DaemonUnavailable, Interrupted, LetheError, LetheTimeout, ProtocolError, error_from_reply
from .interrupts import DeferredInterrupt
from .methods import Methods
from .naming import protocol_params
from .paths import default_socket_path
from .transport import LineConnection

_DEFAULT = object()
_POLL_SECONDS = 0.1  # how often a waiting call looks at deferred Ctrl-C presses


class Client(Methods):
    """A connection to ``lethed``.

    ``path`` is the daemon's socket; by default ``$LETHE_SOCKET``, else
    ``$XDG_RUNTIME_DIR/lethe/lethed.sock`` (when ``XDG_RUNTIME_DIR`` is set and
    not empty), else ``/tmp/lethe-<uid>/lethed.sock``, exactly as the ``lethe``
    command line resolves it. The client connects at once and raises
    :class:`~lethe.DaemonUnavailable` (naming the path and how to start
    ``lethed``) when it cannot; with ``autostart=True`` it first starts the
    ``lethed`` on ``PATH`` (or ``$LETHED``) on that socket, as the ``lethe``
    command line does (:func:`lethe.start_daemon`).

    ``timeout`` is the default of every call's ``timeout`` (seconds, or None to
    wait as long as the job takes). ``cancel_grace`` is how long a call that
    timed out waits for the daemon to confirm the cancellation before it drops
    the connection.

    Use it as a context manager to close the socket::

        with lethe.Client() as client:
            print(client.status()["version"])

    **Threads.** Calls are serialised: a Client sends one request at a time and
    waits for its reply, and a second thread calling meanwhile blocks until the
    first call returns. The daemon runs one connection's requests in order
    anyway; to run jobs side by side, use one Client per thread (each is its own
    connection; they share the daemon's datasets, splits and models).
    :meth:`cancel` and :meth:`close` may be called from any thread, and
    :meth:`cancel` from a progress callback. A progress callback may itself make
    calls on the same client, but only ``status()``, ``initialize()`` and
    ``discover()`` are answered at once: any other request waits on the daemon
    until the running job is done (the callback's further progress values are
    delivered afterwards, in order).

    If the connection breaks (the daemon restarted, or the client dropped it
    after an unconfirmed cancellation), the next call reconnects.
    """

    def __init__(self, path=None, timeout=None, cancel_grace=10.0, autostart=False):
        self.path = path if path is not None else default_socket_path()
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive or None")
        self.timeout = timeout
        self.cancel_grace = cancel_grace
        self._lock = threading.RLock()
        self._conn = None
        self._closed = False
        self._next_id = 0
        self._inflight = []        # ids of requests waiting for their reply, outermost first
        self._replies = {}         # id -> reply, for requests in flight
        self._handlers = {}        # progress token -> callback
        self._handler_errors = {}  # progress token -> exception the callback raised
        self._progress_queues = {}  # progress token -> values waiting while its callback runs
        try:
            self._conn = LineConnection(self.path)
        except DaemonUnavailable:
            if not autostart:
                raise
            # As the CLI does: start the lethed on PATH (or $LETHED), detached, then connect.
            start_daemon(self.path)
            self._conn = LineConnection(self.path)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self._closed else ("connected" if self.connected else "disconnected")
        return "<lethe.Client {} {}>".format(self.path, state)

    @property
    def connected(self):
        """True while the client holds an open connection."""
        conn = self._conn
        return conn is not None and not conn.closed

    def close(self):
        """Closes the connection. Further calls raise :class:`~lethe.LetheError`.

        Closing while a call runs (from another thread) makes that call raise
        :class:`~lethe.ConnectionLost`; the daemon then cancels the job at its
        next progress notification (a job without progress runs to completion).
        Idempotent.
        """
        self._closed = True
        conn = self._conn
        if conn is not None:
            conn.close()

    def _connection(self):
        if self._closed:
            raise LetheError("this lethe.Client is closed")
        if self._conn is None or self._conn.closed:
            self._conn = None
            self._replies.clear()
            self._conn = LineConnection(self.path)
        return self._conn

    def _drop(self, conn):
        conn.close()
        if self._conn is conn:
            self._conn = None
        self._replies.clear()

    # ------------------------------------------------------------------ calls

    def call(self, method, progress=None, timeout=_DEFAULT, params=None, **kwargs):
        """Calls ``method`` and returns its result (a dict, list, or None).

        Parameters go as keyword arguments: the protocol's camelCase names
        (``batchSize=64``) or their snake_case spelling (``batch_size=64``),
        which is converted to camelCase. Only the top-level names are
        converted: nested objects (``architecture``, ``hyperparameters``,
        ``forget``, ...) are sent as given. ``params`` is a dict sent exactly as
        given, for names that are not Python identifiers or that clash with
        this method's own arguments (``method``, ``progress``, ``timeout``,
        ``params``); it is merged with the keyword arguments, and a field given
        twice is a ``TypeError``.

        ``progress``: a callable. The call adds a ``workDoneToken`` (unless
        ``params`` already has one) and calls ``progress(value)`` with the
        ``value`` dict of every ``$/progress`` notification for it (``stage``,
        ``unit``, ``step``, ``steps``, ``loss``, ``accuracy``,
        ``examplesPerSecond``, ...). Only methods that take a ``workDoneToken``
        accept it (``model/train``, ``forget``, ``compare``, ``attack``,
        ``fleet/train``, ``model/predict``); the others answer -32602. If the
        callback raises, the client cancels the request, waits for its reply
        and re-raises the callback's exception.

        ``timeout``: seconds (default: the client's). When it runs out the client
        sends ``$/cancelRequest``, waits up to ``cancel_grace`` for the reply and
        raises :class:`~lethe.LetheTimeout`.

        Errors: a JSON-RPC error reply raises :class:`~lethe.RPCError` (a subclass
        per code: :class:`~lethe.InvalidParams` for -32602, ...). After
        :meth:`cancel`, the call raises :class:`~lethe.Cancelled` (-32800), or
        returns the result if the job finished first. Ctrl-C cancels the request,
        waits for the daemon to confirm, and raises :class:`~lethe.Interrupted`
        (a ``KeyboardInterrupt``); a second Ctrl-C stops waiting.
        """
        if timeout is _DEFAULT:
            timeout = self.timeout
        elif timeout is not None and timeout <= 0:
            raise ValueError("timeout must be positive or None")
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable, got {!r}".format(progress))
        wire = protocol_params(params, kwargs)
        return self._request(method, wire, progress, timeout)

    def cancel(self):
        """Cancels the request in flight (sends ``$/cancelRequest`` for it).

        Safe from another thread or from a progress callback. The call then
        raises :class:`~lethe.Cancelled`, or returns normally if the job had
        already finished (and methods that cannot be cancelled, such as
        ``dataset/load``, run to completion). Returns True if a cancellation was
        sent, False when no call was in flight.
        """
        conn = self._conn
        ids = list(self._inflight)
        if conn is None or not ids:
            return False
        for request_id in ids:
            try:
                conn.send(_cancel_message(request_id))
            except ConnectionLost:
                return False
        return True

    def _request(self, method, wire, progress, timeout):
        with self._lock:
            conn = self._connection()
            self._next_id += 1
            request_id = self._next_id
            token = None
            if progress is not None:
                token = wire.get("workDoneToken")
                if token is None:
                    token = "lethe-py-{}".format(request_id)
                    wire["workDoneToken"] = token
                self._handlers[token] = progress
            message = {"jsonrpc": "2.0", "id": request_id, "method": method}
            if wire:
                message["params"] = wire
            self._inflight.append(request_id)
            try:
                with DeferredInterrupt() as guard:
                    try:
                        conn.send(message)
                        return self._await(conn, request_id, method, token, timeout, guard)
                    except KeyboardInterrupt as interrupt:
                        if isinstance(interrupt, Interrupted):
                            raise
                        # Not deferred (another thread, or a custom SIGINT handler): the
                        # stream may be mid-line, so cancel and drop the connection.
                        self._abandon(conn, request_id)
                        raise Interrupted(method, request_id, confirmed=False) from None
            except (ConnectionLost, ProtocolError):
                self._drop(conn)
                raise
            finally:
                self._inflight.remove(request_id)
                self._replies.pop(request_id, None)
                if token is not None:
                    self._handlers.pop(token, None)
                    self._handler_errors.pop(token, None)

    def _await(self, conn, request_id, method, token, timeout, guard):
        deadline = None if timeout is None else time.monotonic() + timeout
        reason = None     # why the client cancelled: "interrupt", "timeout" or "callback"
        give_up = None    # when to stop waiting for a cancelled request's reply
        while request_id not in self._replies:
            now = time.monotonic()
            if guard.pressed:
                guard.handled = True
                if reason != "interrupt":
                    reason, give_up = "interrupt", None
                    self._send_cancel(conn, request_id)
                elif guard.pressed >= 2:
                    self._abandon(conn, request_id)
                    raise Interrupted(method, request_id, confirmed=False)
            if reason is None and token is not None and token in self._handler_errors:
                reason = "callback"
                self._send_cancel(conn, request_id)
            if reason is None and deadline is not None and now >= deadline:
                reason, give_up = "timeout", now + self.cancel_grace
                self._send_cancel(conn, request_id)
            if give_up is not None and now >= give_up:
                self._abandon(conn, request_id)
                raise LetheTimeout(method, request_id, timeout, confirmed=False)
            waits = []
            if reason is None and deadline is not None:
                waits.append(deadline - now)
            if give_up is not None:
                waits.append(give_up - now)
            if guard.active:
                waits.append(_POLL_SECONDS)
            message = conn.read(min(waits) if waits else None)
            if message is not None:
                self._dispatch(message)

        reply = self._replies.pop(request_id)
        if guard.pressed:
            guard.handled = True
            reason = "interrupt"
        error = reply.get("error")
        result = reply.get("result")
        rpc_error = error_from_reply(error, method) if error is not None else None
        if reason == "interrupt":
            raise Interrupted(method, request_id, confirmed=True, error=rpc_error,
                              result=None if rpc_error is not None else result)
        if token is not None and token in self._handler_errors:
            raise self._handler_errors.pop(token)
        if reason == "timeout":
            raise LetheTimeout(method, request_id, timeout, confirmed=True,
                               result=None if rpc_error is not None else result)
        if rpc_error is not None:
            raise rpc_error
        return result

    def _dispatch(self, message):
        """Files a reply under its id, or hands a ``$/progress`` value to its callback."""
        if isinstance(message, list):
            for item in message:
                self._dispatch(item)
            return
        if not isinstance(message, dict):
            raise ProtocolError("lethed sent a JSON value that is not a message: {!r}".format(message))
        if "result" in message or "error" in message:
            request_id = message.get("id")
            if request_id is None and self._inflight:
                # An error about a message the daemon could not read (-32700) concerns
                # the request just sent: the innermost one in flight.
                request_id = self._inflight[-1]
            if request_id in self._inflight:
                self._replies[request_id] = message
            return
        if message.get("method") == "$/progress":
            params = message.get("params") or {}
            token = params.get("token")
            if token not in self._handlers:
                return
            queue = self._progress_queues.get(token)
            if queue is not None:
                # The callback is running and made a call of its own, whose wait read
                # this: deliver it when the callback returns, in order, not re-entrantly.
                queue.append(params.get("value"))
                return
            self._progress_queues[token] = queue = [params.get("value")]
            try:
                while queue and token not in self._handler_errors:
                    try:
                        self._handlers[token](queue.pop(0))
                    except Exception as error:  # re-raised by the call once the request is over
                        self._handler_errors[token] = error
            finally:
                del self._progress_queues[token]

    def _send_cancel(self, conn, request_id):
        try:
            conn.send(_cancel_message(request_id))
        except ConnectionLost:
            pass  # the next read reports the broken connection

    def _abandon(self, conn, request_id):
        """Stops waiting for a request: asks the daemon to cancel it, then drops the connection."""
        self._send_cancel(conn, request_id)
        self._drop(conn)


def _cancel_message(request_id):
    return {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": request_id}}
