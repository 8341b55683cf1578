"""Connection failures and JSON-RPC error replies."""

import os
import socket
import tempfile
import unittest

import lethe
from support import DaemonTestCase, unique


class ConnectFailureTests(unittest.TestCase):
    def test_missing_socket_names_path_and_lethed(self):
        path = os.path.join(tempfile.gettempdir(), unique("no-such-dir"), "lethed.sock")
        with self.assertRaises(lethe.DaemonUnavailable) as caught:
            lethe.Client(path)
        error = caught.exception
        self.assertIsInstance(error, lethe.LetheError)
        self.assertEqual(error.path, path)
        self.assertIsInstance(error.reason, FileNotFoundError)
        message = str(error)
        self.assertIn(path, message)
        self.assertIn("there is no socket", message)
        self.assertIn("lethed --socket", message)
        self.assertIn("LETHE_SOCKET", message)

    def test_stale_socket_file(self):
        directory = tempfile.mkdtemp(prefix="lethe-stale-")
        path = os.path.join(directory, "lethed.sock")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)  # bound, never listening: what a crashed daemon leaves
        self.addCleanup(os.rmdir, directory)
        self.addCleanup(os.unlink, path)
        self.addCleanup(stale.close)
        with self.assertRaises(lethe.DaemonUnavailable) as caught:
            lethe.Client(path)
        self.assertIsInstance(caught.exception.reason, ConnectionRefusedError)
        self.assertIn("nothing listens on " + path, str(caught.exception))


class RPCErrorTests(DaemonTestCase):
    def test_unknown_method(self):
        with self.assertRaises(lethe.RPCError) as caught:
            self.client.call("model/frobnicate")
        error = caught.exception
        self.assertIsInstance(error, lethe.MethodNotFound)
        self.assertEqual(error.code, -32601)
        self.assertEqual(error.message, "unknown method 'model/frobnicate'; call initialize for the list")
        self.assertIsNone(error.data)
        self.assertEqual(error.method, "model/frobnicate")
        self.assertIn("(error -32601)", str(error))

    def test_bad_params_name_the_field(self):
        model = self.trained_model(epochs=1)
        with self.assertRaises(lethe.InvalidParams) as caught:
            self.client.train(model, self.dataset, epochs=2.5)
        self.assertEqual(caught.exception.code, -32602)
        self.assertEqual(caught.exception.message, "parameter 'epochs': must be an integer, got 2.5")

        with self.assertRaises(lethe.InvalidParams) as caught:
            self.client.call("model/train", model=model)
        self.assertEqual(caught.exception.message, "missing parameter 'dataset'")

        with self.assertRaises(lethe.InvalidParams) as caught:
            self.client.call("model/train", model=model, dataset=self.dataset, bogus=1)
        self.assertEqual(caught.exception.message, "unknown parameter 'bogus'")

    def test_not_found_carries_data(self):
        split = self.split()
        with self.assertRaises(lethe.NotFound) as caught:
            self.client.evaluate("no-such-model", split)
        error = caught.exception
        self.assertEqual(error.code, 1)
        self.assertEqual(error.data, {"kind": "model", "name": "no-such-model"})

    def test_already_exists(self):
        model = self.trained_model(epochs=1)
        with self.assertRaises(lethe.AlreadyExists) as caught:
            self.client.create_model(model, "mlp", self.dataset)
        self.assertEqual(caught.exception.code, 2)

    def test_connection_survives_errors(self):
        for _ in range(3):
            with self.assertRaises(lethe.MethodNotFound):
                self.client.call("nope")
        self.assertIn("version", self.client.status())


if __name__ == "__main__":
    unittest.main()


class PicklingTests(unittest.TestCase):
    """Errors survive pickling (a Ray task's error reaches its caller as the same class with the same fields)."""

    def test_every_error_round_trips_through_pickle(self):
        import pickle
        errors = [
            lethe.InvalidParams(-32602, "parameter 'x' is wrong", {"field": "x"}, "forget"),
            lethe.NotFound(1, "no model named 'm'", None, "model/info"),
            lethe.DaemonUnavailable("/tmp/nowhere.sock", FileNotFoundError(2, "No such file")),
            lethe.LetheTimeout("model/train", 7, 1.5, True, None),
            lethe.Interrupted("model/train", 8, False),
        ]
        for error in errors:
            back = pickle.loads(pickle.dumps(error))
            self.assertIs(type(back), type(error))
            self.assertEqual(str(back), str(error))
            plain = lambda e: {k: v for k, v in vars(e).items() if not isinstance(v, Exception)}  # noqa: E731
            self.assertEqual(plain(back), plain(error))
