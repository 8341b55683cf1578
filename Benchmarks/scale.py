#!/usr/bin/env python3
"""The figures of Benchmarks/SCALE.md: fleets through lethe.ray against the same fleets trained by one daemon.

    RAY_PYTHON=.build/ray-venv/bin/python   # made by `make scale-check`
    $RAY_PYTHON Benchmarks/scale.py [--rounds 3] [--members 8] [--mlp-epochs 3] [--cnn-epochs 1] [--out scale.json]

On this machine, with a local Ray cluster of 2 CPUs (ray.init(num_cpus=2)), a coordinating lethed (2 threads) and the
node's lethed that the Ray tasks start (2 threads), on Fashion-MNIST (10% random forget):

1. overhead: per round, a retrained `mlp` fleet of --members members trained by the coordinator itself (`fleet/train`,
   one thread per member, two side by side) and another of the same size through `lethe.ray.train_fleet` (one member
   per task, one CPU per task), with fresh seeds each round so nothing is reused; the order alternates between rounds.
   The ratio Ray / local is the overhead of the Ray path (setup of the node's daemon in round 1, task scheduling,
   export, transfer and import); the median over rounds is reported, and round 1 apart.
2. per-member cost of a `cnn` member, retrained and unlearned (finetune), both ways, from --cnn-epochs epochs of the
   original's recipe: what the projection for N = 512 + 512 members on k nodes is computed from.
Needs Ray (pip install ray) and this repository's Clients/python on the path (the script adds it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "Clients", "python"))
import lethe  # noqa: E402
import lethe.ray  # noqa: E402
import ray  # noqa: E402

SPLIT = {"forget": {"fraction": 0.1}, "seed": 1}
RECIPE = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0, "schedule": "cosine", "seed": 1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--members", type=int, default=8)
    ap.add_argument("--mlp-epochs", type=int, default=3)
    ap.add_argument("--cnn-epochs", type=int, default=1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, capture_output=True,
                             text=True).stdout.strip()
    lethed = os.path.join(bin_dir, "lethed")
    work = tempfile.mkdtemp(prefix="lethe-scale-")
    coordinator_socket = os.path.join(work, "coordinator", "lethed.sock")
    lethe.start_daemon(coordinator_socket, lethed=lethed,
                       args=["--threads", "2", "--state-dir", os.path.join(work, "coordinator", "state")])
    worker_socket = os.path.join(work, "node", "lethed.sock")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.path.join(ROOT, "Clients", "python")}})
    out = {"members": args.members, "rounds": [], "cnn": {}}

    def say(text):
        print(text, file=sys.stderr, flush=True)

    def over_ray(c, model, kind, count, seed, **options):
        return lethe.ray.train_fleet(c, kind, model, "s", count, seed=seed, dataset={}, split_params=SPLIT,
                                     worker_socket=worker_socket, lethed=lethed,
                                     lethed_args=["--threads", "2", "--state-dir", os.path.join(work, "node", "state")],
                                     **options)

    try:
        with lethe.Client(coordinator_socket) as c:
            c.load_dataset("fmnist")
            c.create_split("fmnist", name="s", fraction=0.1, seed=1)
            c.create_model("mlp", "mlp", "fmnist", seed=1)
            c.train("mlp", "fmnist", epochs=args.mlp_epochs, **RECIPE)
            for r in range(args.rounds):
                seeds = {"local": 1000 + 100 * r, "ray": 5000 + 100 * r}
                order = ["local", "ray"] if r % 2 == 0 else ["ray", "local"]
                walls = {}
                for way in order:
                    start = time.monotonic()
                    if way == "local":
                        result = c.train_fleet("retrained", "mlp", "s", args.members, seed=seeds[way])
                        assert result["trained"] == args.members
                    else:
                        result = over_ray(c, "mlp", "retrained", args.members, seeds[way])
                        assert result["imported"] == args.members
                    walls[way] = time.monotonic() - start
                out["rounds"].append(walls)
                say("round {}: local {:.1f} s, Ray {:.1f} s ({:.2f}x)".format(r + 1, walls["local"], walls["ray"],
                                                                            walls["ray"] / walls["local"]))
                dump(out, args.out)

            c.create_model("cnn", "cnn", "fmnist", seed=1)
            c.train("cnn", "fmnist", epochs=args.cnn_epochs, **RECIPE)
            for kind, extra in [("retrained", {}), ("unlearned", {"method": "finetune"})]:
                start = time.monotonic()
                local = c.train_fleet(kind, "cnn", "s", 2, seed=0, **extra)
                local_wall = time.monotonic() - start
                start = time.monotonic()
                remote = over_ray(c, "cnn", kind, 2, 100, **extra)
                ray_wall = time.monotonic() - start
                out["cnn"][kind] = {"localWall": local_wall, "rayWall": ray_wall,
                                    "memberSeconds": local["fleet"]["memberSeconds"],
                                    "epochs": args.cnn_epochs}
                say("cnn {}: 2 members side by side, local {:.1f} s, Ray {:.1f} s; {:.1f} s per member".format(
                    kind, local_wall, ray_wall, local["fleet"]["memberSeconds"]))
                dump(out, args.out)
    finally:
        ray.shutdown()
        for path in (worker_socket, coordinator_socket):
            try:
                with lethe.Client(path) as c:
                    c.shutdown()
            except lethe.LetheError:
                pass
    rest = out["rounds"][1:] or out["rounds"]
    out["medianRatioAfterRound1"] = statistics.median(w["ray"] / w["local"] for w in rest)
    out["ratioRound1"] = out["rounds"][0]["ray"] / out["rounds"][0]["local"]
    dump(out, args.out)
    print(json.dumps(out, indent=1))


def dump(out, path):
    if path:
        with open(path, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
