#!/usr/bin/env python3
"""The figures of Benchmarks/ATTACKS.md, measured in one run on this machine:

    python3 Benchmarks/attacks.py [--models 32] [--shadows 16] [--fleet 8] [--out results.json]   # TORCH_PYTHON=... for the anchor

Starts a cold release lethed (build it first: swift build -c release) with 2 threads, loads Fashion-MNIST, trains the
memorising `mlp` original (25 epochs, cosine from lr 0.05, momentum 0.9, no weight decay; 10% random forget), then:
  1. `epsilon` for finetune with N unlearned + N retrained models, from the cold daemon; then for the best method
     of Benchmarks/UNLEARNING.md's mlp table with the retrained fleet cached (the second must take ≤ half the first);
  2. fleet throughput: a retrained fleet of --fleet members (one thread each, two side by side) against the same
     number of `forget --method retrain` runs one after another at two threads;
  3. LiRA with --shadows shadow models on the original, on retrain and on every method's output (one shadow fleet);
  4. outputs computed once: a warm `model/predict` of the 10k test set against a PyTorch script answering the same
     question (Benchmarks/torch_predict.py), when TORCH_PYTHON is set.
Standard library only (the anchor needs torch and safetensors); the daemon does the work.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import Client  # noqa: E402

BEST = "l1-sparse"  # the smallest average gap in Benchmarks/UNLEARNING.md's mlp table (Demo.strongest[0])


def timed(f):
    start = time.time()
    value = f()
    return value, time.time() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=32)
    ap.add_argument("--shadows", type=int, default=16)
    ap.add_argument("--fleet", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--methods", default=None, help="methods attacked with LiRA (default: every registered method)")
    ap.add_argument("--phases", default="epsilon,fleet,lira,predict", help="which measurements to take (comma-separated)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=root, capture_output=True, text=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="lethe-attacks-")
    sock = os.path.join(work, "lethed.sock")
    cold = time.time()
    daemon = subprocess.Popen([os.path.join(bin_dir, "lethed"), "--socket", sock, "--threads", "2", "--state-dir", os.path.join(work, "state")],
                              stderr=open(os.path.join(work, "lethed.log"), "w"))
    out = {"models": args.models, "shadows": args.shadows}

    def save():
        if args.out:
            json.dump(out, open(args.out, "w"), indent=1)

    def say(text):
        print(text, file=sys.stderr, flush=True)

    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.1)
        c = Client(sock)
        c.call("dataset/load", {"name": "fmnist"})
        c.call("split/create", {"name": "s", "dataset": "fmnist", "forget": {"fraction": 0.1}, "seed": 1})
        c.call("model/create", {"name": "o", "architecture": {"kind": "mlp"}, "dataset": "fmnist", "seed": 1})
        trained = c.call("model/train", {"model": "o", "dataset": "fmnist", "epochs": args.epochs, "lr": 0.05, "momentum": 0.9,
                                         "weightDecay": 0, "schedule": "cosine", "seed": 1})
        out["originalSeconds"] = trained["seconds"]
        say(f"original trained in {trained['seconds']:.0f} s")

        phases = args.phases.split(",")
        # 1. epsilon, cold, then a second method with the retrained fleet cached.
        for method in ["finetune", BEST] if "epsilon" in phases else []:
            r, wall = timed(lambda: c.call("attack", {"model": "o", "split": "s", "kind": "epsilon", "method": method, "models": args.models}))
            out[f"epsilon {method}"] = {"wall": wall, "sinceColdStart": time.time() - cold, "epsilon": r["epsilon"], "fleets": r["fleets"]}
            say(f"epsilon {method}: F {r['epsilon']['forgetQuality']:.4f}, score {r['epsilon']['score']:.4f} in {wall:.0f} s "
                f"({time.time() - cold:.0f} s since the daemon started)")
            save()

        # 2. fleet throughput against one-after-another.
        if "fleet" in phases:
            fleet_throughput(c, args, out, say)
            save()

        # 3. LiRA on the original, retrain and every method's output, one shadow fleet.
        if "lira" in phases:
            lira(c, args, out, say, save)

        # 4. Outputs computed once: warm model/predict against a PyTorch script.
        if "predict" in phases:
            predict(c, args, out, say, work, root)
        out["status"] = c.call("server/status", {})
        save()
    finally:
        daemon.terminate()
        daemon.wait()
    print(json.dumps({k: v for k, v in out.items() if k != "status"}, indent=1))


def fleet_throughput(c, args, out, say):
    _, fleet_wall = timed(lambda: c.call("fleet/train", {"kind": "retrained", "model": "o", "split": "s", "count": args.fleet, "seed": 1000}))
    seq_start = time.time()
    for i in range(args.fleet):
        c.call("forget", {"model": "o", "split": "s", "method": "retrain", "seed": 2000 + i, "output": f"seq-{i}", "threads": 2})
    seq_wall = time.time() - seq_start
    for i in range(args.fleet):
        c.call("model/delete", {"name": f"seq-{i}"})
    out["fleet"] = {"members": args.fleet, "fleetSeconds": fleet_wall, "sequentialSeconds": seq_wall,
                    "fleetPerMinute": 60 * args.fleet / fleet_wall, "sequentialPerMinute": 60 * args.fleet / seq_wall}
    say(f"fleet: {args.fleet} in {fleet_wall:.0f} s vs {seq_wall:.0f} s one after another")


def lira(c, args, out, say, save):
    methods = args.methods.split(",") if args.methods else c.call("initialize", {})["capabilities"]["unlearningMethods"]
    results = {}
    targets = [("original", "o")]
    for m in methods:
        name = "o-" + m.replace("+", "-plus")  # model names are letters, digits, '-', '_' and '.'
        c.call("forget", {"model": "o", "split": "s", "method": m, "output": name})
        targets.append((m, name))
    for label, model in targets:
        r, wall = timed(lambda: c.call("attack", {"model": model, "split": "s", "kind": "lira", "shadows": args.shadows, "original": "o"}))
        results[label] = {"auc": r["auc"], "tpr1": r["tprAt1PercentFPR"], "tpr01": r["tprAt0_1PercentFPR"], "wall": wall,
                          "trained": r["fleets"][0]["trained"]}
        say(f"lira {label}: AUC {r['auc']:.4f}, TPR@1% {r['tprAt1PercentFPR']:.4f} ({wall:.0f} s)")
        out["lira"] = results
        save()


def predict(c, args, out, say, work, root):
    params = {"model": "o", "dataset": "fmnist", "part": "test", "path": os.path.join(work, "p.npy")}
    c.call("model/predict", params)
    warm = []
    for _ in range(5):
        _, wall = timed(lambda: c.call("model/predict", params))
        warm.append(wall)
    out["predict"] = {"warmSeconds": sorted(warm)[2]}
    torch_python = os.environ.get("TORCH_PYTHON")
    if torch_python:
        weights = os.path.join(work, "o.safetensors")
        c.call("model/save", {"model": "o", "path": weights})
        runs = []
        for _ in range(3):
            _, wall = timed(lambda: subprocess.run([torch_python, os.path.join(root, "Benchmarks/torch_predict.py"), weights],
                                                   check=True, capture_output=True))
            runs.append(wall)
        out["predict"]["torchScriptSeconds"] = sorted(runs)[1]
        out["predict"]["ratio"] = out["predict"]["torchScriptSeconds"] / out["predict"]["warmSeconds"]
    say(f"predict: {out['predict']}")


if __name__ == "__main__":
    main()
