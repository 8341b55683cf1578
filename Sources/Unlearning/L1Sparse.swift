// l1-sparse: fine-tune on retain with CE + α_t·‖θ‖₁, α_t decaying linearly to 0, so the unlearned model is sparse.
// Reference: Jia et al., "Model Sparsity Can Simplify Machine Unlearning" (NeurIPS 2023), code OPTML-Group/Unlearn-Sparse
// src/optim/unlearn/FT.py (`FT_l1` → `FT_iter(with_l1=True)`; the same in Unlearn-Saliency Classification/unlearn/FT.py):
// - the penalty is `torch.linalg.norm(cat of every model.parameters() flattened, ord=1)`: all parameters, biases
//   (and BatchNorm affine weights) included, its gradient sign(θ) (0 at θ = 0);
// - α_t = α·(1 − epoch/(E − no_l1_epochs)) for epoch < E − no_l1_epochs, else 0: it decays per *epoch*, not per step,
//   starting at α and reaching α/E in the last epoch (no_l1_epochs defaults to 0, so it is never exactly 0);
// - SGD momentum 0.9, weight decay 5e-4 on top of the L1 term, batch 256, MultiStepLR at 91/136 (constant here).
// Lethe follows the code: `TrainingLoop`'s gradient hook adds α_t·sign(θ) to every parameter's gradient after
// backward, with α_t from the step's epoch. Defaults: α 1e-4, 10 epochs, lr 0.01 (from the paper; the
// README's FT_prune command passes --alpha 0.2 to another variant), batch 128 instead of 256 for the zoo.
import Datasets
import NeuralNet
import Tensor

/// l1-sparse: fine-tune on retain with CE + α_t·‖θ‖₁, α_t decaying per epoch, so the model ends sparse (Jia et al. NeurIPS 2023).
public struct L1Sparse: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "l1-sparse"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Fine-tune on retain with CE + α_t·‖θ‖₁ over all parameters, α_t decaying linearly per epoch."
    /// Paper and reference code.
    public let reference = "Jia et al. NeurIPS 2023 (OPTML-Group/Unlearn-Sparse optim/unlearn/FT.py, FT_l1)"
    /// The reference code's defaults.
    public let referenceDefaults = "α 1e-4 decaying per epoch as α·(1 − epoch/E), 10 epochs, SGD lr 0.01, momentum 0.9, weight decay 5e-4, constant lr, batch 256"
    /// Why the defaults here differ from the reference's.
    public let defaultsNote = "batch 128 for the zoo's small models"
    /// The constant-lr SGD recipe plus the initial L1 coefficient `alpha`.
    public let hyperparameters: [HyperparameterSpec] = HyperparameterSpec.sgdConstant(epochs: 10, lr: 0.01) + [
        .number("alpha", 1e-4, 0...1e3, "initial L1 coefficient; α_t = alpha·(1 − epoch/epochs)"),
    ]
    /// No: it trains on retain only.
    public let readsForget = false

    /// α_t of the reference: alpha·(1 − epoch/epochs), per epoch (0-based).
    public static func coefficient(alpha: Float, epoch: Int, epochs: Int) -> Float {
        epoch < epochs ? alpha * (1 - Float(epoch) / Float(epochs)) : 0
    }

    /// Adds coefficient·sign(θ) — the gradient of coefficient·‖θ‖₁, 0 at θ = 0 as PyTorch's — to `gradients`.
    public static func addL1Gradient(_ parameters: UnsafePointer<Float>, _ gradients: UnsafeMutablePointer<Float>, count: Int,
                                     coefficient: Float) {
        for i in 0..<count {
            let p = parameters[i]
            gradients[i] += p > 0 ? coefficient : (p < 0 ? -coefficient : 0)
        }
    }

    /// Fine-tunes a clone on retain with the decaying L1 term; details report the fraction of weights below 1e-3.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let alpha = h.float("alpha")
        let model = context.original.clone()
        let network = Network(model: model)
        var rng = SeededGenerator(seed: context.seed)
        let retain = ExampleStream(source: context.trainingSource, indices: context.split.retain, batchSize: h.int("batchSize"))
        _ = try TrainingLoop.run(network, streams: [retain], recipe: h.constantSGDRecipe(), rng: &rng, control: context.control,
                                 stage: "l1-sparse", gradientHook: { parameters, gradients, count, step in
            L1Sparse.addL1Gradient(parameters, gradients, count: count,
                                   coefficient: L1Sparse.coefficient(alpha: alpha, epoch: step.epoch, epochs: step.epochs))
        }) { step in
            let batch = step.batches[0]
            let (loss, correct) = StepLosses.crossEntropy(network, batch)
            return StepOutcome(loss: loss, correct: correct, examples: batch.count)
        }
        var small = 0
        for i in 0..<model.parameterCount where abs(model.parameters[i]) < 1e-3 { small += 1 }
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["nearZeroFraction": Double(small) / Double(max(model.parameterCount, 1))])
    }
}
