// Per-example loss histograms, forget against test: the picture behind the simple MIA (Shokri et al.'s loss
// threshold) and the plots of the unlearning literature (e.g. Kurmanji et al. 2023, "SCRUB", loss distributions of
// forget vs test). Bins are shared by every model of a comparison so their histograms overlay: equal-width bins
// from 0 to the 99th percentile of all the losses given, the few above it counted in the last bin.

/// Histogram bins and counts.
public enum LossHistogram {
    /// `bins` + 1 equal-width edges from 0 to the 99th percentile of `losses` (at least 1e-6 wide).
    public static func edges(for losses: [Double], bins: Int = 40) -> [Double] {
        let sorted = losses.filter(\.isFinite).sorted()
        let top = sorted.isEmpty ? 1 : sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * 0.99).rounded(.up)))]
        let high = max(top, 1e-6)
        return (0...bins).map { high * Double($0) / Double(bins) }
    }

    /// Counts of `values` per bin of `edges`: bin i holds edges[i] ≤ v < edges[i+1]; values at or above the last
    /// edge (and non-finite ones) go to the last bin, values below the first to the first.
    public static func counts(_ values: [Double], edges: [Double]) -> [Int] {
        let bins = edges.count - 1
        guard bins > 0 else { return [] }
        var counts = [Int](repeating: 0, count: bins)
        let low = edges[0], width = (edges[bins] - low) / Double(bins)
        for v in values {
            var i = v.isFinite && width > 0 ? Int(((v - low) / width).rounded(.down)) : bins - 1
            // Floating-point: settle the bin against the edges themselves.
            i = min(max(i, 0), bins - 1)
            while i > 0 && v < edges[i] { i -= 1 }
            while i < bins - 1 && v >= edges[i + 1] { i += 1 }
            counts[i] += 1
        }
        return counts
    }
}
