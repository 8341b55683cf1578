#!/usr/bin/env python3
"""Writes the reference values of Tests/EvaluationTests/ROCTests.swift and EpsilonTests.swift. CI never runs it; the
Swift tests only read the JSON it wrote:

    UNLEARNING_EVALUATION_DIR=/tmp/unlearning_evaluation python Tests/Fixtures/make_roc_epsilon_fixtures.py
        # rewrites Tests/Fixtures/reference/roc.json and Tests/Fixtures/reference/epsilon.json
    ... make_roc_epsilon_fixtures.py --sanity   # also runs the slow N = 512 identical-groups case (minutes)

Needs numpy, scikit-learn and torch (CPU is enough).

roc.json: scikit-learn's roc_curve (drop_intermediate=True, the default), roc_auc_score, and the LiRA reference
conventions of tensorflow/privacy research/mi_lira_2021/plot.py (TPR at FPR t = tpr[np.where(fpr < t)[0][-1]];
accuracy = np.max(1 - (fpr + (1 - tpr)) / 2)) on: distinct continuous scores, heavily tied scores, runs of
member/non-member ties (where drop_intermediate removes points LiRA's rule would otherwise read), a small
hand-checkable case and a larger one (curve of more than 200 points).

epsilon.json: the NeurIPS 2023 Machine Unlearning competition metric computed by the ORGANISERS' OWN CODE,
google-deepmind/unlearning_evaluation `metric.py`. That code is not part of this repository: save metric.py in a
directory of your own and point UNLEARNING_EVALUATION_DIR at it (default /tmp/unlearning_evaluation). It is run
unmodified, except that
  - torch.Tensor.cuda is replaced by the identity, so it runs on the CPU;
  - the script re-executes itself under `python -O`: metric.py's `assert thr_eps` on a numpy array raises
    "truth value of an array ... is ambiguous" whenever more than one threshold survives, so the code only runs
    with assertions off;
  - metric._get_epsilons is wrapped to record the per-example epsilons it returns (compute_forget_score_from_confs
    still computes F from them itself).
Confidences are drawn with a generator the Swift test re-implements bit for bit (splitmix64; a normal draw is the
sum of 12 uniforms minus 6), so the large sanity case need not store its 2 x 512 x E values. Each case records
its confidences ([num models, num examples], as metric.py takes them) or, for the sanity case, its generator
spec; the per-example epsilons and F that metric.py returned. logit_confidence records
compute_logit_scaled_confidence on float32 logits, including rows whose other classes underflow.
"""
import json
import os
import subprocess
import sys

if __name__ == "__main__" and not sys.flags.optimize:
    # metric.py's `assert thr_eps` cannot run with assertions on (see the docstring). Only when run as a script:
    # Tests/acceptance/attacks_crosscheck.py imports load_metric and run_metric (and re-executes itself under -O).
    sys.exit(subprocess.call([sys.executable, "-O", os.path.abspath(__file__)] + sys.argv[1:]))

import numpy as np
import torch
from sklearn import __version__ as sklearn_version
from sklearn.metrics import roc_auc_score, roc_curve

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "reference")
MASK = (1 << 64) - 1


