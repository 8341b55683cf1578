// cf-k and eu-k: SCRUB's partial-retraining baselines (Kurmanji et al. NeurIPS 2023, §5 baselines, from Goel et
// al. 2022, "Towards adversarial evaluation of machine unlearning"): catastrophically forget the last k layers by
// fine-tuning only them on retain (CF-k), or exactly unlearn them by re-initialising and training only them on
// retain (EU-k). The rest of the network stays frozen, bit for bit.
// "Layer" here is a parameterised module in state_dict order (`Model.moduleNames`: "1", "3", "5" for the mlp;
// "conv1", "bn1", …, "layer4.1.bn2", "fc" for resnet18, where each BatchNorm counts as a module). Reference code
// (meghdadk/SCRUB) counts torch modules the same way for its small networks.
// The frozen layers run once: on the zoo's mlp and cnn they map each example on its own, so `Trainer.train` computes
// their outputs for the retain set once and trains the last k layers on them (NeuralNet/FrozenPrefix.swift; not
// with augmentation, nor past a BatchNorm, which normalises by batch statistics in training).
// Defaults: k 2, SGD with a cosine schedule; CF-k 5 epochs at lr 0.01 like finetune, EU-k 10 epochs at lr 0.05
// (a re-initialised head needs more training than a fine-tuned one); tuned for the zoo on Fashion-MNIST.
import Datasets
import NeuralNet
import Tensor

/// The modules outside the last k, as frozen prefixes ("1." …).
func frozenPrefixes(_ model: Model, keepingLast k: Int) throws -> (frozen: [String], trained: [String]) {
    let modules = model.moduleNames
    guard k >= 1, k <= modules.count else {
        throw UnlearningError("hyperparameter 'k' must be between 1 and the model's \(modules.count) modules (\(modules.joined(separator: ", ")))")
    }
    return (modules.dropLast(k).map { "\($0)." }, Array(modules.suffix(k)))
}

/// cf-k: fine-tune only the last k parameterised modules on retain, the rest frozen (SCRUB's partial-retraining baseline).
public struct CatastrophicForgettingK: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "cf-k"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Fine-tune only the last k layers on retain; the rest stays frozen."
    /// Paper and reference code.
    public let reference = "Goel et al. 2022; SCRUB baselines (Kurmanji et al. NeurIPS 2023, meghdadk/SCRUB)"
    /// The reference's defaults.
    public let referenceDefaults = "k chosen per network in the SCRUB paper; fine-tuning as the original training"
    /// Why the defaults here were chosen.
    public let defaultsNote = "k 2 (the zoo's mlp has 3 linear layers); 5 epochs at lr 0.01 like finetune"
    /// `k` and the SGD recipe (cosine schedule).
    public let hyperparameters: [HyperparameterSpec] = [.integer("k", 2, 1...1_000, "layers (parameterised modules) trained, counted from the output")]
        + HyperparameterSpec.sgd(epochs: 5, lr: 0.01)
    /// No: it trains on retain only.
    public let readsForget = false

    /// Fine-tunes the last k modules of a clone on retain with the others frozen.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        var recipe = h.sgdRecipe()
        recipe.frozen = try frozenPrefixes(model, keepingLast: h.int("k")).frozen
        var rng = SeededGenerator(seed: context.seed)
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: recipe,
                              rng: &rng, control: context.control, stage: "finetune")
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe)
    }
}

/// eu-k: re-initialise the last k parameterised modules and train only them on retain (SCRUB's partial-retraining baseline).
public struct ExactUnlearningK: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "eu-k"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Re-initialise the last k layers and train only them on retain; the rest stays frozen."
    /// Paper and reference code.
    public let reference = "Goel et al. 2022; SCRUB baselines (Kurmanji et al. NeurIPS 2023, meghdadk/SCRUB)"
    /// The reference's defaults.
    public let referenceDefaults = "k chosen per network in the SCRUB paper; training as the original"
    /// Why the defaults here were chosen.
    public let defaultsNote = "k 2; 10 epochs at lr 0.05 (a re-initialised head needs the original's pace, not fine-tuning's); on the memorising cnn's random forget, epochs 20 comes nearer retrain (Benchmarks/UNLEARNING.md)"
    /// `k` and the SGD recipe (cosine schedule).
    public let hyperparameters: [HyperparameterSpec] = [.integer("k", 2, 1...1_000, "layers (parameterised modules) re-initialised and trained, counted from the output")]
        + HyperparameterSpec.sgd(epochs: 10, lr: 0.05)
    /// No: it trains on retain only.
    public let readsForget = false

    /// Re-initialises the last k modules of a clone from the seed, then trains only them on retain.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        let (frozen, trained) = try frozenPrefixes(model, keepingLast: h.int("k"))
        var rng = SeededGenerator(seed: context.seed)
        try model.reinitialize(modules: trained, seed: rng.next())
        var recipe = h.sgdRecipe()
        recipe.frozen = frozen
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: recipe,
                              rng: &rng, control: context.control, stage: "train")
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe)
    }
}
