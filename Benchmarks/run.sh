#!/usr/bin/env bash
# make bench: Lethe's engine against the PyTorch anchor (../shared/bench/torch_fmnist.py), in the same run on the
# same machine, with the same batch (128), optimizer (SGD lr 0.05, momentum 0.9, weight decay 5e-4) and threads.
# Prints one JSON line per workload: {"workload", "lethe_s", "torch_s", "ratio"} (ratio = Lethe / PyTorch), then the
# accuracy and memory lines. TORCH_PYTHON names a Python with torch; without it only Lethe's side runs.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
EPOCHS_MLP=${EPOCHS_MLP:-2}
EPOCHS_CNN=${EPOCHS_CNN:-1}
BIN=$(swift build -c release --show-bin-path)
ANCHOR=${ANCHOR:-../shared/bench/torch_fmnist.py}
PEAK=${PEAK_GFLOPS:-228}   # FMA peak of two cores here (DESIGN.md §8)

gemm=$("$BIN/lethe-bench" gemm "$THREADS")
echo "$gemm"
for kind in mlp cnn; do
  epochs=$([ "$kind" = mlp ] && echo "$EPOCHS_MLP" || echo "$EPOCHS_CNN")
  lethe=$("$BIN/lethe-bench" "$kind" "$epochs" "$THREADS")
  torch=""
  if [ -n "${TORCH_PYTHON:-}" ]; then torch=$("$TORCH_PYTHON" "$ANCHOR" "$kind" "$epochs" "$THREADS"); fi
  python3 - "$kind" "$lethe" "$torch" "$PEAK" <<'PY'
import json, sys
kind, lethe, torch, peak = sys.argv[1], json.loads(sys.argv[2]), (json.loads(sys.argv[3]) if sys.argv[3] else None), float(sys.argv[4])
mean = lambda xs: sum(xs) / len(xs)
rows = [(f"{kind}_epoch", mean(lethe["epoch_s"]), torch and mean(torch["epoch_s"]))]
if kind == "cnn":
    rows.append(("cnn_infer10k", lethe["eval10k_s"], torch and torch["eval10k_s"]))
for name, l, t in rows:
    line = {"workload": name, "lethe_s": round(l, 3)}
    if t:
        line.update(torch_s=round(t, 3), ratio=round(l / t, 3))
    print(json.dumps(line))
info = {"workload": f"{kind}_details", "lethe_test_acc": lethe["test_acc"],
        "train_gflops_per_s": lethe["train_gflops_per_s"], "eval_gflops_per_s": lethe["eval_gflops_per_s"],
        "train_fraction_of_peak": round(lethe["train_gflops_per_s"] / peak, 3),
        "train_peak_rss_mib": lethe["train_peak_rss_mib"], "lethe_load_s": lethe["load_s"]}
if torch:
    info.update(torch_test_acc=torch["test_acc"], test_acc_diff_points=round(100 * (lethe["test_acc"] - torch["test_acc"]), 2),
                torch_import_s=torch["import_s"], torch_load_s=torch["load_s"])
print(json.dumps(info))
PY
done
