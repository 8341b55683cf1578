// From numpy arrays to resident examples: an image or feature array in a stated layout plus a 1-D integer label
// array become float32 NCHW examples, checked (counts, label range, finite values) before anything is kept.
import NeuralNet

/// How an image array's axes are ordered. 2-D arrays are tabular (N×F), 3-D ones single-channel images (N×H×W);
/// 4-D ones must say whether channels come first (PyTorch) or last (numpy, TensorFlow, the CIFAR pickles).
public enum ImageLayout: String, Sendable, CaseIterable, Codable {
    case nchw = "NCHW", nhwc = "NHWC", nhw = "NHW", nf = "NF"
}

enum ArrayExamples {
    /// Builds examples; uint8 values are scaled to [0, 1] (x/255, as torchvision's ToTensor), others kept as they are.
    static func make(images: NPY.Array, labels: NPY.Array, layout: ImageLayout?, classCount: Int?) throws -> (shape: [Int], features: [Float], labels: [Int]) {
        let s = images.shape
        let resolved: ImageLayout
        switch (layout, s.count) {
        case (nil, 2): resolved = .nf
        case (nil, 3): resolved = .nhw
        case (nil, 4): throw DataError.invalid(file: images.source, problem: "4-dimensional images \(s) need a stated layout: NCHW or NHWC")
        case (let l?, _): resolved = l
        default: throw DataError.invalid(file: images.source, problem: "examples must have 2 (N×F), 3 (N×H×W) or 4 dimensions, found \(s)")
        }
        let wanted = resolved == .nf ? 2 : resolved == .nhw ? 3 : 4
        guard s.count == wanted else {
            throw DataError.invalid(file: images.source, problem: "layout \(resolved.rawValue) needs \(wanted) dimensions, found \(s)")
        }
        guard labels.shape.count == 1 else {
            throw DataError.invalid(file: labels.source, problem: "labels must be a 1-D array, found shape \(labels.shape)")
        }
        guard s[0] == labels.shape[0] else {
            throw DataError.invalid(file: images.source, problem: "\(s[0]) examples but \(labels.shape[0]) labels in \(labels.source)")
        }
        let y = try labels.integers(what: "labels")
        try checkLabels(y, classCount: classCount, source: labels.source)

        let x = images.floats(uint8Scale: 1 / 255)
        if !images.dtype.isInteger {  // integers are always finite
            let bad = x.withUnsafeBufferPointer { p in (0..<p.count).first { !p[$0].isFinite } }
            if let bad {
                let size = s.dropFirst().reduce(1, *)
                throw DataError.invalid(file: images.source, problem: "non-finite value \(x[bad]) in example \(bad / max(size, 1))")
            }
        }
        switch resolved {
        case .nf: return ([s[1]], x, y)
        case .nhw: return ([1, s[1], s[2]], x, y)
        case .nchw: return ([s[1], s[2], s[3]], x, y)
        case .nhwc:
            let (n, h, w, c) = (s[0], s[1], s[2], s[3])
            var t = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { src in
                t.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<n {
                        let base = i * h * w * c
                        for p in 0..<(h * w) { for ch in 0..<c { dst[base + ch * h * w + p] = src[base + p * c + ch] } }
                    }
                }
            }
            return ([c, h, w], t, y)
        }
    }

    static func checkLabels(_ y: [Int], classCount: Int?, source: String) throws {
        let limit = classCount ?? Int.max
        if let bad = y.first(where: { $0 < 0 || $0 >= limit }) {
            let range = classCount.map { "0..<\($0)" } ?? "non-negative values"
            throw DataError.invalid(file: source, problem: "label \(bad) outside \(range)")
        }
    }

    /// The class count: given, or one more than the largest label seen (at least 2).
    static func classCount(given: Int?, _ labelSets: [[Int]]) -> Int {
        given ?? max(2, (labelSets.compactMap { $0.max() }.max() ?? 0) + 1)
    }

    static func examples(shape: [Int], features: [Float], labels: [Int], classCount: Int) throws -> LabeledExamples {
        try LabeledExamples(exampleShape: shape, classCount: classCount, features: features, labels: labels.map { Int32($0) })
    }
}
