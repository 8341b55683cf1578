// The training step that unlearning methods compose: one or more independently shuffled example streams (forget
// and retain, each with its own batch size), a loss the method writes as a closure over the streams' batches,
// and everything `model/train` already does around it — optimizer, schedule, frozen parameters, a gradient mask,
// an extra gradient term (an L1 penalty), clipping, progress and cancellation. `Trainer.train` is this loop with
// one stream and cross-entropy.
import Tensor

/// Examples a loop draws from: an index list over a source, shuffled by the loop, in batches of `batchSize`.
public struct ExampleStream {
    /// Where the examples come from (a dataset part, augmented or not).
    public let source: ExampleSource
    /// Which examples of the source the stream walks through.
    public let indices: [Int]
    /// Examples per batch; the last batch of a pass may be smaller.
    public let batchSize: Int

    /// A stream over `indices` of `source`.
    public init(source: ExampleSource, indices: [Int], batchSize: Int) {
        self.source = source
        self.indices = indices
        self.batchSize = batchSize
    }
}

/// One batch of a stream: inputs `x` [n, example shape…] and their labels.
public final class Batch {
    /// [n, example shape…]
    public let x: Tensor
    /// n labels (a method may overwrite them, e.g. with random wrong labels).
    public var labels: [Int32]
    /// The source indices of the batch's examples, in batch order.
    public private(set) var indices: ArraySlice<Int> = []
    /// Examples in the batch.
    public var count: Int { indices.count }

    init(exampleShape: [Int], capacity: Int) {
        x = Tensor(shape: [capacity] + exampleShape, zeroed: false)
        labels = [Int32](repeating: 0, count: capacity)
    }

    func fill(from source: ExampleSource, _ slice: ArraySlice<Int>, exampleShape: [Int]) {
        indices = slice
        x.resize([slice.count] + exampleShape)
        if labels.count != slice.count { labels = [Int32](repeating: 0, count: slice.count) }
        labels.withUnsafeMutableBufferPointer { source.gather(slice, into: x, labels: $0.baseAddress!) }
    }
}

/// What a step's loss closure is given.
public struct StepContext {
    /// The network being trained; the closure runs its forward and backward passes (gradients accumulate).
    public let network: Network
    /// The current batch of every stream, in the order the streams were given. In `.sequential` order only
    /// `batches[stream]` is this step's; the others hold what they last held.
    public let batches: [Batch]
    /// The stream this step walks: the lead stream in `.together` order, the stream whose pass is running in
    /// `.sequential` order.
    public let stream: Int
    /// 0-based epoch (a pass over the lead stream) and step within it.
    public let epoch: Int
    /// 0-based step within the epoch.
    public let step: Int
    /// Total epochs and steps per epoch, e.g. for a coefficient decaying over training.
    public let epochs: Int
    /// Steps in each epoch: the lead stream's batches (every stream's, summed, in `.sequential` order).
    public let stepsPerEpoch: Int
    /// The learning rate of this step.
    public let learningRate: Float
    /// Fraction of training done before this step, in [0, 1).
    public var progress: Double { Double(epoch * stepsPerEpoch + step) / Double(max(1, epochs * stepsPerEpoch)) }
}

/// What a step reports for progress: its loss and how many of its examples the network classified correctly.
public struct StepOutcome {
    /// Mean loss over the step's examples.
    public var loss: Double
    /// Examples the network classified correctly.
    public var correct: Int
    /// Examples the step saw.
    public var examples: Int
    /// An outcome from its three counts.
    public init(loss: Double, correct: Int, examples: Int) {
        self.loss = loss
        self.correct = correct
        self.examples = examples
    }
}

/// Adds a term to the gradients after backward, before the mask, clipping and the step:
/// (parameters, gradients, parameter count, step context).
public typealias GradientHook = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int, StepContext) -> Void

/// How a loop with several streams walks them.
public enum StreamOrder: Sendable {
    /// Every step takes one batch of every stream; an epoch is a pass over the lead stream and the others cycle.
    case together
    /// Every step takes one batch of one stream; an epoch is a full pass over each stream in turn, in the order
    /// given (SalUn's random labelling: a forget pass, then a retain pass). Each stream is reshuffled at the start
    /// of its pass, and the optimizer's state carries over from one pass to the next.
    case sequential
}

