"""Where the daemon's socket is, resolved exactly as the ``lethe`` command-line client does."""

import os


def daemon_default_socket_path(environ=None):
    """``lethed``'s own default socket path.

    ``$XDG_RUNTIME_DIR/lethe/lethed.sock`` when ``XDG_RUNTIME_DIR`` is set and
    not empty, else ``/tmp/lethe-<uid>/lethed.sock``. ``environ`` defaults to
    ``os.environ``.
    """
    env = os.environ if environ is None else environ
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        return "{}/lethe/lethed.sock".format(runtime)
    return "/tmp/lethe-{}/lethed.sock".format(os.getuid())


def default_socket_path(environ=None):
    """The socket a :class:`lethe.Client` connects to when given no path.

    ``$LETHE_SOCKET`` when set and not empty, else the daemon's default
    (:func:`daemon_default_socket_path`). The daemon itself does not read
    ``LETHE_SOCKET``.
    """
    env = os.environ if environ is None else environ
    explicit = env.get("LETHE_SOCKET", "")
    if explicit:
        return explicit
    return daemon_default_socket_path(env)
