// RMIA, the relative membership-inference attack: how much more likely the target model makes x than the reference
// models do, compared against population points z that are known non-members.
//
// Paper: S. Zarifzadeh, P. Liu, R. Shokri, "Low-Cost High-Power Membership Inference Attacks", ICML 2024
// (arXiv:2312.03262).
// Reference code, privacytrustlab/ml_privacy_meter:
// - modules/mia/attacks/rmia.py (`run_rmia`, `get_out_ref_signals`; the maintained library, offline only) and
//   get_signals.py (`get_softmax`: the signal is the softmax probability of the true label, temperature 1);
// - research/2023_rmia/main.py (the paper's experiment code; it has the online mode) and its
//   attack_configs/*/rmia_*.yaml.
// Where paper and code differ Lethe follows the code; every difference is listed here.
//
// Definitions:
// - Pr(x|θ) = softmax probability of x's label under the target model θ (get_signals.py), here in float64.
// - Online (research main.py, `offline: False`): Pr(x) = mean over ALL reference models (IN and OUT) of
//   Pr(x|θ_k) — scipy.stats.trim_mean with `proportionToCut` (0 = plain mean, the formula of the paper and of the
//   library; the research configs use 0.2, which cuts nothing below 5 models).
// - Offline (rmia.py and research main.py): Pr_OUT(x) = mean over the reference models that did not train on x;
//   Pr(x) = ½((1 + a)·Pr_OUT(x) + (1 − a)), the paper's linear correction. Default a = 0.3, the library's default
//   (`get_out_ref_signals(offline_a=0.3)`); the library tunes a over {0, 0.1, …, 1} on a paired model when none is
//   given, and the research configs use 0.33 for CIFAR-10. Pr(z) is computed the same way for every population z.
// - LR(x, z) = (Pr(x|θ)/Pr(x)) / (Pr(z|θ)/Pr(z)); score(x) = fraction of population z with LR(x, z) > γ
//   (`np.average(ratios > 1.0)` in the library: strictly greater). Default γ = 1, the library's hard-coded value.
//   Higher = member. Computed in O((n + m) log m): the population ratios are sorted once and each x binary-searches
//   the predicate (x/z > γ is monotone in z, and evaluating that exact predicate keeps ties and rounding identical to
//   the brute-force comparison).
//
// Differences between the paper and the reference code (Lethe follows the code):
// 1. The paper writes LR ≥ γ; both codes count LR > γ (strict).
// 2. The paper's experiments (research code) use γ = 2 and a soft-margin Taylor-softmax signal at temperature 2
//    (`sm_taylor_softmax_relative`), a 0.2 trimmed mean, 18 augmented queries with a majority vote over them, and,
//    when x is itself in the population, discount its comparison with itself. The library, which Lethe follows, uses
//    the plain softmax, γ = 1 and no augmentations; Lethe's targets and population are disjoint, so no self-discount.
//
// Differences between the reference code and Lethe:
// 3. The library's offline Pr_OUT takes, per point, the ⌊K/2⌋ largest of the reference signals with IN entries
//    zeroed (`-np.sort(-out_signals)[:, :num_reference_models]`). For an x that is OUT for exactly K/2 models (the
//    balanced construction) that is exactly the mean over its OUT models, and Lethe computes that mean directly.
//    For population z (OUT for all K) the library averages only the K/2 LARGEST reference probabilities, biasing
//    Pr(z) upwards; Lethe averages over all OUT models, as the paper defines it.
// 4. The library's single-reference-model case (an IN signal mapped to an OUT estimate by (p + a − 1)/a) is not
//    reproduced: an x with no OUT reference model gets a NaN score offline, which callers exclude.
// 5. Population masks: the paper draws z from data that half of the reference models trained on; Lethe's callers
//    pass population points that no reference model trained on (`populationInMask` nil). Online, Pr(z) is then the
//    mean over reference models that are all OUT for z, exactly what the research code computes for such z.
// 6. Signals are computed in float64 from float32 logits (the library's are float32 softmax outputs).
import Foundation

/// Which reference models RMIA averages for Pr(x).
public enum RMIAMode: String, Sendable, CaseIterable {
    /// All reference models, IN and OUT (the paper's online setting).
    case online
    /// OUT reference models only, with the linear correction Pr(x) = ½((1 + a)·Pr_OUT(x) + (1 − a)).
    case offline
}

/// The RMIA attack (Zarifzadeh et al. 2024) as pure functions of true-label probabilities or logits.
public enum RMIA {
    /// The library's default offline coefficient a.
    public static let defaultOfflineA = 0.3

    /// Softmax probability of each row's label, float64, for row-major `logits` ([labels.count × classes]).
    public static func trueLabelProbability(logits: [Float], labels: [Int32], classes: Int) -> [Double] {
        precondition(logits.count == labels.count * classes, "logits must be [labels.count × classes]")
        var p = [Double](repeating: 0, count: labels.count)
        for i in 0..<labels.count {
            let y = Int(labels[i])
            precondition(y >= 0 && y < classes, "label \(y) out of range")
            let row = i * classes
            var m = -Double.infinity
            for k in 0..<classes { m = max(m, Double(logits[row + k])) }
            var s = 0.0
            for k in 0..<classes { s += Foundation.exp(Double(logits[row + k]) - m) }
            p[i] = Foundation.exp(Double(logits[row + y]) - m) / s
        }
        return p
    }

