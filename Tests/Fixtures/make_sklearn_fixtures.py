#!/usr/bin/env python3
"""Writes scikit-learn's LogisticRegression() fits as a committed fixture, the reference of
Tests/EvaluationTests/EvaluationTests.swift (LogisticRegressionTests). Needs numpy and scikit-learn; CI never runs
it, it only reads the JSON it wrote:

    python Tests/Fixtures/make_sklearn_fixtures.py   # rewrites Tests/Fixtures/reference/logistic_regression.json

The simple MIA fits LogisticRegression() (C=1, L2 on the weights only, lbfgs). Here each dataset is fitted with
those defaults and the tolerance tightened (tol=1e-10, max_iter=100000). lbfgs also stops on its relative
objective change (ftol = 64·eps, which sklearn fixes), so its parameters sit within about 1e-7 of the optimum: the
script checks them against newton-cholesky on the same objective (within 2e-7, the gap is recorded) before
writing anything, and the Swift test compares to 1e-6. Datasets are asymmetric
(unequal class sizes, class means not symmetric about 0), so a penalised or misplaced intercept shows:
  losses_1d     30 non-negative 1-D values shaped like per-example losses (12 members with small values, 18
                non-members with larger ones), as the simple MIA sees them
  shifted_1d    30 1-D points, 19 of class 0 around 2.0 and 11 of class 1 around 3.1
  two_features  40 2-D points, 26 of class 0 around (0.5, −1) and 14 of class 1 around (2, −0.5), correlated
                features (both weights matter)
  separable_1d  13 1-D points that a threshold separates perfectly (the L2 penalty keeps the optimum finite)
Each entry holds x (rows), y (0/1), coef (sklearn's coef_[0]), intercept (intercept_[0]), points and proba
(predict_proba(points)[:, 1]).
"""
import json
import os
import sys

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.linear_model import LogisticRegression

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "logistic_regression.json")


def datasets():
    rng = np.random.default_rng(20231)
    out = {}
    members = rng.exponential(0.25, 12)
    others = rng.exponential(1.2, 18) + 0.05
    out["losses_1d"] = (np.concatenate([members, others])[:, None], np.array([1] * 12 + [0] * 18))
    a = rng.normal(2.0, 0.6, 19)
    b = rng.normal(3.1, 0.9, 11)
    out["shifted_1d"] = (np.concatenate([a, b])[:, None], np.array([0] * 19 + [1] * 11))
    cov = np.array([[1.0, 0.6], [0.6, 0.8]])
    p = rng.multivariate_normal([0.5, -1.0], cov, 26)
    q = rng.multivariate_normal([2.0, -0.5], cov, 14)
    out["two_features"] = (np.concatenate([p, q]), np.array([0] * 26 + [1] * 14))
    out["separable_1d"] = (np.array([0.2, 0.5, 0.9, 1.1, 1.4, 1.8, 2.0, 2.6, 3.0, 3.3, 3.9, 4.4, 5.0])[:, None],
                           np.array([0] * 8 + [1] * 5))
    # Shuffle rows so the classes are interleaved, as real data would be.
    for name, (x, y) in out.items():
        order = rng.permutation(len(y))
        out[name] = (np.round(x[order], 6), y[order])  # rounded: the JSON holds the exact values fitted
    return out


def main():
    entries = {}
    for name, (x, y) in datasets().items():
        model = LogisticRegression(tol=1e-10, max_iter=100000).fit(x, y)
        check = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(x, y)
        gap = max(np.abs(model.coef_ - check.coef_).max(), np.abs(model.intercept_ - check.intercept_).max())
        if gap > 2e-7:
            sys.exit(f"{name}: lbfgs and newton-cholesky disagree by {gap:.2e}; the fit is not at the optimum")
        lo, hi = x.min(axis=0), x.max(axis=0)
        points = np.stack([lo - 1, lo, (lo + hi) / 2, hi, hi + 1.5, x[0]])
        entries[name] = {
            "x": x.tolist(), "y": y.tolist(),
            "coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]),
            "points": points.tolist(), "proba": model.predict_proba(points)[:, 1].tolist(),
            "agreement_with_newton_cholesky": float(gap),
        }
        print(f"{name}: n={len(y)} (class 1: {int(y.sum())}) coef={model.coef_[0]} intercept={model.intercept_[0]:.10f}; "
              f"lbfgs vs newton-cholesky {gap:.1e}")
    fixture = {"generator": "Tests/Fixtures/make_sklearn_fixtures.py", "sklearn": sklearn_version,
               "estimator": "LogisticRegression(tol=1e-10, max_iter=100000)  # C=1.0, l2, lbfgs, fit_intercept",
               "datasets": entries}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One line per field, so a regenerated fixture diffs readably.
    lines = [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in fixture.items() if k != "datasets"]
    lines.append(' "datasets": {')
    for i, (name, entry) in enumerate(entries.items()):
        fields = [f"   {json.dumps(k)}: {json.dumps(v)}" for k, v in entry.items()]
        lines.append(f"  {json.dumps(name)}: {{\n" + ",\n".join(fields) + "\n  }" + ("," if i + 1 < len(entries) else ""))
    with open(OUT, "w") as f:
        f.write("{\n" + "\n".join(lines) + "\n }\n}\n")


if __name__ == "__main__":
    main()
