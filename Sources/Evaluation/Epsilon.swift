// The NeurIPS 2023 Machine Unlearning competition's forgetting-quality metric ("epsilon"), computed as the
// organisers' code computes it.
//
// References: E. Triantafillou, F. Pedregosa, J. Hayes, P. Kairouz, I. Guyon, et al., the NeurIPS 2023 Machine
// Unlearning competition and its metric write-up (`Machine_Unlearning_Metric.pdf`, unlearning-challenge.github.io);
// E. Triantafillou et al., "Are we making progress in unlearning? Findings from the first NeurIPS unlearning
// competition", arXiv:2406.09073, 2024. Reference code: github.com/google-deepmind/unlearning_evaluation at
// ffae0fff, `metric.py` (compute_logit_scaled_confidence, _get_double_threshold_rates,
// _get_single_threshold_rates, _get_epsilons, compute_forget_score_from_confs) and `main.py` (how F is combined
// with the accuracies). Lethe's implementation is written from a reading of that code; none of it is copied
// here. Tests/Fixtures/make_roc_epsilon_fixtures.py runs the organisers' own metric.py (kept outside this
// repository) to produce the values Tests/EvaluationTests/EpsilonTests.swift checks.
//
// What the code defines (and the summaries leave open):
// - Input. Per model and forget example, the logit-scaled confidence of the true class y (LiRA's score):
//   logits are shifted by their row maximum in float32, exp'd in float32, widened to float64 and normalised;
//   conf = log(p_y + 1e-45) − log(Σ_{k≠y} p_k + 1e-45). Not raw logits, not p_y, no other clipping: a row whose
//   other classes underflow to 0 gives log(p_y) − log(1e-45) ≈ 103.6.
// - Which group is "positive", per example: the retrained group if its median (numpy's: mean of the two middle
//   values for even N) is strictly larger than the unlearned group's, else the unlearned group.
// - Very peaky groups: with ranges (max − min) r_pos and r_neg, if min/max of the two ranges < 0.01 the example
//   gets ε = 50 outright. (0/0 — both groups constant — is NaN, which is not < 0.01, and falls through.)
// - Single-threshold rule: thresholds = torch.linspace(min, max, ⌈(max − min)·100⌉) over both groups' values,
//   in float32 (torch's default dtype; the CPU kernel computes start + step·i for the first half and
//   end − step·(n−1−i) for the second, fused multiply-adds — reproduced bit for bit here). "Positive" when
//   conf ≥ t.
// - Double-threshold rule: the group with the smaller range is "positive" (ties: the originally negative one);
//   w = that range; right thresholds = numpy linspace(min_p + w − 2, max_p + 2, ⌈(max_ − min_)·100⌉) in float64;
//   for each right threshold r, 400 left thresholds linspace(r − w − 2, r − w + 2, 400); "positive" when
//   l ≤ conf ≤ r. So about 400 × 400 threshold pairs per example.
// - Rates are float32 (count / N in float32); ε per threshold is evaluated in float32 too:
//   max(log(1 − δ − FPR) − log FNR, log(1 − δ − FNR) − log FPR), δ = 1e-5, NaN terms ignored (nanmax), then
//   clipped below at 0. A threshold with FPR = FNR = 0 gives ∞ (perfect separation); one with exactly one of
//   FPR, FNR equal to 0 is discarded ("insufficient samples"); one where both terms are NaN (FPR = FNR = 1) is
//   discarded. The example's ε = max over the surviving thresholds of both rules, clipped to [0, 50].
// - Points: max_ε = ⌈ln(N − 1)⌉ with N the number of unlearned models; buckets [0, 0.5), [0.5, 1), ... up to
//   max_ε; bucket k scores 2^−k; ε ≥ max_ε scores 0 (not the last bucket's points). F = mean points over the
//   forget set.
// - Final score (main.py): F · (RA_U / RA_R) · (TA_U / TA_R), each accuracy the mean over that group's N models
//   of the model's retain / test accuracy; no clipping of the ratios (a method more accurate than retraining
//   scores above F).
//
// Where this differs from the organisers' code as released, and from their write-ups:
// - metric.py ends each example with `assert thr_eps` on a numpy array, which raises ValueError whenever more
//   than one threshold survives (i.e. always, in practice); the code only runs with assertions disabled
//   (`python -O`). The fixture script runs it that way. If no threshold survives at all (both groups constant
//   and equal — every model gives the same confidence) the reference crashes in np.nanmax; Lethe returns ε = 0
//   (no threshold tells the groups apart).
// - The organisers ran it on a GPU; CUDA's mean may round count/N differently from the CPU's by one float32 ulp.
//   Lethe follows the CPU (count / N, correctly rounded), which is what the fixture records.
// - The write-ups describe ε per example from "the" attack's FPR/FNR and the 2^−k bucket points; they do not
//   spell out the threshold grids, the float32 rates, the median-based positive class, the discarding of
//   thresholds with one zero rate, the ∞ for perfect separation, the 1% peakiness shortcut or that ε ≥ ⌈ln(N−1)⌉
//   scores 0. All of those are taken from metric.py.
// - metric.py needs the same number of unlearned and retrained models (np.where on [N, E] arrays). Lethe accepts
//   different counts: each group's rates use its own count, and max_ε uses the unlearned count, as metric.py does.
//
// Speed. metric.py materialises [N, 160k] comparison matrices per example (about 0.75 s per example at N = 100
// on this machine's CPU). Here each example sorts its 2N values once (O(N log N)), then sweeps: the right
// thresholds (≈400) each walk 400 left thresholds with a pointer into the merged sorted values, so counts are
// O(1) amortised — O(R·(400 + N)) per example, R ≈ 400 — and the log-rates come from O(N) tables. Per example
// that is about 0.6 ms of one core at N = 512 (measured: N = 512 × 10,000 examples in 3.5 s on this machine's 2
// cores; 200 examples in 0.06 s). The per-example function is pure and deterministic, and
// `forgetQuality(threads:)` splits examples over threads with identical results. Memory: O(N) per example.
import Foundation
import NeuralNet

