// LiRA, the likelihood-ratio membership-inference attack: per example, Gaussians fitted to the logit-scaled
// confidence φ of shadow models that trained on it (IN) and that did not (OUT); the target model's φ is scored
// under both.
//
// Paper: N. Carlini, S. Chien, M. Nasr, S. Song, A. Terzis, F. Tramèr, "Membership Inference Attacks From First
// Principles", IEEE S&P 2022 (arXiv:2112.03570).
// Reference code: tensorflow/privacy research/mi_lira_2021/score.py (φ from logits) and
// research/mi_lira_2021/plot.py (`generate_ours`, `generate_ours_offline`, `do_plot`, `sweep`); the README there
// reports the fixed-variance variants as best with 16 shadow models. Where paper and code differ Lethe follows the
// code; every difference is listed here.
//
// Definitions, as in the reference code:
// - φ = log p_y − log Σ_{k≠y} p_k (score.py: softmax after subtracting the row maximum, the true-class probability
//   zeroed and the rest summed, not 1 − p_y, so confident examples keep their precision).
// - Online: per example, μ_in = median of the IN shadows' φ, μ_out = median of the OUT shadows' φ (plot.py uses
//   np.median for the "mean"); σ = np.std (population, ddof 0) of the same values. Score =
//   log N(φ; μ_in, σ_in + 1e-30) − log N(φ; μ_out, σ_out + 1e-30); higher = member (plot.py returns the negation
//   and `sweep` negates it back before roc_curve).
// - `fixVariance` (plot.py's `fix_variance`): one global σ = np.std of ALL IN values pooled over every example and
//   shadow (around their pooled mean, so it includes the spread between examples), used for BOTH the IN and the
//   OUT Gaussian online — plot.py writes `std_out = np.std(dat_in)`, and Lethe keeps that. Offline it is np.std of
//   all OUT values. The reference's functions default to per-example variance, but its README (16 shadows) reports
//   the fixed-variance variants as the best and the paper recommends a global variance when shadow models are few,
//   so Lethe defaults to `fixVariance: true`, the right choice for the small fleets Lethe trains.
// - Offline: OUT only. The code's score is −log N(φ; μ_out, σ_out + 1e-30) (plot.py returns logpdf, negated by
//   `sweep`): a TWO-sided test that also calls examples far BELOW the OUT distribution members, and (per-example
//   variance) ranks wider OUT distributions higher through the log σ term. The paper's offline test is one-sided,
//   Λ = 1 − Pr[Z > φ] = Φ((φ − μ_out)/σ_out): choose `.paperOneSided`, which returns z = (φ − μ_out)/σ_out, the
//   paper's Λ before the monotone Φ (same ranking and ROC, no saturation at 1 for confident members).
//
// Differences between the paper and the reference code (Lethe follows the code):
// 1. The paper fits Gaussians with the mean; the code uses the median as μ (np.median; σ is still np.std around the
//    mean).
// 2. Online fixed variance: the paper describes global variances σ²_in and σ²_out; the code uses the IN pool's std
//    for both.
// 3. Offline: paper one-sided CDF test; code two-sided −logpdf (see above; both offered, code's is the default).
// 4. The code truncates every example to the smallest IN (and OUT) count over all examples (`in_size`,
//    `out_size`, to stack them into one array). With the reference's `keep` construction (each example IN for
//    exactly half of the shadows) nothing is cut; Lethe uses every shadow of every example and does not truncate.
//
// Differences between the reference code and Lethe:
// 5. Augmentations: score.py averages p_y and Σ_{k≠y} p_k over the augmented queries before the log, and plot.py
//    averages the per-augmentation log-likelihood ratios. Lethe's callers give one query per example (no
//    augmentation axis).
// 6. Precision: score.py exponentiates in the logits' dtype (float32) then normalises in float64, and adds 1e-45
//    inside both logs. Lethe computes φ = z_y − logsumexp_{k≠y}(z_k) entirely in float64 from the float32 logits:
//    the same quantity with no underflow. The 1e-45 floor changes φ only when a probability is below ~1e-30 (it caps
//    |φ| near 103.6); the fixture test (Tests/Fixtures/make_attack_fixtures.py) checks agreement to 1e-9 with
//    score.py's formula evaluated in float64.
// 7. Examples without IN shadows (online) or without OUT shadows (both modes) cannot be scored: their score is
//    NaN, and callers exclude NaN scores (with their labels) before computing a ROC. The reference would produce
//    NaN for the whole run (np.median of an empty slice after truncation to size 0). With a single shadow on a side
//    σ is 0 and the reference's 1e-30 makes the score huge but finite; Lethe keeps that.
import Foundation

