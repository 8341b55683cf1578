// Labelled examples resident in memory: float32 features [N, exampleShape…] and int32 labels [N].
import NeuralNet
import Tensor

/// One part of a dataset (training or test) held in memory: its features and labels.
public final class LabeledExamples: ExampleSource, @unchecked Sendable {
    /// Per-example shape, e.g. [1, 28, 28].
    public let exampleShape: [Int]
    /// Number of classes the labels range over.
    public let classCount: Int
    /// Number of examples.
    public let count: Int
    /// Floats per example (the product of `exampleShape`).
    public let exampleSize: Int
    /// The features, example after example: [count × exampleSize].
    public let features: UnsafeMutablePointer<Float>  // [count × exampleSize]
    /// The labels, one per example, in 0..<classCount.
    public let labels: [Int32]  // [count]
    /// Yes: the examples are fixed in memory.
    public var gathersSameValues: Bool { true }

    /// Takes ownership of `features`, which must hold count × exampleSize floats.
    init(exampleShape: [Int], classCount: Int, features: UnsafeMutablePointer<Float>, labels: [Int32]) {
        self.exampleShape = exampleShape
        self.classCount = classCount
        self.count = labels.count
        self.exampleSize = exampleShape.reduce(1, *)
        self.features = features
        self.labels = labels
    }

    /// Copies features and labels from arrays (tests and small synthetic sets).
    public convenience init(exampleShape: [Int], classCount: Int, features: [Float], labels: [Int32]) throws {
        let size = exampleShape.reduce(1, *)
        guard features.count == size * labels.count else {
            throw DataError.invalid(file: "(inline)", problem: "\(features.count) feature values for \(labels.count) examples of shape \(exampleShape)")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classCount }) {
            throw DataError.invalid(file: "(inline)", problem: "label \(bad) outside 0..<\(classCount)")
        }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, features.count))
        features.withUnsafeBufferPointer { buffer.initialize(from: $0.baseAddress!, count: features.count) }
        self.init(exampleShape: exampleShape, classCount: classCount, features: buffer, labels: labels)
    }

    deinit { features.deallocate() }

    /// Copies the examples at `indices` into `x` and their labels into `out`, rows split over the job's threads.
    public func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels out: UnsafeMutablePointer<Int32>) {
        let first = indices.startIndex, data = x.data, exampleSize = self.exampleSize, features = self.features
        // Rows split over the job's threads: a batch of images is a few hundred kilobytes of copying.
        Parallel.forEachChunk(indices.count, minimumChunk: max(1, 16_384 / max(1, exampleSize))) { rows in
            for row in rows {
                (data + row * exampleSize).update(from: features + indices[first + row] * exampleSize, count: exampleSize)
            }
        }
        for (row, i) in indices.enumerated() { out[row] = labels[i] }
    }

    /// Examples per class, indexed by class.
    public func classCounts(of indices: [Int]? = nil) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        if let indices { for i in indices { counts[Int(labels[i])] += 1 } } else { for y in labels { counts[Int(y)] += 1 } }
        return counts
    }
}

/// A named dataset: a training part (from which forget sets are drawn) and a test part.
public final class Dataset: @unchecked Sendable {
    /// The training part: retain and forget sets are drawn from it.
    public let train: LabeledExamples
    /// The test part: validation and test sets are drawn from it.
    public let test: LabeledExamples
    /// Where it came from, for humans and the run record.
    public let origin: String
    /// A group id per training example (e.g. the person in a face image), for forget sets of whole groups.
    public let trainGroups: [Int]?
    /// The normalisation applied at load time, if any.
    public let normalization: Normalization?
    /// Applied to the training part when a model trains on it.
    public let augmentation: Augmentation?

    public init(train: LabeledExamples, test: LabeledExamples, origin: String, trainGroups: [Int]? = nil,
                normalization: Normalization? = nil, augmentation: Augmentation? = nil) throws {
        guard train.exampleShape == test.exampleShape else {
            throw DataError.invalid(file: origin, problem: "train examples have shape \(train.exampleShape) but test examples \(test.exampleShape)")
        }
        if let trainGroups, trainGroups.count != train.count {
            throw DataError.invalid(file: origin, problem: "\(trainGroups.count) group ids for \(train.count) training examples")
        }
        self.train = train
        self.test = test
        self.origin = origin
        self.trainGroups = trainGroups
        self.normalization = normalization
        self.augmentation = augmentation
        self.fingerprint = Self.fingerprint(train, test)
    }

    /// FNV-1a over both parts' shapes, feature bits and labels (16 hex digits): equal for the same contents, whatever
    /// the files they came from. Runs record it, so a result can be traced to the exact data.
    public let fingerprint: String

    private static func fingerprint(_ parts: LabeledExamples...) -> String {
        var h = FNV1a()
        for part in parts {
            for d in part.exampleShape { h.mix(UInt64(d)) }
            h.mix(UInt64(part.count))
            let words = part.count * part.exampleSize
            part.features.withMemoryRebound(to: UInt32.self, capacity: words) { bits in
                for i in 0..<words { h.mix(UInt64(bits[i])) }
            }
            for y in part.labels { h.mix(UInt64(UInt32(bitPattern: y))) }
        }
        return h.hex
    }

    /// The training part as the Trainer should read it: augmented (from `seed`) when the dataset says so.
    public func trainingSource(seed: UInt64) -> ExampleSource {
        guard let augmentation, !augmentation.isIdentity else { return train }
        // A stream apart from the job's shuffling stream, which is seeded with the same seed.
        return AugmentedSource(train, augmentation: augmentation, padValues: normalization?.normalisedZero, seed: seed ^ 0x6175_676D_656E_7421)
    }

    /// Per-example shape, the same in both parts.
    public var exampleShape: [Int] { train.exampleShape }
    /// Number of classes over both parts.
    public var classCount: Int { max(train.classCount, test.classCount) }
}

/// Why a dataset could not be read: a missing file, or a file that does not hold what it should.
public enum DataError: Error, CustomStringConvertible, Sendable {
    case missing(file: String)
    case invalid(file: String, problem: String)

    /// The message a user sees, naming the file.
    public var description: String {
        switch self {
        case .missing(let file): return "file not found: \(file)"
        case .invalid(let file, let problem): return "\(file): \(problem)"
        }
    }
}
