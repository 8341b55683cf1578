"""load_npy / read_npy: hand-written files, and the files the daemon writes."""

import array
import os
import shutil
import struct
import tempfile
import unittest

import lethe
from lethe.npy import numpy_available
from support import DaemonTestCase


def npy_bytes(descr, shape, body, fortran=False, version=1):
    """An .npy file built by hand, as the format's spec describes it (no numpy)."""
    header = "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}".format(descr, fortran, repr(tuple(shape)))
    prefix = 10 if version == 1 else 12
    padding = 64 - (prefix + len(header) + 1) % 64
    header = (header + " " * padding + "\n").encode("latin1")
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body
    return bytes([0x93]) + b"NUMPY" + bytes([version, 0]) + struct.pack("<I", len(header)) + header + body


class PureReaderTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lethe-npy-")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_float32_matrix_v1(self):
        values = [0.5, -1.25, 3.0, 1e-3, 2.5e6, -0.0]
        path = self.write("f4.npy", npy_bytes("<f4", (2, 3), struct.pack("<6f", *values)))
        a = lethe.read_npy(path)
        self.assertEqual((a.shape, a.dtype, a.ndim, a.size, len(a)), ((2, 3), "<f4", 2, 6, 2))
        self.assertIsInstance(a.data, array.array)
        expected = [list(struct.unpack("<3f", struct.pack("<3f", *values[:3]))),
                    list(struct.unpack("<3f", struct.pack("<3f", *values[3:])))]
        self.assertEqual(a.tolist(), expected)
        self.assertEqual(a[1], expected[1])
        self.assertEqual(a[-2], expected[0])

    def test_int64_v2(self):
        values = [0, -1, 2 ** 40, -(2 ** 62)]
        a = lethe.read_npy(self.write("i8.npy", npy_bytes("<i8", (4,), struct.pack("<4q", *values), version=2)))
        self.assertEqual(a.tolist(), values)
        self.assertEqual(a.dtype, "<i8")

    def test_big_endian_int32(self):
        a = lethe.read_npy(self.write("be.npy", npy_bytes(">i4", (2, 2), struct.pack(">4i", 1, -2, 300000, 4))))
        self.assertEqual(a.tolist(), [[1, -2], [300000, 4]])

    def test_fortran_order_is_reordered(self):
        # the matrix [[1, 2, 3], [4, 5, 6]] stored column by column
        body = struct.pack("<6d", 1, 4, 2, 5, 3, 6)
        a = lethe.read_npy(self.write("fo.npy", npy_bytes("<f8", (2, 3), body, fortran=True)))
        self.assertEqual(a.tolist(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

    def test_bool_uint8_float16_and_scalars(self):
        self.assertEqual(lethe.read_npy(self.write("b.npy", npy_bytes("|b1", (3,), b"\x01\x00\x01"))).tolist(),
                         [True, False, True])
        self.assertEqual(lethe.read_npy(self.write("u.npy", npy_bytes("|u1", (2, 2), b"\x00\x7f\x80\xff"))).tolist(),
                         [[0, 127], [128, 255]])
        self.assertEqual(lethe.read_npy(self.write("h.npy", npy_bytes("<f2", (2,), struct.pack("<2e", 1.5, -2.0)))).tolist(),
                         [1.5, -2.0])
        scalar = lethe.read_npy(self.write("s.npy", npy_bytes("<f8", (), struct.pack("<d", 7.25))))
        self.assertEqual((scalar.shape, scalar.tolist()), ((), 7.25))
        empty = lethe.read_npy(self.write("e.npy", npy_bytes("<f4", (0, 3), b"")))
        self.assertEqual((empty.shape, empty.tolist()), ((0, 3), []))

    def test_bad_files_are_value_errors(self):
        with self.assertRaisesRegex(ValueError, "bad magic"):
            lethe.read_npy(self.write("x.npy", b"PK\x03\x04 not an npy file"))
        with self.assertRaisesRegex(ValueError, "bytes of data"):
            lethe.read_npy(self.write("t.npy", npy_bytes("<f4", (4,), b"\x00" * 12)))
        with self.assertRaisesRegex(ValueError, "unsupported dtype"):
            lethe.read_npy(self.write("c.npy", npy_bytes("<c16", (1,), b"\x00" * 16)))

    def test_load_npy_without_numpy(self):
        path = self.write("f4.npy", npy_bytes("<f4", (2,), struct.pack("<2f", 1.0, 2.0)))
        self.assertIsInstance(lethe.load_npy(path, use_numpy=False), lethe.NpyArray)

    @unittest.skipUnless(numpy_available(), "numpy is not installed")
    def test_agrees_with_numpy(self):
        import numpy
        path = self.write("fo.npy", npy_bytes("<f8", (2, 3), struct.pack("<6d", 1, 4, 2, 5, 3, 6), fortran=True))
        self.assertEqual(lethe.load_npy(path).tolist(), lethe.read_npy(path).tolist())
        self.assertIsInstance(lethe.load_npy(path), numpy.ndarray)
        for dtype in ("<f4", ">i8", "|u1", "<f2", "|b1", "<i2"):
            written = os.path.join(self.dir, "np.npy")
            numpy.save(written, (numpy.arange(24).reshape(2, 3, 4) % 7).astype(dtype))
            self.assertEqual(lethe.read_npy(written).tolist(), numpy.load(written).tolist(), dtype)


class DaemonFileTests(DaemonTestCase):
    def test_predict_file_matches_the_inline_values(self):
        model = self.trained_model(epochs=1)
        path = os.path.join(self.tmp, "logits.npy")
        indices = [0, 5, 7]
        inline = self.client.predict(model, dataset=self.dataset, part="test", indices=indices)
        written = self.client.predict(model, dataset=self.dataset, part="test", indices=indices, path=path, load=True)
        self.assertEqual(written["path"], path)
        self.assertNotIn("values", written)
        self.assertEqual(written["predictions"], inline["predictions"])
        pure = lethe.read_npy(path)
        self.assertEqual((pure.shape, pure.dtype), ((3, 3), "<f4"))
        # the daemon prints float32 values as doubles, exactly
        self.assertEqual(pure.tolist(), inline["values"])
        self.assertEqual(written["array"].tolist(), inline["values"])
        if numpy_available():
            import numpy
            self.assertIsInstance(written["array"], numpy.ndarray)
            self.assertEqual(lethe.load_npy(path, use_numpy=True).tolist(), pure.tolist())
        else:
            self.assertIsInstance(written["array"], lethe.NpyArray)

    def test_attack_outputs_load(self):
        model = self.trained_model(epochs=1)
        split = self.split()
        outputs = os.path.join(self.tmp, "lira")
        result = self.client.attack(model, split, kind="lira", shadows=2, outputs=outputs, load=True)
        self.assertEqual(set(result["outputs"]), {"scores", "labels"})
        labels = result["arrays"]["labels"].tolist()
        scores = result["arrays"]["scores"].tolist()
        self.assertEqual(len(labels), result["members"] + result["nonMembers"])
        self.assertEqual(len(scores), len(labels))
        self.assertEqual(labels, [1] * result["members"] + [0] * result["nonMembers"])

    def test_load_requires_a_path(self):
        with self.assertRaises(TypeError):
            self.client.predict("any", dataset=self.dataset, load=True)


if __name__ == "__main__":
    unittest.main()
