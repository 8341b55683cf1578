#!/usr/bin/env bash
# make bench: Lethe's engine against the PyTorch anchor (../shared/bench/torch_fmnist.py), in the same run on the
# same machine, with the same batch (128), optimizer (SGD lr 0.05, momentum 0.9, weight decay 5e-4) and threads.
# Prints one JSON line per workload: {"workload", "lethe_s", "torch_s", "ratio"} (ratio = Lethe / PyTorch), then the
# accuracy and memory lines. TORCH_PYTHON names a Python with torch; without it only Lethe's side runs.
#
# The machine's speed drifts by tens of percent within minutes (and for stretches two threads get little speedup over
# one, on either side), so each workload runs ROUNDS times (default 3), Lethe and PyTorch alternating. Every
# round's pair is printed as [lethe_s, torch_s, ratio]; "ratio" is the median of the rounds' ratios, "best_ratio"
# compares each side's fastest round (lethe_s and torch_s are those fastest times).
#
# Then resnet18 (CIFAR stem) against torchvision's resnet18 with the same stem (Benchmarks/torch_resnet.py), on
# Fashion-MNIST 1x28x28 and on synthetic 3x32x32 inputs: RESNET_BATCHES (default 3) SGD batches of 128 after a
# warm-up batch, and inference of RESNET_INFER (default 512) examples (Lethe: its batch rule; PyTorch: batches of
# 128), RESNET_ROUNDS rounds (default 3), one process per workload so each side's peak resident memory is that
# workload's. RESNET=0 skips them.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
EPOCHS_MLP=${EPOCHS_MLP:-2}
EPOCHS_CNN=${EPOCHS_CNN:-1}
ROUNDS=${ROUNDS:-3}
RESNET=${RESNET:-1}   # KINDS="" skips mlp and cnn
RESNET_ROUNDS=${RESNET_ROUNDS:-3}
RESNET_BATCHES=${RESNET_BATCHES:-3}
RESNET_INFER=${RESNET_INFER:-512}
BIN=$(swift build -c release --show-bin-path)
ANCHOR=${ANCHOR:-../shared/bench/torch_fmnist.py}
PEAK=${PEAK_GFLOPS:-228}   # FMA peak of two cores here (Docs/Architecture.md §8)

gemm=$("$BIN/lethe-bench" gemm "$THREADS")
echo "$gemm"
for kind in ${KINDS-mlp cnn}; do
  epochs=$([ "$kind" = mlp ] && echo "$EPOCHS_MLP" || echo "$EPOCHS_CNN")
  lethe_runs=() torch_runs=()
  for round in $(seq "$ROUNDS"); do
    lethe_runs+=("$("$BIN/lethe-bench" "$kind" "$epochs" "$THREADS")")
    if [ -n "${TORCH_PYTHON:-}" ]; then torch_runs+=("$("$TORCH_PYTHON" "$ANCHOR" "$kind" "$epochs" "$THREADS")"); fi
  done
  python3 - "$kind" "$PEAK" "$(printf '%s\n' "${lethe_runs[@]}")" "$(printf '%s\n' "${torch_runs[@]+"${torch_runs[@]}"}")" <<'PY'
import json, statistics, sys
kind, peak = sys.argv[1], float(sys.argv[2])
lethe = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
torch = [json.loads(l) for l in sys.argv[4].splitlines() if l.strip()]
mean = lambda xs: sum(xs) / len(xs)
median = statistics.median
metrics = [(f"{kind}_epoch", lambda r: mean(r["epoch_s"]))]
if kind == "cnn":
    metrics.append(("cnn_infer10k", lambda r: r["eval10k_s"]))
for name, get in metrics:
    ls = [get(r) for r in lethe]
    line = {"workload": name, "lethe_s": round(min(ls), 3)}
    if torch:
        ts = [get(r) for r in torch]
        ratios = [l / t for l, t in zip(ls, ts)]
        line.update(torch_s=round(min(ts), 3), ratio=round(median(ratios), 3), best_ratio=round(min(ls) / min(ts), 3),
                    rounds=[[round(l, 3), round(t, 3), round(r, 3)] for l, t, r in zip(ls, ts, ratios)])
    print(json.dumps(line))
first = lethe[0]
rate = median(r["train_gflops_per_s"] for r in lethe)
info = {"workload": f"{kind}_details", "lethe_test_acc": first["test_acc"],
        "train_gflops_per_s": rate, "eval_gflops_per_s": median(r["eval_gflops_per_s"] for r in lethe),
        "train_fraction_of_peak": round(rate / peak, 3),
        "train_peak_rss_mib": max(r["train_peak_rss_mib"] for r in lethe), "lethe_load_s": first["load_s"]}
if torch:
    info.update(torch_test_acc=torch[0]["test_acc"], test_acc_diff_points=round(100 * (first["test_acc"] - torch[0]["test_acc"]), 2),
                torch_import_s=torch[0]["import_s"], torch_load_s=torch[0]["load_s"])
print(json.dumps(info))
PY
done

[ "$RESNET" = 0 ] && exit 0
for input in fmnist cifar; do
  for mode in train infer; do
    count=$([ "$mode" = train ] && echo "$RESNET_BATCHES" || echo "$RESNET_INFER")
    lethe_runs=() torch_runs=()
    for round in $(seq "$RESNET_ROUNDS"); do
      lethe_runs+=("$("$BIN/lethe-bench" resnet18 "$mode" "$input" "$THREADS" "$count")")
      if [ -n "${TORCH_PYTHON:-}" ]; then torch_runs+=("$("$TORCH_PYTHON" Benchmarks/torch_resnet.py "$mode" "$input" "$THREADS" "$count")"); fi
    done
    python3 - "resnet18_${input}_${mode}" "$(printf '%s\n' "${lethe_runs[@]}")" "$(printf '%s\n' "${torch_runs[@]+"${torch_runs[@]}"}")" <<'PY'
import json, statistics, sys
name = sys.argv[1]
lethe = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
torch = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
ls = [r["seconds"] for r in lethe]
line = {"workload": name, "lethe_s": round(min(ls), 3), "lethe_ms_per_image": min(r["ms_per_image"] for r in lethe)}
if "batch" in lethe[0]:
    line["lethe_batch"] = lethe[0]["batch"]
line["lethe_peak_rss_mib"] = max(r["peak_rss_mib"] for r in lethe)
if torch:
    ts = [r["seconds"] for r in torch]
    ratios = [l / t for l, t in zip(ls, ts)]
    line.update(torch_s=round(min(ts), 3), ratio=round(statistics.median(ratios), 3), best_ratio=round(min(ls) / min(ts), 3),
                torch_peak_rss_mib=max(r["peak_rss_mib"] for r in torch),
                rounds=[[round(l, 3), round(t, 3), round(r, 3)] for l, t, r in zip(ls, ts, ratios)])
print(json.dumps(line))
PY
  done
done