    /// RMIA scores in [0, 1] (higher = member) from true-label probabilities: the target's on the n attacked
    /// examples (`target`) and on the m population points (`populationTarget`), each reference model's on both
    /// (`references`: K × n, `populationReferences`: K × m), and which examples each reference model trained on
    /// (`inMask`: K × n; `populationInMask`: K × m, nil = no reference model trained on any z). NaN where Pr(x) cannot
    /// be formed (offline with no OUT reference model).
    public static func scores(target: [Double], references: [[Double]], inMask: [[Bool]],
                              populationTarget: [Double], populationReferences: [[Double]],
                              populationInMask: [[Bool]]? = nil, mode: RMIAMode = .offline,
                              offlineA: Double = defaultOfflineA, gamma: Double = 1,
                              proportionToCut: Double = 0) -> [Double] {
        precondition(references.count == inMask.count && references.count == populationReferences.count,
                     "one reference row, mask row and population row per reference model")
        precondition(!references.isEmpty, "RMIA needs at least one reference model")
        precondition(gamma > 0, "γ must be positive")
        let px = marginal(references, mask: inMask, count: target.count, mode: mode, a: offlineA,
                          cut: proportionToCut)
        let pz = marginal(populationReferences,
                          mask: populationInMask ?? populationReferences.map { [Bool](repeating: false, count: $0.count) },
                          count: populationTarget.count, mode: mode, a: offlineA, cut: proportionToCut)
        let zRatios = zip(populationTarget, pz).map { $0 / $1 }.filter { !$0.isNaN }.sorted()
        let m = zRatios.count
        precondition(m > 0, "RMIA needs population points")
        return zip(target, px).map { pTarget, pMarginal -> Double in
            let rx = pTarget / pMarginal
            guard !rx.isNaN else { return .nan }
            // First index whose z-ratio fails rx / rz > γ; the predicate holds on a prefix of the sorted ratios.
            var lo = 0, hi = m
            while lo < hi {
                let mid = (lo + hi) / 2
                if rx / zRatios[mid] > gamma { lo = mid + 1 } else { hi = mid }
            }
            return Double(lo) / Double(m)
        }
    }

    /// RMIA scores from logits ([rows × classes], row-major): the target's and each reference model's on the n
    /// attacked examples (`labels`) and on the m population points (`populationLabels`). See
    /// `scores(target:references:inMask:populationTarget:populationReferences:populationInMask:mode:offlineA:gamma:proportionToCut:)`.
    public static func scores(targetLogits: [Float], referenceLogits: [[Float]], labels: [Int32], inMask: [[Bool]],
                              populationTargetLogits: [Float], populationReferenceLogits: [[Float]],
                              populationLabels: [Int32], classes: Int, populationInMask: [[Bool]]? = nil,
                              mode: RMIAMode = .offline, offlineA: Double = defaultOfflineA, gamma: Double = 1,
                              proportionToCut: Double = 0) -> [Double] {
        func p(_ logits: [Float], _ labels: [Int32]) -> [Double] {
            trueLabelProbability(logits: logits, labels: labels, classes: classes)
        }
        return scores(target: p(targetLogits, labels), references: referenceLogits.map { p($0, labels) },
                      inMask: inMask, populationTarget: p(populationTargetLogits, populationLabels),
                      populationReferences: populationReferenceLogits.map { p($0, populationLabels) },
                      populationInMask: populationInMask, mode: mode, offlineA: offlineA, gamma: gamma,
                      proportionToCut: proportionToCut)
    }

    /// Pr(point) per point: the (trimmed) mean over all reference models online, or over OUT models with the linear
    /// correction offline; NaN when no model qualifies.
    static func marginal(_ refs: [[Double]], mask: [[Bool]], count: Int, mode: RMIAMode, a: Double,
                         cut: Double) -> [Double] {
        var values = [Double]()
        values.reserveCapacity(refs.count)
        return (0..<count).map { j -> Double in
            values.removeAll(keepingCapacity: true)
            for k in 0..<refs.count {
                precondition(refs[k].count == count && mask[k].count == count, "reference \(k): expected \(count) values")
                if mode == .online || !mask[k][j] { values.append(refs[k][j]) }
            }
            guard !values.isEmpty else { return .nan }
            let mean = trimmedMean(&values, proportionToCut: cut)
            return mode == .online ? mean : (1 + a) / 2 * mean + (1 - a) / 2
        }
    }

    /// scipy.stats.trim_mean: sort, drop ⌊p·count⌋ values from each end, average the rest (sorts `values`).
    static func trimmedMean(_ values: inout [Double], proportionToCut p: Double) -> Double {
        let cut = Int((p * Double(values.count)).rounded(.down))
        if cut == 0 { return values.reduce(0, +) / Double(values.count) }
        precondition(2 * cut < values.count, "proportionToCut too large")
        values.sort()
        var s = 0.0
        for v in values[cut..<(values.count - cut)] { s += v }
        return s / Double(values.count - 2 * cut)
    }
}
