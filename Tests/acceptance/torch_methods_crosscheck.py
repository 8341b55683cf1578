#!/usr/bin/env python3
"""Cross-check with real PyTorch (issue 8's done-when): one full-batch step of `gradient-ascent`, `neggrad+` and
`l1-sparse` from the same weights gives the same weights in Lethe as in PyTorch.

A small Fashion-MNIST set (float32 pixels in [0, 1], so no scaling is in question) and a PyTorch `mlp` are
exported; Lethe loads both, forgets with each method for one epoch whose batch is the whole forget or retain set
(`batchSize`, `forgetBatchSize`), momentum 0 and a constant learning rate (the methods' schedule), so the run is a
single SGD step that does not depend on shuffling; the saved safetensors are compared with the same step written
in PyTorch from the reference code's formulas (SCRUB's negative_grad, Unlearn-Sparse's GA and FT_l1, weight decay
in the optimizer). Pass: max |Δweight| ≤ 1e-5 for every method.

Needs a Python with torch, numpy and safetensors (never a dependency of the project or of CI):
    TORCH_PYTHON=/tmp/torch-venv/bin/python make crosscheck
Usage: python torch_methods_crosscheck.py SOCKET WORKDIR
"""
import os, sys
import numpy as np
import torch, torch.nn as nn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck_common import caller, idx  # noqa: E402
from safetensors.torch import load_file, save_file

sock_path, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
torch.manual_seed(0)

call = caller(sock_path)

N, FORGET = 320, 64
x = (idx("train-images-idx3-ubyte.gz")[:N].astype(np.float32) / 255)
y = idx("train-labels-idx1-ubyte.gz")[:N].astype(np.int64)
data_dir = os.path.join(work, "data")
os.makedirs(data_dir, exist_ok=True)
np.save(os.path.join(data_dir, "x_train.npy"), x)
np.save(os.path.join(data_dir, "y_train.npy"), y)
np.save(os.path.join(data_dir, "x_test.npy"), x[:16])
np.save(os.path.join(data_dir, "y_test.npy"), y[:16])
forget_idx, retain_idx = np.arange(FORGET), np.arange(FORGET, N)

model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
start = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
start_path = os.path.join(work, "start.safetensors")
save_file(start, start_path)

call("dataset/load", {"name": "xc", "format": "npy", "path": data_dir})
call("split/create", {"dataset": "xc", "name": "xc-split", "forget": {"indices": forget_idx.tolist()}, "validationFraction": 0})
call("model/load", {"name": "xc-start", "path": start_path, "architecture": {"kind": "mlp"}, "dataset": "xc", "replace": True})

xt, yt = torch.tensor(x), torch.tensor(y)
xf, yf, xr, yr = xt[forget_idx], yt[forget_idx], xt[retain_idx], yt[retain_idx]
LR, WD = 0.1, 5e-4
ce = nn.functional.cross_entropy

def torch_step(loss_fn, l1=0.0):
    """One SGD step (momentum 0, weight decay WD) from the start weights on loss_fn(model) + l1·‖θ‖₁."""
    model.load_state_dict(start)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0, weight_decay=WD)
    opt.zero_grad()
    loss = loss_fn(model)
    if l1:
        loss = loss + l1 * torch.linalg.norm(torch.cat([p.view(-1) for p in model.parameters()]), ord=1)
    loss.backward()
    opt.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}

ALPHA_NG, ALPHA_L1 = 0.9, 0.01
cases = {
    # Unlearn-Sparse GA: loss = −criterion(output, target) on forget.
    "gradient-ascent": ({"epochs": 1, "lr": LR, "momentum": 0, "weightDecay": WD, "batchSize": FORGET},
                        lambda m: -ce(m(xf), yf), 0.0),
    # SCRUB negative_grad: α·CE(retain) − (1−α)·CE(forget), two forwards.
    "neggrad+": ({"epochs": 1, "lr": LR, "momentum": 0, "weightDecay": WD, "batchSize": N - FORGET, "forgetBatchSize": FORGET,
                  "alpha": ALPHA_NG},
                 lambda m: ALPHA_NG * ce(m(xr), yr) - (1 - ALPHA_NG) * ce(m(xf), yf), 0.0),
    # Unlearn-Sparse FT_l1: CE(retain) + α·(1 − epoch/E)·‖θ‖₁, epoch 0 → α.
    "l1-sparse": ({"epochs": 1, "lr": LR, "momentum": 0, "weightDecay": WD, "batchSize": N - FORGET, "alpha": ALPHA_L1},
                  lambda m: ce(m(xr), yr), ALPHA_L1),
}

failed = 0
for method, (hp, loss_fn, l1) in cases.items():
    out = "xc-" + method.replace("+", "-plus")
    call("forget", {"model": "xc-start", "split": "xc-split", "method": method, "output": out, "hyperparameters": hp, "seed": 1})
    path = os.path.join(work, f"{method}.safetensors")
    call("model/save", {"model": out, "path": path})
    got = load_file(path)
    expected = torch_step(loss_fn, l1)
    diff = max(float((got[k].double() - expected[k].double()).abs().max()) for k in expected)
    moved = max(float((expected[k].double() - start[k].double()).abs().max()) for k in expected)
    ok = diff <= 1e-5
    failed += not ok
    print(("ok   " if ok else "FAIL ") + f"{method}: max |weight difference| {diff:.2e} (the step moved weights by up to {moved:.2e})")
print(f"{len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