/// The composable training loop (see the file header).
public enum TrainingLoop {
    /// Runs `recipe.epochs` passes over the lead stream. Other streams cycle alongside it: each is reshuffled when
    /// it runs out (`order: .sequential` walks them one after another instead). Every step zeroes the gradients,
    /// calls `step`, then applies `gradientHook`, `gradientMask`, the recipe's clipping and its optimizer (frozen
    /// parameters excluded). A parameter whose `gradientMask` value is 0 is left exactly as it is, weight decay
    /// and momentum included, as SalUn's reference restores the weights outside its mask after every step.
    /// Progress is reported per epoch.
    /// Random draws: the lead stream is shuffled at every epoch's start, other streams when they start or run
    /// out, all from `rng`, in that order; with one stream this is exactly `Trainer.train`'s order. In
    /// `.sequential` order each stream is shuffled when its pass starts.
    public static func run(
        _ network: Network, streams: [ExampleStream], lead: Int = 0, order: StreamOrder = .together, recipe: TrainingRecipe,
        rng: inout SeededGenerator, control: JobControl, stage: String, gradientMask: [Float]? = nil,
        gradientHook: GradientHook? = nil, step: (StepContext) throws -> StepOutcome
    ) throws -> TrainingSummary {
        guard streams.indices.contains(lead) else { throw TrainingError("no stream to lead the loop") }
        for s in streams where s.indices.isEmpty {
            throw TrainingError("nothing to train on: a \(stage) stream is empty")
        }
        for s in streams where s.batchSize < 1 { throw TrainingError("batchSize must be at least 1, got \(s.batchSize)") }
        let model = network.model
        try recipe.validate(classCount: model.classCount)
        let recipeFrozen = try recipe.frozenMask(for: model)
        var frozen = recipeFrozen
        if let gradientMask, gradientMask.count != model.parameterCount {
            throw TrainingError("gradient mask has \(gradientMask.count) values for \(model.parameterCount) parameters")
        }
        if let gradientMask, gradientMask.contains(0) {
            var merged = frozen ?? [Float](repeating: 1, count: model.parameterCount)
            for i in 0..<merged.count where gradientMask[i] == 0 { merged[i] = 0 }
            frozen = merged
        }
        let start = monotonicSeconds()
        let optimizer = recipe.makeOptimizer(parameterCount: model.parameterCount)
        let stepCounts = streams.map { ($0.indices.count + $0.batchSize - 1) / $0.batchSize }
        let stepsPerEpoch = order == .together ? stepCounts[lead] : stepCounts.reduce(0, +)
        let schedule = recipe.schedule
        let batches = streams.map { Batch(exampleShape: $0.source.exampleShape, capacity: $0.batchSize) }
        var orders = streams.map(\.indices)
        var positions = [Int](repeating: 0, count: streams.count)
        var started = [Bool](repeating: false, count: streams.count)
        var summary = TrainingSummary(epochs: 0, finalLoss: 0, finalAccuracy: 0, seconds: 0)

        for epoch in 0..<recipe.epochs {
            let epochStart = monotonicSeconds()
            if !schedule.perStep {
                optimizer.learningRate = schedule.learningRate(base: recipe.learningRate, at: epoch, of: recipe.epochs)
            }
            if order == .together {
                rng.shuffle(&orders[lead])
                positions[lead] = 0
            }
            var lossSum = 0.0, correct = 0, examples = 0
            for stepIndex in 0..<stepsPerEpoch {
                try control.checkCancellation()
                if schedule.perStep {
                    optimizer.learningRate = schedule.learningRate(base: recipe.learningRate, at: epoch * stepsPerEpoch + stepIndex,
                                                                   of: recipe.epochs * stepsPerEpoch)
                }
                var current = lead
                if order == .sequential {
                    var within = stepIndex
                    current = 0
                    while within >= stepCounts[current] { within -= stepCounts[current]; current += 1 }
                    if within == 0 {
                        rng.shuffle(&orders[current])
                        positions[current] = 0
                    }
                    let to = min(positions[current] + streams[current].batchSize, orders[current].count)
                    batches[current].fill(from: streams[current].source, orders[current][positions[current]..<to],
                                          exampleShape: streams[current].source.exampleShape)
                    positions[current] = to
                } else {
                    for (k, stream) in streams.enumerated() {
                        if k != lead && (!started[k] || positions[k] >= orders[k].count) {
                            rng.shuffle(&orders[k])
                            positions[k] = 0
                            started[k] = true
                        }
                        let to = min(positions[k] + stream.batchSize, orders[k].count)
                        batches[k].fill(from: stream.source, orders[k][positions[k]..<to], exampleShape: stream.source.exampleShape)
                        positions[k] = to
                    }
                }
                let context = StepContext(network: network, batches: batches, stream: current, epoch: epoch, step: stepIndex, epochs: recipe.epochs,
                                          stepsPerEpoch: stepsPerEpoch, learningRate: optimizer.learningRate)
                network.zeroGradients()
                let outcome = try step(context)
                lossSum += outcome.loss * Double(outcome.examples)
                correct += outcome.correct
                examples += outcome.examples
                gradientHook?(model.parameters, network.gradients, model.parameterCount, context)
                if let gradientMask { GradientTools.applyMask(network.gradients, gradientMask, count: model.parameterCount) }
                if let maxNorm = recipe.clipNorm {
                    // Frozen parameters have no gradient to clip (PyTorch: requires_grad=False leaves .grad None).
                    if let recipeFrozen { GradientTools.applyMask(network.gradients, recipeFrozen, count: model.parameterCount) }
                    GradientTools.clipNorm(network.gradients, count: model.parameterCount, maxNorm: maxNorm)
                }
                frozen.withUnsafeBufferPointerIfPresent { frozenMask in
                    optimizer.step(parameters: model.parameters, gradients: network.gradients, frozen: frozenMask)
                }
            }
            summary.epochs = epoch + 1
            summary.finalLoss = lossSum / Double(max(examples, 1))
            summary.finalAccuracy = Double(correct) / Double(max(examples, 1))
            let elapsed = monotonicSeconds() - epochStart
            control.progress?(.init(stage: stage, unit: .epoch, step: epoch + 1, steps: recipe.epochs, loss: summary.finalLoss,
                                    accuracy: summary.finalAccuracy, examplesPerSecond: Double(examples) / max(elapsed, 1e-9)))
        }
        summary.seconds = monotonicSeconds() - start
        return summary
    }
}

