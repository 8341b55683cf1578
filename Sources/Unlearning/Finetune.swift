// finetune: continue SGD on the retain set only, so the forget set fades by catastrophic forgetting.
// Reference: the NeurIPS 2023 Machine Unlearning Challenge starting kit (unlearning-CIFAR10.ipynb, `unlearning`):
// 5 epochs, lr 0.1, momentum 0.9, weight decay 5e-4, cosine, for ResNet-18/CIFAR-10. For the zoo on
// Fashion-MNIST lr 0.1 overshoots, so the default here is lr 0.01 with the same epochs, momentum, decay and schedule.
import Datasets
import NeuralNet
import Tensor

/// finetune: SGD on the retain set only, so the forget set fades by catastrophic forgetting.
public struct Finetune: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "finetune"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "SGD on the retain set only (catastrophic forgetting of the forget set)."
    /// Paper and reference code.
    public let reference = "NeurIPS 2023 Machine Unlearning Challenge starting kit (unlearning-challenge/starting-kit)"
    /// The starting kit's defaults (ResNet-18 on CIFAR-10).
    public let referenceDefaults = "5 epochs, SGD lr 0.1, momentum 0.9, weight decay 5e-4, cosine, batch 128"
    /// Why the defaults here differ from the reference's.
    public let defaultsNote = "lr 0.01: the kit's 0.1 is tuned for ResNet-18 on CIFAR-10 and overshoots the zoo on Fashion-MNIST"
    /// The SGD recipe (cosine schedule): 5 epochs at lr 0.01.
    public let hyperparameters = HyperparameterSpec.sgd(epochs: 5, lr: 0.01)
    /// No: it trains on retain only.
    public let readsForget = false

    /// Fine-tunes a clone of the original on retain; a later retrain repeats the original's recipe.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        var rng = SeededGenerator(seed: context.seed)
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: h.sgdRecipe(),
                              rng: &rng, control: context.control, stage: "finetune")
        // A later retrain of this model should repeat the original's recipe, not the fine-tuning one.
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe)
    }
}
