// ssd: Selective Synaptic Dampening. No training: measure how important every weight is to the whole training set
// (D) and to the forget set (f), and shrink the weights that matter far more to forget than to the rest.
// Reference: Foster, Schoepf, Brintrup, "Fast Machine Unlearning Without Retraining Through Selective Synaptic
// Dampening" (AAAI 2024), code if-loops/selective-synaptic-dampening (ssd.py: ParameterPerturber.calc_importance and
// modify_weight; src/forget_random_main.py and forget_random_strategies.py: ssd_tuning). What the code does:
// - importance = the diagonal of the empirical Fisher as the batch sees it: for every mini-batch, the gradient of the
//   batch-mean cross-entropy is squared, and the squares are averaged over batches (not per example);
// - the model is put in eval mode first (`model = model.eval()` in ssd_tuning);
// - D is measured on `full_train_dl` = ConcatDataset(retain, forget), unshuffled, batch 128; f on the forget
//   loader, batch 128 — the whole training set, forget included, not retain alone;
// - where f > α·D (strictly) the weight is multiplied by min((λ·D/f)^1, 1) (`lower_bound` 1, `exponent` 1); every
//   named parameter is eligible (min_layer = max_layer = −1), buffers never;
// - α ("selection_weighting") 10, λ ("dampening_constant") 1.
// Lethe follows all of that (training set = retain followed by forget, read from `context.data`, unaugmented, as
// a measurement), defaults included. SSD is built for class and sub-class forgetting: on a random forget set the
// forget batches are distributed like the training batches, f ≈ D, and α 10 selects almost nothing (1 weight of
// the mlp's 535,818 on a random 10% Fashion-MNIST split, accuracies unchanged). `dampenedFraction` reports it.
import Datasets
import NeuralNet
import Tensor

/// ssd: Selective Synaptic Dampening; no training, shrinks the weights far more important to forget than to the training set.
public struct SSD: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "ssd"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "No training: dampen the weights whose forget importance exceeds α times their training-set importance."
    /// Paper and reference code.
    public let reference = "Foster et al. AAAI 2024 (if-loops/selective-synaptic-dampening ssd.py calc_importance, modify_weight)"
    /// The reference code's defaults.
    public let referenceDefaults = "α (selection weighting) 10, λ (dampening constant) 1, importances from batches of 128"
    /// The defaults are the reference's; why they select almost nothing on a random forget set.
    public let defaultsNote = "the reference's; on a random forget set f ≈ D and α 10 selects almost no weight (it is meant for class forgetting)"
    /// The selection weighting, the dampening constant and the importance passes' batch size.
    public let hyperparameters: [HyperparameterSpec] = [
        .number("alpha", 10, 0...1e12, "selection: a weight is dampened where its forget importance > alpha × its training importance"),
        .number("lambda", 1, 0...1e12, "dampening: a selected weight is multiplied by min(lambda × D / f, 1)"),
        .integer("batchSize", 128, 1...1_000_000, "examples per batch of the importance passes"),
    ]
    /// Yes: it measures importance on forget.
    public let readsForget = true

    /// Dampens a clone of the original; details report how many weights were dampened.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        let batchSize = h.int("batchSize")
        let forgetImportance = try SSD.importances(of: model, on: context.data, indices: context.split.forget, batchSize: batchSize,
                                                   control: context.control, stage: "ssd importance (forget)")
        let trainImportance = try SSD.importances(of: model, on: context.data, indices: context.split.retain + context.split.forget,
                                                  batchSize: batchSize, control: context.control, stage: "ssd importance (training set)")
        let dampened = SSD.dampen(model, trainImportance: trainImportance, forgetImportance: forgetImportance,
                                  alpha: h.float("alpha"), lambda: h.float("lambda"))
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["dampenedFraction": Double(dampened) / Double(max(1, model.parameterCount)),
                                           "dampenedWeights": Double(dampened)])
    }

    /// SSD's importance of every parameter on `indices` of `data`: the mean over consecutive batches of the squared
    /// gradient of the batch-mean cross-entropy, in evaluation mode. Reads `model` only.
    public static func importances(of model: Model, on data: ExampleSource, indices: [Int], batchSize: Int, control: JobControl,
                                   stage: String = "ssd importance") throws -> [Float] {
        try GradientStatistics.mean(Network(model: model), on: data, indices: indices, batchSize: batchSize, kind: .squared,
                                    granularity: .perBatch, control: control, stage: stage)
    }

    /// Multiplies every parameter whose forget importance exceeds `alpha` × its training importance by
    /// min(`lambda` × training / forget, 1), and leaves every other parameter (and every buffer) untouched.
    /// Returns how many parameters were selected.
    @discardableResult
    public static func dampen(_ model: Model, trainImportance: [Float], forgetImportance: [Float], alpha: Float, lambda: Float) -> Int {
        precondition(trainImportance.count == model.parameterCount && forgetImportance.count == model.parameterCount)
        let p = model.parameters
        var selected = 0
        for i in 0..<model.parameterCount {
            let d = trainImportance[i], f = forgetImportance[i]
            guard f > alpha * d else { continue }
            p[i] *= min(lambda * d / f, 1)
            selected += 1
        }
        return selected
    }
}
