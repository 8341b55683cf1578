#!/usr/bin/env python3
"""Hyperparameter sweep for one scenario of Benchmarks/unlearning.py: how close each setting gets to retrain.

    python3 Benchmarks/sweep.py --scenario cnn-random --seed 0 \
        --try 'eu-k' --try 'eu-k:{"epochs": 20}' --try 'reset-finetune:{"fraction": 0.6}'

Trains the scenario's original with the memorising recipe, `retrain` once for the seed, then each `--try`
(method, optionally ':' and its hyperparameters as JSON) with `forget`, one at a time at one thread, and prints,
per setting, UA, RA, TA, MIA-efficacy, SalUn's average gap to retrain (the mean |Δ| over those four, in points, as
`compare` computes it) and seconds as a fraction of retrain's. A quick way to look for settings; the tables of
Benchmarks/UNLEARNING.md come from `compare` (unlearning.py --hyperparameters) over three seeds.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import Client, private_daemon  # noqa: E402
from unlearning import train_original  # noqa: E402


def measure(c, model, split):
    """UA, RA, TA and MIA-efficacy of a model, in points."""
    e = c.call("evaluate", {"model": model, "split": split})
    a = c.call("attack", {"model": model, "split": split, "kind": "mia-efficacy"})
    return {"UA": 100 * e["unlearningAccuracy"], "RA": 100 * e["retain"]["accuracy"], "TA": 100 * e["test"]["accuracy"],
            "MIA-efficacy": 100 * a["score"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="cnn-random", choices=["mlp-random", "cnn-random"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--try", dest="tries", action="append", required=True, help="method or method:{json hyperparameters}")
    ap.add_argument("--epochs", type=int, default=None, help="override the original's epochs (a quick trial)")
    args = ap.parse_args()
    with private_daemon("lethe-sweep-") as sock:
        c = Client(sock, progress=False)
        c.call("dataset/load", {"name": "fmnist"})
        name = args.scenario
        train_original(c, name, args.epochs)
        r = c.call("forget", {"model": name, "split": name, "method": "retrain", "output": "retrain", "seed": args.seed, "threads": 1})
        reference, retrain_seconds = measure(c, "retrain", name), r["seconds"]
        keys = ["UA", "RA", "TA", "MIA-efficacy"]
        print("| setting | " + " | ".join(keys) + " | avg gap | seconds | × retrain |")
        print("|---|" + "---|" * (len(keys) + 3))
        print(f"| `retrain` | " + " | ".join(f"{reference[k]:.2f}" for k in keys) + f" | 0.00 | {retrain_seconds:.1f} | 1.00 |")
        sys.stdout.flush()
        for i, spec in enumerate(args.tries):
            method, _, hp = spec.partition(":")
            params = {"model": name, "split": name, "method": method, "output": f"try{i}", "seed": args.seed, "threads": 1}
            if hp:
                params["hyperparameters"] = json.loads(hp)
            r = c.call("forget", params)
            m = measure(c, f"try{i}", name)
            gap = sum(abs(m[k] - reference[k]) for k in keys) / len(keys)
            print(f"| `{spec}` | " + " | ".join(f"{m[k]:.2f}" for k in keys) +
                  f" | {gap:.2f} | {r['seconds']:.1f} | {r['seconds'] / retrain_seconds:.2f} |")
            sys.stdout.flush()
            c.call("model/delete", {"name": f"try{i}"})


if __name__ == "__main__":
    main()
