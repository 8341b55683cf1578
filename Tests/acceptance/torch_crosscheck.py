#!/usr/bin/env python3
"""Cross-check with real PyTorch (issue 4's done-when): models of the zoo built and trained in PyTorch, exported to
safetensors, give the same predictions in Lethe as in PyTorch on the same inputs.

Needs a Python with torch, numpy and safetensors (never a dependency of the project or of CI):
    TORCH_PYTHON=/tmp/torch-venv/bin/python make crosscheck
Usage: python torch_crosscheck.py SOCKET WORKDIR
"""
import os, sys
import numpy as np
import torch, torch.nn as nn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck_common import caller, idx  # noqa: E402
from safetensors.torch import save_file

sock_path, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
torch.manual_seed(0)

call = caller(sock_path)

x_train = torch.tensor(idx("train-images-idx3-ubyte.gz")[:2048], dtype=torch.float32).div_(255).unsqueeze(1)
y_train = torch.tensor(idx("train-labels-idx1-ubyte.gz")[:2048], dtype=torch.long)
x_test = idx("t10k-images-idx3-ubyte.gz")[:64].astype(np.float32) / 255

models = {
    "mlp": ({"kind": "mlp"}, nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))),
    "cnn": ({"kind": "cnn"}, nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                                           nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))),
    "bn": ({"kind": "layers", "layers": [{"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1}, {"type": "batchnorm2d"},
                                          {"type": "relu"}, {"type": "avgpool2d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 10}]},
           nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8 * 7 * 7, 10))),
}
try:  # torchvision's own resnet18, its stem adapted to one channel (names are unchanged)
    import torchvision
    resnet = torchvision.models.resnet18(num_classes=10)
    resnet.conv1 = nn.Conv2d(1, 64, 7, stride=2, padding=3, bias=False)
    models["resnet18"] = ({"kind": "resnet18"}, resnet)
    cifar = torchvision.models.resnet18(num_classes=10)
    cifar.conv1 = nn.Conv2d(1, 64, 3, stride=1, padding=1, bias=False)
    cifar.maxpool = nn.Identity()
    models["resnet18-cifar-stem"] = ({"kind": "resnet18", "cifarStem": True}, cifar)
except ImportError:
    print("skip resnet18: torchvision is not installed")
failed = 0
checks = 0
for name, (spec, model) in models.items():
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for i in range(0, 512 if name.startswith("resnet") else 2048, 128):  # a short epoch: BatchNorm's running statistics move
        opt.zero_grad()
        nn.functional.cross_entropy(model(x_train[i:i + 128]), y_train[i:i + 128]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        expected = model(torch.tensor(x_test).unsqueeze(1)).numpy()
    path = os.path.join(work, f"{name}.safetensors")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, path)
    call("model/load", {"name": f"torch-{name}", "path": path, "architecture": spec, "inputShape": [1, 28, 28], "classes": 10,
                        "replace": True})
    result = call("model/predict", {"model": f"torch-{name}", "inputs": x_test.reshape(64, -1).astype(float).tolist()})
    got = np.array(result["values"], dtype=np.float64)
    diff = float(np.abs(got - expected).max())
    same_argmax = bool((got.argmax(1) == expected.argmax(1)).all())
    ok = diff <= 1e-4 and same_argmax
    checks += 1
    failed += not ok
    print(("ok   " if ok else "FAIL ") + f"{name}: {len(state := model.state_dict())} tensors, max |logit difference| {diff:.2e}, same predicted classes: {same_argmax}")
print(f"{checks - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
