#!/usr/bin/env python3
"""Writes the small committed fixtures of the "bring your own data" tests and the layer reference values, with
numpy only (never PyTorch).

    python3 Tests/Fixtures/make_fixtures.py        # rewrites Tests/Fixtures/byod/ and Tests/Fixtures/reference/*.npy

The file names and layouts are those of Docs/BringYourOwnData.md's PyTorch snippet, so the tests load exactly
what a user's export produces:
  model.safetensors      an `mlp` state_dict (nn.Sequential names 1.*, 3.*, 5.*), float32, PyTorch metadata only
  inputs.npy             float32 [5, 1, 4, 4] inputs; expected_logits.npy: what numpy computes for them
  model_f16/bf16/f64.safetensors  the same architecture with dyadic weights (exact in every dtype);
                         dyadic_logits.npy: their logits on inputs.npy
  bn_model.safetensors   a `layers` model Conv2d(1,2,3,p=1), BatchNorm2d(2), ReLU, Flatten, Linear(32,3) with running
                         statistics and an int64 0-d num_batches_tracked, as PyTorch saves it; bn_logits.npy: eval-mode
                         logits on inputs.npy
  x_train.npy y_train.npy x_test.npy y_test.npy groups_train.npy forget_idx.npy   an NHW uint8 image set
  data.npz               np.savez_compressed of an NHWC uint8 set (deflate members)
  data_stored.npz        np.savez of the same (stored members)
  cifar/data_batch_1.bin cifar/test_batch.bin   CIFAR-10 binary records
  train.csv test.csv     tabular data: features f1..f3, a "label" column and a "person" group column
  bad/                   files numpy writes that Lethe must refuse: Fortran order, pickled objects, NaN, float labels
Pixel values follow formulas the tests check: value(i, h, w, c) = (7i + 5h + 3w + 11c) mod 256.

Tests/Fixtures/reference/ holds forward-pass reference values (Tests/NeuralNetTests/ReferenceForwardTests.swift):
each layer's formula written out here in float64 with PyTorch's semantics, on float32 inputs and parameters
(`*_input.npy`, parameters `<layer>_<name>.npy`, float32) with float64 expected outputs:
  activation_input.npy [3, 4, 5, 7]: leaky_relu_0.01.npy (nn.LeakyReLU() default slope), leaky_relu_0.2.npy,
                         tanh.npy, sigmoid.npy
  pool_input.npy [2, 3, 7, 9]: avgpool_k<k>_s<s>_p<p>.npy, nn.AvgPool2d(k, s, p) with PyTorch's defaults
                         count_include_pad=True (padded zeros count in the divisor) and ceil_mode=False
  globalavgpool_input.npy [3, 5, 6, 7]: globalavgpool.npy [3, 5, 1, 1], nn.AdaptiveAvgPool2d(1)
  batchnorm2d_input.npy [3, 5, 6, 7] with batchnorm2d_{weight,bias,running_mean,running_var}.npy [5]:
                         batchnorm2d.npy, nn.BatchNorm2d(5).eval() (running statistics, eps 1e-5, affine)
  batchnorm1d_input.npy [4, 6] with batchnorm1d_{weight,bias,running_mean,running_var}.npy [6]: batchnorm1d.npy
(logistic_regression.json there is scikit-learn's, written by make_sklearn_fixtures.py.)
"""
import json
import os
import struct

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "byod")
REFERENCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference")

# The AvgPool2d configurations of the reference fixtures: (kernel, stride, padding).
AVGPOOL_CONFIGS = [(3, 2, 1), (2, 2, 1), (3, 1, 1), (3, 2, 0)]


def pixels(n, h, w, c):
    i, y, x, ch = np.meshgrid(np.arange(n), np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((7 * i + 5 * y + 3 * x + 11 * ch) % 256).astype(np.uint8)  # [n, h, w, c]


def save_safetensors(path, tensors, metadata):
    """The safetensors format: u64 header length, JSON header, raw little-endian bytes (as safetensors.torch writes).
    `tensors` maps names to numpy arrays, or to (raw bytes, dtype name, shape) for dtypes numpy lacks (bfloat16)."""
    dtypes = {"float32": "F32", "float16": "F16", "float64": "F64", "int64": "I64"}
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        raw, dtype, shape = t if isinstance(t, tuple) else (t.tobytes(), dtypes[str(t.dtype)], t.shape)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def mlp_logits(params, x):
    """nn.Sequential(Flatten, Linear, ReLU, Linear, ReLU, Linear) in float64."""
    h = x.reshape(len(x), -1).astype(np.float64)
    for k in ("1", "3"):
        h = np.maximum(h @ params[k + ".weight"].astype(np.float64).T + params[k + ".bias"], 0)
    return h @ params["5.weight"].astype(np.float64).T + params["5.bias"]


def leaky_relu(x, slope):
    """nn.LeakyReLU(negative_slope): x where x > 0, else slope·x."""
    return np.where(x > 0, x, slope * x)


def sigmoid(x):
    """1 / (1 + e^−x), in the form that never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def avg_pool2d(x, k, s, p):
    """nn.AvgPool2d(k, s, p) as PyTorch computes it (count_include_pad=True, ceil_mode=False): each window is
    [start, min(start + k, size + p)) in padded coordinates, the divisor is that window's full size (padded
    positions count), and the sum runs over the part inside the image."""
    n, c, h, w = x.shape
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        h0 = i * s - p
        h1 = min(h0 + k, h + p)
        for j in range(wo):
            w0 = j * s - p
            w1 = min(w0 + k, w + p)
            divisor = (h1 - h0) * (w1 - w0)
            window = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / divisor
    return out


def batch_norm_eval(x, weight, bias, mean, var, eps=1e-5):
    """BatchNorm in evaluation mode: (x − running_mean) / √(running_var + eps) · weight + bias, per channel (axis 1)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    f = lambda a: a.astype(np.float64).reshape(shape)
    return (x - f(mean)) / np.sqrt(f(var) + eps) * f(weight) + f(bias)


