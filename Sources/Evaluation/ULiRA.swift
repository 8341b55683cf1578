// U-LiRA: LiRA turned on unlearning. For each forget example, can an attacker tell a model that was trained on it
// and then unlearned it from a model that never trained on it (retrained without it)? 0.5 (AUC or balanced
// accuracy) means unlearning is indistinguishable from retraining on that example.
//
// Paper: J. Hayes, I. Shumailov, E. Triantafillou, A. Khalifa, N. Papernot, "Inexact Unlearning Needs More Careful
// Evaluations to Avoid a False Sense of Privacy", SaTML 2025 (arXiv:2403.01218). The paper's per-example U-MIA
// "U-LiRA" fits, per forget example, one Gaussian to LiRA's logit-scaled confidence φ under shadow models that
// trained on the example and then unlearned it and one under shadow models that never trained on it, and scores a
// target model by the likelihood ratio; it reports the attack's accuracy, 50% meaning a perfect unlearning.
// Reference code: none public from the authors that this project could find (searched the public code index for
// U-LiRA/"ULiRA" implementations: only third-party re-implementations, not used). Lethe builds it from the paper,
// with LiRA's reference estimators (LiRA.swift: median as μ, np.std as σ, the 1e-30 guard, scipy's logpdf).
// The paper's full text was not available to this implementation beyond its abstract; the mapping to its numbers
// below is stated as Lethe's reading, not verified against its tables.
//
// Setting and procedure (Lethe):
// - One fixed forget set of n examples; N "unlearned" models (trained on everything, then unlearned with the
//   method under test, different seeds) and N "retrained" models (never trained on the forget set), N ≥ 2.
//   The paper instead draws a forget set per shadow model from random halves; with one fixed forget set every model
//   is a sample of one of the two hypotheses for every forget example, so models serve both as shadows and as
//   targets.
// - Leave-one-PAIR-out over models (Nu = Nr = N): fold i holds out unlearned model i and retrained model i; for every
//   forget example x, Gaussians are fitted to φ(x) of the other N − 1 unlearned and the other N − 1 retrained
//   models, and both held-out models are scored: score(t, x) = log N(φ_t(x); μ_U, σ_U + 1e-30) −
//   log N(φ_t(x); μ_R, σ_R + 1e-30), higher = "unlearned". Labels: 1 = t is an unlearned model, 0 = retrained.
//   Why pairs and not plain leave-one-out: holding out only t leaves its own group with N − 1 models and the other
//   with N, and the smaller fit's noisier centre pushes the held-out model's score towards the OTHER group by
//   ½(Var μ̂_own − Var μ̂_other) on average. Per example that is small, but it is systematic: with two identical
//   fleets (12 models each, 400 examples) plain leave-one-out gave a pair AUC of 0.47 and a model-level AUC of
//   0.08. Equal fit sizes remove it (the test checks chance over several seeds).
// - `fixVariance` (default true, as LiRA's for few models): σ_U and σ_R are each one global np.std of that group's
//   φ over all its models (the held-out pair excluded) and all forget examples; each group keeps its own σ (LiRA's reference uses the
//   IN pool's σ for both sides; here neither group is privileged). False: per-example np.std.
//
// What is reported and how it maps to the paper:
// - `pairScores`/`pairLabels`: one score per (model, forget example). The paper's attack is per example — one
//   decision per (target model, example) — and its headline is the accuracy of those decisions averaged over
//   examples and targets; AUC over these pairs (ROC.summary) is the threshold-free version of it, and
//   `pairBalancedAccuracyAtZero` is the decision at likelihood ratio 1 (equal priors), balanced over the two model
//   kinds. (If the paper picks the best threshold instead, its accuracy is an upper bound of this one.)
// - `modelScores`: each model's mean score over the forget set: a model-level test that pools the evidence of all
//   forget examples. Much stronger than the per-example attack (a small shift on every example adds up), and with
//   N² model pairs its AUC is coarse: it answers "can this fleet be told apart at all", not the paper's question.
import Foundation

