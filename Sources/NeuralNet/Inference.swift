// Batched inference: logits, per-example losses and correctness over a set of indices.
import Tensor

public struct Predictions: Sendable {
    /// [n, classes]
    public let logits: [Float]
    public let classCount: Int
    public let labels: [Int32]
    public let losses: [Float]  // per-example cross-entropy
    public let correct: [Bool]

    public var count: Int { labels.count }
    public var accuracy: Double { count == 0 ? .nan : Double(correct.lazy.filter { $0 }.count) / Double(count) }
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

public enum Inference {
    public static func predict(
        _ network: Network, on source: ExampleSource, indices: [Int], batchSize: Int = 1000,
        control: JobControl? = nil
    ) throws -> Predictions {
        let model = network.model
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
            let out = network.forward(x, training: false)
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
