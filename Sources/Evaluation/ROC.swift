// One result shape for every attack that produces a per-example score (higher = "member").
//
// Definitions (each one the reference implementation's):
// - The ROC curve is scikit-learn's `roc_curve(labels, scores)` with its default drop_intermediate=True: one point
//   per distinct score (examples sorted by decreasing score, ties taken together), points in the middle of a
//   straight run dropped (second differences of both FP and TP counts zero), then (0, 0) prepended;
//   FPR = FP / FP_total, TPR = TP / TP_total.
// - AUC is the Mann–Whitney statistic, ties counting one half: the probability that a random member outscores a
//   random non-member. Computed exactly from integer counts; equal (to rounding) to sklearn's `roc_auc_score`,
//   which integrates the curve above with the trapezoid rule.
// - TPR at a given FPR follows the LiRA reference code (Carlini et al. 2022, tensorflow/privacy
//   research/mi_lira_2021/plot.py, `do_plot`): `tpr[np.where(fpr < target)[0][-1]]` on sklearn's curve — the
//   TPR of the last curve point whose FPR is strictly below the target (never an interpolation; (0, 0) always
//   qualifies, so it is defined whenever the curve is).
// - Best accuracy is that code's `sweep`: max over curve points of 1 − (FPR + (1 − TPR)) / 2, the balanced
//   accuracy of the best threshold.
//
// Degenerate inputs: with no members or no non-members (or no examples, or a NaN score) the curve is undefined
// (sklearn's roc_auc_score raises, roc_curve returns NaN rates): `summary` returns NaN for every number and empty
// curves rather than throwing, so a result can always be reported; `isDefined` tells the cases apart.
import Foundation

/// What a score-producing membership-inference attack achieved, in one shape for every attack.
public struct ROCSummary: Sendable {
    /// Area under the ROC curve (Mann–Whitney, ties count one half); 0.5 is chance. NaN when undefined.
    public let auc: Double
    /// TPR at 0.1% FPR, LiRA's convention: TPR of the last curve point with FPR < 0.001. NaN when undefined.
    public let tprAt0_1PercentFPR: Double
    /// TPR at 1% FPR, LiRA's convention: TPR of the last curve point with FPR < 0.01. NaN when undefined.
    public let tprAt1PercentFPR: Double
    /// Best balanced accuracy over thresholds, max(1 − (FPR + (1 − TPR)) / 2); 0.5 is chance. NaN when undefined.
    public let bestAccuracy: Double
    /// False-positive rates of the (downsampled) curve, non-decreasing, from 0 to 1. Empty when undefined.
    public let fpr: [Double]
    /// True-positive rates of the (downsampled) curve, paired with `fpr`. Empty when undefined.
    public let tpr: [Double]
    /// Number of points of the full curve (sklearn's, before downsampling).
    public let curvePoints: Int
    /// Number of members (label true) scored.
    public let members: Int
    /// Number of non-members (label false) scored.
    public let nonMembers: Int
    /// Whether both classes were present and no score was NaN (otherwise every number is NaN).
    public var isDefined: Bool { !auc.isNaN }
}

/// ROC analysis of per-example membership scores.
public enum ROC {
    /// The FPRs whose TPR `summary` reports and whose neighbourhood its downsampled curve always keeps.
    public static let fprsOfInterest: [Double] = [0.001, 0.01]

    /// scikit-learn's `roc_curve(labels, scores)` (drop_intermediate=True). `thresholds[0]` is +∞ (the (0, 0)
    /// point), then each kept distinct score in decreasing order. Empty when a class is missing or a score is NaN.
    public static func curve(scores: [Double], labels: [Bool]) -> (fpr: [Double], tpr: [Double], thresholds: [Double]) {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.lazy.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0, !scores.contains(where: { $0.isNaN }) else { return ([], [], []) }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        // Cumulative counts at the end of each group of equal scores.
        var tps = [Int](), fps = [Int](), thr = [Double]()
        var tp = 0
        for (rank, i) in order.enumerated() {
            if labels[i] { tp += 1 }
            if rank == order.count - 1 || scores[order[rank + 1]] != scores[i] {
                tps.append(tp); fps.append(rank + 1 - tp); thr.append(scores[i])
            }
        }
        // Drop points in the middle of straight runs (sklearn: second differences of fps and tps both zero).
        var keep = [Int]()
        if tps.count > 2 {
            keep.append(0)
            for k in 1..<(tps.count - 1)
            where fps[k + 1] - 2 * fps[k] + fps[k - 1] != 0 || tps[k + 1] - 2 * tps[k] + tps[k - 1] != 0 {
                keep.append(k)
            }
            keep.append(tps.count - 1)
        } else {
            keep = Array(tps.indices)
        }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        for k in keep {
            fpr.append(Double(fps[k]) / Double(negatives))
            tpr.append(Double(tps[k]) / Double(positives))
            thresholds.append(thr[k])
        }
        return (fpr, tpr, thresholds)
    }

