"""Shared by the tests: the daemon's socket, a tiny synthetic dataset, unique names.

The tests talk to a real lethed: run them through Clients/python/run-tests.sh,
which starts a private daemon and exports LETHE_SOCKET.
"""

import itertools
import os
import random
import shutil
import struct
import tempfile
import unittest

import lethe

_counter = itertools.count(1)

#: The lethed binary under test (run-tests.sh exports LETHED), for the tests that start their own.
LETHED_PATH = os.environ.get("LETHED", "")


def socket_path():
    """The daemon under test (LETHE_SOCKET, which run-tests.sh exports)."""
    path = os.environ.get("LETHE_SOCKET", "")
    if not path:
        raise RuntimeError("LETHE_SOCKET is not set: run the tests with Clients/python/run-tests.sh LETHED_DIR")
    return path


def unique(prefix):
    """A name no other test uses on the shared daemon."""
    return "{}-{}-{}".format(prefix, os.getpid(), next(_counter))


def write_idx(path, dims, data):
    """An uncompressed IDX file of unsigned bytes."""
    header = bytes([0, 0, 0x08, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    with open(path, "wb") as f:
        f.write(header + bytes(data))


def write_tiny_dataset(directory, train=200, test=100, side=8, classes=3, seed=0):
    """A Fashion-MNIST-shaped IDX dataset (as Protocol/check_replies.py writes it):
    images whose bright vertical band depends on the class, so a model learns fast."""
    rng = random.Random(seed)

    def make(n, images_file, labels_file):
        labels = [i % classes for i in range(n)]
        rng.shuffle(labels)
        pixels = bytearray()
        band = max(1, side // classes)
        for y in labels:
            for _row in range(side):
                for col in range(side):
                    bright = y * band <= col < (y + 1) * band
                    pixels.append(rng.randint(170, 255) if bright else rng.randint(0, 70))
        write_idx(os.path.join(directory, images_file), [n, side, side], pixels)
        write_idx(os.path.join(directory, labels_file), [n], labels)

    make(train, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")
    make(test, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class DaemonTestCase(unittest.TestCase):
    """A test case with a client, a tiny dataset loaded under a unique name, and a temp dir.

    ``self.client`` is a fresh Client per test; ``self.dataset`` and
    ``self.data_dir`` are shared by the class.
    """

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="lethe-py-test-")
        cls.data_dir = os.path.join(cls.tmp, "data")
        os.mkdir(cls.data_dir)
        write_tiny_dataset(cls.data_dir)
        cls.dataset = unique("ds")
        with lethe.Client(socket_path()) as client:
            client.load_dataset(cls.dataset, cls.data_dir, classes=3)

    @classmethod
    def tearDownClass(cls):
        try:
            with lethe.Client(socket_path()) as client:
                client.delete_dataset(cls.dataset)
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.client = lethe.Client(socket_path(), timeout=30)  # a backstop: no test call takes that long
        self.addCleanup(self.client.close)

    def trained_model(self, epochs=2, hidden=(16,)):
        """A new mlp on the tiny dataset, trained ``epochs`` epochs; returns its name."""
        name = unique("m")
        self.client.create_model(name, "mlp", self.dataset, hidden=list(hidden))
        self.client.train(name, self.dataset, epochs=epochs)
        return name

    def split(self):
        """A new split of the tiny dataset (20 forget examples); returns its name."""
        name = unique("s")
        self.client.create_split(self.dataset, name=name, count=20)
        return name

    def assertNoJobs(self):
        """The daemon runs no job any more (checked on another connection)."""
        with lethe.Client(socket_path()) as other:
            self.assertEqual(other.status()["jobs"], [])
