// random-labels: train on the forget set relabelled at random, then on the retain set, every epoch.
// Reference: Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based Weight Saliency" (ICLR 2024), code
// OPTML-Group/Unlearn-Saliency, Classification/unlearn/RL.py (`RL`, the baseline SalUn builds on; Golatkar et al. 2020
// introduced random labelling). For CIFAR-10 and SVHN — 10 classes, like Fashion-MNIST — the code alternates: each
// epoch is a full pass over the shuffled forget loader with labels drawn afresh per batch (`torch.randint(0,
// num_classes)`), then a full pass over the retain loader, one SGD optimizer throughout (momentum 0.9, weight decay
// 5e-4, batch 256, MultiStepLR at epochs 91/136, so a constant lr here). For CIFAR-100 and TinyImageNet it instead
// concatenates the relabelled forget set with retain into one shuffled loader. Lethe follows the 10-class branch:
// `TrainingLoop` in `.sequential` order over [forget, retain].
// Where Lethe differs:
// - Labels are drawn uniformly over the *other* classes (a wrong label always), as the paper describes random
//   labelling; the code's randint over all classes keeps the true label for 1 in K examples.
// - Defaults: 10 epochs, lr 0.013 (the paper's setting for RL/SalUn; the repository's README runs SalUn with lr 0.1),
//   momentum 0.9, weight decay 5e-4; batch 128 instead of 256 for the zoo's smaller models.
import Datasets
import NeuralNet
import Tensor

/// random-labels: every epoch, train on the forget set relabelled with random wrong classes, then on retain (SalUn's RL).
public struct RandomLabels: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "random-labels"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Each epoch: a pass over the forget set with random wrong labels, then a pass over the retain set."
    /// Paper and reference code.
    public let reference = "Fan et al. ICLR 2024, SalUn's RL baseline (OPTML-Group/Unlearn-Saliency unlearn/RL.py); Golatkar et al. CVPR 2020"
    /// The reference code's defaults.
    public let referenceDefaults = "10 epochs, SGD lr 0.013, momentum 0.9, weight decay 5e-4, constant lr, batch 256"
    /// Why the defaults here differ from the reference's.
    public let defaultsNote = "batch 128 for the zoo's small models; labels always wrong (the code's randint keeps the true label 1 time in K)"
    /// The SGD recipe with a constant learning rate: 10 epochs at lr 0.013.
    public let hyperparameters = HyperparameterSpec.sgdConstant(epochs: 10, lr: 0.013)
    /// Yes: each epoch begins with a pass over the relabelled forget set.
    public let readsForget = true

    /// Runs RL.py's epochs (forget with wrong labels, then retain) on a clone of the original.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        var rng = SeededGenerator(seed: context.seed)
        try RandomLabels.train(model, context: context, hyperparameters: h, mask: nil, rng: &rng, stage: "random-labels")
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe)
    }

    /// A wrong label for `label`, uniform over the other `classCount − 1` classes.
    public static func wrongLabel(for label: Int32, classCount: Int, rng: inout SeededGenerator) -> Int32 {
        Int32((Int(label) + 1 + rng.nextInt(below: classCount - 1)) % classCount)
    }

    /// RL.py's epoch, in place on `model`: a forget pass with random wrong labels, then a retain pass, one optimizer
    /// throughout; `mask` (SalUn) keeps every weight where it is 0 exactly as it was.
    static func train(_ model: Model, context: UnlearningContext, hyperparameters h: ResolvedHyperparameters, mask: [Float]?,
                      rng: inout SeededGenerator, stage: String) throws {
        let classCount = model.classCount
        guard classCount >= 2 else { throw UnlearningError("\(stage) needs at least two classes to draw a wrong label") }
        let network = Network(model: model)
        let batchSize = h.int("batchSize")
        let forget = ExampleStream(source: context.trainingSource, indices: context.split.forget, batchSize: batchSize)
        let retain = ExampleStream(source: context.trainingSource, indices: context.split.retain, batchSize: batchSize)
        var labelRng = SeededGenerator(seed: rng.next())
        _ = try TrainingLoop.run(network, streams: [forget, retain], order: .sequential, recipe: h.constantSGDRecipe(), rng: &rng,
                                 control: context.control, stage: stage, gradientMask: mask) { step in
            let batch = step.batches[step.stream]
            if step.stream == 0 {
                for i in 0..<batch.count { batch.labels[i] = wrongLabel(for: batch.labels[i], classCount: classCount, rng: &labelRng) }
            }
            let (loss, correct) = StepLosses.crossEntropy(network, batch)
            return StepOutcome(loss: loss, correct: correct, examples: batch.count)
        }
    }
}
