// Mini-batch training with seeded shuffling, cancellation at every batch and a progress report per epoch.
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// How a model is trained. Stored with a model so `retrain` can repeat the original recipe.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var schedule: Schedule

    public init(epochs: Int, batchSize: Int = 128, learningRate: Float, momentum: Float = 0.9,
                weightDecay: Float = 5e-4, schedule: Schedule = .constant) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    /// The recipe `model/train` uses unless told otherwise: the PyTorch anchor's SGD settings.
    public static let standard = TrainingRecipe(epochs: 5, learningRate: 0.05)
}

public struct TrainingSummary: Sendable {
    public var epochs: Int
    public var finalLoss: Double
    public var finalAccuracy: Double
    public var seconds: Double
}

public enum Trainer {
    /// Trains `network` in place on `indices` of `source` with cross-entropy and SGD.
    public static func train(
        _ network: Network, on source: ExampleSource, indices: [Int], recipe: TrainingRecipe,
        rng: inout SeededGenerator, control: JobControl, stage: String = "train"
    ) throws -> TrainingSummary {
        guard !indices.isEmpty else { throw TrainingError("nothing to train on: the training set is empty") }
        guard recipe.epochs >= 1, recipe.batchSize >= 1, recipe.learningRate.isFinite, recipe.learningRate > 0 else {
            throw TrainingError("a training recipe needs epochs ≥ 1, batchSize ≥ 1 and a positive learning rate")
        }
        let start = monotonicSeconds()
        let model = network.model
        let optimizer = SGD(parameterCount: model.parameterCount, learningRate: recipe.learningRate,
                            momentum: recipe.momentum, weightDecay: recipe.weightDecay)
        let batchSize = max(1, recipe.batchSize)
        let x = Tensor(shape: [batchSize] + model.inputShape, zeroed: false)
        let dLogits = Tensor(shape: [batchSize, model.classCount], zeroed: false)
        var labels = [Int32](repeating: 0, count: batchSize)
        var order = indices
        var summary = TrainingSummary(epochs: 0, finalLoss: 0, finalAccuracy: 0, seconds: 0)

        for epoch in 0..<recipe.epochs {
            let epochStart = monotonicSeconds()
            optimizer.learningRate = recipe.schedule.learningRate(base: recipe.learningRate, epoch: epoch, epochs: recipe.epochs)
            rng.shuffle(&order)
            var lossSum = 0.0
            var correct = 0
            var from = 0
            while from < order.count {
                try control.checkCancellation()
                let to = min(from + batchSize, order.count)
                let n = to - from
                x.resize([n] + model.inputShape)
                labels.withUnsafeMutableBufferPointer { source.gather(order[from..<to], into: x, labels: $0.baseAddress!) }
                let logits = network.forward(x, training: true)
                correct += countCorrect(logits, labels)
                let loss = labels.withUnsafeBufferPointer {
                    CrossEntropy.forward(logits: logits, labels: $0.baseAddress!, dLogits: dLogits)
                }
                lossSum += Double(loss) * Double(n)
                network.zeroGradients()
                network.backward(dLogits)
                optimizer.step(parameters: model.parameters, gradients: network.gradients)
                from = to
            }
            summary.epochs = epoch + 1
            summary.finalLoss = lossSum / Double(order.count)
            summary.finalAccuracy = Double(correct) / Double(order.count)
            let elapsed = monotonicSeconds() - epochStart
            control.progress?(.init(stage: stage, epoch: epoch + 1, epochs: recipe.epochs, loss: summary.finalLoss,
                                    accuracy: summary.finalAccuracy, examplesPerSecond: Double(order.count) / max(elapsed, 1e-9)))
        }
        summary.seconds = monotonicSeconds() - start
        return summary
    }

    static func countCorrect(_ logits: Tensor, _ labels: [Int32]) -> Int {
        var correct = 0
        let classes = logits.rowSize
        for b in 0..<logits.rows where Kernels.argmax(logits.data + b * classes, classes) == Int(labels[b]) {
            correct += 1
        }
        return correct
    }
}

/// Seconds on a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

public struct TrainingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
