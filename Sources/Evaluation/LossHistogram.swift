// Per-example loss histograms, forget against test: the picture behind the loss-threshold MIA (Yeom et al. 2018)
// and the loss-distribution plots of the unlearning literature (e.g. Kurmanji et al. 2023, "SCRUB"). Losses of a
// trained model span orders of magnitude (most near 0, a tail of mistakes), so bins are equal in log(loss):
// geometric edges from the 1st to the 99th percentile of every loss given (losses below the first edge, zeros
// included, are counted in the first bin; those above the last in the last). Every model of a comparison shares the
// edges, so their histograms overlay.
import Foundation

/// Histogram bins and counts.
public enum LossHistogram {
    /// `bins` + 1 geometric edges from the 1st to the 99th percentile of `losses` (the low one at least 1e-7, the
    /// high one at least ten times the low one).
    public static func edges(for losses: [Double], bins: Int = 40) -> [Double] {
        let sorted = losses.filter(\.isFinite).sorted()
        func quantile(_ q: Double) -> Double {
            sorted.isEmpty ? 1 : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))]
        }
        let low = max(quantile(0.01), 1e-7)
        let high = max(quantile(0.99), 10 * low)
        let (a, b) = (log10(low), log10(high))
        return (0...bins).map { $0 == 0 ? low : $0 == bins ? high : pow(10, a + (b - a) * Double($0) / Double(bins)) }
    }

    /// Counts of `values` per bin of `edges` (increasing): bin i holds edges[i] ≤ v < edges[i+1]; values below the
    /// first edge go to the first bin, values at or above the last edge (and non-finite ones) to the last.
    public static func counts(_ values: [Double], edges: [Double]) -> [Int] {
        let bins = edges.count - 1
        guard bins > 0 else { return [] }
        var counts = [Int](repeating: 0, count: bins)
        for v in values {
            guard v.isFinite else { counts[bins - 1] += 1; continue }
            // The last edge ≤ v, by binary search.
            var lo = 0, hi = bins
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if edges[mid] <= v { lo = mid } else { hi = mid - 1 }
            }
            counts[min(lo, bins - 1)] += 1
        }
        return counts
    }
}