class SplitMix:
    """splitmix64; uniform() = top 53 bits / 2^53; normal() = sum of 12 uniforms - 6 (sequential double adds)."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return float(self.next() >> 11) * (1.0 / 9007199254740992.0)

    def normal(self):
        s = 0.0
        for _ in range(12):
            s += self.uniform()
        return s - 6.0


def draw(seed, models, examples, specs):
    """[models, examples] confidences; specs[e] = (mean, scale) of example e. Drawn example by example, model by
    model (the Swift test uses the same order)."""
    g = SplitMix(seed)
    out = np.zeros((models, examples))
    for e in range(examples):
        mean, scale = specs[e]
        for m in range(models):
            out[m, e] = mean + scale * g.normal()
    return out


# ----------------------------------------------------------------------------------------------------------- ROC


def roc_case(scores, labels):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=int)
    fpr, tpr, thr = roc_curve(labels, scores)
    return {
        "scores": scores.tolist(),
        "labels": labels.tolist(),
        "fpr": fpr.tolist(),
        "tpr": tpr.tolist(),
        "thresholds": thr[1:].tolist(),  # thresholds[0] is +inf
        "auc": float(roc_auc_score(labels, scores)),
        "tpr_at_0_1_percent": float(tpr[np.where(fpr < 0.001)[0][-1]]),
        "tpr_at_1_percent": float(tpr[np.where(fpr < 0.01)[0][-1]]),
        "best_accuracy": float(np.max(1 - (fpr + (1 - tpr)) / 2)),
    }


def roc_cases():
    rng = np.random.default_rng(2022)
    cases = {}
    cases["small"] = roc_case([0.1, 0.4, 0.35, 0.8, 0.65, 0.2, 0.9, 0.5], [0, 0, 1, 1, 0, 0, 1, 1])
    y = rng.integers(0, 2, 300)
    cases["continuous"] = roc_case(np.round(rng.normal(size=300) + 0.8 * y, 9), y)
    y = rng.integers(0, 2, 400)
    cases["ties"] = roc_case(np.round(rng.normal(size=400) + 0.6 * y, 1), y)
    # Runs of ties holding one member and one non-member each: equal (1, 1) steps, so drop_intermediate removes
    # the middle points of the diagonal, including points with FPR just under 1%.
    s, lab = [], []
    for k in range(150):
        s += [1000.0 - k, 1000.0 - k]
        lab += [1, 0]
    s += list(np.round(rng.normal(size=200) * 10 + 500, 6))
    lab += list(rng.integers(0, 2, 200))
    cases["tie_runs"] = roc_case(s, lab)
    y = np.array([1] * 700 + [0] * 1300)
    cases["large"] = roc_case(np.round(rng.normal(size=2000) + 1.2 * y, 9), y)
    return cases


# ------------------------------------------------------------------------------------------------------- Epsilon


def load_metric():
    directory = os.environ.get("UNLEARNING_EVALUATION_DIR", "/tmp/unlearning_evaluation")
    if not os.path.exists(os.path.join(directory, "metric.py")):
        sys.exit(f"metric.py not found in {directory}: set UNLEARNING_EVALUATION_DIR (see the docstring)")
    torch.Tensor.cuda = lambda self, *args, **kwargs: self  # CPU only
    sys.path.insert(0, directory)
    import metric  # the organisers' code

    recorded = []
    original = metric._get_epsilons

    def recording(pos_confs, neg_confs, delta):
        eps = original(pos_confs, neg_confs, delta)
        recorded.append(np.asarray(eps, dtype=np.float64))
        return eps

    metric._get_epsilons = recording
    return metric, recorded


def run_metric(metric, recorded, unlearned, retrained):
    recorded.clear()
    f = metric.compute_forget_score_from_confs(unlearned.copy(), retrained.copy())
    return float(f), recorded[-1].tolist()


def epsilon_cases(metric, recorded):
    cases = []

    def add(name, seed, models, u_specs, r_specs, transform=None):
        u = draw(seed, models, len(u_specs), u_specs)
        r = draw(seed + 1, models, len(r_specs), r_specs)
        if transform is not None:
            u, r = transform(u, r)
        f, eps = run_metric(metric, recorded, u, r)
        cases.append({"name": name, "unlearned": u.tolist(), "retrained": r.tolist(), "forget_quality": f,
                      "epsilons": eps})
        print(f"{name}: N={models} E={len(u_specs)} F={f:.6f} eps={np.round(eps, 4).tolist()}")

    # Overlapping groups (same or nearby distributions), different spreads, and separated ones.
    add("n8_mixed", 11, 8,
        [(0, 1), (0, 1), (0, 1), (0, 1), (2, 0.5), (-1, 1.5)],
        [(0, 1), (0.5, 1), (6, 1), (-6, 1), (2, 1.0), (-1, 0.4)])
    add("n32_mixed", 12, 32,
        [(0, 1), (0, 1), (1, 1), (3, 0.5), (0, 2), (5, 1), (0, 0.2), (-2, 1)],
        [(0, 1), (0.3, 1), (0, 1), (0, 0.5), (0, 0.5), (-5, 1), (0.1, 1), (-2, 1)])
    add("n100_mixed", 13, 100,
        [(0, 1), (0, 1), (1, 1), (0, 3), (4, 1), (2, 1)],
        [(0, 1), (0.2, 1), (0, 1), (0, 1), (-4, 1), (2, 0.7)])
    # Discrete confidences (many exact ties between and within groups), so <= and >= at thresholds matter.
    add("n32_rounded", 14, 32,
        [(0, 1), (0.5, 1), (0, 2), (1, 0.5)],
        [(0, 1), (0, 1), (0, 1), (0, 0.5)],
        transform=lambda u, r: (np.round(u, 1), np.round(r, 1)))

    # Very peaky groups: one group (near-)constant; and both constant at different values.
    def peaky(u, r):
        u = u.copy()
        u[:, 0] = 1.5 + 1e-4 * u[:, 0]  # range ratio < 1%: epsilon = 50 by the shortcut
        u[:, 1] = 0.25                  # exactly constant, the other group not: ratio 0
        u[:, 2] = 3.0
        r = r.copy()
        r[:, 2] = -1.0                  # both constant and different: 0/0 = NaN, falls through, separated
        return u, r

    add("n32_peaky", 15, 32, [(0, 1), (0, 1), (0, 1), (0, 1)], [(0, 1), (0, 1), (0, 1), (0.5, 1.2)],
        transform=peaky)
    return cases


def logit_confidence_case():
    rng = np.random.default_rng(7)
    logits = (rng.normal(size=(12, 10)) * 4).astype(np.float32)
    logits[3] = 0
    logits[4, 2] = 300  # every other class underflows in float32: prob_wrong = 0
    logits[5, 7] = -200
    labels = rng.integers(0, 10, 12)
    labels[4] = 2
    labels[5] = 7
    import metric
    prob_correct, conf = metric.compute_logit_scaled_confidence(logits.copy(), labels)
    return {"logits": logits.astype(np.float64).tolist(), "labels": labels.tolist(),
            "prob_correct": prob_correct.tolist(), "confidence": conf.tolist()}


def main():
    os.makedirs(REF, exist_ok=True)
    roc = {"sklearn_version": sklearn_version, "cases": roc_cases()}
    with open(os.path.join(REF, "roc.json"), "w") as f:
        json.dump(roc, f, separators=(",", ":"))

    metric, recorded = load_metric()
    out_path = os.path.join(REF, "epsilon.json")
    previous = {}
    if os.path.exists(out_path):
        with open(out_path) as f:
            previous = json.load(f)
    out = {"numpy_version": np.__version__, "torch_version": torch.__version__,
           "cases": epsilon_cases(metric, recorded), "logit_confidence": logit_confidence_case(),
           "sanity": previous.get("sanity")}
    if "--sanity" in sys.argv:
        # Both groups from one distribution, N = 512: the metric's noise floor (Docs/Architecture.md §7: F about 0.19).
        models, examples, seed = 512, 24, 512
        specs = [(0.0, 1.0)] * examples
        u = draw(seed, models, examples, specs)
        r = draw(seed + 1, models, examples, specs)
        f, eps = run_metric(metric, recorded, u, r)
        out["sanity"] = {"seed": seed, "models": models, "examples": examples, "mean": 0.0, "scale": 1.0,
                         "first_values": u[:4, 0].tolist(), "forget_quality": f, "epsilons": eps}
        print(f"sanity N=512 E={examples}: F={f:.6f} eps={np.round(eps, 3).tolist()}")
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