def write_reference():
    """Forward-pass reference values: float32 inputs and parameters, float64 expected outputs."""
    rng = np.random.default_rng(16)
    os.makedirs(REFERENCE, exist_ok=True)
    out = lambda name: os.path.join(REFERENCE, name)
    f32 = lambda a: np.asarray(a, dtype=np.float32)

    # Activations: a spread of values, with exact zeros, tiny ones (where tanh computed from exp loses its digits) and
    # saturating ones (e^100 overflows float32) planted.
    x = f32(rng.standard_normal((3, 4, 5, 7)) * 2.5)
    planted = [0.0, -0.0, 1e-4, -1e-4, 8.0, -8.0, 15.0, -15.0, -30.0, 30.0, 0.5, -0.5, 50.0, -50.0, 1e-6, -3e-3]
    x.reshape(-1)[:len(planted)] = planted
    np.save(out("activation_input.npy"), x)
    xd = x.astype(np.float64)
    np.save(out("leaky_relu_0.01.npy"), leaky_relu(xd, 0.01))
    np.save(out("leaky_relu_0.2.npy"), leaky_relu(xd, 0.2))
    np.save(out("tanh.npy"), np.tanh(xd))
    np.save(out("sigmoid.npy"), sigmoid(xd))

    # AvgPool2d on odd sizes, so windows hang over the bottom or right edge for some configurations.
    x = f32(rng.standard_normal((2, 3, 7, 9)) + 1.5)
    np.save(out("pool_input.npy"), x)
    for k, s, p in AVGPOOL_CONFIGS:
        np.save(out(f"avgpool_k{k}_s{s}_p{p}.npy"), avg_pool2d(x.astype(np.float64), k, s, p))

    # Global average pooling: channels with different offsets.
    x = f32(rng.standard_normal((3, 5, 6, 7)) + np.arange(5)[None, :, None, None] - 2.0)
    np.save(out("globalavgpool_input.npy"), x)
    np.save(out("globalavgpool.npy"), x.astype(np.float64).mean(axis=(2, 3), keepdims=True))

    # BatchNorm in evaluation mode. One channel's running variance is 1e-4, where eps = 1e-5 changes the result by 5%.
    for name, shape in (("batchnorm2d", (3, 5, 6, 7)), ("batchnorm1d", (4, 6))):
        c = shape[1]
        params = {"weight": f32(1 + 0.5 * rng.standard_normal(c)), "bias": f32(0.3 * rng.standard_normal(c)),
                  "running_mean": f32(rng.standard_normal(c)), "running_var": f32(0.2 + 2 * rng.random(c))}
        params["running_var"][1] = 1e-4
        x = f32(rng.standard_normal(shape) * 1.5 + 0.5)
        np.save(out(f"{name}_input.npy"), x)
        for key, value in params.items():
            np.save(out(f"{name}_{key}.npy"), value)
        np.save(out(f"{name}.npy"), batch_norm_eval(x.astype(np.float64), params["weight"], params["bias"],
                                                    params["running_mean"], params["running_var"]))


