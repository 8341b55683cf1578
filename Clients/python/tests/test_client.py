"""The Client object: context manager, closing, threads, exception classes."""

import threading
import time
import unittest

import lethe
from support import DaemonTestCase, socket_path


class ExceptionClassTests(unittest.TestCase):
    def test_hierarchy(self):
        for cls in (lethe.DaemonUnavailable, lethe.ConnectionLost, lethe.ProtocolError, lethe.RPCError,
                    lethe.LetheTimeout):
            self.assertTrue(issubclass(cls, lethe.LetheError), cls)
        for cls in (lethe.Cancelled, lethe.InvalidParams, lethe.MethodNotFound, lethe.NotFound, lethe.Busy):
            self.assertTrue(issubclass(cls, lethe.RPCError), cls)
        self.assertTrue(issubclass(lethe.LetheTimeout, TimeoutError))
        self.assertTrue(issubclass(lethe.Interrupted, KeyboardInterrupt))
        self.assertFalse(issubclass(lethe.Interrupted, Exception))


class ClientTests(DaemonTestCase):
    def test_context_manager_closes_the_socket(self):
        with lethe.Client(socket_path()) as client:
            conn = client._conn
            self.assertTrue(client.connected)
            self.assertGreaterEqual(conn.fileno(), 0)
            client.status()
        self.assertFalse(client.connected)
        self.assertEqual(conn.fileno(), -1)
        with self.assertRaisesRegex(lethe.LetheError, "closed"):
            client.status()

    def test_context_manager_closes_on_error(self):
        with self.assertRaises(lethe.MethodNotFound):
            with lethe.Client(socket_path()) as client:
                client.call("nope")
        self.assertFalse(client.connected)

    def test_close_from_another_thread_ends_the_call(self):
        model = self.trained_model(epochs=1)
        threading.Timer(0.3, self.client.close).start()
        started = time.monotonic()
        with self.assertRaises(lethe.ConnectionLost):
            self.client.train(model, self.dataset, epochs=100000, progress=lambda value: None)
        self.assertLess(time.monotonic() - started, 10)
        # with progress, the daemon notices the client left and cancels the job
        deadline = time.monotonic() + 10
        with lethe.Client(socket_path()) as other:
            while other.status()["jobs"] and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(other.status()["jobs"], [])

    def test_calls_from_several_threads_are_serialised(self):
        errors, counts = [], []

        def work(k):
            try:
                for i in range(25):
                    self.assertEqual(self.client.status()["jobs"], [])
                    method = "nope/{}-{}".format(k, i)
                    with self.assertRaises(lethe.MethodNotFound) as caught:
                        self.client.call(method, timeout=5)
                    self.assertIn("'{}'".format(method), caught.exception.message)  # its own reply
                counts.append(1)
            except BaseException as error:  # reported below
                errors.append(error)

        started = time.monotonic()
        threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        for thread in threads:
            thread.join(max(0, deadline - time.monotonic()))
        self.assertFalse([t for t in threads if t.is_alive()], "a thread is stuck in its call")
        self.assertEqual(errors, [])
        self.assertEqual(len(counts), 4)
        self.assertLess(time.monotonic() - started, 5)  # 200 quick calls: nobody waited for a stolen reply

    def test_reconnects_after_a_dropped_connection(self):
        self.client._conn.close()  # as after an unconfirmed cancellation
        self.assertFalse(self.client.connected)
        self.assertIn("version", self.client.status())
        self.assertTrue(self.client.connected)


if __name__ == "__main__":
    unittest.main()