/// The forget-quality result of the NeurIPS 2023 unlearning competition metric over a forget set.
public struct EpsilonResult: Sendable {
    /// F: the mean over forget examples of each example's points (1 when indistinguishable from retraining).
    public let forgetQuality: Double
    /// Estimated ε of each forget example, in [0, 50].
    public let epsilons: [Double]
    /// Points of each forget example: 2^−k for ε in bucket k, 0 for ε ≥ `maxEpsilon`.
    public let points: [Double]
    /// Number of unlearned models (N) the metric used; sets `maxEpsilon`.
    public let unlearnedModels: Int
    /// Number of retrained models.
    public let retrainedModels: Int
    /// ⌈ln(N − 1)⌉: ε at or above it scores 0 points.
    public let maxEpsilon: Double
    /// Histogram edges: 0, 0.5, 1, …, `maxEpsilon`, 50. Bucket i is [edges[i], edges[i+1]); the last one,
    /// [maxEpsilon, 50], holds the examples that scored 0 (ε = 50 included).
    public let bucketEdges: [Double]
    /// Number of forget examples in each histogram bucket (`bucketEdges.count − 1` entries).
    public let bucketCounts: [Int]
    /// Points one example in each histogram bucket scores (2^−k, and 0 for the last bucket).
    public let bucketPoints: [Double]
}

/// The NeurIPS 2023 Machine Unlearning competition's per-example ε estimate and forget quality F, as the
/// organisers' `metric.py` computes them (see the file header for the exact definitions).
public enum Epsilon {
    /// δ of the (ε, δ) estimate.
    public static let delta: Double = 1e-5
    /// Largest ε an example can get (also given to very peaky groups and perfectly separated ones).
    public static let cap: Double = 50
    /// Threshold grid density: thresholds per unit of confidence.
    public static let thresholdsPerUnit: Double = 100
    /// Width of the points buckets in ε.
    public static let bucketWidth: Double = 0.5
    /// Margin the double-threshold grids extend beyond the peakier group.
    static let buffer: Double = 2
    /// Left thresholds per right threshold: ⌈2 · buffer · 100⌉.
    static let leftThresholds = 400

