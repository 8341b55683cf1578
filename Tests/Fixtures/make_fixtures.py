#!/usr/bin/env python3
"""Writes the small committed fixtures of the "bring your own data" tests, with numpy only (never PyTorch).

    python3 Tests/Fixtures/make_fixtures.py        # rewrites Tests/Fixtures/byod/

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
"""
import json
import os
import struct

import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "byod")


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


if __name__ == "__main__":
    main()
