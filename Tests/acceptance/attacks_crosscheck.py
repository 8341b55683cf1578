#!/usr/bin/env python3
"""Cross-check of the attack numbers lethed reports, recomputed outside Lethe from the daemon's own outputs:

  epsilon       per-example ε and F of `attack kind: "epsilon"` against the NeurIPS 2023 organisers' own
                `metric.py` run on the confidences the daemon wrote (ε to 2e-6 relative, F to 1e-12); the final
                score = F × retainRatio × testRatio; and the seed-0 unlearned member's confidences against
                metric.compute_logit_scaled_confidence on the logits of `forget --method finetune --seed 0`
                (a member with seed s is bit for bit that model, Docs/Attacks.md "Fleets").
  mia-efficacy  per-feature efficacy against scikit-learn's SVC(C=3, gamma="auto") on SalUn's five features,
                computed with numpy (Tests/Fixtures/make_svc_fixtures.py) from the probabilities `model/predict`
                writes; at most one forget example of disagreement per feature (the float32 log and sums may round
                a point on an SVC's boundary the other way).
  lira          AUC (sklearn's roc_auc_score, to 1e-12) and TPR at 1% and 0.1% FPR with LiRA's convention
                (tpr[np.where(fpr < t)[0][-1]] of roc_curve) and the best balanced accuracy, on the scores.npy and
                labels.npy the daemon wrote.

Data: a seeded subsample of Debian's Fashion-MNIST (1,600 training and 600 test images, 160 forgotten), an `mlp`
trained on the whole training part, and its `finetune` unlearning; about a minute on 2 cores.

The organisers' code is not part of this repository. Get it with
    git clone https://github.com/google-deepmind/unlearning_evaluation /tmp/unlearning_evaluation
and point UNLEARNING_EVALUATION_DIR at the directory holding metric.py. It is run unmodified, loaded as
Tests/Fixtures/make_roc_epsilon_fixtures.py loads it (torch.Tensor.cuda replaced by the identity; this script
re-executes itself under `python -O`, because metric.py's `assert thr_eps` on a numpy array only passes with
assertions off). Without UNLEARNING_EVALUATION_DIR the comparison with metric.py is reported as SKIP, not a failure.

Needs a Python with numpy, scikit-learn, scipy and torch (metric.py imports torch; never a dependency of the
project or of CI):
    TORCH_PYTHON=/tmp/torch-venv/bin/python UNLEARNING_EVALUATION_DIR=/tmp/unlearning_evaluation make crosscheck
Usage: python attacks_crosscheck.py SOCKET WORKDIR
"""
import os
import subprocess
import sys
import warnings

if not sys.flags.optimize:
    # metric.py's `assert thr_eps` cannot run with assertions on; this script checks with `ok`, never `assert`.
    sys.exit(subprocess.call([sys.executable, "-O", os.path.abspath(__file__)] + sys.argv[1:]))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Fixtures"))
from crosscheck_common import caller, idx  # noqa: E402
from make_svc_fixtures import FEATURES, features_of_probabilities  # noqa: E402

sock_path, work = sys.argv[1], sys.argv[2]
work = os.path.join(os.path.abspath(work), "attacks")
os.makedirs(work, exist_ok=True)
call = caller(sock_path)

TRAIN, TEST, FORGET = 1600, 600, 160
EPSILON_MODELS, SHADOWS = 8, 4

passed = failed = skipped = 0


def check(ok, line):
    global passed, failed
    passed += bool(ok)
    failed += not ok
    print(("PASS " if ok else "FAIL ") + line, flush=True)


# ------------------------------------------------------------------------------------------------- data and models