    // MARK: Confidences

    /// The logit-scaled confidence the metric consumes, per example: log(p_y + 1e-45) − log(Σ_{k≠y} p_k + 1e-45)
    /// with p the softmax of the example's logits (max-shifted and exponentiated in float32, normalised in
    /// float64, as metric.py's compute_logit_scaled_confidence). `logits` is row-major [n × classCount].
    public static func logitScaledConfidence(logits: [Float], classCount: Int, labels: [Int32]) -> [Double] {
        let n = labels.count
        precondition(classCount > 0 && logits.count == n * classCount, "logits must be [labels.count × classCount]")
        var out = [Double](repeating: 0, count: n)
        var probs = [Double](repeating: 0, count: classCount)
        for i in 0..<n {
            let row = i * classCount
            var mx = -Float.infinity
            for k in 0..<classCount { mx = Swift.max(mx, logits[row + k]) }
            var sum = 0.0
            for k in 0..<classCount {
                probs[k] = Double(Foundation.exp(logits[row + k] - mx))
                sum += probs[k]
            }
            for k in 0..<classCount { probs[k] /= sum }
            let y = Int(labels[i])
            precondition(y >= 0 && y < classCount, "label out of range")
            let correct = probs[y]
            probs[y] = 0
            var wrong = 0.0
            for k in 0..<classCount { wrong += probs[k] }
            out[i] = Foundation.log(correct + 1e-45) - Foundation.log(wrong + 1e-45)
        }
        return out
    }

    /// The logit-scaled confidences of a model's predictions on a set (see `logitScaledConfidence(logits:…)`).
    public static func logitScaledConfidence(_ p: Predictions) -> [Double] {
        logitScaledConfidence(logits: p.logits, classCount: p.classCount, labels: p.labels)
    }

    // MARK: Points and score

    /// ⌈ln(N − 1)⌉ for N unlearned models: the ε from which an example scores 0 points.
    public static func maxEpsilon(models: Int) -> Double {
        models < 2 ? -.infinity : Foundation.log(Double(models - 1)).rounded(.up)
    }

    /// Points an example with this ε scores when N = `models` unlearned models were used: 2^−k for the first
    /// bucket k (width 0.5, starting at 0) with ε < 0.5·(k+1), among the buckets that end at or below
    /// ⌈ln(N − 1)⌉; 0 otherwise.
    public static func points(epsilon: Double, models: Int) -> Double {
        let buckets = bucketCount(models: models)
        let k = bucketIndex(epsilon: epsilon, buckets: buckets)
        return k == buckets ? 0 : Foundation.pow(0.5, Double(k))
    }

    /// The first scoring bucket k < `buckets` with ε < 0.5·k + 0.5 (metric.py's loop), or `buckets` if none
    /// (ε ≥ the last edge, or NaN).
    static func bucketIndex(epsilon: Double, buckets: Int) -> Int {
        for k in 0..<buckets where epsilon < Double(k) * bucketWidth + bucketWidth { return k }
        return buckets
    }

    /// Number of scoring buckets for N models: those [0.5k, 0.5k + 0.5) with 0.5k + 0.5 ≤ ⌈ln(N − 1)⌉.
    static func bucketCount(models: Int) -> Int {
        let top = maxEpsilon(models: models)
        var k = 0
        while Double(k) * bucketWidth + bucketWidth <= top { k += 1 }
        return k
    }

    /// The competition's final score (main.py): F · (RA_U / RA_R) · (TA_U / TA_R), where RA/TA are mean retain
    /// and test accuracies of the unlearned (U) and retrained (R) models.
    public static func score(forgetQuality: Double, retainAccuracyUnlearned: Double, retainAccuracyRetrained: Double,
                             testAccuracyUnlearned: Double, testAccuracyRetrained: Double) -> Double {
        forgetQuality * (retainAccuracyUnlearned / retainAccuracyRetrained)
            * (testAccuracyUnlearned / testAccuracyRetrained)
    }

