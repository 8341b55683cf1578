// Batched inference: logits, per-example losses and correctness over a set of indices.
import Tensor

/// What a model predicted for a set of examples: logits, labels, per-example losses and correctness, in index order.
public struct Predictions: Sendable {
    /// [n, classes]
    public let logits: [Float]
    /// Logits per example (the row length of `logits`).
    public let classCount: Int
    /// The true label of each example.
    public let labels: [Int32]
    /// Each example's cross-entropy loss.
    public let losses: [Float]  // per-example cross-entropy
    /// Whether each example's largest logit is at its label.
    public let correct: [Bool]

    /// Number of examples.
    public var count: Int { labels.count }
    /// Fraction predicted correctly (NaN when there are no examples).
    public var accuracy: Double { count == 0 ? .nan : Double(correct.lazy.filter { $0 }.count) / Double(count) }
    /// Mean cross-entropy (NaN when there are no examples).
    public var meanLoss: Double { count == 0 ? .nan : losses.reduce(0.0) { $0 + Double($1) } / Double(count) }

    /// Softmax probabilities of example i.
    public func probabilities(_ i: Int) -> [Float] {
        let row = logits[(i * classCount)..<((i + 1) * classCount)]
        let m = row.max()!
        let e = row.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

/// Batched inference over a set of indices, in batches sized by the activation-memory rule.
public enum Inference {
    /// Memory the inference batch may fill with activations: 256 MiB.
    public static let activationBudget = 256 << 20
    /// The largest inference batch (the small models reach it: `cnn` keeps 0.23 MB per 28×28 example).
    public static let maximumBatch = 1000

    /// The inference batch rule: as many examples as fit the budget with every activation `predict` keeps
    /// (Network.inferenceActivationsPerExample, 4 bytes each), at least 1 and at most `maximumBatch`. So
    /// batch × per-example activation bytes ≤ budget whenever one example fits; peak memory for inference does
    /// not grow with the number of examples or with the model's size beyond one example. resnet18 with the CIFAR
    /// stem on 1×28×28 keeps about 1.9 MB per example: batches of 139; on 3×32×32, 2.5 MB: 108.
    public static func batchSize(for network: Network, budget: Int = activationBudget) -> Int {
        let perExample = 4 * max(1, network.inferenceActivationsPerExample)
        return max(1, min(maximumBatch, budget / perExample))
    }

    /// Logits, losses and correctness of `indices`, in batches of `batchSize`, by default the batch rule's
    /// (`batchSize(for:)`). The network's activations grow to at most that batch and stay allocated for its next
    /// job (a network's buffers are reused, never shrunk). The parameters must not change while it runs.
    public static func predict(
        _ network: Network, on source: ExampleSource, indices: [Int], batchSize: Int? = nil,
        control: JobControl? = nil
    ) throws -> Predictions {
        let model = network.model
        let batchSize = max(1, batchSize ?? Self.batchSize(for: network))
        let classes = model.classCount
        let x = Tensor(shape: [batchSize] + model.inputShape, zeroed: false)
        var logits = [Float](repeating: 0, count: indices.count * classes)
        var labels = [Int32](repeating: 0, count: indices.count)
        var losses = [Float](repeating: 0, count: indices.count)
        var correct = [Bool](repeating: false, count: indices.count)
        var from = 0
        while from < indices.count {
            try control?.checkCancellation()
            let to = min(from + batchSize, indices.count)
            let n = to - from
            x.resize([n] + model.inputShape)
            labels.withUnsafeMutableBufferPointer { source.gather(indices[from..<to], into: x, labels: $0.baseAddress! + from) }
            let out = network.predict(x, weightsUnchanged: from > 0)
            logits.withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: from * classes).update(from: out.data, count: n * classes) }
            labels.withUnsafeBufferPointer { lab in
                losses.withUnsafeMutableBufferPointer { loss in
                    _ = CrossEntropy.forward(logits: out, labels: lab.baseAddress! + from, perExample: loss.baseAddress! + from)
                }
            }
            for b in 0..<n {
                correct[from + b] = Kernels.argmax(out.data + b * classes, classes) == Int(labels[from + b])
            }
            from = to
        }
        return Predictions(logits: logits, classCount: classes, labels: labels, losses: losses, correct: correct)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