rng = np.random.default_rng(2023)
train_rows = np.sort(rng.choice(60000, TRAIN, replace=False))
test_rows = np.sort(rng.choice(10000, TEST, replace=False))
x_train = idx("train-images-idx3-ubyte.gz")[train_rows].astype(np.float32) / 255
y_train = idx("train-labels-idx1-ubyte.gz")[train_rows].astype(np.int64)
x_test = idx("t10k-images-idx3-ubyte.gz")[test_rows].astype(np.float32) / 255
y_test = idx("t10k-labels-idx1-ubyte.gz")[test_rows].astype(np.int64)
data_dir = os.path.join(work, "data")
os.makedirs(data_dir, exist_ok=True)
for name, array in [("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)]:
    np.save(os.path.join(data_dir, name + ".npy"), array)
forget_idx = np.sort(rng.choice(TRAIN, FORGET, replace=False))
retain_idx = np.setdiff1d(np.arange(TRAIN), forget_idx)  # the split's retain order: ascending training indices
labels = {"retain": y_train[retain_idx], "forget": y_train[forget_idx], "test": y_test}  # validationFraction 0

call("dataset/load", {"name": "ax", "format": "npy", "path": data_dir})
call("split/create", {"dataset": "ax", "name": "ax-split", "forget": {"indices": forget_idx.tolist()}, "validationFraction": 0})
call("model/create", {"name": "ax-mlp", "architecture": {"kind": "mlp"}, "dataset": "ax", "seed": 0})
call("model/train", {"model": "ax-mlp", "dataset": "ax", "epochs": 8})
# One thread, as fleet members train: the seed-0 unlearned member is then this model bit for bit.
call("forget", {"model": "ax-mlp", "split": "ax-split", "method": "finetune", "output": "ax-mlp-finetune", "seed": 0,
                "threads": 1})


def predict(model, subset, output):
    path = os.path.join(work, f"{model}-{subset}-{output}.npy")
    call("model/predict", {"model": model, "split": "ax-split", "subset": subset, "output": output, "path": path})
    return np.load(path)


# ----------------------------------------------------------------------------------------------------------- epsilon

eps_dir = os.path.join(work, "epsilon")
result = call("attack", {"model": "ax-mlp", "split": "ax-split", "kind": "epsilon", "method": "finetune",
                         "models": EPSILON_MODELS, "outputs": eps_dir})
report = result["epsilon"]
unlearned = np.load(os.path.join(eps_dir, "unlearned_confidences.npy"))
retrained = np.load(os.path.join(eps_dir, "retrained_confidences.npy"))
epsilons = np.load(os.path.join(eps_dir, "epsilons.npy"))
check(unlearned.shape == retrained.shape == (EPSILON_MODELS, FORGET) and epsilons.shape == (FORGET,),
      f"epsilon outputs: confidences {unlearned.shape} and {retrained.shape}, epsilons {epsilons.shape}")

product = report["forgetQuality"] * report["retainRatio"] * report["testRatio"]
check(result["score"] == report["forgetQuality"] and report["retainRatio"] > 0 and report["testRatio"] > 0
      and abs(report["score"] - product) <= 1e-12 * abs(product),
      f"epsilon score: F {report['forgetQuality']:.6f} × retainRatio {report['retainRatio']:.6f} × testRatio "
      f"{report['testRatio']:.6f} = {product:.9f}, reported {report['score']:.9f} (|difference| "
      f"{abs(report['score'] - product):.1e})")
counts = report["histogramCounts"]
check(sum(counts) == FORGET, f"epsilon histogram: {sum(counts)} examples in {len(counts)} buckets {counts}")

organisers = os.environ.get("UNLEARNING_EVALUATION_DIR", "")
if not organisers:
    skipped += 1
    print("SKIP epsilon vs the organisers' metric.py: UNLEARNING_EVALUATION_DIR is not set. Get the code with "
          "`git clone https://github.com/google-deepmind/unlearning_evaluation /tmp/unlearning_evaluation` and run "
          "with UNLEARNING_EVALUATION_DIR=/tmp/unlearning_evaluation", flush=True)
elif not os.path.exists(os.path.join(organisers, "metric.py")):
    check(False, f"epsilon vs the organisers' metric.py: no metric.py in UNLEARNING_EVALUATION_DIR={organisers}")
else:
    from make_roc_epsilon_fixtures import load_metric, run_metric  # reads UNLEARNING_EVALUATION_DIR
    metric, recorded = load_metric()
    with warnings.catch_warnings():  # metric.py's own RuntimeWarnings (0/0 ranges, all-NaN thresholds) are expected
        warnings.simplefilter("ignore", RuntimeWarning)
        f_ref, eps_ref = run_metric(metric, recorded, unlearned, retrained)
    eps_ref = np.asarray(eps_ref)
    eps_diff = np.abs(epsilons - eps_ref)
    worst = int(np.argmax(eps_diff / np.maximum(np.abs(eps_ref), 1e-300)))
    check(bool(np.all(eps_diff <= 2e-6 * np.abs(eps_ref))),
          f"epsilon per example vs metric.py ({FORGET} examples, N = {EPSILON_MODELS}): max |Δε| {eps_diff.max():.2e}, "
          f"max relative {eps_diff[worst] / max(abs(eps_ref[worst]), 1e-300):.2e} (example {worst}: lethed "
          f"{float(epsilons[worst])!r}, metric.py {float(eps_ref[worst])!r}); ε range {eps_ref.min():.4f}…{eps_ref.max():.4f}")
    check(abs(report["forgetQuality"] - f_ref) <= 1e-12,
          f"epsilon F vs metric.py: lethed {report['forgetQuality']!r}, metric.py {f_ref!r} "
          f"(|difference| {abs(report['forgetQuality'] - f_ref):.1e})")
    # The seed-0 unlearned member has the weights of `forget --method finetune --seed 0`: its forget logits through
    # the organisers' compute_logit_scaled_confidence give the member's row of unlearned_confidences.npy. The member
    # computed its logits in another batch (forget, test and validation together) at another thread count, so they
    # may differ from model/predict's in the last float32 bits; the confidence z_y - log sum_{k != y} e^(z_k) moves
    # by at most 2 max|dz|, so the bound is 2 x 32 float32 ulps of the row's largest |logit| (observed: a few ulps;
    # another member, or another confidence formula, is off by 0.1 and more).
    logits = predict("ax-mlp-finetune", "forget", "logits")
    _, conf_ref = metric.compute_logit_scaled_confidence(logits.copy(), labels["forget"])
    conf_diff = np.abs(unlearned[0] - conf_ref)
    ulps = np.spacing(np.abs(logits).max(axis=1)).astype(np.float64)
    other = min(float(np.abs(unlearned[k] - conf_ref).max()) for k in range(1, EPSILON_MODELS))
    check(bool(np.all(conf_diff <= 64 * ulps)),
          f"epsilon confidences of the seed-0 unlearned member vs metric.compute_logit_scaled_confidence on "
          f"ax-mlp-finetune's logits: max |difference| {conf_diff.max():.2e} ({(conf_diff / ulps).max():.1f} float32 "
          f"ulps of the row's largest logit; at most 64); the other members differ by {other:.2f} and more")

# ------------------------------------------------------------------------------------------------------ mia-efficacy


def svc_efficacies(model):
    """SalUn's attack in numpy and scikit-learn on lethed's probabilities: the first |test| retain rows (members)
    then test (non-members), one SVC per feature, efficacy = 1 - mean(predict(forget))."""
    probs = {subset: predict(model, subset, "probabilities") for subset in ("retain", "test", "forget")}
    n = len(labels["test"])
    fr = features_of_probabilities(probs["retain"][:n], labels["retain"][:n])
    ft = features_of_probabilities(probs["test"], labels["test"])
    ff = features_of_probabilities(probs["forget"], labels["forget"])
    out = {}
    for name in FEATURES:
        x = np.concatenate([fr[name], ft[name]]).astype(np.float64)
        y = np.concatenate([np.ones(len(fr[name])), np.zeros(len(ft[name]))])
        predicted = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y).predict(ff[name].astype(np.float64))
        out[name] = float(1 - predicted.mean())
    return out


for model in ("ax-mlp", "ax-mlp-finetune"):
    result = call("attack", {"model": model, "split": "ax-split", "kind": "mia-efficacy"})
    reference = svc_efficacies(model)
    for name in FEATURES:
        got, want = result["features"][name], reference[name]
        diff = abs(got - want)
        check(diff <= 1 / FORGET + 1e-12,
              f"mia-efficacy {model} {name}: lethed {got:.6f}, sklearn {want:.6f}, |difference| {diff:.6f} "
              f"({round(diff * FORGET)} of {FORGET} forget examples; at most 1 allowed)")
    check(result["score"] == result["features"]["confidence"] and result["scoreName"] == "efficacy",
          f"mia-efficacy {model}: score {result['score']:.6f} is the confidence feature's")

# -------------------------------------------------------------------------------------------------------------- lira


def lira(model, extra):
    out_dir = os.path.join(work, f"lira-{model}")
    result = call("attack", {"model": model, "split": "ax-split", "kind": "lira", "shadows": SHADOWS, "outputs": out_dir, **extra})
    scores = np.load(os.path.join(out_dir, "scores.npy"))
    labels_ = np.load(os.path.join(out_dir, "labels.npy"))
    expected_labels = np.concatenate([np.ones(FORGET), np.zeros(TEST)])
    check(scores.shape == labels_.shape and np.array_equal(labels_, expected_labels),
          f"lira {model}: labels.npy is {FORGET} forget (1) then {TEST} test (0)")
    auc = roc_auc_score(labels_, scores)
    fpr, tpr, _ = roc_curve(labels_, scores)
    tpr1 = tpr[np.where(fpr < 0.01)[0][-1]]
    tpr01 = tpr[np.where(fpr < 0.001)[0][-1]]
    best = np.max(1 - (fpr + (1 - tpr)) / 2)
    check(abs(result["auc"] - auc) <= 1e-12 and result["score"] == result["auc"],
          f"lira {model}: AUC lethed {result['auc']!r}, sklearn {auc!r} (|difference| {abs(result['auc'] - auc):.1e})")
    check(abs(result["tprAt1PercentFPR"] - tpr1) <= 1e-12 and abs(result["tprAt0_1PercentFPR"] - tpr01) <= 1e-12
          and abs(result["bestAccuracy"] - best) <= 1e-12,
          f"lira {model}: TPR at 1% FPR lethed {result['tprAt1PercentFPR']:.6f}, sklearn {tpr1:.6f}; at 0.1% "
          f"{result['tprAt0_1PercentFPR']:.6f} vs {tpr01:.6f}; best accuracy {result['bestAccuracy']:.6f} vs {best:.6f}")


lira("ax-mlp", {})
lira("ax-mlp-finetune", {"original": "ax-mlp"})  # the same shadow fleet

print(f"{passed} passed, {failed} failed" + (f" ({skipped} skipped: epsilon vs metric.py)" if skipped else ""))
sys.exit(1 if failed else 0)
