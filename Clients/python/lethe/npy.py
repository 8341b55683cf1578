"""Reading the ``.npy`` files the daemon writes (``model/predict`` with a
``path``, ``attack`` with ``outputs``), with numpy or without it."""

import array
import ast
import itertools
import struct
import sys

_MAGIC = b"\x93NUMPY"

# (kind, itemsize) -> array.array typecode for integers; floats are below.
_INT_CODES = {}
for _code in "bBhHiIlLqQ":
    _INT_CODES.setdefault(("i" if _code.islower() else "u", array.array(_code).itemsize), _code)
_FLOAT_CODES = {4: "f", 8: "d"}


class NpyArray:
    """An n-dimensional array read without numpy.

    - ``shape``: a tuple of ints (``()`` for a scalar);
    - ``dtype``: the file's numpy type string, e.g. ``"<f4"``, ``"<i8"``;
    - ``data``: the values, flat, in C (row-major) order: an ``array.array``
      for numbers (float16 widened to float32), a list of bools for ``"|b1"``.

    ``tolist()`` gives nested lists, like numpy's; ``len()`` the first axis;
    ``a[i]`` the i-th item along the first axis (a value or nested lists).
    """

    __slots__ = ("shape", "dtype", "data")

    def __init__(self, shape, dtype, data):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.data = data

    @property
    def size(self):
        """Number of values (the product of the shape)."""
        count = 1
        for dim in self.shape:
            count *= dim
        return count

    @property
    def ndim(self):
        """Number of axes."""
        return len(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __getitem__(self, index):
        if not self.shape:
            raise IndexError("a 0-d array has no items")
        n = self.shape[0]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("index {} out of range for axis of size {}".format(index, n))
        inner = self.size // n if n else 0
        return _nest(list(self.data[index * inner:(index + 1) * inner]), self.shape[1:])

    def tolist(self):
        """The values as nested lists (a bare value for a 0-d array)."""
        return _nest(list(self.data), self.shape)

    def __repr__(self):
        return "NpyArray(shape={}, dtype={!r})".format(self.shape, self.dtype)


def _nest(flat, shape):
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return flat
    step = len(flat) // shape[0] if shape[0] else 0
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _parse_header(data, where):
    if data[:6] != _MAGIC:
        raise ValueError("{}: not an .npy file (bad magic)".format(where))
    if len(data) < 10:
        raise ValueError("{}: truncated .npy header".format(where))
    major = data[6]
    if major == 1:
        (length,) = struct.unpack("<H", data[8:10])
        start = 10
    elif major in (2, 3):
        if len(data) < 12:
            raise ValueError("{}: truncated .npy header".format(where))
        (length,) = struct.unpack("<I", data[8:12])
        start = 12
    else:
        raise ValueError("{}: unsupported .npy version {}.{}".format(where, major, data[7]))
    raw = data[start:start + length]
    if len(raw) != length:
        raise ValueError("{}: truncated .npy header".format(where))
    try:
        header = ast.literal_eval(raw.decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError) as error:
        raise ValueError("{}: unreadable .npy header: {}".format(where, error))
    if not isinstance(header, dict) or not {"descr", "fortran_order", "shape"} <= set(header):
        raise ValueError("{}: .npy header lacks descr, fortran_order or shape: {!r}".format(where, header))
    return header, start + length


def _decode(descr, body, count, where):
    """(values, itemsize) for a simple numeric descr such as '<f4', '>i8', '|u1', '|b1'."""
    if not isinstance(descr, str) or len(descr) < 3 or descr[0] not in "<>|=":
        raise ValueError("{}: unsupported dtype {!r} (install numpy for it)".format(where, descr))
    order, kind, size = descr[0], descr[1], descr[2:]
    if not size.isdigit():
        raise ValueError("{}: unsupported dtype {!r} (install numpy for it)".format(where, descr))
    size = int(size)
    need = count * size
    if len(body) < need:
        raise ValueError("{}: {} bytes of data for {} values of {}".format(where, len(body), count, descr))
    body = body[:need]
    little = order == "<" or (order in "=|" and sys.byteorder == "little")
    if kind == "b" and size == 1:
        return [b != 0 for b in body]
    if kind == "f" and size == 2:
        return array.array("f", struct.unpack(("<" if little else ">") + "{}e".format(count), body))
    if kind == "f" and size in _FLOAT_CODES:
        code = _FLOAT_CODES[size]
    elif kind in "iu" and (kind, size) in _INT_CODES:
        code = _INT_CODES[(kind, size)]
    else:
        raise ValueError("{}: unsupported dtype {!r} (install numpy for it)".format(where, descr))
    values = array.array(code)
    values.frombytes(body)
    if size > 1 and little != (sys.byteorder == "little"):
        values.byteswap()
    return values


def read_npy(path):
    """Reads an ``.npy`` file (format 1.0, 2.0 or 3.0) without numpy: an :class:`NpyArray`.

    Supports booleans, signed and unsigned integers of 1, 2, 4 and 8 bytes and
    floats of 2, 4 and 8 bytes, in either byte order and in C or Fortran order
    (Fortran data is reordered to C order). Raises ``ValueError`` for anything
    else, or for a file that is not a well-formed ``.npy``.
    """
    where = str(path)
    with open(path, "rb") as f:
        data = f.read()
    header, offset = _parse_header(data, where)
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise ValueError("{}: bad shape {!r}".format(where, shape))
    count = 1
    for dim in shape:
        count *= dim
    values = _decode(header["descr"], data[offset:], count, where)
    if header["fortran_order"] and len(shape) > 1:
        values = _fortran_to_c(values, shape)
    return NpyArray(shape, header["descr"], values)


def _fortran_to_c(values, shape):
    strides = []
    stride = 1
    for dim in shape:
        strides.append(stride)
        stride *= dim
    order = [sum(i * s for i, s in zip(index, strides)) for index in itertools.product(*(range(d) for d in shape))]
    if isinstance(values, array.array):
        return array.array(values.typecode, (values[i] for i in order))
    return [values[i] for i in order]


def numpy_available():
    """True when numpy can be imported."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


def load_npy(path, use_numpy=None):
    """Loads an ``.npy`` file: a ``numpy.ndarray`` when numpy is installed,
    else an :class:`NpyArray` (see :func:`read_npy`).

    ``use_numpy``: None (default) picks numpy when it is there; False always
    uses the pure-Python reader; True requires numpy (ImportError without it).
    Both give the same values; ``.tolist()`` gives nested lists either way.
    """
    if use_numpy is None:
        use_numpy = numpy_available()
    if use_numpy:
        import numpy
        return numpy.load(path, allow_pickle=False)
    return read_npy(path)
