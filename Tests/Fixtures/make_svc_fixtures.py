#!/usr/bin/env python3
"""Writes SalUn's MIA-efficacy attack, computed with numpy and scikit-learn, as a committed fixture, the reference of
Tests/EvaluationTests/MIAEfficacyTests.swift. Needs numpy and scikit-learn; CI never runs it, it only reads the
JSON it wrote:

    python Tests/Fixtures/make_svc_fixtures.py   # rewrites Tests/Fixtures/reference/svc_mia.json

The attack (Fan et al., SalUn, ICLR 2024; OPTML-Group/Unlearn-Saliency, Classification/evaluation/SVC_MIA.py,
called by main_forget.py with shadow_train = the first |test| retain examples, shadow_test = test, target_train =
None, target_test = forget): per example five features of the softmax output, one SVC(C=3, gamma="auto",
kernel="rbf") per feature fitted on shadow_train (label 1) + shadow_test (label 0) in that order, and the efficacy is
1 − mean(predict(forget)), the fraction of forget predicted non-member. The features are reimplemented here with
numpy, in float32 as torch computes them, independently of the Swift code:
  correctness  argmax(p) == y (first maximum on ties), as 0/1
  confidence   p_y
  entropy      −Σ_j [p_j > 0] p_j log p_j
  m_entropy    what the reference's m_entropy computes (not Song & Mittal's Mentr): its log_reverse_prob is log p,
               not log(1 − p), and `[:, labels]` selects, for every row, every column that is the label of some
               example of the same set, so with S = the set's distinct labels and ℓ_j = log p_j (log 1e-30 where
               p_j = 0): −Σ_{j∈S} (1 − p_j) ℓ_j − Σ_{j∉S} p_j ℓ_j
  prob         the probability vector (gamma = 1/classes)
Float32 evaluation order: softmax p = e / Σe with e = exp(x − max x), every sum over classes taken left to right,
exp and log rounded from float64 (the same as glibc's expf/logf but for rare last-bit cases). SVC converts the
float32 features to float64 exactly.

Cases (10 classes; logits are multiples of 1/16, exact in float32 and in JSON). Each retain set holds |test| + 60
rows, the extra 60 drawn like test, so fitting on more than the first |test| would move the numbers:
  original_like   retain confident (members), test less so, forget drawn like retain: low efficacy
  retrained_like  forget drawn like test: high efficacy
  mixed           forget half like retain, half like test
  saturated       logit gaps up to 140, so float32 probabilities are exactly 0 and 1 (both where-branches of
                  entropy and m_entropy), rows whose two top logits are equal (correctness decided by the first
                  maximum), test labels never 9 and forget labels never 7, 8 or 9 (m_entropy's column set S differs
                  per set)
Each case holds retain/test/forget {logits, labels} and expected: per feature the efficacy, sklearn's predicted
labels on forget (1 = member) and the support-vector count; plus forget's float32 features (confidence, entropy,
m_entropy) to locate a disagreement.
"""
import json
import os

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.svm import SVC

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "svc_mia.json")
CLASSES = 10
FEATURES = ["correctness", "confidence", "entropy", "m_entropy", "prob"]
F32 = np.float32


def quantise(x):
    return (np.round(np.asarray(x) * 16) / 16).astype(F32)


def outputs(rng, n, margin, spread, wrong, allowed=range(CLASSES)):
    """n rows of logits: noise, plus `margin` on the label (or, with probability `wrong`, on another class)."""
    allowed = np.array(list(allowed))
    labels = rng.choice(allowed, n)
    logits = rng.normal(0, spread, (n, CLASSES))
    boosted = np.where(rng.random(n) < wrong, (labels + rng.integers(1, CLASSES, n)) % CLASSES, labels)
    logits[np.arange(n), boosted] += margin(n)
    return quantise(logits), labels


def member(rng, n, **kw):
    return outputs(rng, n, lambda k: rng.normal(7, 2, k), 1.5, 0.04, **kw)


def nonmember(rng, n, **kw):
    return outputs(rng, n, lambda k: rng.normal(3, 2, k), 1.5, 0.2, **kw)


def saturated(rng, n, high, allowed=range(CLASSES)):
    logits, labels = outputs(rng, n, lambda k: rng.uniform(0, high, k), 2.0, 0.1, allowed=allowed)
    # Every fifth row: the two top logits equal, the label either the first or the second of them.
    for i in range(0, n, 5):
        top = int(np.argmax(logits[i]))
        other = (top + 1 + int(rng.integers(0, CLASSES - 1))) % CLASSES
        logits[i, other] = logits[i, top]
        labels[i] = [top, other][i % 2] if [top, other][i % 2] in allowed else labels[i]
    return logits, labels