def main():
    rng = np.random.default_rng(2023)
    os.makedirs(os.path.join(HERE, "cifar"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "bad"), exist_ok=True)
    out = lambda name: os.path.join(HERE, name)

    # An mlp for [1, 4, 4] inputs, hidden [8, 6], 3 classes: float32 weights as PyTorch would hold them.
    shapes = {"1.weight": (8, 16), "1.bias": (8,), "3.weight": (6, 8), "3.bias": (6,), "5.weight": (3, 6), "5.bias": (3,)}
    params = {k: (rng.standard_normal(s) * 0.5).astype(np.float32) for k, s in shapes.items()}
    inputs = rng.random((5, 1, 4, 4)).astype(np.float32)
    save_safetensors(out("model.safetensors"), params, {"format": "pt"})
    np.save(out("inputs.npy"), inputs)
    np.save(out("expected_logits.npy"), mlp_logits(params, inputs).astype(np.float32))

    # Dyadic weights k/64 (|k| ≤ 64) are exact in float16, bfloat16, float32 and float64, so one set of logits
    # checks every conversion.
    dyadic = {k: (rng.integers(-64, 65, s) / 64).astype(np.float32) for k, s in shapes.items()}
    save_safetensors(out("model_f16.safetensors"), {k: v.astype(np.float16) for k, v in dyadic.items()}, {"format": "pt"})
    save_safetensors(out("model_f64.safetensors"), {k: v.astype(np.float64) for k, v in dyadic.items()}, {"format": "pt"})
    bf16 = {k: ((v.view(np.uint32) >> 16).astype("<u2").tobytes(), "BF16", v.shape) for k, v in dyadic.items()}
    save_safetensors(out("model_bf16.safetensors"), bf16, {"format": "pt"})
    np.save(out("dyadic_logits.npy"), mlp_logits(dyadic, inputs).astype(np.float32))

    # Conv2d + BatchNorm (eval mode: running statistics, eps 1e-5) + ReLU + Flatten + Linear, as nn.Sequential.
    bn = {"0.weight": rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "0.bias": rng.standard_normal(2).astype(np.float32),
          "1.weight": (1 + 0.1 * rng.standard_normal(2)).astype(np.float32), "1.bias": (0.1 * rng.standard_normal(2)).astype(np.float32),
          "1.running_mean": (0.2 * rng.standard_normal(2)).astype(np.float32), "1.running_var": (0.5 + rng.random(2)).astype(np.float32),
          "1.num_batches_tracked": np.array(1234, dtype=np.int64),
          "4.weight": (0.3 * rng.standard_normal((3, 32))).astype(np.float32), "4.bias": (0.1 * rng.standard_normal(3)).astype(np.float32)}
    save_safetensors(out("bn_model.safetensors"), bn, {"format": "pt"})
    x = np.pad(inputs.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((5, 2, 4, 4))
    for o in range(2):
        for i in range(4):
            for j in range(4):
                conv[:, o, i, j] = (x[:, 0, i:i + 3, j:j + 3] * bn["0.weight"][o, 0]).sum(axis=(1, 2)) + bn["0.bias"][o]
    c = lambda k: bn[k].astype(np.float64)[None, :, None, None]
    h = np.maximum((conv - c("1.running_mean")) / np.sqrt(c("1.running_var") + 1e-5) * c("1.weight") + c("1.bias"), 0)
    np.save(out("bn_logits.npy"), (h.reshape(5, -1) @ bn["4.weight"].astype(np.float64).T + bn["4.bias"]).astype(np.float32))

    # NPY directory: 30 training and 12 test images, N×H×W uint8, labels 0..2, 6 groups of 5, a forget index file.
    np.save(out("x_train.npy"), pixels(30, 4, 4, 1)[..., 0])
    np.save(out("y_train.npy"), np.arange(30, dtype=np.int64) % 3)
    np.save(out("x_test.npy"), pixels(12, 4, 4, 1)[..., 0])
    np.save(out("y_test.npy"), np.arange(12, dtype=np.int64) % 3)
    np.save(out("groups_train.npy"), np.arange(30, dtype=np.int64) // 5)
    np.save(out("forget_idx.npy"), np.array([3, 1, 4, 15, 9, 26], dtype=np.int64))

    # NPZ: N×H×W×C uint8 (channels last, as numpy and the CIFAR pickles hold images), compressed and stored.
    arrays = dict(x_train=pixels(20, 4, 4, 3), y_train=(np.arange(20) % 4).astype(np.int32),
                  x_test=pixels(8, 4, 4, 3), y_test=(np.arange(8) % 4).astype(np.int32))
    np.savez_compressed(out("data.npz"), **arrays)
    np.savez(out("data_stored.npz"), **arrays)

    # CIFAR-10 binary: label byte + 3072 channel-major pixel bytes per record.
    for name, n in (("data_batch_1.bin", 8), ("test_batch.bin", 4)):
        chw = pixels(n, 32, 32, 3).transpose(0, 3, 1, 2).reshape(n, -1)
        labels = (np.arange(n) % 10).astype(np.uint8)[:, None]
        np.concatenate([labels, chw], axis=1).tofile(os.path.join(HERE, "cifar", name))

    # CSV: three numeric features, an integer label and a group id.
    for name, n in (("train.csv", 12), ("test.csv", 6)):
        with open(out(name), "w") as f:
            f.write("f1,label,f2,person,f3\n")
            for i in range(n):
                f.write(f"{i * 0.5},{i % 2},{-i},{i // 3},\"{i * i}\"\n")

    # Bad files as numpy writes them.
    np.save(out("bad/fortran.npy"), np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)))
    np.save(out("bad/pickled.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    nan = pixels(30, 4, 4, 1)[..., 0].astype(np.float32)
    nan[7, 2, 2] = np.nan
    np.save(out("bad/x_train_nan.npy"), nan)
    np.save(out("bad/y_train_float.npy"), (np.arange(30) % 3).astype(np.float32))
    np.save(out("bad/y_train_out_of_range.npy"), np.where(np.arange(30) == 11, 7, np.arange(30) % 3))

    write_reference()


if __name__ == "__main__":
    main()
