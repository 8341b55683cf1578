"""Deferring Ctrl-C while a call waits, so the client can cancel the job cleanly.

While a :class:`DeferredInterrupt` is active in the main thread, SIGINT only
counts presses instead of raising ``KeyboardInterrupt`` at an arbitrary point
(which could lose half a line of the daemon's output). The waiting loop polls
``pressed`` and reacts: the first press cancels the job, a second one stops
waiting for the daemon's confirmation.
"""

import signal
import threading


class DeferredInterrupt:
    """Context manager: counts SIGINTs in ``pressed`` instead of raising.

    It only takes over when it can do so safely: in the main thread, and when
    SIGINT's handler is Python's default one (which raises KeyboardInterrupt).
    Otherwise ``active`` is False and nothing changes: a KeyboardInterrupt may
    then arrive anywhere and the client handles it as well as it can.
    Re-entrant use (a call inside a progress callback) leaves the outer one in
    charge.
    """

    def __init__(self):
        self.pressed = 0
        self.handled = False  # set by the waiting loop once it has acted on a press
        self.active = False
        self._previous = None

    def _handler(self, signum, frame):
        self.pressed += 1

    def __enter__(self):
        if threading.current_thread() is not threading.main_thread():
            return self
        try:
            current = signal.getsignal(signal.SIGINT)
        except (ValueError, OSError):
            return self
        if current is not signal.default_int_handler:
            return self
        try:
            self._previous = signal.signal(signal.SIGINT, self._handler)
        except (ValueError, OSError):
            return self
        self.active = True
        return self

    def __exit__(self, exc_type, exc, traceback):
        if self.active:
            signal.signal(signal.SIGINT, self._previous)
            self.active = False
        if self.pressed and not self.handled and exc_type is None:
            raise KeyboardInterrupt  # pressed after the call's last look: not lost
        return False
