#!/usr/bin/env python3
"""Writes the reference scores of LiRA (online and offline) and RMIA on seeded random logits, the committed fixture of
Tests/EvaluationTests/MembershipAttackTests.swift (MembershipAttackFixtureTests). Needs numpy and scipy; CI never runs
it, it only reads the JSON it wrote:

    /tmp/torch-venv/bin/python Tests/Fixtures/make_attack_fixtures.py   # rewrites Tests/Fixtures/reference/attacks.json

The formulas are written here independently of the Swift code, from the reference implementations:
  LiRA  tensorflow/privacy research/mi_lira_2021/score.py (phi from logits) and plot.py (generate_ours,
        generate_ours_offline; do_plot/sweep negate the returned prediction, so the membership score is its negation)
  RMIA  privacytrustlab/ml_privacy_meter modules/mia/attacks/rmia.py (run_rmia: offline, linear correction a,
        ratios > gamma) and research/2023_rmia/main.py (online: mean of all reference models; trimmed mean)
phi follows score.py's formula (softmax after subtracting the row max, true class zeroed, log(p_y + 1e-45) -
log(sum + 1e-45)) evaluated in float64; score.py exponentiates in float32, and the script records how far that moves
phi (`phi_float32_exp_max_abs_diff`) without testing it. Every shadow/reference model's in/out mask is the LiRA
reference's `keep` construction (each example IN for exactly half of the K models), so plot.py's truncation to the
smallest IN/OUT count is a no-op and the library's sort-based OUT mean equals the mean over OUT models for the
attacked examples (asserted below). Population points are OUT for every reference model; the script uses the mean
over all of them (the paper's definition; the library would average the K/2 largest, see RMIA.swift).

Logits are float32 values (stored exactly as JSON numbers), labels int, masks 0/1.
"""
import json
import os

import numpy as np
import scipy.stats

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference", "attacks.json")


def phi_score_py(logits, labels, exp_dtype=np.float64):
    """score.py's logit-scaled confidence for one model (no augmentation axis)."""
    z = logits.astype(exp_dtype)
    z = z - np.max(z, axis=1, keepdims=True)
    p = np.array(np.exp(z), dtype=np.float64)
    p = p / np.sum(p, axis=1, keepdims=True)
    rows = np.arange(len(labels))
    y_true = p[rows, labels].copy()
    p[rows, labels] = 0
    y_wrong = np.sum(p, axis=1)
    return np.log(y_true + 1e-45) - np.log(y_wrong + 1e-45)


def lira_online(keep, scores, target, fix_variance):
    """plot.py generate_ours, one target model, no augmentations; returns the membership score (-prediction)."""
    dat_in = [scores[keep[:, j], j] for j in range(scores.shape[1])]
    dat_out = [scores[~keep[:, j], j] for j in range(scores.shape[1])]
    in_size = min(map(len, dat_in))
    out_size = min(map(len, dat_out))
    dat_in = np.array([x[:in_size] for x in dat_in])
    dat_out = np.array([x[:out_size] for x in dat_out])
    mean_in = np.median(dat_in, 1)
    mean_out = np.median(dat_out, 1)
    if fix_variance:
        std_in = np.std(dat_in)
        std_out = np.std(dat_in)  # sic: the reference uses the IN pool for both
    else:
        std_in = np.std(dat_in, 1)
        std_out = np.std(dat_out, 1)
    pr_in = -scipy.stats.norm.logpdf(target, mean_in, std_in + 1e-30)
    pr_out = -scipy.stats.norm.logpdf(target, mean_out, std_out + 1e-30)
    return -(pr_in - pr_out)


def lira_offline(keep, scores, target, fix_variance):
    """plot.py generate_ours_offline; returns the membership score (-prediction)."""
    dat_out = [scores[~keep[:, j], j] for j in range(scores.shape[1])]
    out_size = min(map(len, dat_out))
    dat_out = np.array([x[:out_size] for x in dat_out])
    mean_out = np.median(dat_out, 1)
    std_out = np.std(dat_out) if fix_variance else np.std(dat_out, 1)
    return -scipy.stats.norm.logpdf(target, mean_out, std_out + 1e-30)


def softmax_true(logits, labels):
    z = logits.astype(np.float64)
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e[np.arange(len(labels)), labels] / e.sum(axis=1)


def rmia(target_x, ref_x, keep_x, target_z, ref_z, online, a, gamma, cut):
    """ref_x: (n, K) signals, keep_x: (n, K) membership; ref_z: (m, K), all OUT."""
    def marginal(signals, keep):
        rows = []
        for j in range(signals.shape[0]):
            vals = signals[j] if online else signals[j][~keep[j]]
            rows.append(scipy.stats.trim_mean(vals, cut) if cut > 0 else np.mean(vals))
        rows = np.array(rows)
        return rows if online else (1 + a) / 2 * rows + (1 - a) / 2

    p_x = marginal(ref_x, keep_x)
    p_z = marginal(ref_z, np.zeros_like(ref_z, dtype=bool))
    ratio_x = target_x / p_x
    ratio_z = target_z / p_z
    ratios = ratio_x[:, None] / ratio_z[None, :]
    return np.average(ratios > gamma, axis=1)