    /// AUC as the Mann–Whitney statistic (ties count one half), exact from integer counts. NaN when a class is
    /// missing or a score is NaN.
    public static func auc(scores: [Double], labels: [Bool]) -> Double {
        precondition(scores.count == labels.count, "one label per score")
        let positives = labels.lazy.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0, negatives > 0, !scores.contains(where: { $0.isNaN }) else { return .nan }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        // 2U = Σ over groups of equal scores: members in the group × (2 × non-members below + non-members in it).
        var twiceU = 0, negativesBelow = 0, start = 0
        while start < order.count {
            var end = start, pos = 0, neg = 0
            while end < order.count && scores[order[end]] == scores[order[start]] {
                if labels[order[end]] { pos += 1 } else { neg += 1 }
                end += 1
            }
            twiceU += pos * (2 * negativesBelow + neg)
            negativesBelow += neg
            start = end
        }
        return Double(twiceU) / (2 * Double(positives) * Double(negatives))
    }

    /// LiRA's TPR at a target FPR: `tpr[last index with fpr < target]` on a curve from `curve`. NaN for an
    /// empty curve.
    public static func tpr(atFPR target: Double, fpr: [Double], tpr: [Double]) -> Double {
        guard let i = fpr.lastIndex(where: { $0 < target }) else { return .nan }
        return tpr[i]
    }

    /// AUC, TPR at 0.1% and 1% FPR, best balanced accuracy and the ROC curve downsampled to at most
    /// `maxPoints` (≥ 16) points. See the file header for the definitions and the degenerate cases.
    public static func summary(scores: [Double], labels: [Bool], maxPoints: Int = 200) -> ROCSummary {
        precondition(scores.count == labels.count, "one label per score")
        let members = labels.lazy.filter { $0 }.count
        let c = curve(scores: scores, labels: labels)
        guard !c.fpr.isEmpty else {
            return ROCSummary(auc: .nan, tprAt0_1PercentFPR: .nan, tprAt1PercentFPR: .nan, bestAccuracy: .nan,
                              fpr: [], tpr: [], curvePoints: 0, members: members,
                              nonMembers: labels.count - members)
        }
        var best = -Double.infinity
        for (f, t) in zip(c.fpr, c.tpr) { best = max(best, 1 - (f + (1 - t)) / 2) }
        let kept = downsample(fpr: c.fpr, maxPoints: maxPoints)
        return ROCSummary(auc: auc(scores: scores, labels: labels),
                          tprAt0_1PercentFPR: tpr(atFPR: 0.001, fpr: c.fpr, tpr: c.tpr),
                          tprAt1PercentFPR: tpr(atFPR: 0.01, fpr: c.fpr, tpr: c.tpr),
                          bestAccuracy: best, fpr: kept.map { c.fpr[$0] }, tpr: kept.map { c.tpr[$0] },
                          curvePoints: c.fpr.count, members: members, nonMembers: labels.count - members)
    }

    /// Indices of the curve points sent over the wire: all of them when there are at most `maxPoints`; else
    /// the first and last points; for each FPR of interest the point LiRA reads (last FPR < target) and the one
    /// after it, so the reported TPRs lie on the sent curve; then, for targets spread over FPR — half of the
    /// remaining budget log-spaced from 1e-5 to 1 (the LiRA log-log plot), half evenly spaced in (0, 1) (the
    /// linear plot) — the last point with FPR ≤ target (the top of the curve's vertical step there, i.e. the best
    /// TPR at that FPR). Duplicates collapse, so the result is sorted, unique, within `maxPoints`, and a
    /// subsequence of the curve (still monotone).
    static func downsample(fpr: [Double], maxPoints: Int) -> [Int] {
        let n = fpr.count
        guard n > maxPoints else { return Array(0..<n) }
        precondition(maxPoints >= 16, "keep at least 16 points")
        // Last index with fpr ≤ t (fpr is non-decreasing and fpr[0] = 0).
        func lastAtMost(_ t: Double) -> Int {
            var lo = 0, hi = n - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if fpr[mid] <= t { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
        var picked = Set([0, n - 1])
        for t in fprsOfInterest {
            let i = fpr.lastIndex(where: { $0 < t }) ?? 0
            picked.insert(i)
            picked.insert(min(i + 1, n - 1))
        }
        let budget = maxPoints - picked.count
        let logCount = budget / 2, linCount = budget - logCount
        for k in 0..<logCount {
            let e = -5.0 + 5.0 * Double(k) / Double(max(1, logCount - 1))
            picked.insert(lastAtMost(Foundation.pow(10, e)))
        }
        for k in 1...linCount { picked.insert(lastAtMost(Double(k) / Double(linCount + 1))) }
        return picked.sorted()
    }
}
