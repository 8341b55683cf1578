#!/usr/bin/env python3
"""The compare tables of Benchmarks/UNLEARNING.md: every registered method against retrain on Fashion-MNIST.

    python3 Benchmarks/unlearning.py [--scenarios mlp-random,cnn-random,cnn-class] [--seeds 0,1,2] [--out results.json]
                                     [--methods eu-k,l1-sparse] [--hyperparameters '{"eu-k": {"epochs": 20}}']

Starts a release lethed on a private socket (build it first: swift build -c release), loads the embedded
Fashion-MNIST, trains each scenario's original with the memorising recipe (cosine, lr 0.05, momentum 0.9, no weight
decay: the original remembers its training set, as the literature's ResNet-18 on CIFAR-10 does), runs one `compare`
per scenario over the seeds, and prints one markdown table per scenario plus the targets of issue 8. Standard library
only; the daemon does the work.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import Client, private_daemon  # noqa: E402

SCENARIOS = {
    # name: (architecture, forget spec, original epochs)
    "mlp-random": ({"kind": "mlp"}, {"fraction": 0.1}, 25),
    "cnn-random": ({"kind": "cnn"}, {"fraction": 0.1}, 24),
    "cnn-class": ({"kind": "cnn"}, {"classes": [0]}, 24),
}


def train_original(c, name, epochs=None):
    """Creates scenario `name`'s split and original (both named `name`) and trains the original with the memorising
    recipe, for the scenario's epochs unless `epochs` overrides them; returns model/train's result."""
    architecture, forget, default_epochs = SCENARIOS[name]
    epochs = epochs or default_epochs
    print(f"== {name}: original {architecture['kind']} for {epochs} epochs", file=sys.stderr)
    c.call("split/create", {"name": name, "dataset": "fmnist", "forget": forget, "seed": 1})
    c.call("model/create", {"name": name, "architecture": architecture, "dataset": "fmnist", "seed": 1})
    return c.call("model/train", {"model": name, "dataset": "fmnist", "epochs": epochs, "lr": 0.05, "momentum": 0.9,
                                  "weightDecay": 0, "schedule": "cosine", "seed": 1, "workDoneToken": "train"})


def pct(stat, seeds):
    return f"{100 * stat['mean']:.2f}" + (f" ± {100 * stat['std']:.2f}" if seeds > 1 else "")


def num(stat, seeds, digits):
    return f"{stat['mean']:.{digits}f}" + (f" ± {stat['std']:.{digits}f}" if seeds > 1 else "")


def table(result, class_forget):
    seeds = len(result["seeds"])
    ta = "TA (other classes)" if class_forget else "TA"
    lines = [f"| method | UA | RA | {ta} | MIA | MIA-efficacy | avg gap | seconds | × retrain |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        test = r["remainingTestAccuracy"] if class_forget else r["testAccuracy"]
        lines.append(f"| `{r['method']}` | {pct(r['unlearningAccuracy'], seeds)} | {pct(r['retainAccuracy'], seeds)} | {pct(test, seeds)} | "
                     f"{num(r['mia'], seeds, 3)} | {pct(r['miaEfficacy'], seeds)} | {num(r['averageGap'], seeds, 2)} | {num(r['seconds'], seeds, 1)} | "
                     f"{'' if r['method'] == 'none' else format(r['timeFraction'], '.2f')} |")
    return "\n".join(lines)


def targets(name, result):
    rows = {r["method"]: r for r in result["rows"]}
    out = []
    if name.endswith("random"):
        good = [m for m, r in rows.items() if m not in ("none", "retrain") and r["averageGap"]["mean"] <= 1.0 and r["timeFraction"] <= 0.2]
        best = min((r for m, r in rows.items() if m not in ("none", "retrain")), key=lambda r: r["averageGap"]["mean"])
        out.append(f"random forget: methods within 1.0 point average gap in ≤ 20% of retrain's time: {good or 'none'} "
                   f"(closest: {best['method']}, gap {best['averageGap']['mean']:.2f}, time {best['timeFraction']:.2f}×)")
    else:
        retrain_ta = rows["retrain"]["remainingTestAccuracy"]["mean"]
        good = [m for m, r in rows.items() if m not in ("none", "retrain") and r["forgetAccuracy"]["mean"] <= 0.01
                and abs(r["remainingTestAccuracy"]["mean"] - retrain_ta) <= 0.02]
        out.append(f"class forget: methods with forget accuracy ≤ 1% and remaining-class test accuracy within 2 points of retrain's: "
                   f"{good or 'none'} ({len(good)} of at least 3 wanted)")
    none, retrain = rows["none"], rows["retrain"]
    out.append(f"original forget accuracy {100 * none['forgetAccuracy']['mean']:.2f}% vs retrain {100 * retrain['forgetAccuracy']['mean']:.2f}% "
               f"({100 * (none['forgetAccuracy']['mean'] - retrain['forgetAccuracy']['mean']):.2f} points)")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", default="mlp-random,cnn-random,cnn-class")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--methods", default=None, help="comma-separated; default every registered method")
    ap.add_argument("--threads-per-method", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--hyperparameters", default=None, help='per-method hyperparameters as JSON, e.g. {"eu-k": {"epochs": 20}}')
    ap.add_argument("--epochs", type=int, default=None, help="override the originals' epochs (a quick trial)")
    args = ap.parse_args()
    with private_daemon("lethe-unlearning-") as sock:
        c = Client(sock, progress=True)
        c.call("dataset/load", {"name": "fmnist"})
        seeds = [int(s) for s in args.seeds.split(",")]
        results = {}
        for name in args.scenarios.split(","):
            trained = train_original(c, name, args.epochs)
            params = {"model": name, "split": name, "seeds": seeds, "threadsPerMethod": args.threads_per_method, "workDoneToken": "compare"}
            if args.methods:
                params["methods"] = args.methods.split(",")
            if args.hyperparameters:
                params["hyperparameters"] = json.loads(args.hyperparameters)
            start = time.time()
            result = c.call("compare", params)
            result["wallSeconds"] = time.time() - start
            result["originalTrainingSeconds"] = trained["seconds"]
            results[name] = result
            print(f"\n### {name} ({len(seeds)} seeds, compare took {result['wallSeconds']:.0f} s; original trained in {trained['seconds']:.0f} s)\n")
            print(table(result, name.endswith("class")))
            print()
            for line in targets(name, result):
                print(f"- {line}")
            for method, why in sorted((result.get("diverged") or {}).items()):
                print(f"- `{method}` has no row: {why}")
            sys.stdout.flush()
            if args.out:
                json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