/// Loss terms methods combine inside a step. Each runs the network's forward and backward passes on one batch
/// and accumulates `scale` × the term's gradient.
public enum StepLosses {
    /// scale · CE(network(x), labels): forward in training mode, backward. Returns the (unscaled) mean loss and
    /// the number of correct predictions.
    @discardableResult
    public static func crossEntropy(_ network: Network, _ batch: Batch, options: CrossEntropyOptions = .plain,
                                    scale: Float = 1) -> (loss: Double, correct: Int) {
        let logits = network.forward(batch.x, training: true)
        let correct = Trainer.countCorrect(logits, batch.labels)
        let d = Tensor(shape: [batch.count, network.model.classCount], zeroed: false)
        let loss = batch.labels.withUnsafeBufferPointer {
            CrossEntropy.forward(logits: logits, labels: $0.baseAddress!, options: options, dLogits: d)
        }
        if scale != 1 { for i in 0..<d.count { d[i] *= scale } }
        network.backward(d)
        return (Double(loss), correct)
    }

    /// scale · T² · KL(teacher ‖ student) at temperature T, as `KLDivergence.forward` defines it (SCRUB's
    /// DistillKL). `teacher` holds the teacher's logits for the same batch. Returns the unscaled loss and the
    /// student's correct predictions.
    @discardableResult
    public static func distillation(_ network: Network, _ batch: Batch, teacher: Tensor, temperature: Float,
                                    scale: Float = 1) -> (loss: Double, correct: Int) {
        let logits = network.forward(batch.x, training: true)
        let correct = Trainer.countCorrect(logits, batch.labels)
        let d = Tensor(shape: [0])
        let loss = KLDivergence.forward(student: logits, teacher: teacher, temperature: temperature, dStudent: d)
        if scale != 1 { for i in 0..<d.count { d[i] *= scale } }
        network.backward(d)
        return (Double(loss), correct)
    }
}
