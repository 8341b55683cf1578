// boundary-shrink: move every forget example across the nearest decision boundary. FGSM on the original model finds,
// for each forget example, the wrong class closest to it; the model is then fine-tuned on the forget examples with
// those classes as labels, so the forget examples end up where a model that never saw them would put them.
// Reference: Chen, Gao, Zhou, Zhou, Wang, Li, "Boundary Unlearning: Rapid Forgetting of Deep Networks via Shifting
// the Decision Space" (CVPR 2023), code TY-LEE-KR/Boundary-Unlearning-Code (boundary_unlearning.py boundary_shrink,
// adv_generator.py FGSM) and its port in OPTML-Group/Unlearn-Saliency (Classification/unlearn/boundary_sh.py). What the
// code does:
// - a frozen deep copy of the original (`test_model`, eval mode) makes the labels; a second copy is trained;
// - for EVERY batch, at every step, FGSM on the frozen copy: x_adv = x + bound·sign(∇ₓ CE(test_model(x), y)) in pixel
//   space, clamped to [0, 1] and rounded to 1/255, bound 0.1; the new label is argmax test_model(x_adv);
// - loss = CE(model(x), that label), on forget only; SGD lr 1e-5, momentum 0.9, no weight decay, 10 epochs
//   (`poison_epoch`), batch 64 (main.py); the "attack success ratio" (label ≠ y) is printed, not enforced.
// Where Lethe differs:
// - when FGSM at the bound does not leave the true class, the reference trains toward the true label (reinforcing
//   exactly what should be forgotten); here the label is the best-scoring class other than the true one at x_adv,
//   the paper's "nearest but incorrect class", so every label is wrong. `fgsmFlipRate` in the details reports how
//   often FGSM alone crossed the boundary (the reference's attack success ratio);
// - the bound is in the units the model reads. Fashion-MNIST and CIFAR-10 load as pixels/255, so 0.1 is the
//   reference's 0.1 of the pixel range; after a load-time normalisation it is 0.1 standard deviations. No clamp to
//   [0, 1] and no rounding to 1/255, which only hold for unnormalised pixels.
// The training defaults are the reference's. Boundary shrinking is a class-forgetting method: on a random 10% forget
// set of Fashion-MNIST the forget examples are spread like the rest, so relabelling them all to wrong classes teaches
// the model wrong boundaries everywhere (`mlp`, 15 epochs: test accuracy 89.2% → 70.6% at lr 1e-5, 36.7% at 1e-4,
// 14.3% at 1e-2). Use it for class forgetting, or lower lr/epochs for random forget sets.
import Datasets
import NeuralNet
import Tensor

/// boundary-shrink: fine-tune each forget example toward its nearest wrong class, found by FGSM on the original (Chen et al.).
public struct BoundaryShrink: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "boundary-shrink"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Fine-tune the forget examples toward their nearest wrong class, found by FGSM on the original model."
    /// Paper and reference code.
    public let reference = "Chen et al. CVPR 2023 (TY-LEE-KR/Boundary-Unlearning-Code boundary_shrink; Unlearn-Saliency unlearn/boundary_sh.py)"
    /// The reference code's defaults.
    public let referenceDefaults = "FGSM bound 0.1, 10 epochs on forget, SGD lr 1e-5, momentum 0.9, no weight decay, batch 64"
    /// The defaults are the reference's; how the labels differ, and why it suits class forgetting.
    public let defaultsNote = "the reference's; labels are always a wrong class (the reference keeps the true label when FGSM fails to cross); meant for class forgetting: on a random 10% Fashion-MNIST split it costs the mlp 19 points of test accuracy"
    /// The FGSM bound and the constant-lr SGD recipe on forget.
    public let hyperparameters: [HyperparameterSpec] = [
        .number("bound", 0.1, 0...1e6, "FGSM step: x + bound·sign(∇ₓ CE) on the original model, in input units"),
        .integer("epochs", 10, 1...100_000, "passes over forget"),
        .number("lr", 1e-5, 1e-12...1e3, "learning rate (constant, as the reference)"),
        .number("momentum", 0.9, 0...0.999_999, "SGD momentum"),
        .number("weightDecay", 0, 0...1e3, "L2 weight decay"),
        .integer("batchSize", 64, 1...1_000_000, "forget examples per batch"),
    ]
    /// Yes: it trains on forget only.
    public let readsForget = true

    /// Fine-tunes a clone on forget toward FGSM's nearest wrong labels; details report FGSM's flip rate.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let model = context.original.clone()
        let network = Network(model: model)
        let teacher = Network(model: context.original)
        var rng = SeededGenerator(seed: context.seed)
        let bound = h.float("bound")
        let recipe = TrainingRecipe(epochs: h.int("epochs"), batchSize: h.int("batchSize"), learningRate: h.float("lr"),
                                    momentum: h.float("momentum"), weightDecay: h.float("weightDecay"), schedule: .constant)
        let forget = ExampleStream(source: context.trainingSource, indices: context.split.forget, batchSize: h.int("batchSize"))
        let d = Tensor(shape: [0])
        var flipped = 0, labelled = 0
        _ = try TrainingLoop.run(network, streams: [forget], recipe: recipe, rng: &rng, control: context.control,
                                 stage: "boundary-shrink") { s in
            let batch = s.batches[0]
            let truth = batch.labels
            let nearest = BoundaryShrink.nearestWrongLabels(teacher, x: batch.x, labels: truth, bound: bound)
            flipped += nearest.flipped
            labelled += batch.count
            let logits = network.forward(batch.x, training: true)
            let loss = nearest.labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: logits, labels: $0.baseAddress!, dLogits: d) }
            network.backward(d)
            // Progress shows accuracy on the true labels: the forget accuracy, falling.
            return StepOutcome(loss: Double(loss), correct: countCorrectPredictions(logits, truth), examples: batch.count)
        }
        return UnlearningOutcome(model: model, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["fgsmFlipRate": Double(flipped) / Double(max(1, labelled))])
    }

    /// For each row of `x`: one FGSM step of size `bound` on `teacher` (evaluation mode) away from its label, then the
    /// class the teacher scores highest at the perturbed input among the classes other than the label. `flipped`
    /// counts the rows whose perturbed input the teacher already puts in a wrong class. Only the teacher's own
    /// gradient buffer is written; its model's parameters are read.
    public static func nearestWrongLabels(_ teacher: Network, x: Tensor, labels: [Int32], bound: Float) -> (labels: [Int32], flipped: Int) {
        let g = GradientStatistics.inputGradient(teacher, x: x, labels: labels)
        let adversarial = Tensor(shape: x.shape, zeroed: false)
        for i in 0..<x.count {
            let v = g.data[i]
            adversarial.data[i] = x.data[i] + (v > 0 ? bound : v < 0 ? -bound : 0)
        }
        let logits = teacher.forward(adversarial, training: false)
        let classes = logits.rowSize
        guard classes > 1 else { return (labels, 0) }
        var out = labels, flipped = 0
        for b in 0..<labels.count {
            let row = logits.data + b * classes, y = Int(labels[b])
            if Kernels.argmax(row, classes) != y { flipped += 1 }
            var best = y == 0 ? 1 : 0
            for c in 0..<classes where c != y && row[c] > row[best] { best = c }
            out[b] = Int32(best)
        }
        return (out, flipped)
    }
}
