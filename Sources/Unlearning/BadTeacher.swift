// bad-teacher: a student initialised from the model distils from two teachers at once: on forget examples from an
// "incompetent" teacher (a freshly initialised model of the same architecture), on retain examples from the trained
// model itself, so it keeps what retain taught and unlearns forget down to chance-like outputs.
// Reference: Chundawat, Tarun, Mandal, Kankanhalli, "Can Bad Teaching Induce Forgetting? Unlearning in Deep Networks
// using an Incompetent Teacher" (AAAI 2023), code vikram2000b/bad-teaching-unlearning (unlearn.py: UnlearnerLoss,
// unlearning_step, blindspot_unlearner; dataset.py: UnLearningData) and the `blindspot` strategy that calls it in
// if-loops/selective-synaptic-dampening (forget_random_strategies.py). What the code does:
// - the retain part is `random.sample(retain, int(0.3·|retain|))`: a uniform draw without replacement;
// - forget (flag 1) and the retain subset (flag 0) form ONE dataset, read by one shuffled loader of batch 256;
// - both teachers run in eval mode under no_grad; the incompetent teacher is an untrained model of the same class;
// - loss = F.kl_div(log_softmax(student/T), flag·softmax(bad/T) + (1−flag)·softmax(full/T)) with the default
//   reduction "mean": the KL summed over classes and divided by batch × classes, with no T² factor;
// - Adam lr 1e-4 (no weight decay), 1 epoch, T 1.
// Lethe follows all of that; the reference defaults are kept (see `defaultsNote`).
import Datasets
import NeuralNet
import Tensor

/// bad-teacher: distil from an incompetent (untrained) teacher on forget and from the original on a retain subset (Chundawat et al.).
public struct BadTeacher: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "bad-teacher"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Distil from a randomly initialised teacher on forget and from the trained model on a retain subset (one mixed KL)."
    /// Paper and reference code.
    public let reference = "Chundawat et al. AAAI 2023 (vikram2000b/bad-teaching-unlearning unlearn.py UnlearnerLoss, blindspot_unlearner)"
    /// The reference code's defaults.
    public let referenceDefaults = "1 epoch, Adam lr 1e-4, T 1, 30% of retain, forget and retain mixed in one loader of batch 256"
    /// Empty: the defaults are the reference's.
    public let defaultsNote = ""
    /// Epochs, Adam learning rate, temperature, the retain fraction mixed in and the batch size.
    public let hyperparameters: [HyperparameterSpec] = [
        .integer("epochs", 1, 1...100_000, "passes over forget plus the retain subset"),
        .number("lr", 1e-4, 1e-12...1e3, "Adam learning rate (constant)"),
        .number("temperature", 1, 1e-3...1e3, "KL temperature T"),
        .number("retainFraction", 0.3, 0...1, "fraction of retain drawn (seeded, without replacement) to mix with forget"),
        .integer("batchSize", 256, 1...1_000_000, "examples per batch of the mixed loader"),
    ]
    /// Yes: forget examples are distilled from the incompetent teacher.
    public let readsForget = true

    /// Draws a fresh incompetent teacher from the seed and distils a clone of the original from both teachers.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        var rng = SeededGenerator(seed: context.seed)
        let original = context.original
        let incompetent = try Model(architecture: original.architecture, inputShape: original.inputShape,
                                    classCount: original.classCount, seed: rng.next())
        return try run(context, competent: original, incompetent: incompetent, rng: &rng)
    }

    /// bad-teacher with explicit teachers: the same run as `unlearn(_:)` when `incompetent` is the fresh model that
    /// `unlearn(_:)` draws first from the seed. Both teachers are only read.
    public func unlearn(_ context: UnlearningContext, competentTeacher: Model, incompetentTeacher: Model) throws -> UnlearningOutcome {
        var rng = SeededGenerator(seed: context.seed)
        _ = rng.next()  // the draw `unlearn(_:)` spends on the incompetent teacher's seed
        return try run(context, competent: competentTeacher, incompetent: incompetentTeacher, rng: &rng)
    }

    private func run(_ context: UnlearningContext, competent: Model, incompetent: Model, rng: inout SeededGenerator) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let retain = context.split.retain
        let take = Int(h.double("retainFraction") * Double(retain.count))
        let subset = rng.permutation(retain.count).prefix(take).map { retain[$0] }
        let isForget = Set(context.split.forget)
        let student = context.original.clone()
        let network = Network(model: student)
        let good = Network(model: competent), bad = Network(model: incompetent)
        let t = h.float("temperature")
        var recipe = TrainingRecipe(epochs: h.int("epochs"), batchSize: h.int("batchSize"), learningRate: h.float("lr"),
                                    momentum: 0, weightDecay: 0, schedule: .constant)
        recipe.optimizer = .adam
        let mixed = ExampleStream(source: context.trainingSource, indices: context.split.forget + subset, batchSize: h.int("batchSize"))
        let d = Tensor(shape: [0])
        var flags: [Bool] = []
        _ = try TrainingLoop.run(network, streams: [mixed], recipe: recipe, rng: &rng, control: context.control, stage: "bad-teacher") { s in
            let batch = s.batches[0]
            flags = batch.indices.map { isForget.contains($0) }
            // Each teacher's output is copied before the other network runs, so neither depends on buffer reuse.
            let fromGood = good.forward(batch.x, training: false).copy()
            let fromBad = bad.forward(batch.x, training: false).copy()
            let logits = network.forward(batch.x, training: true)
            let loss = BadTeacher.loss(student: logits, competent: fromGood, incompetent: fromBad, isForget: flags, temperature: t, dStudent: d)
            network.backward(d)
            return StepOutcome(loss: Double(loss), correct: countCorrectPredictions(logits, batch.labels), examples: batch.count)
        }
        return UnlearningOutcome(model: student, hyperparameters: h.values, recipe: context.originalRecipe,
                                 details: ["retainExamples": Double(subset.count), "forgetExamples": Double(context.split.forget.count)])
    }

    /// The reference's UnlearnerLoss: KL(target ‖ softmax(student/T)) summed over classes and divided by batch ×
    /// classes (F.kl_div's "mean"), where a row's target is softmax(incompetent/T) for a forget example and
    /// softmax(competent/T) for a retain one. Writes its gradient with respect to the student's logits into
    /// `dStudent`.
    @discardableResult
    public static func loss(student: Tensor, competent: Tensor, incompetent: Tensor, isForget: [Bool], temperature: Float,
                            dStudent: Tensor? = nil) -> Float {
        let rows = student.rows, classes = student.rowSize
        precondition(isForget.count == rows && competent.shape == student.shape && incompetent.shape == student.shape)
        // The flags are 0 or 1, so the mixed distribution is one teacher's softmax per row: pick that teacher's logits.
        let target = Tensor(shape: student.shape, zeroed: false)
        for b in 0..<rows {
            (target.data + b * classes).update(from: (isForget[b] ? incompetent : competent).data + b * classes, count: classes)
        }
        // KLDivergence is T²·(1/B)·Σ KL; the reference's is (1/(B·C))·Σ KL.
        let scale = 1 / (temperature * temperature * Float(classes))
        let kl = KLDivergence.forward(student: student, teacher: target, temperature: temperature, dStudent: dStudent)
        if let d = dStudent { for i in 0..<d.count { d[i] *= scale } }
        return kl * scale
    }
}
