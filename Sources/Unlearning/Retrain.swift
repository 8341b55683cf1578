// retrain: train from scratch on retain with the original recipe — the gold standard every other method is
// measured against (exact unlearning by definition).
import Datasets
import NeuralNet
import Tensor

/// retrain: a fresh model trained on retain with the original's recipe, the exact-unlearning gold standard.
public struct Retrain: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "retrain"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Train a fresh model on the retain set with the original model's recipe (the gold standard)."
    /// Where the method comes from (here: exact unlearning by definition).
    public let reference = "exact unlearning: the model the forget set never reached"
    /// The reference defaults: the original model's recipe.
    public let referenceDefaults = "the original model's recipe"
    /// Empty: the defaults are the original model's recipe.
    public let defaultsNote = ""
    /// No defaults: each one left out is taken from the original model's recipe.
    public let hyperparameters: [HyperparameterSpec] = [
        .integer("epochs", nil, 1...100_000, "passes over retain (default: the original's)"),
        .number("lr", nil, 1e-12...1e3, "learning rate (default: the original's)"),
        .number("momentum", nil, 0...0.999_999, "momentum (default: the original's)"),
        .number("weightDecay", nil, 0...1e3, "weight decay (default: the original's)"),
        .integer("batchSize", nil, 1...1_000_000, "batch size (default: the original's)"),
    ]
    /// No: it trains on retain only.
    public let readsForget = false

    /// Trains a freshly initialised model on retain with the original's recipe, overridden by the given hyperparameters.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        var recipe = context.originalRecipe ?? .standard
        if h.has("epochs") { recipe.epochs = h.int("epochs") }
        if h.has("lr") { recipe.learningRate = h.float("lr") }
        if h.has("momentum") { recipe.momentum = h.float("momentum") }
        if h.has("weightDecay") { recipe.weightDecay = h.float("weightDecay") }
        if h.has("batchSize") { recipe.batchSize = h.int("batchSize") }
        let original = context.original
        var rng = SeededGenerator(seed: context.seed)
        let model = try Model(architecture: original.architecture, inputShape: original.inputShape,
                              classCount: original.classCount, seed: rng.next())
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: recipe,
                              rng: &rng, control: context.control, stage: "retrain")
        let used: [String: HyperparameterValue] = ["epochs": .integer(recipe.epochs), "lr": .number(Double(recipe.learningRate)),
                                                   "momentum": .number(Double(recipe.momentum)),
                                                   "weightDecay": .number(Double(recipe.weightDecay)), "batchSize": .integer(recipe.batchSize)]
        return UnlearningOutcome(model: model, hyperparameters: used, recipe: recipe)
    }
}
