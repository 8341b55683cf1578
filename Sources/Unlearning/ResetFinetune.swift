// reset-finetune: re-initialise the weights least useful to the retain set, then fine-tune on retain — the
// pattern of several prize-winning entries of the NeurIPS 2023 Machine Unlearning Challenge (the third-place
// solution re-initialised a fraction of the network chosen by gradient magnitude on retain, then fine-tuned;
// Triantafillou et al. 2024, "Are we making progress in unlearning?", §5 summarises the winners).
// Lethe's version: importance of a weight = the root mean square over retain batches of its gradient of the
// retain cross-entropy (GradientStatistics, evaluation mode); the `fraction` of all trained weights with the
// smallest importance (jointly over the network, ties broken by position) take the values of a freshly
// initialised model drawn from the seed; then SGD on retain with a cosine schedule.
// Differences: the winners' code is not public in a reusable form, so this is the pattern, not a reproduction;
// defaults (30% reset, 3 epochs at lr 0.01) are tuned for the zoo on Fashion-MNIST.
import Datasets
import NeuralNet
import Tensor

/// reset-finetune: re-initialise the weights least useful to retain, then fine-tune on retain (NeurIPS 2023 challenge pattern).
public struct ResetFinetune: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "reset-finetune"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Re-initialise the fraction of weights with the smallest retain gradients, then fine-tune on retain."
    /// Where the pattern comes from.
    public let reference = "NeurIPS 2023 Machine Unlearning Challenge, third-place pattern (Triantafillou et al. 2024, §5)"
    /// The pattern's defaults.
    public let referenceDefaults = "30% of weights reset by gradient magnitude on retain, then fine-tuning on retain"
    /// Why the defaults here were chosen.
    public let defaultsNote = "3 epochs at lr 0.01 (cosine): enough for the zoo on Fashion-MNIST to recover retain accuracy"
    /// The reset fraction, the importance pass's batch size and the SGD recipe (cosine schedule).
    public let hyperparameters: [HyperparameterSpec] = [
        .number("fraction", 0.3, 0...1, "fraction of trained weights re-initialised"),
        .integer("importanceBatchSize", 512, 1...1_000_000, "batch size of the retain gradient pass"),
    ] + HyperparameterSpec.sgd(epochs: 3, lr: 0.01)
    /// No: importance and fine-tuning read retain only.
    public let readsForget = false

    /// 1 where a weight is re-initialised: the `fraction` of weights with the smallest importance.
    public static func resetMask(importance: [Float], fraction: Double) -> [Bool] {
        let count = Int((fraction * Double(importance.count)).rounded(.down))
        let order = importance.indices.sorted { importance[$0] < importance[$1] || (importance[$0] == importance[$1] && $0 < $1) }
        var mask = [Bool](repeating: false, count: importance.count)
        for i in order.prefix(count) { mask[i] = true }
        return mask
    }

    /// Resets the least important weights of a clone to a fresh model's values, then fine-tunes it on retain.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        var rng = SeededGenerator(seed: context.seed)
        let model = context.original.clone()
        let network = Network(model: model)
        let squares = try GradientStatistics.mean(network, on: context.data, indices: context.split.retain,
                                                  batchSize: h.int("importanceBatchSize"), kind: .squared, granularity: .perBatch,
                                                  control: context.control, stage: "importance")
        let mask = Self.resetMask(importance: squares.map { $0.squareRoot() }, fraction: h.double("fraction"))
        let fresh = try Model(architecture: model.architecture, inputShape: model.inputShape, classCount: model.classCount, seed: rng.next())
        var reset = 0
        for i in 0..<model.parameterCount where mask[i] {
            model.parameters[i] = fresh.parameters[i]
            reset += 1
        }
        _ = try Trainer.train(network, on: context.trainingSource, indices: context.split.retain, recipe: h.sgdRecipe(),
                              rng: &rng, control: context.control, stage: "finetune")
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["resetFraction": Double(reset) / Double(max(1, model.parameterCount))])
    }
}
