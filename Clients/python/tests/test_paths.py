"""The default socket path, resolved as the lethe CLI does."""

import os
import tempfile
import unittest
from unittest import mock

import lethe
from support import socket_path


class DefaultPathTests(unittest.TestCase):
    def test_lethe_socket_wins(self):
        env = {"LETHE_SOCKET": "/x/y.sock", "XDG_RUNTIME_DIR": "/run/user/7"}
        self.assertEqual(lethe.default_socket_path(env), "/x/y.sock")

    def test_empty_lethe_socket_is_ignored(self):
        env = {"LETHE_SOCKET": "", "XDG_RUNTIME_DIR": "/run/user/7"}
        self.assertEqual(lethe.default_socket_path(env), "/run/user/7/lethe/lethed.sock")

    def test_xdg_runtime_dir(self):
        self.assertEqual(lethe.default_socket_path({"XDG_RUNTIME_DIR": "/run/user/7"}),
                         "/run/user/7/lethe/lethed.sock")

    def test_empty_xdg_runtime_dir_falls_back_to_tmp(self):
        expected = "/tmp/lethe-{}/lethed.sock".format(os.getuid())
        self.assertEqual(lethe.default_socket_path({"XDG_RUNTIME_DIR": ""}), expected)
        self.assertEqual(lethe.default_socket_path({}), expected)

    def test_daemon_default_ignores_lethe_socket(self):
        env = {"LETHE_SOCKET": "/x/y.sock"}
        self.assertEqual(lethe.daemon_default_socket_path(env), "/tmp/lethe-{}/lethed.sock".format(os.getuid()))

    def test_reads_os_environ_by_default(self):
        with mock.patch.dict(os.environ, {"LETHE_SOCKET": "/from/env.sock"}):
            self.assertEqual(lethe.default_socket_path(), "/from/env.sock")

    def test_client_without_path_uses_lethe_socket(self):
        path = socket_path()
        with mock.patch.dict(os.environ, {"LETHE_SOCKET": path}):
            with lethe.Client() as client:
                self.assertEqual(client.path, path)
                self.assertIn("version", client.status())

    def test_client_without_path_uses_xdg_default(self):
        runtime = tempfile.mkdtemp(prefix="lethe-xdg-")
        self.addCleanup(os.rmdir, runtime)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        env.pop("LETHE_SOCKET", None)
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(lethe.DaemonUnavailable) as caught:
                lethe.Client()
        self.assertEqual(caught.exception.path, os.path.join(runtime, "lethe", "lethed.sock"))


if __name__ == "__main__":
    unittest.main()
