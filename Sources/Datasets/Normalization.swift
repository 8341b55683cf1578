// Per-channel normalisation x ← (x − mean[c]) / std[c], as torchvision's Normalize. The channel is the first
// axis of an example ([C, H, W] images; for tabular [F] examples every feature is its own channel). Applied once
// at load time to both parts, so training and inference read normalised values with no per-batch cost.

/// Per-channel normalisation x ← (x − mean[c]) / std[c], as torchvision's Normalize, applied once at load time.
public struct Normalization: Sendable, Equatable, Codable {
    /// Per-channel means subtracted.
    public var mean: [Float]
    /// Per-channel standard deviations divided by (each positive).
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Mean and population standard deviation per channel over all of `examples` (the training part); a
    /// constant channel gets std 1 so it maps to 0 instead of dividing by zero.
    public static func computed(on examples: LabeledExamples) -> Normalization {
        let channels = examples.exampleShape[0]
        let perChannel = examples.exampleSize / channels
        var sum = [Double](repeating: 0, count: channels), sumSq = [Double](repeating: 0, count: channels)
        for i in 0..<examples.count {
            for c in 0..<channels {
                let p = examples.features + i * examples.exampleSize + c * perChannel
                var s = 0.0, q = 0.0
                for j in 0..<perChannel { let v = Double(p[j]); s += v; q += v * v }
                sum[c] += s
                sumSq[c] += q
            }
        }
        let n = Double(max(1, examples.count * perChannel))
        let mean = sum.map { $0 / n }
        let std = zip(sumSq, mean).map { q, m -> Double in
            let v = max(0, q / n - m * m).squareRoot()
            return v > 1e-12 ? v : 1
        }
        return Normalization(mean: mean.map { Float($0) }, std: std.map { Float($0) })
    }

    func check(channels: Int, source: String) throws {
        guard mean.count == channels, std.count == channels else {
            throw DataError.invalid(file: source, problem: "normalisation has \(mean.count) means and \(std.count) stds for \(channels) channels")
        }
        if let bad = std.first(where: { !($0 > 0) || !$0.isFinite }) {
            throw DataError.invalid(file: source, problem: "normalisation std \(bad) must be a positive number")
        }
        if let bad = mean.first(where: { !$0.isFinite }) {
            throw DataError.invalid(file: source, problem: "normalisation mean \(bad) must be finite")
        }
    }

    /// Normalises every example in place.
    func apply(to examples: LabeledExamples) {
        let channels = mean.count
        let perChannel = examples.exampleSize / channels
        for i in 0..<examples.count {
            for c in 0..<channels {
                let p = examples.features + i * examples.exampleSize + c * perChannel
                let m = mean[c], inv = 1 / std[c]
                for j in 0..<perChannel { p[j] = (p[j] - m) * inv }
            }
        }
    }

    /// What a raw 0 becomes: the value augmentation pads with, so padding matches torchvision's
    /// RandomCrop-before-Normalize pipeline.
    var normalisedZero: [Float] { zip(mean, std).map { -$0 / $1 } }
}