    /// The final score from per-model accuracies: each accuracy is first averaged over its group's models, as
    /// main.py does (np.mean of the per-model lists).
    public static func score(forgetQuality: Double, retainAccuraciesUnlearned: [Double],
                             retainAccuraciesRetrained: [Double], testAccuraciesUnlearned: [Double],
                             testAccuraciesRetrained: [Double]) -> Double {
        func mean(_ a: [Double]) -> Double { a.isEmpty ? .nan : a.reduce(0, +) / Double(a.count) }
        return score(forgetQuality: forgetQuality, retainAccuracyUnlearned: mean(retainAccuraciesUnlearned),
                     retainAccuracyRetrained: mean(retainAccuraciesRetrained),
                     testAccuracyUnlearned: mean(testAccuraciesUnlearned),
                     testAccuracyRetrained: mean(testAccuraciesRetrained))
    }

    // MARK: Forget quality

    /// F and the per-example ε over a forget set. `unlearned[m][e]` is the confidence (see
    /// `logitScaledConfidence`) of forget example e under unlearned model m — one row per model, as metric.py's
    /// [num models, num examples] — and likewise `retrained`. Every row of a group must have the same length
    /// (the forget-set size); both groups need at least one model. Confidences must be finite or ±∞, not NaN.
    /// `threads` > 1 splits the examples over that many threads; the result does not depend on it.
    public static func forgetQuality(unlearned: [[Double]], retrained: [[Double]], threads: Int = 1) -> EpsilonResult {
        precondition(!unlearned.isEmpty && !retrained.isEmpty, "need at least one unlearned and one retrained model")
        let examples = unlearned[0].count
        precondition(unlearned.allSatisfy { $0.count == examples } && retrained.allSatisfy { $0.count == examples },
                     "every model needs one confidence per forget example")
        let nu = unlearned.count, nr = retrained.count
        let tables = RateTables(unlearned: nu, retrained: nr)
        var eps = [Double](repeating: 0, count: examples)
        let chunks = Swift.max(1, Swift.min(threads, examples))
        eps.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = examples * c / chunks, hi = examples * (c + 1) / chunks
                var u = [Double](repeating: 0, count: nu), r = [Double](repeating: 0, count: nr)
                for e in lo..<hi {
                    for m in 0..<nu { u[m] = unlearned[m][e] }
                    for m in 0..<nr { r[m] = retrained[m][e] }
                    (base + e).pointee = perExample(unlearned: u, retrained: r, tables: tables)
                }
            }
        }
        return summarise(epsilons: eps, unlearnedModels: nu, retrainedModels: nr)
    }

    /// Builds the result (points, F, histogram) from per-example ε values.
    public static func summarise(epsilons: [Double], unlearnedModels: Int, retrainedModels: Int) -> EpsilonResult {
        let buckets = bucketCount(models: unlearnedModels)
        let top = maxEpsilon(models: unlearnedModels)
        let pts = epsilons.map { points(epsilon: $0, models: unlearnedModels) }
        var total = 0.0
        for p in pts { total += p }  // sequential, as metric.py's loop; sums of 2^−k are exact anyway
        var edges = (0...buckets).map { Double($0) * bucketWidth }
        edges.append(cap)
        var bucketPoints = (0..<buckets).map { Foundation.pow(0.5, Double($0)) }
        bucketPoints.append(0)
        var counts = [Int](repeating: 0, count: buckets + 1)
        for e in epsilons { counts[bucketIndex(epsilon: e, buckets: buckets)] += 1 }
        return EpsilonResult(forgetQuality: epsilons.isEmpty ? .nan : total / Double(epsilons.count),
                             epsilons: epsilons, points: pts, unlearnedModels: unlearnedModels,
                             retrainedModels: retrainedModels, maxEpsilon: top, bucketEdges: edges,
                             bucketCounts: counts, bucketPoints: bucketPoints)
    }

    /// ε of one forget example from its confidences under the unlearned and the retrained models (any order).
    /// Pure and deterministic; see the file header for the definition.
    public static func perExample(unlearned: [Double], retrained: [Double]) -> Double {
        perExample(unlearned: unlearned, retrained: retrained,
                   tables: RateTables(unlearned: unlearned.count, retrained: retrained.count))
    }

    /// float32 log-rate tables for one group size n: logRate[k] = log(k/n), logComplement[k] = log(1 − δ − k/n)
    /// with log(negative) (k = n) stored as −∞ so that max() ignores it as nanmax ignores NaN.
    struct GroupTable: Sendable {
        let n: Int
        let logRate: [Float]
        let logComplement: [Float]
        init(n: Int) {
            self.n = n
            let c = Float(1.0 - Epsilon.delta)
            var lr = [Float](repeating: 0, count: n + 1), lc = [Float](repeating: 0, count: n + 1)
            for k in 0...n {
                let rate = Float(k) / Float(n)
                lr[k] = Foundation.log(rate)
                let d = c - rate
                lc[k] = d > 0 ? Foundation.log(d) : -.infinity  // log(0) = −∞; log(<0) = NaN in numpy
            }
            logRate = lr
            logComplement = lc
        }
    }

    /// The two groups' tables.
    struct RateTables: Sendable {
        let unlearned: GroupTable
        let retrained: GroupTable
        init(unlearned nu: Int, retrained nr: Int) {
            unlearned = GroupTable(n: nu)
            retrained = nu == nr ? unlearned : GroupTable(n: nr)
        }
    }

    /// ε of one threshold from its false-positive count (in group `fpGroup`) and false-negative count (in
    /// `fnGroup`), or nil when metric.py discards the threshold (exactly one of the two rates is 0).
    @inline(__always)
    static func thresholdEpsilon(fp: Int, fn: Int, fpGroup: GroupTable, fnGroup: GroupTable) -> Float? {
        if fp == 0 || fn == 0 { return fp == fn ? .infinity : nil }
        let a = fpGroup.logComplement[fp] - fnGroup.logRate[fn]
        let b = fnGroup.logComplement[fn] - fpGroup.logRate[fp]
        // nanmax then clip at 0; both terms "NaN" (−∞ here) is discarded by metric.py, and contributing 0 instead
        // changes nothing (every kept threshold is ≥ 0 and an example with none kept gets 0).
        return Swift.max(a, b, 0)
    }

    static func perExample(unlearned: [Double], retrained: [Double], tables: RateTables) -> Double {
        precondition(!unlearned.isEmpty && !retrained.isEmpty, "need at least one model in each group")
        // Positive group: the one with the larger median; ties go to the unlearned group.
        let su = unlearned.sorted(), sr = retrained.sorted()
        let retrainedPositive = median(sr) > median(su)
        let pos = retrainedPositive ? sr : su, neg = retrainedPositive ? su : sr
        let posTable = retrainedPositive ? tables.retrained : tables.unlearned
        let negTable = retrainedPositive ? tables.unlearned : tables.retrained

        let posRange = pos[pos.count - 1] - pos[0], negRange = neg[neg.count - 1] - neg[0]
        let largest = posRange > negRange ? posRange : negRange
        let smallest = posRange > negRange ? negRange : posRange
        if smallest / largest < 0.01 { return cap }

        // Double-threshold rule: "peaky" is the group with the smaller range (the negative one on ties).
        let peakyIsNeg = posRange >= negRange
        let peaky = peakyIsNeg ? neg : pos, other = peakyIsNeg ? pos : neg
        let peakyTable = peakyIsNeg ? negTable : posTable, otherTable = peakyIsNeg ? posTable : negTable
        // Both groups merged in ascending order, with the number of peaky values among the first p.
        let m = peaky.count + other.count
        var merged = [Double](repeating: 0, count: m)
        var peakyBefore = [Int32](repeating: 0, count: m + 1)
        do {
            var i = 0, j = 0, p = 0
            while p < m {
                if j >= other.count || (i < peaky.count && peaky[i] <= other[j]) {
                    merged[p] = peaky[i]; i += 1
                } else {
                    merged[p] = other[j]; j += 1
                }
                p += 1
                peakyBefore[p] = Int32(i)
            }
        }
        var best: Float = 0
        let np = peaky.count
        let width = smallest
        let rightStart = (peaky[0] + width) - buffer
        let rightStop = peaky[np - 1] + buffer
        let rightCount = Int(((rightStop - rightStart) * thresholdsPerUnit).rounded(.up))
        let rightStep = rightCount > 1 ? (rightStop - rightStart) / Double(rightCount - 1) : 0
        var posRight = 0  // number of merged values ≤ the current right threshold
        var posLeft0 = 0  // number of merged values < the current first left threshold
        let lastLeft = leftThresholds - 1
        merged.withUnsafeBufferPointer { mv in
            peakyBefore.withUnsafeBufferPointer { pb in
                for jr in 0..<rightCount {
                    let r = jr == rightCount - 1 && rightCount > 1 ? rightStop : Double(jr) * rightStep + rightStart
                    while posRight < m && mv[posRight] <= r { posRight += 1 }
                    while posRight > 0 && mv[posRight - 1] > r { posRight -= 1 }
                    let peakyUpToR = Int(pb[posRight]), otherUpToR = posRight - peakyUpToR
                    let leftStart = (r - width) - buffer, leftStop = (r - width) + buffer
                    let leftStep = (leftStop - leftStart) / Double(lastLeft)
                    while posLeft0 < m && mv[posLeft0] < leftStart { posLeft0 += 1 }
                    while posLeft0 > 0 && mv[posLeft0 - 1] >= leftStart { posLeft0 -= 1 }
                    var p = posLeft0
                    for i in 0...lastLeft {
                        let l = i == lastLeft ? leftStop : Double(i) * leftStep + leftStart
                        while p < m && mv[p] < l { p += 1 }
                        while p > 0 && mv[p - 1] >= l { p -= 1 }
                        let peakyBelow = Int(pb[p])
                        let peakyIn = Swift.max(0, peakyUpToR - peakyBelow)
                        let otherIn = Swift.max(0, otherUpToR - (p - peakyBelow))
                        if let e = thresholdEpsilon(fp: otherIn, fn: np - peakyIn, fpGroup: otherTable,
                                                    fnGroup: peakyTable), e > best {
                            best = e
                        }
                    }
                }
            }
        }

        // Single-threshold rule over float32 thresholds spanning both groups: positive when conf ≥ t.
        let lo = Swift.min(pos[0], neg[0]), hi = Swift.max(pos[pos.count - 1], neg[neg.count - 1])
        let count = Int(((hi - lo) * thresholdsPerUnit).rounded(.up))
        let thresholds = torchLinspaceFloat32(start: lo, end: hi, steps: count)
        var p = 0
        for t32 in thresholds {
            let t = Double(t32)
            while p < m && merged[p] < t { p += 1 }
            while p > 0 && merged[p - 1] >= t { p -= 1 }
            let peakyBelow = Int(peakyBefore[p]), otherBelow = p - peakyBelow
            // False negatives: positives below t; false positives: negatives at or above t.
            let posBelow = peakyIsNeg ? otherBelow : peakyBelow
            let negBelow = peakyIsNeg ? peakyBelow : otherBelow
            if let e = thresholdEpsilon(fp: neg.count - negBelow, fn: posBelow, fpGroup: negTable,
                                        fnGroup: posTable), e > best {
                best = e
            }
        }
        return Swift.min(Double(best), cap)
    }

    /// numpy's median of sorted values: the middle one, or the mean of the two middle ones.
    static func median(_ s: [Double]) -> Double {
        let n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    /// torch.linspace(start, end, steps) in float32 as PyTorch's CPU kernel computes it: start and end rounded to
    /// float32, step = (end − start) / (steps − 1) in float32, element i = start + step·i (fused) for
    /// i < steps/2 and end − step·(steps − 1 − i) (fused) after.
    static func torchLinspaceFloat32(start: Double, end: Double, steps: Int) -> [Float] {
        guard steps > 0 else { return [] }
        let s = Float(start), e = Float(end)
        if steps == 1 { return [s] }
        let step = (e - s) / Float(steps - 1)
        let half = steps / 2
        return (0..<steps).map { i in
            i < half ? s.addingProduct(step, Float(i)) : e.addingProduct(-step, Float(steps - 1 - i))
        }
    }
}