/// What U-LiRA measured: per-(model, forget example) scores and labels, and per-model aggregates.
public struct ULiRAResult: Sendable {
    /// Log-likelihood ratio (unlearned vs retrained) per model (rows: the unlearned models in the order given, then
    /// the retrained ones) and forget example (columns); higher = "unlearned".
    public let scores: [[Double]]
    /// Each row's truth: 1 = unlearned model, 0 = retrained model.
    public let modelLabels: [Int]
    /// `scores` flattened row by row: one score per (model, forget example), the paper's unit of decision.
    public let pairScores: [Double]
    /// The label of each entry of `pairScores`.
    public let pairLabels: [Int]
    /// Each model's mean score over the forget examples (model-level aggregate), aligned with `modelLabels`.
    public let modelScores: [Double]
    /// Balanced accuracy over pairs of deciding "unlearned" when the score is > 0 (likelihood ratio > 1).
    public let pairBalancedAccuracyAtZero: Double
}

/// The U-LiRA attack (Hayes et al. 2024) as pure functions of φ values or logits.
public enum ULiRA {
    /// U-LiRA from φ values on the forget set: `unlearned` (N × n) and `retrained` (N × n), N ≥ 2.
    public static func run(unlearned: [[Double]], retrained: [[Double]], fixVariance: Bool = true) -> ULiRAResult {
        precondition(unlearned.count == retrained.count, "U-LiRA's leave-one-pair-out needs as many unlearned as retrained models")
        precondition(unlearned.count >= 2, "U-LiRA's leave-one-pair-out needs at least two models of each kind")
        let n = unlearned[0].count, count = unlearned.count
        precondition((unlearned + retrained).allSatisfy { $0.count == n }, "every model needs one φ per forget example")
        let labels = [Int](repeating: 1, count: count) + [Int](repeating: 0, count: count)
        var scores = [[Double]](repeating: [Double](repeating: 0, count: n), count: 2 * count)
        for fold in 0..<count {
            let u = unlearned.indices.filter { $0 != fold }.map { unlearned[$0] }
            let r = retrained.indices.filter { $0 != fold }.map { retrained[$0] }
            let sigmaU = fixVariance ? GaussianFit.pooledStd(u) : 0
            let sigmaR = fixVariance ? GaussianFit.pooledStd(r) : 0
            for j in 0..<n {
                let uj = u.map { $0[j] }, rj = r.map { $0[j] }
                let muU = GaussianFit.median(uj), muR = GaussianFit.median(rj)
                let sU = (fixVariance ? sigmaU : GaussianFit.std(uj)) + 1e-30
                let sR = (fixVariance ? sigmaR : GaussianFit.std(rj)) + 1e-30
                for (row, phi) in [(fold, unlearned[fold][j]), (count + fold, retrained[fold][j])] {
                    scores[row][j] = GaussianFit.logPDF(phi, mean: muU, std: sU) - GaussianFit.logPDF(phi, mean: muR, std: sR)
                }
            }
        }
        var pairScores = [Double](), pairLabels = [Int]()
        var hits = [0, 0], totals = [0, 0]
        for (t, row) in scores.enumerated() {
            pairScores += row
            pairLabels += [Int](repeating: labels[t], count: n)
            for s in row {
                totals[labels[t]] += 1
                if (s > 0) == (labels[t] == 1) { hits[labels[t]] += 1 }
            }
        }
        let balanced = n == 0 ? Double.nan
            : (Double(hits[1]) / Double(totals[1]) + Double(hits[0]) / Double(totals[0])) / 2
        return ULiRAResult(scores: scores, modelLabels: labels, pairScores: pairScores, pairLabels: pairLabels,
                           modelScores: scores.map { $0.reduce(0, +) / Double(max(n, 1)) },
                           pairBalancedAccuracyAtZero: balanced)
    }

    /// U-LiRA from logits on the forget set ([n × classes] row-major per model) and the forget labels.
    public static func run(unlearnedLogits: [[Float]], retrainedLogits: [[Float]], labels: [Int32], classes: Int,
                           fixVariance: Bool = true) -> ULiRAResult {
        func phi(_ l: [Float]) -> [Double] { LiRA.logitScaledConfidence(logits: l, labels: labels, classes: classes) }
        return run(unlearned: unlearnedLogits.map(phi), retrained: retrainedLogits.map(phi), fixVariance: fixVariance)
    }
}
