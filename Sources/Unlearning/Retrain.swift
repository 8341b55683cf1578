// retrain: train from scratch on retain with the original recipe — the gold standard every other method is
// measured against.
import Datasets
import NeuralNet
import Tensor

public struct Retrain: UnlearningMethod {
    public init() {}
    public let name = "retrain"
    public let summary = "Train a fresh model on the retain set with the original model's recipe (the gold standard)."
    /// Negative values mean "as the original model was trained".
    public let defaults: [String: Double] = ["epochs": -1, "lr": -1, "momentum": -1, "weightDecay": -1, "batchSize": -1]
    public let readsForget = false

    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        var recipe = context.originalRecipe ?? .standard
        if h.value("epochs") >= 0 { recipe.epochs = try h.int("epochs") }
        if h.value("lr") >= 0 { recipe.learningRate = h.float("lr") }
        if h.value("momentum") >= 0 { recipe.momentum = h.float("momentum") }
        if h.value("weightDecay") >= 0 { recipe.weightDecay = h.float("weightDecay") }
        if h.value("batchSize") >= 0 { recipe.batchSize = try h.int("batchSize") }
        guard recipe.epochs >= 1, recipe.batchSize >= 1, recipe.learningRate > 0 else {
            throw UnlearningError("retrain needs epochs ≥ 1, batchSize ≥ 1 and lr > 0")
        }
        let original = context.original
        var rng = SeededGenerator(seed: context.seed)
        let model = try Model(architecture: original.architecture, inputShape: original.inputShape,
                              classCount: original.classCount, seed: rng.next())
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: recipe,
                              rng: &rng, control: context.control, stage: "retrain")
        let used: [String: Double] = ["epochs": Double(recipe.epochs), "lr": Double(recipe.learningRate), "momentum": Double(recipe.momentum),
                                      "weightDecay": Double(recipe.weightDecay), "batchSize": Double(recipe.batchSize)]
        return UnlearningOutcome(model: model, hyperparameters: used, recipe: recipe)
    }
}
