"""Client(autostart=True) and start_daemon: a lethed is started on a fresh socket when none answers, and reused."""

import os
import shutil
import signal
import tempfile
import unittest

import lethe

from support import LETHED_PATH


@unittest.skipUnless(LETHED_PATH, "run-tests.sh exports LETHED")
class AutostartTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lethe-py-auto-")
        self.path = os.path.join(self.dir, "run", "lethed.sock")
        self.pids = []
        self.addCleanup(self._stop)

    def _stop(self):
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_without_autostart_nothing_is_started(self):
        with self.assertRaises(lethe.DaemonUnavailable):
            lethe.Client(self.path)
        self.assertFalse(os.path.exists(self.path))

    def test_autostart_starts_lethed_once_and_reuses_it(self):
        env = {"XDG_STATE_HOME": os.path.join(self.dir, "state")}
        old = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        self.addCleanup(lambda: [os.environ.pop(k) if v is None else os.environ.__setitem__(k, v) for k, v in old.items()])
        with lethe.Client(self.path, autostart=True) as client:
            first = client.status()["pid"]
            self.pids.append(first)
        self.assertTrue(os.path.exists(os.path.join(self.dir, "run", "lethed.log")), "its log beside the socket")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "state", "lethe", "runs.sqlite")), "its default state directory")
        self.assertIsNone(lethe.start_daemon(self.path), "a daemon already answers: nothing started")
        with lethe.Client(self.path, autostart=True) as client:
            self.assertEqual(client.status()["pid"], first, "the running daemon is reused")

    def test_a_lethed_that_cannot_start_is_reported_with_its_log(self):
        with self.assertRaises(lethe.DaemonUnavailable) as caught:
            lethe.start_daemon(self.path, args=["--no-such-option"], wait=10)
        self.assertIn("lethed.log", str(caught.exception))

    def test_no_lethed_is_a_clear_error(self):
        saved = os.environ.pop("LETHED", None)
        self.addCleanup(lambda: saved is not None and os.environ.__setitem__("LETHED", saved))
        old_path = os.environ.get("PATH", "")
        os.environ["PATH"] = self.dir
        self.addCleanup(lambda: os.environ.__setitem__("PATH", old_path))
        with self.assertRaises(lethe.LetheError) as caught:
            lethe.find_lethed()
        self.assertIn("no lethed found", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