def library_out_mean(ref_signals, ref_memberships):
    """modules/mia/attacks/rmia.py get_out_ref_signals with its default num_reference_models = K // 2, then the mean."""
    k = ref_signals.shape[1]
    out_signals = ref_signals * ~ref_memberships
    out_signals = -np.sort(-out_signals, axis=1)[:, : max(k // 2, 1)]
    return np.mean(out_signals, axis=1)


def keep_matrix(rng, k, n):
    """The LiRA reference's keep construction: each example IN for exactly k/2 of the k models."""
    order = rng.uniform(0, 1, size=(k, n)).argsort(0)
    return order < k // 2


def main():
    rng = np.random.default_rng(20240521)
    n, classes, k, m = 48, 5, 8, 37
    labels = rng.integers(0, classes, size=n)
    pop_labels = rng.integers(0, classes, size=m)
    # Per-example difficulty shared by all models, plus a membership boost and model noise, so IN/OUT differ.
    base = rng.normal(0, 2.0, size=(n, classes)).astype(np.float32)
    pop_base = rng.normal(0, 2.0, size=(m, classes)).astype(np.float32)
    keep = keep_matrix(rng, k, n)  # (K, n)
    target_in = rng.uniform(size=n) < 0.5

    def model_logits(base_rows, rows_labels, member):
        noise = rng.normal(0, 1.0, size=base_rows.shape)
        boost = np.zeros(base_rows.shape)
        boost[np.arange(len(rows_labels)), rows_labels] = 2.5 * member
        return (base_rows + noise + boost).astype(np.float32)

    shadow_logits = np.stack([model_logits(base, labels, keep[i]) for i in range(k)])
    target_logits = model_logits(base, labels, target_in)
    pop_shadow_logits = np.stack([model_logits(pop_base, pop_labels, np.zeros(m)) for _ in range(k)])
    pop_target_logits = model_logits(pop_base, pop_labels, np.zeros(m))
    # One extreme row (a logit gap of 60) to exercise the stable phi.
    target_logits[0] = 0
    target_logits[0, labels[0]] = 60

    phi_target = phi_score_py(target_logits, labels)
    phi_shadows = np.stack([phi_score_py(shadow_logits[i], labels) for i in range(k)])
    phi32 = phi_score_py(target_logits, labels, exp_dtype=np.float32)

    lira = {}
    for fix in (False, True):
        tag = "fixed" if fix else "per_example"
        lira[f"online_{tag}"] = lira_online(keep, phi_shadows, phi_target, fix).tolist()
        lira[f"offline_{tag}"] = lira_offline(keep, phi_shadows, phi_target, fix).tolist()

    p_target = softmax_true(target_logits, labels)
    p_refs = np.stack([softmax_true(shadow_logits[i], labels) for i in range(k)], axis=1)  # (n, K)
    pz_target = softmax_true(pop_target_logits, pop_labels)
    pz_refs = np.stack([softmax_true(pop_shadow_logits[i], pop_labels) for i in range(k)], axis=1)
    masked = np.array([p_refs[j][~keep.T[j]].mean() for j in range(n)])
    assert np.allclose(library_out_mean(p_refs, keep.T), masked, rtol=0, atol=1e-15), "library OUT mean differs"

    rmia_cases = []
    for online, a, gamma, cut in [(False, 0.3, 1.0, 0.0), (False, 0.33, 2.0, 0.0), (True, 0.3, 1.0, 0.0),
                                  (True, 0.3, 2.0, 0.25), (False, 0.0, 0.5, 0.25)]:
        rmia_cases.append({
            "mode": "online" if online else "offline", "offline_a": a, "gamma": gamma, "proportiontocut": cut,
            "scores": rmia(p_target, p_refs, keep.T, pz_target, pz_refs, online, a, gamma, cut).tolist(),
        })

    fixture = {
        "n": n, "classes": classes, "k": k, "m": m,
        "labels": labels.tolist(), "population_labels": pop_labels.tolist(),
        "in_mask": keep.astype(int).tolist(), "target_in": target_in.astype(int).tolist(),
        "target_logits": [float(v) for v in target_logits.ravel()],
        "shadow_logits": [[float(v) for v in s.ravel()] for s in shadow_logits],
        "population_target_logits": [float(v) for v in pop_target_logits.ravel()],
        "population_shadow_logits": [[float(v) for v in s.ravel()] for s in pop_shadow_logits],
        "phi_target": phi_target.tolist(),
        "phi_float32_exp_max_abs_diff": float(np.max(np.abs(phi32 - phi_target))),
        "lira": lira,
        "rmia": rmia_cases,
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}; float32-exp phi moves by at most {fixture['phi_float32_exp_max_abs_diff']:.3g}")


if __name__ == "__main__":
    main()
