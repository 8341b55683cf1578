// finetune: continue SGD on the retain set only, so the forget set fades by catastrophic forgetting.
// The NeurIPS 2023 starting kit's baseline uses 5 epochs, lr 0.1, momentum 0.9, wd 5e-4, cosine for
// ResNet-18/CIFAR-10; for the zoo on Fashion-MNIST lr 0.1 overshoots, so the default here is lr 0.01
// with the same epochs, momentum, decay and schedule.
import Datasets
import NeuralNet
import Tensor

public struct Finetune: UnlearningMethod {
    public init() {}
    public let name = "finetune"
    public let summary = "SGD on the retain set only (catastrophic forgetting of the forget set)."
    public let defaults: [String: Double] = ["epochs": 5, "lr": 0.01, "momentum": 0.9, "weightDecay": 5e-4, "batchSize": 128]
    public let readsForget = false

    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        guard try h.int("epochs") >= 1, try h.int("batchSize") >= 1, h.value("lr") > 0 else {
            throw UnlearningError("finetune needs epochs ≥ 1, batchSize ≥ 1 and lr > 0")
        }
        let recipe = TrainingRecipe(epochs: try h.int("epochs"), batchSize: try h.int("batchSize"), learningRate: h.float("lr"),
                                    momentum: h.float("momentum"), weightDecay: h.float("weightDecay"), schedule: .cosine)
        let model = context.original.clone()
        var rng = SeededGenerator(seed: context.seed)
        _ = try Trainer.train(Network(model: model), on: context.trainingSource, indices: context.split.retain, recipe: recipe,
                              rng: &rng, control: context.control, stage: "finetune")
        // A later retrain of this model should repeat the original's recipe, not the fine-tuning one.
        return UnlearningOutcome(model: model, hyperparameters: h, recipe: context.originalRecipe)
    }
}
