// The pool shadow models are drawn from (LiRA, Carlini et al. 2022, §IV): the training part followed by the test
// part, addressed as one index range. Pool index p < train.count is training example p; p ≥ train.count is test
// example p − train.count. Both parts are augmented when the dataset trains with augmentation, so a shadow model
// sees its examples the way the original saw its own.
import NeuralNet
import Tensor

/// Two example sources addressed as one: indices below `first.count` read `first`, the rest read `second`.
public final class ConcatenatedSource: ExampleSource {
    /// The examples at pool indices 0..<first.count.
    public let first: ExampleSource
    /// The examples at pool indices first.count..<count.
    public let second: ExampleSource

    /// Both sources must hold examples of one shape.
    public init(_ first: ExampleSource, _ second: ExampleSource) {
        precondition(first.exampleShape == second.exampleShape, "concatenated sources must have one example shape")
        self.first = first
        self.second = second
    }

    /// Both sources' example shape.
    public var exampleShape: [Int] { first.exampleShape }
    /// The larger of the two class counts.
    public var classCount: Int { max(first.classCount, second.classCount) }
    /// Examples in both.
    public var count: Int { first.count + second.count }
    /// When both sources give the same values every time.
    public var gathersSameValues: Bool { first.gathersSameValues && second.gathersSameValues }

    /// Copies the examples at pool `indices` (either side, in any mix) into `x` and their labels into `labels`.
    public func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels: UnsafeMutablePointer<Int32>) {
        let n = first.count
        if indices.allSatisfy({ $0 < n }) { return first.gather(indices, into: x, labels: labels) }
        if indices.allSatisfy({ $0 >= n }) { return second.gather(ArraySlice(indices.map { $0 - n }), into: x, labels: labels) }
        // A mixed batch: gather each side into its own tensor and interleave the rows back in order.
        let size = exampleShape.reduce(1, *)
        let rows = Array(indices)
        let lower = rows.indices.filter { rows[$0] < n }, upper = rows.indices.filter { rows[$0] >= n }
        for (part, source, offset) in [(lower, first, 0), (upper, second, n)] where !part.isEmpty {
            let t = Tensor(shape: [part.count] + exampleShape)
            var y = [Int32](repeating: 0, count: part.count)
            y.withUnsafeMutableBufferPointer { source.gather(ArraySlice(part.map { rows[$0] - offset }), into: t, labels: $0.baseAddress!) }
            for (j, row) in part.enumerated() {
                (x.data + row * size).update(from: t.data + j * size, count: size)
                labels[row] = y[j]
            }
        }
    }
}

extension Dataset {
    /// The training part followed by the test part, as shadow models train on it: augmented (from `seed`) when
    /// the dataset trains with augmentation.
    public func poolSource(seed: UInt64) -> ExampleSource {
        guard let augmentation, !augmentation.isIdentity else { return ConcatenatedSource(train, test) }
        let pad = normalization?.normalisedZero
        return ConcatenatedSource(AugmentedSource(train, augmentation: augmentation, padValues: pad, seed: seed ^ 0x6175_676D_656E_7421),
                                  AugmentedSource(test, augmentation: augmentation, padValues: pad, seed: seed ^ 0x706F_6F6C_7465_7374))
    }
}
