// neggrad+: descend α·CE(retain) − (1−α)·CE(forget): fine-tuning on retain while ascending the forget loss.
// Reference: Kurmanji et al., "Towards Unbounded Machine Unlearning" (NeurIPS 2023), code meghdadk/SCRUB:
// `negative_grad` / `run_neggrad_epoch` in small_scale_unlearning.ipynb (and `train_negrad` in
// thirdparty/repdistiller/helper/loops.py): `for (retain, forget) in zip(retain_loader, cycle(forget_loader))`, so an
// epoch is one pass over retain and the forget loader cycles alongside it; each step runs two forwards, loss =
// α·CE(retain) − (1−α)·CE(forget), α 0.95, 10 epochs, SGD lr 0.01 without momentum or weight decay, retain batch 128,
// forget batch 64.
// Where Lethe follows and differs:
// - Pairing follows the code: retain leads and sets the epoch, forget cycles (`TrainingLoop`'s other streams). The
//   reference's `itertools.cycle` replays the first pass's batches in the same order; here forget is reshuffled each
//   time it runs out (same examples, fresh order; immaterial to the objective).
// - The notebook adds α·(wd/2)·‖θ − θ_original‖² to the retain term (its `l2_penalty`, wd the original training's
//   decay) and runs the network in eval mode; here plain SGD weight decay (default 0, as its optimizer) and training
//   mode, as every other method of Lethe (the zoo on Fashion-MNIST has no BatchNorm, so the mode changes nothing).
// - Defaults: the reference's α 0.95, 10 epochs, lr 0.01, momentum 0, batches 128/64.
import Datasets
import NeuralNet
import Tensor

/// neggrad+: descend α·CE(retain) − (1−α)·CE(forget), fine-tuning on retain while ascending the forget loss (SCRUB paper).
public struct NegGradPlus: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "neggrad+"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Descend α·CE(retain) − (1−α)·CE(forget): fine-tune on retain while ascending the forget loss."
    /// Paper and reference code.
    public let reference = "Kurmanji et al. NeurIPS 2023 (meghdadk/SCRUB, negative_grad in small_scale_unlearning.ipynb)"
    /// The reference code's defaults.
    public let referenceDefaults = "α 0.95, 10 epochs, SGD lr 0.01, momentum 0, no weight decay, retain batch 128, forget batch 64"
    /// Empty: the defaults are the reference's.
    public let defaultsNote = ""
    /// The constant-lr SGD recipe, plus `alpha` and `forgetBatchSize`.
    public let hyperparameters: [HyperparameterSpec] =
        HyperparameterSpec.sgdConstant(epochs: 10, lr: 0.01, momentum: 0, weightDecay: 0, batchSize: 128) + [
            .number("alpha", 0.95, 0...1, "weight of the retain loss; the forget loss is ascended with weight 1 − alpha"),
            .integer("forgetBatchSize", 64, 1...1_000_000, "forget examples per step (the forget stream cycles alongside retain)"),
        ]
    /// Yes: a cycling forget stream is ascended alongside retain.
    public let readsForget = true

    /// Runs retain-led steps with a cycling forget stream on a clone of the original.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let alpha = h.float("alpha")
        let model = context.original.clone()
        let network = Network(model: model)
        var rng = SeededGenerator(seed: context.seed)
        let retain = ExampleStream(source: context.trainingSource, indices: context.split.retain, batchSize: h.int("batchSize"))
        let forget = ExampleStream(source: context.trainingSource, indices: context.split.forget, batchSize: h.int("forgetBatchSize"))
        _ = try TrainingLoop.run(network, streams: [retain, forget], lead: 0, recipe: h.constantSGDRecipe(), rng: &rng,
                                 control: context.control, stage: "neggrad+") { step in
            NegGradPlus.stepLoss(network, retain: step.batches[0], forget: step.batches[1], alpha: alpha)
        }
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe)
    }

    /// One step's loss: accumulates ∇(α·CE(retain) − (1−α)·CE(forget)) into the network's gradients (two forwards,
    /// as the reference) and reports that objective, with the retain batch's correct predictions.
    public static func stepLoss(_ network: Network, retain: Batch, forget: Batch, alpha: Float) -> StepOutcome {
        let (retainLoss, correct) = StepLosses.crossEntropy(network, retain, scale: alpha)
        let (forgetLoss, _) = StepLosses.crossEntropy(network, forget, scale: -(1 - alpha))
        return StepOutcome(loss: Double(alpha) * retainLoss - Double(1 - alpha) * forgetLoss, correct: correct, examples: retain.count)
    }
}
