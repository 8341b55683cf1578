#!/usr/bin/env python3
"""The PyTorch anchor of a repeated question (Benchmarks/ATTACKS.md, "outputs computed once"): what a researcher's
script pays to answer "what does this model predict on the 10k test set" — start Python, import torch, read the
Fashion-MNIST test set, build the `mlp` (784-512-256-10, the names Lethe's safetensors use), load the weights Lethe
saved, and predict. Prints the predicted classes' checksum so the caller can see both did the same work.

    TORCH_PYTHON=... $TORCH_PYTHON Benchmarks/torch_predict.py WEIGHTS.safetensors
"""
import gzip
import sys

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

torch.set_num_threads(2)
with gzip.open("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") as f:
    x = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
model.load_state_dict(load_file(sys.argv[1]))
model.eval()
with torch.no_grad():
    classes = torch.cat([model(torch.from_numpy(x[i:i + 1000])).argmax(1) for i in range(0, len(x), 1000)])
print(int(classes.sum()))
