"""Starting ``lethed`` when none answers, as the ``lethe`` command-line client does.

:func:`start_daemon` runs the ``lethed`` named by ``lethed=``, else ``$LETHED``, else the first on ``PATH``, detached in its
own session (a terminal's Ctrl-C does not reach it), with its log in ``lethed.log`` beside the socket, and waits until it
accepts connections. ``Client(autostart=True)`` calls it when the first connection fails; a Ray task or a script on a
fresh node uses it to bring up its own daemon.
"""

import os
import shutil
import socket
import subprocess
import time

from .errors import DaemonUnavailable, LetheError
from .paths import default_socket_path


#: Daemons started by this process: kept so that their Popen objects are not collected (they outlive us by design).
_started = []


def find_lethed(lethed=None):
    """The ``lethed`` executable: ``lethed``, else ``$LETHED``, else the first on ``PATH``; ``LetheError`` if none."""
    for candidate in (lethed, os.environ.get("LETHED") or None, shutil.which("lethed")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise LetheError("no lethed found: pass lethed=, set $LETHED, or put lethed on PATH")


def _answers(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def start_daemon(path=None, lethed=None, args=(), wait=30.0):
    """Starts ``lethed`` on ``path`` (default: the client's default socket) unless one already answers there.

    ``args`` are extra ``lethed`` options (e.g. ``["--threads", "1"]``). Returns the new process's pid, or None when
    a daemon already answered. Raises :class:`DaemonUnavailable` when the daemon exits early or does not listen
    within ``wait`` seconds (the message ends with its log).
    """
    path = path or default_socket_path()
    if _answers(path):
        return None
    executable = find_lethed(lethed)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o700, exist_ok=True)
    log_path = os.path.join(directory, "lethed.log")
    with open(os.devnull, "rb") as devnull_in, open(os.devnull, "wb") as devnull_out, open(log_path, "ab") as log:
        process = subprocess.Popen([executable, "--socket", path] + list(args), stdin=devnull_in, stdout=devnull_out,
                                   stderr=log, close_fds=True, start_new_session=True)
    _started.append(process)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if _answers(path):
            return process.pid
        if process.poll() is not None:
            break
        time.sleep(0.05)
    with open(log_path, "rb") as log:
        tail = log.read()[-600:].decode("utf-8", "replace")
    reason = "exited with {}".format(process.returncode) if process.returncode is not None else "did not listen in time"
    raise DaemonUnavailable(path, OSError("lethed {} ({}); its log ends:\n{}".format(reason, log_path, tail)))