/// Which offline test LiRA runs (see LiRA.swift's header).
public enum LiRAOfflineTest: String, Sendable, CaseIterable {
    /// The reference code's score: −log N(φ; μ_out, σ_out) (two-sided: far below OUT also counts as member).
    case referenceTwoSided
    /// The paper's one-sided test, returned as z = (φ − μ_out) / σ_out (the paper's Λ = Φ(z) before Φ: same ranking).
    case paperOneSided
}

/// The LiRA attack (Carlini et al. 2022) as pure functions of φ values or logits.
public enum LiRA {
    /// LiRA's logit-scaled confidence φ = log p_y − log Σ_{k≠y} p_k of each row of row-major `logits`
    /// ([labels.count × classes]), computed as z_y − logsumexp_{k≠y} z_k in float64.
    public static func logitScaledConfidence(logits: [Float], labels: [Int32], classes: Int) -> [Double] {
        precondition(classes >= 2, "φ needs at least two classes")
        precondition(logits.count == labels.count * classes, "logits must be [labels.count × classes]")
        var phi = [Double](repeating: 0, count: labels.count)
        logits.withUnsafeBufferPointer { z in
            for i in 0..<labels.count {
                let y = Int(labels[i])
                precondition(y >= 0 && y < classes, "label \(y) out of range")
                let row = i * classes
                var m = -Double.infinity
                for k in 0..<classes where k != y { m = max(m, Double(z[row + k])) }
                var s = 0.0
                for k in 0..<classes where k != y { s += Foundation.exp(Double(z[row + k]) - m) }
                phi[i] = Double(z[row + y]) - (m + Foundation.log(s))
            }
        }
        return phi
    }

    /// Online LiRA scores from φ values: `target` (n), `shadows` (K × n) and `inMask` (K × n, true = the example was
    /// in that shadow's training set). Higher = member; NaN where an example has no IN or no OUT shadow.
    public static func onlineScores(target: [Double], shadows: [[Double]], inMask: [[Bool]],
                                    fixVariance: Bool = true) -> [Double] {
        let (ins, outs) = split(target: target, shadows: shadows, inMask: inMask)
        let globalSigma = fixVariance ? GaussianFit.pooledStd(ins) : 0
        var scores = [Double](repeating: .nan, count: target.count)
        for j in 0..<target.count where !ins[j].isEmpty && !outs[j].isEmpty {
            let muIn = GaussianFit.median(ins[j]), muOut = GaussianFit.median(outs[j])
            let sIn = fixVariance ? globalSigma : GaussianFit.std(ins[j])
            let sOut = fixVariance ? globalSigma : GaussianFit.std(outs[j])
            scores[j] = GaussianFit.logPDF(target[j], mean: muIn, std: sIn + 1e-30)
                - GaussianFit.logPDF(target[j], mean: muOut, std: sOut + 1e-30)
        }
        return scores
    }

    /// Offline LiRA scores from φ values (OUT shadows only; `inMask` says which to leave out). Higher = member; NaN
    /// where an example has no OUT shadow.
    public static func offlineScores(target: [Double], shadows: [[Double]], inMask: [[Bool]],
                                     fixVariance: Bool = true,
                                     test: LiRAOfflineTest = .referenceTwoSided) -> [Double] {
        let (_, outs) = split(target: target, shadows: shadows, inMask: inMask)
        let globalSigma = fixVariance ? GaussianFit.pooledStd(outs) : 0
        var scores = [Double](repeating: .nan, count: target.count)
        for j in 0..<target.count where !outs[j].isEmpty {
            let mu = GaussianFit.median(outs[j])
            let sigma = (fixVariance ? globalSigma : GaussianFit.std(outs[j])) + 1e-30
            switch test {
            case .referenceTwoSided: scores[j] = -GaussianFit.logPDF(target[j], mean: mu, std: sigma)
            case .paperOneSided: scores[j] = (target[j] - mu) / sigma
            }
        }
        return scores
    }

