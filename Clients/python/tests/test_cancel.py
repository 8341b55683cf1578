"""Cancelling: client.cancel(), Ctrl-C, timeouts."""

import os
import signal
import threading
import time
import unittest

import lethe
from support import DaemonTestCase, socket_path, unique

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
LONG = 100000  # epochs: minutes of training even on the tiny dataset


class CancelTests(DaemonTestCase):
    def test_cancel_from_a_progress_callback(self):
        model = self.trained_model(epochs=1)
        before = self.client.model_info(model)["fingerprint"]
        steps = []

        def watch(value):
            steps.append(value["step"])
            if value["step"] == 3:
                self.assertTrue(self.client.cancel())

        started = time.monotonic()
        with self.assertRaises(lethe.Cancelled) as caught:
            self.client.train(model, self.dataset, epochs=LONG, progress=watch)
        self.assertLess(time.monotonic() - started, 20)
        error = caught.exception
        self.assertIsInstance(error, lethe.RPCError)
        self.assertEqual(error.code, -32800)
        self.assertEqual(error.message, "model/train was cancelled; nothing was changed")
        self.assertEqual(steps[:3], [1, 2, 3])
        # the daemon keeps serving this connection, and nothing changed
        self.assertEqual(self.client.model_info(model)["fingerprint"], before)
        self.assertNoJobs()
        self.assertEqual(self.client.train(model, self.dataset, epochs=1)["epochs"], 1)

    def test_cancel_from_another_thread(self):
        model = self.trained_model(epochs=1)
        timer = threading.Timer(0.3, self.client.cancel)
        timer.start()
        self.addCleanup(timer.cancel)
        started = time.monotonic()
        with self.assertRaises(lethe.Cancelled):
            self.client.train(model, self.dataset, epochs=LONG)
        elapsed = time.monotonic() - started
        self.assertGreater(elapsed, 0.25)
        self.assertLess(elapsed, 20)
        self.assertNoJobs()
        self.assertIn("version", self.client.status())

    def test_cancel_without_a_call_in_flight(self):
        self.assertFalse(self.client.cancel())

    def test_cancel_after_the_job_finished_returns_the_result(self):
        model = self.trained_model(epochs=1)

        def late(value):
            if value["step"] == value["steps"]:
                self.client.cancel()  # the last epoch is done: too late to cancel

        result = self.client.train(model, self.dataset, epochs=2, progress=late)
        self.assertEqual(result["epochs"], 2)


class InterruptTests(DaemonTestCase):
    def interrupt_after(self, *delays):
        """SIGINT to this process after each delay, while the client has a call in flight."""
        def send():
            for i, delay in enumerate(delays):
                time.sleep(delay)
                if i and not self.client._inflight:
                    return  # the call is over: a stray SIGINT would hit the test runner
                os.kill(os.getpid(), signal.SIGINT)
        thread = threading.Thread(target=send)
        thread.start()
        self.addCleanup(thread.join)

    def test_ctrl_c_cancels_the_job_then_raises_interrupted(self):
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)
        model = self.trained_model(epochs=1)
        before = self.client.model_info(model)["fingerprint"]
        self.interrupt_after(0.3)
        started = time.monotonic()
        with self.assertRaises(lethe.Interrupted) as caught:
            self.client.train(model, self.dataset, epochs=LONG, timeout=30)
        self.assertLess(time.monotonic() - started, 20)
        interrupted = caught.exception
        self.assertIsInstance(interrupted, KeyboardInterrupt)
        self.assertNotIsInstance(interrupted, lethe.LetheError)
        self.assertTrue(interrupted.confirmed)
        self.assertIsInstance(interrupted.error, lethe.Cancelled)
        self.assertEqual(interrupted.error.code, -32800)
        self.assertIsNone(interrupted.result)
        # the handler is back, the job is gone, and the same client goes on
        self.assertIs(signal.getsignal(signal.SIGINT), signal.default_int_handler)
        self.assertNoJobs()
        self.assertTrue(self.client.connected)
        self.assertEqual(self.client.model_info(model)["fingerprint"], before)
        run = self.client.runs(model=model, kind="model/train", limit=1)["runs"][0]
        self.assertEqual(run["status"], "cancelled")

    @unittest.skipUnless(os.path.isdir(FASHION_MNIST), "needs Fashion-MNIST for a load that takes a while")
    def test_second_ctrl_c_stops_waiting_and_reconnects(self):
        # dataset/load does not check for cancellation: the first Ctrl-C's
        # cancellation goes unanswered until the load is done; the second stops waiting.
        name = unique("fmnist")
        self.interrupt_after(0.1, 0.1)
        with self.assertRaises(lethe.Interrupted) as caught:
            self.client.load_dataset(name, FASHION_MNIST)
        self.assertFalse(caught.exception.confirmed)
        self.assertFalse(self.client.connected)
        self.assertIn("version", self.client.status())  # reconnected
        self.assertTrue(self.client.connected)
        deadline = time.monotonic() + 30  # the abandoned load still completes
        while name not in self.client.status()["datasets"] and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(name, self.client.status()["datasets"])
        self.client.delete_dataset(name)


class TimeoutTests(DaemonTestCase):
    def test_timeout_cancels_the_job(self):
        model = self.trained_model(epochs=1)
        before = self.client.model_info(model)["fingerprint"]
        started = time.monotonic()
        with self.assertRaises(lethe.LetheTimeout) as caught:
            self.client.train(model, self.dataset, epochs=LONG, timeout=0.5)
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 0.5)
        self.assertLess(elapsed, 10)
        error = caught.exception
        self.assertIsInstance(error, TimeoutError)
        self.assertIsInstance(error, lethe.LetheError)
        self.assertTrue(error.confirmed)
        self.assertEqual((error.method, error.timeout), ("model/train", 0.5))
        self.assertNoJobs()
        self.assertEqual(self.client.model_info(model)["fingerprint"], before)

    def test_client_default_timeout(self):
        model = self.trained_model(epochs=1)
        with lethe.Client(socket_path(), timeout=0.3) as client:
            with self.assertRaises(lethe.LetheTimeout):
                client.train(model, self.dataset, epochs=LONG)
            self.assertEqual(client.status()["jobs"], [])
            # a per-call timeout overrides the default
            self.assertEqual(client.train(model, self.dataset, epochs=1, timeout=None)["epochs"], 1)

    def test_a_fast_call_within_its_timeout(self):
        self.assertIn("version", self.client.status(timeout=5))

    def test_timeout_must_be_positive(self):
        with self.assertRaises(ValueError):
            self.client.status(timeout=0)


if __name__ == "__main__":
    unittest.main()