def concat(*parts):
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def cases():
    rng = np.random.default_rng(20240131)
    out = {}
    nt, nf, extra = 200, 150, 60
    for name, forget in [("original_like", "member"), ("retrained_like", "nonmember"), ("mixed", "half")]:
        retain = concat(member(rng, nt), nonmember(rng, extra))
        test = nonmember(rng, nt)
        f = {"member": lambda: member(rng, nf), "nonmember": lambda: nonmember(rng, nf),
             "half": lambda: concat(member(rng, nf // 2), nonmember(rng, nf - nf // 2))}[forget]()
        out[name] = (retain, test, f)
    retain = concat(saturated(rng, nt, 140), saturated(rng, extra, 30))
    test = saturated(rng, nt, 30, allowed=range(9))
    forget = concat(saturated(rng, nf // 2, 140, allowed=range(7)), saturated(rng, nf - nf // 2, 30, allowed=range(7)))
    out["saturated"] = (retain, test, forget)
    return out


def row_sum(terms):
    """Σ over classes, left to right, in float32."""
    s = terms[:, 0].copy()
    for j in range(1, terms.shape[1]):
        s = (s + terms[:, j]).astype(F32)
    return s


def log32(x):
    with np.errstate(divide="ignore"):
        return np.log(x.astype(np.float64)).astype(F32)


def softmax32(logits):
    shifted = (logits - logits.max(axis=1, keepdims=True)).astype(F32)
    e = np.exp(shifted.astype(np.float64)).astype(F32)
    return (e / row_sum(e)[:, None]).astype(F32)


def features(logits, labels):
    return features_of_probabilities(softmax32(logits), labels)


def features_of_probabilities(p, labels):
    """The five features from float32 probabilities p (Tests/acceptance/attacks_crosscheck.py passes lethed's own
    softmax output here)."""
    p = np.asarray(p, dtype=F32)
    n = len(labels)
    correctness = (np.argmax(p, axis=1) == labels).astype(np.int32)
    confidence = p[np.arange(n), labels]
    logp = log32(p)
    with np.errstate(invalid="ignore"):  # 0 · log 0, discarded by the where as in the reference
        entropy = -row_sum(np.where(p > 0, (p * logp).astype(F32), F32(0)))
    floor = log32(np.array([1e-30], dtype=F32))[0]
    ell = np.where(p > 0, logp, floor).astype(F32)
    in_s = np.zeros(CLASSES, dtype=bool)
    in_s[np.unique(labels)] = True
    coeff = np.where(in_s[None, :], (F32(1) - p).astype(F32), p)
    m_entropy = -row_sum((coeff * ell).astype(F32))
    return {"correctness": correctness[:, None], "confidence": confidence[:, None], "entropy": entropy[:, None],
            "m_entropy": m_entropy[:, None], "prob": p}


def attack(retain, test, forget):
    shadow_train = (retain[0][: len(test[1])], retain[1][: len(test[1])])
    fr, ft, ff = features(*shadow_train), features(*test), features(*forget)
    expected = {}
    for name in FEATURES:
        x = np.concatenate([fr[name], ft[name]]).astype(np.float64)
        y = np.concatenate([np.ones(len(fr[name])), np.zeros(len(ft[name]))])
        clf = SVC(C=3, gamma="auto", kernel="rbf").fit(x, y)
        predicted = clf.predict(ff[name].astype(np.float64)).astype(int)
        expected[name] = {"efficacy": float(1 - predicted.mean()), "forget_predictions": predicted.tolist(),
                          "support_vectors": int(clf.n_support_.sum())}
    forget_features = {k: [float(v) for v in ff[k][:, 0]] for k in ["confidence", "entropy", "m_entropy"]}
    return expected, forget_features


def saturation_summary(sets):
    p = np.concatenate([softmax32(s[0]) for s in sets])
    return int((p == 0).sum()), int((p == 1).sum())


def main():
    entries = {}
    for name, (retain, test, forget) in cases().items():
        expected, forget_features = attack(retain, test, forget)
        zeros, ones = saturation_summary([retain, test, forget])
        entries[name] = {
            "retain": {"logits": retain[0].tolist(), "labels": retain[1].tolist()},
            "test": {"logits": test[0].tolist(), "labels": test[1].tolist()},
            "forget": {"logits": forget[0].tolist(), "labels": forget[1].tolist()},
            "expected": expected, "forget_features": forget_features,
        }
        print(f"{name}: retain {len(retain[1])} (first {len(test[1])} used), test {len(test[1])}, forget "
              f"{len(forget[1])}; probabilities exactly 0: {zeros}, exactly 1: {ones}; efficacy "
              + ", ".join(f"{k} {v['efficacy']:.4f} ({v['support_vectors']} SV)" for k, v in expected.items()))
    fixture = {"generator": "Tests/Fixtures/make_svc_fixtures.py", "sklearn": sklearn_version,
               "estimator": 'SVC(C=3, gamma="auto", kernel="rbf")  # tol=1e-3, shrinking, no probability',
               "cases": entries}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    # One line per set or field, so a regenerated fixture diffs readably.
    lines = [f' {json.dumps(k)}: {json.dumps(v)},' for k, v in fixture.items() if k != "cases"]
    lines.append(' "cases": {')
    for i, (name, entry) in enumerate(entries.items()):
        fields = [f"   {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in entry.items()]
        lines.append(f"  {json.dumps(name)}: {{\n" + ",\n".join(fields) + "\n  }" + ("," if i + 1 < len(entries) else ""))
    with open(OUT, "w") as f:
        f.write("{\n" + "\n".join(lines) + "\n }\n}\n")


if __name__ == "__main__":
    main()