    /// Online LiRA from logits: the target's and each shadow's logits ([n × classes], row-major) on the same n
    /// attacked examples with their labels. See `onlineScores(target:shadows:inMask:fixVariance:)`.
    public static func onlineScores(targetLogits: [Float], shadowLogits: [[Float]], labels: [Int32], classes: Int,
                                    inMask: [[Bool]], fixVariance: Bool = true) -> [Double] {
        onlineScores(target: logitScaledConfidence(logits: targetLogits, labels: labels, classes: classes),
                     shadows: shadowLogits.map { logitScaledConfidence(logits: $0, labels: labels, classes: classes) },
                     inMask: inMask, fixVariance: fixVariance)
    }

    /// Offline LiRA from logits. See `offlineScores(target:shadows:inMask:fixVariance:test:)`.
    public static func offlineScores(targetLogits: [Float], shadowLogits: [[Float]], labels: [Int32], classes: Int,
                                     inMask: [[Bool]], fixVariance: Bool = true,
                                     test: LiRAOfflineTest = .referenceTwoSided) -> [Double] {
        offlineScores(target: logitScaledConfidence(logits: targetLogits, labels: labels, classes: classes),
                      shadows: shadowLogits.map { logitScaledConfidence(logits: $0, labels: labels, classes: classes) },
                      inMask: inMask, fixVariance: fixVariance, test: test)
    }

    /// Per example, the IN and the OUT shadows' φ values.
    static func split(target: [Double], shadows: [[Double]], inMask: [[Bool]]) -> ([[Double]], [[Double]]) {
        precondition(shadows.count == inMask.count, "one in/out mask row per shadow model")
        let n = target.count
        var ins = [[Double]](repeating: [], count: n), outs = [[Double]](repeating: [], count: n)
        for (k, row) in shadows.enumerated() {
            precondition(row.count == n && inMask[k].count == n, "shadow \(k): expected \(n) values and mask entries")
            for j in 0..<n {
                if inMask[k][j] { ins[j].append(row[j]) } else { outs[j].append(row[j]) }
            }
        }
        return (ins, outs)
    }
}

/// Gaussian fitting as the LiRA reference does it (np.median, np.std with ddof 0, scipy.stats.norm.logpdf); shared
/// by LiRA and U-LiRA.
enum GaussianFit {
    /// np.median: the middle value, or the mean of the two middle values.
    static func median(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        let s = values.sorted()
        let h = s.count / 2
        return s.count % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2
    }

    /// np.std (population, ddof 0), two-pass.
    static func std(_ values: [Double]) -> Double {
        precondition(!values.isEmpty)
        let mean = values.reduce(0, +) / Double(values.count)
        var ss = 0.0
        for v in values { ss += (v - mean) * (v - mean) }
        return (ss / Double(values.count)).squareRoot()
    }

    /// np.std of every value of every group pooled (around the pooled mean); 0 when there are none.
    static func pooledStd(_ groups: [[Double]]) -> Double {
        var count = 0, sum = 0.0
        for g in groups { count += g.count; for v in g { sum += v } }
        guard count > 0 else { return 0 }
        let mean = sum / Double(count)
        var ss = 0.0
        for g in groups { for v in g { ss += (v - mean) * (v - mean) } }
        return (ss / Double(count)).squareRoot()
    }

    /// scipy.stats.norm.logpdf(x, mean, std).
    static func logPDF(_ x: Double, mean: Double, std: Double) -> Double {
        let z = (x - mean) / std
        return -0.5 * z * z - Foundation.log(std) - 0.918_938_533_204_672_7  // log √(2π)
    }
}
