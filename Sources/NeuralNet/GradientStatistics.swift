// Passes that measure gradients without stepping, and what methods do to parameters by name: the importance
// statistics of SalUn's mask, SSD's and Fisher's diagonals and the reset-finetune pattern; input gradients for
// FGSM; re-initialising the parameters of named modules.
import Tensor

/// Gradient statistics of the mean cross-entropy over a set of examples.
public enum GradientStatistics {
    /// What is accumulated per unit: the gradient g, or its square g².
    public enum Kind: Sendable { case gradient, squared }
    /// The unit the statistic is taken over: a batch (g of the batch's mean loss) or one example (a batch of 1).
    public enum Granularity: Sendable { case perBatch, perExample }

    /// The mean over units (batches or examples) of g or g², one value per parameter. The network runs in
    /// evaluation mode (BatchNorm uses its running statistics and updates nothing), as the reference importance
    /// passes do with `model.eval()`. Batches follow `indices` in order; nothing random. Progress is reported per
    /// batch with unit "batch"; cancellation is checked at every batch.
    public static func mean(_ network: Network, on source: ExampleSource, indices: [Int], batchSize: Int, kind: Kind,
                            granularity: Granularity, control: JobControl, stage: String) throws -> [Float] {
        guard !indices.isEmpty else { throw TrainingError("nothing to measure: the \(stage) set is empty") }
        let model = network.model
        let n = model.parameterCount
        let unit = granularity == .perExample ? 1 : max(1, batchSize)
        let batches = (indices.count + unit - 1) / unit
        var sum = [Double](repeating: 0, count: n)
        let x = Tensor(shape: [unit] + model.inputShape, zeroed: false)
        let d = Tensor(shape: [unit, model.classCount], zeroed: false)
        var labels = [Int32](repeating: 0, count: unit)
        var lossSum = 0.0, correct = 0, done = 0
        var reportStart = monotonicSeconds()
        // Report about 20 times per pass, not once per example.
        let every = max(1, batches / 20)
        for b in 0..<batches {
            try control.checkCancellation()
            let slice = indices[(b * unit)..<min((b + 1) * unit, indices.count)]
            x.resize([slice.count] + model.inputShape)
            if labels.count != slice.count { labels = [Int32](repeating: 0, count: slice.count) }
            labels.withUnsafeMutableBufferPointer { source.gather(slice, into: x, labels: $0.baseAddress!) }
            let logits = network.forward(x, training: false)
            correct += Trainer.countCorrect(logits, labels)
            let loss = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: logits, labels: $0.baseAddress!, dLogits: d) }
            lossSum += Double(loss) * Double(slice.count)
            done += slice.count
            network.zeroGradients()
            network.backward(d)
            let g = network.gradients
            switch kind {
            case .gradient: for i in 0..<n { sum[i] += Double(g[i]) }
            case .squared: for i in 0..<n { sum[i] += Double(g[i]) * Double(g[i]) }
            }
            if (b + 1) % every == 0 || b + 1 == batches {
                let now = monotonicSeconds()
                control.progress?(.init(stage: stage, unit: .batch, step: b + 1, steps: batches, loss: lossSum / Double(done),
                                        accuracy: Double(correct) / Double(done), examplesPerSecond: Double(done) / max(now - reportStart, 1e-9)))
                lossSum = 0; correct = 0; done = 0; reportStart = now
            }
        }
        return sum.map { Float($0 / Double(batches)) }
    }

    /// ∂ CE(network(x), labels) / ∂x for one batch, in evaluation mode (FGSM's input gradient). Parameter
    /// gradients are accumulated as a side effect; the caller zeroes them before training.
    public static func inputGradient(_ network: Network, x: Tensor, labels: [Int32]) -> Tensor {
        let logits = network.forward(x, training: false)
        let d = Tensor(shape: [0])
        _ = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: logits, labels: $0.baseAddress!, dLogits: d) }
        return network.backward(d, needsInputGradient: true)!
    }
}

extension Model {
    /// The parameterised modules in order, by their state_dict prefix ("1", "layer4.1.conv2", "fc"): what
    /// "the last k layers" counts (SCRUB's CF-k and EU-k). BatchNorm modules count as modules of their own.
    public var moduleNames: [String] {
        var names: [String] = []
        for e in entries where !e.isBuffer {
            let module = e.name.split(separator: ".").dropLast().joined(separator: ".")
            if names.last != module { names.append(module) }
        }
        return names
    }

    /// The entries (parameters and buffers) of the named modules; throws naming any module that does not exist.
    public func entries(ofModules modules: [String]) throws -> [ParameterEntry] {
        let known = Set(moduleNames)
        if let unknown = modules.first(where: { !known.contains($0) }) {
            throw TrainingError("no module '\(unknown)'; modules are \(moduleNames.joined(separator: ", "))")
        }
        let wanted = Set(modules)
        return entries.filter { wanted.contains($0.name.split(separator: ".").dropLast().joined(separator: ".")) }
    }

    /// Re-initialises the parameters and buffers of the named modules with the architecture's own initialisation
    /// drawn from `seed` (a fresh model's values for those entries; BatchNorm's running statistics reset).
    public func reinitialize(modules: [String], seed: UInt64) throws {
        let targets = try entries(ofModules: modules)
        let fresh = try Model(architecture: architecture, inputShape: inputShape, classCount: classCount, seed: seed)
        for e in targets { pointer(to: e).update(from: fresh.pointer(to: e), count: e.count) }
    }
}
