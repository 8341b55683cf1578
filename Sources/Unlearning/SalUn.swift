// salun: random-labels with every update confined to the weights most salient to the forget set.
// Reference: Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency" (ICLR 2024), code
// OPTML-Group/Unlearn-Saliency: Classification/generate_mask.py builds the mask, unlearn/RL.py trains with it.
// What the code does, and Lethe follows:
// - Saliency: with the model in eval mode, the gradient of −CE over the forget loader (batch 256) is summed over
//   batches, then its absolute value taken per weight (|Σ_b g_b|; the sign of −CE does not matter). Lethe takes the
//   mean over batches (`GradientStatistics`, unit "batch", stage "saliency"): the same ranking.
// - Threshold: one global ranking over all parameters jointly (`torch.cat` of every tensor, biases included), and the
//   mask is 1 for the top int(N·fraction) entries. Not per layer. Ties are broken here by parameter order.
// - Training: RL.py with the mask: gradients multiplied by the mask, and after every step the weights outside it
//   restored to their values before unlearning and their momentum zeroed — so they never move, weight decay included.
//   Here `TrainingLoop`'s gradient mask does the same (a 0 in the mask freezes the weight in the optimizer step).
// Where Lethe differs:
// - An older generate_mask.py also took an SGD step per batch while accumulating (so the gradients were measured
//   along a gradient-ascent path) and ranked ascending; the current code, followed here, measures at the fixed
//   original weights and keeps the largest magnitudes, as the paper defines the mask.
// - Defaults: fraction 0.5 (the paper's), and random-labels' defaults (10 epochs, lr 0.013, batch 128) for the rest;
//   the mask is measured on the data itself, never on an augmented view.
import Datasets
import NeuralNet
import Tensor

/// salun: random-labels with every update confined to the weights most salient to the forget set (Fan et al. ICLR 2024).
public struct SalUn: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "salun"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Random labels with updates confined to the top fraction of weights by |∇ CE(forget)| (weight saliency)."
    /// Paper and reference code.
    public let reference = "Fan et al. ICLR 2024 (OPTML-Group/Unlearn-Saliency generate_mask.py, unlearn/RL.py)"
    /// The reference code's defaults (mask and RL training).
    public let referenceDefaults = "mask: top 50% by |∇ forget loss|, global over all weights; RL: 10 epochs, SGD lr 0.013, momentum 0.9, weight decay 5e-4, batch 256"
    /// Why the defaults here differ from the reference's.
    public let defaultsNote = "batch 128 for the zoo's small models; random labels always wrong (as random-labels)"
    /// random-labels' SGD recipe plus the mask's `fraction`.
    public let hyperparameters: [HyperparameterSpec] = HyperparameterSpec.sgdConstant(epochs: 10, lr: 0.013) + [
        .number("fraction", 0.5, 0...1, "fraction of all weights the mask lets train: those with the largest |∇ CE(forget)|"),
    ]
    /// Yes: the saliency mask and the relabelled passes read forget.
    public let readsForget = true

    /// Builds the saliency mask, then runs random-labels through it; details report the mask's size.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        let mask = try SalUn.saliencyMask(model, on: context.data, forget: context.split.forget, fraction: h.double("fraction"),
                                          batchSize: h.int("batchSize"), control: context.control)
        var rng = SeededGenerator(seed: context.seed)
        try RandomLabels.train(model, context: context, hyperparameters: h, mask: mask, rng: &rng, stage: "salun")
        let kept = mask.reduce(0) { $0 + Int($1) }
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["maskFraction": Double(kept) / Double(max(mask.count, 1)), "maskedWeights": Double(kept)])
    }

    /// SalUn's hard mask for `model`: 1 for the int(N·fraction) parameters with the largest |mean over batches of
    /// ∇ CE(forget)| (measured in evaluation mode on `forget` of `source`, batches in index order), ranked jointly over
    /// all parameters, ties by parameter order; 0 elsewhere. `model` is not modified.
    public static func saliencyMask(_ model: Model, on source: ExampleSource, forget: [Int], fraction: Double, batchSize: Int,
                                    control: JobControl) throws -> [Float] {
        let g = try GradientStatistics.mean(Network(model: model), on: source, indices: forget, batchSize: batchSize, kind: .gradient,
                                            granularity: .perBatch, control: control, stage: "saliency")
        let n = g.count
        let keep = min(n, max(0, Int(Double(n) * fraction)))
        let magnitude = g.map { abs($0) }
        let order = (0..<n).sorted { magnitude[$0] > magnitude[$1] || (magnitude[$0] == magnitude[$1] && $0 < $1) }
        var mask = [Float](repeating: 0, count: n)
        for i in order.prefix(keep) { mask[i] = 1 }
        return mask
    }
}
