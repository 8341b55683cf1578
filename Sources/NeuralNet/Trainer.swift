// Mini-batch training with seeded shuffling, cancellation at every batch and a progress report per epoch.
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// How a model is trained. Stored with a model so `retrain` can repeat the original recipe.
public struct TrainingRecipe: Codable, Sendable, Equatable {
    /// The optimizer a recipe trains with: SGD, Adam, or AdamW (decoupled weight decay).
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }

    /// Passes over the training examples.
    public var epochs: Int
    /// Examples per batch.
    public var batchSize: Int
    /// Base learning rate, scaled by `schedule`.
    public var learningRate: Float
    /// SGD momentum (0: plain SGD); unused by Adam.
    public var momentum: Float
    /// Weight decay: an L2 term for SGD and Adam, decoupled for AdamW.
    public var weightDecay: Float
    /// Which optimizer to use.
    public var optimizer: OptimizerKind = .sgd
    /// SGD: Nesterov momentum instead of classical.
    public var nesterov: Bool = false
    /// Adam, AdamW: the first moment's decay rate.
    public var beta1: Float = 0.9
    /// Adam, AdamW: the second moment's decay rate.
    public var beta2: Float = 0.999
    /// How the learning rate changes over training.
    public var schedule: LearningRateSchedule
    /// Class weights and label smoothing of the cross-entropy loss.
    public var loss: CrossEntropyOptions = .plain
    /// Clip the global gradient norm to this value before each step.
    public var clipNorm: Float?
    /// Parameter-name prefixes ("1.", "layer4.", "fc.weight") that stay fixed: partial fine-tuning.
    public var frozen: [String] = []

    public init(epochs: Int, batchSize: Int = 128, learningRate: Float, momentum: Float = 0.9,
                weightDecay: Float = 5e-4, schedule: LearningRateSchedule = .constant) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.schedule = schedule
    }

    /// The recipe `model/train` uses unless told otherwise: the PyTorch anchor's SGD settings.
    public static let standard = TrainingRecipe(epochs: 5, learningRate: 0.05)

    func makeOptimizer(parameterCount n: Int) -> Optimizer {
        switch optimizer {
        case .sgd: return SGD(parameterCount: n, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        case .adam: return Adam(parameterCount: n, learningRate: learningRate, beta1: beta1, beta2: beta2, weightDecay: weightDecay)
        case .adamw: return Adam(parameterCount: n, learningRate: learningRate, beta1: beta1, beta2: beta2, weightDecay: weightDecay, decoupled: true)
        }
    }

    /// 1 for trained parameters, 0 for frozen ones; nil when nothing is frozen. Every prefix must match a parameter.
    func frozenMask(for model: Model) throws -> [Float]? {
        guard !frozen.isEmpty else { return nil }
        var mask = [Float](repeating: 1, count: model.parameterCount)
        for prefix in frozen {
            let matching = model.entries.filter { !$0.isBuffer && $0.name.hasPrefix(prefix) }
            guard !matching.isEmpty else {
                throw TrainingError("frozen prefix '\(prefix)' matches no parameter; names look like \(model.entries.prefix(3).map(\.name).joined(separator: ", "))")
            }
            for e in matching { for i in e.offset..<(e.offset + e.count) { mask[i] = 0 } }
        }
        return mask
    }

    func validate(classCount: Int) throws {
        guard (1...100_000).contains(epochs), (1...1_000_000).contains(batchSize), learningRate.isFinite, learningRate > 0 else {
            throw TrainingError("a training recipe needs 1 ≤ epochs ≤ 100000, 1 ≤ batchSize ≤ 1000000 and a positive learning rate")
        }
        // Values past these overflow float32 arithmetic in the update and turn the weights into NaN.
        guard learningRate <= 1e3, momentum.isFinite, (0..<1).contains(momentum), weightDecay.isFinite, (0...1e3).contains(weightDecay) else {
            throw TrainingError("lr must be at most 1000, momentum in [0, 1), weightDecay in [0, 1000]")
        }
        if let w = loss.classWeights, w.count != classCount || w.contains(where: { !($0 >= 0) }) {
            throw TrainingError("classWeights must be \(classCount) non-negative numbers, got \(w.count)")
        }
        guard loss.labelSmoothing >= 0, loss.labelSmoothing < 1 else {
            throw TrainingError("labelSmoothing must be in [0, 1), got \(loss.labelSmoothing)")
        }
        if let c = clipNorm, !(c > 0) { throw TrainingError("clipNorm must be positive, got \(c)") }
        guard schedule.warmup >= 0, schedule.stepSize >= 1 else { throw TrainingError("schedule needs warmup ≥ 0 and stepSize ≥ 1") }
    }
}

/// How a training run ended: epochs done, the last epoch's mean loss and accuracy, and the time it took.
public struct TrainingSummary: Sendable {
    /// Epochs completed.
    public var epochs: Int
    /// Mean loss over the last epoch's examples.
    public var finalLoss: Double
    /// Accuracy over the last epoch's examples, in [0, 1].
    public var finalAccuracy: Double
    /// Wall-clock seconds of the whole run.
    public var seconds: Double
}

/// Training with cross-entropy on one stream of examples.
public enum Trainer {
    /// Whether `train` computes a frozen prefix once (FrozenPrefix) instead of at every step. On by default; tests
    /// and benchmarks turn it off to compare against the uncached loop.
    nonisolated(unsafe) public static var cachesFrozenPrefix = true

    /// Trains `network` in place on `indices` of `source` with cross-entropy: `TrainingLoop` with one stream.
    /// A frozen prefix of the network is computed once when it can be (FrozenPrefix).
    /// `gradientMask` (one value per parameter) multiplies the gradients before each step, and a weight whose
    /// mask value is 0 is left exactly as it is (weight decay and momentum included), as SalUn's saliency mask does.
    public static func train(
        _ network: Network, on source: ExampleSource, indices: [Int], recipe: TrainingRecipe,
        rng: inout SeededGenerator, control: JobControl, stage: String = "train", gradientMask: [Float]? = nil
    ) throws -> TrainingSummary {
        guard !indices.isEmpty else { throw TrainingError("nothing to train on: the training set is empty") }
        var stream = ExampleStream(source: source, indices: indices, batchSize: recipe.batchSize)
        defer { network.firstLayer = 0 }
        if cachesFrozenPrefix, let frozen = try recipe.frozenMask(for: network.model) {
            let length = FrozenPrefix.length(of: network, frozenMask: frozen, source: source)
            if length > 0, let outputs = try FrozenPrefix.outputs(of: network, length: length, source: source, indices: indices, control: control) {
                stream = ExampleStream(source: outputs, indices: indices, batchSize: recipe.batchSize)
                network.firstLayer = length
            }
        }
        return try TrainingLoop.run(network, streams: [stream], recipe: recipe, rng: &rng, control: control, stage: stage,
                                    gradientMask: gradientMask) { step in
            let batch = step.batches[0]
            let (loss, correct) = StepLosses.crossEntropy(network, batch, options: recipe.loss)
            return StepOutcome(loss: loss, correct: correct, examples: batch.count)
        }
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

/// A training run that cannot start (a bad recipe, an empty set, a frozen prefix matching nothing), with the reason.
public struct TrainingError: Error, CustomStringConvertible, Sendable {
    /// The reason, as one line.
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Optional where Wrapped == [Float] {
    /// Calls body with the array's base address, or nil when there is no array.
    func withUnsafeBufferPointerIfPresent<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
        switch self {
        case .some(let array): return try array.withUnsafeBufferPointer { try body($0.baseAddress) }
        case .none: return try body(nil)
        }
    }
}
