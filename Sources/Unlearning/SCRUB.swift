// scrub: a student initialised from the model learns to disagree with the original (its teacher) on the forget set
// while still agreeing with it, and with the labels, on the retain set.
// Reference: Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards Unbounded Machine Unlearning" (NeurIPS 2023),
// code meghdadk/SCRUB: `train_distill` in thirdparty/repdistiller/helper/loops.py, the SCRUB cells of
// large_scale_unlearning.ipynb and DistillKL in helper/KD.py (the same `scrub` is vendored in the SSD repository's
// forget_random_strategies.py). What the code does:
// - teacher and student are deep copies of the model; the teacher runs in eval mode under no_grad, never stepped;
// - epochs are numbered from 1, and epoch e runs a max pass over the whole forget loader when e ≤ msteps, then a min
//   pass over the whole retain loader; both passes share one optimizer;
// - max step: loss = −DistillKL(student, teacher); min step: loss = γ·CE(student, y) + α·DistillKL (+ β·0, "kd");
// - DistillKL = KL(softmax(t/T) ‖ softmax(s/T)) summed over classes, · T² / batch;
// - large-scale settings: SGD lr 5e-4, momentum 0.9, weight decay 5e-4, γ 0.99, α 0.001, T 4, msteps 2, 3 epochs,
//   retain batch 128, forget batch 32 (del_batch_size); the lr decay epochs [3, 5, 9] are never reached in 3 epochs,
//   so the lr is constant. (The small-scale notebook uses Adam, γ 1, α 0.5, T 2, msteps 3, 10 epochs.)
// Where Lethe differs: the first min(msteps, epochs) epochs run as one TrainingLoop pass in `.sequential` order
// (forget pass, then retain pass, optimizer state carried over, as the reference), and the remaining min-only epochs
// as a second pass whose SGD momentum starts afresh (momentum 0.9 carries about ten steps across that one boundary,
// a few percent of a pass). The max and min losses are computed from one forward pass each (as the reference).
// Default lr 1e-4 instead of 5e-4, the rest as the reference. The max step ascends a KL whose gradient never vanishes
// (the student heads for a one-hot on the teacher's least likely class), so without normalisation layers the logits
// grow until they overflow: on Fashion-MNIST (`mlp`, 15 epochs, random 10% forget) lr 5e-4, 3e-4 and 2e-4 all end in
// NaN weights within the two max passes, while 1e-4 is stable (forget 93.8% → 93.7%, test 89.2% → 89.2%: a gentle
// method at this setting). Raise lr only together with fewer max steps (msteps, forgetBatchSize).
import Datasets
import NeuralNet
import Tensor

/// scrub: a student learns to disagree with the original (its teacher) on forget while agreeing with it on retain (Kurmanji et al.).
public struct SCRUB: UnlearningMethod {
    public init() {}
    /// The registry name.
    public let name = "scrub"
    /// One line for Docs/Methods.md: what the method does.
    public let summary = "Student–teacher: max-steps push the student's forget outputs away from the original's (KL), min-steps keep retain (CE + KL)."
    /// Paper and reference code.
    public let reference = "Kurmanji et al. NeurIPS 2023 (meghdadk/SCRUB helper/loops.py train_distill, large_scale_unlearning.ipynb)"
    /// The reference code's large-scale defaults.
    public let referenceDefaults = "3 epochs, msteps 2, SGD lr 5e-4, momentum 0.9, weight decay 5e-4, T 4, γ 0.99, α 0.001, forget batch 32, retain batch 128"
    /// Why the defaults here differ from the reference's.
    public let defaultsNote = "lr 1e-4: at 5e-4 (and down to 2e-4) the max steps blow the mlp's logits up to NaN within two passes on Fashion-MNIST; the rest as the reference"
    /// Epochs, max steps, the SGD recipe, temperature, the min step's weights and both batch sizes.
    public let hyperparameters: [HyperparameterSpec] = [
        .integer("epochs", 3, 1...100_000, "epochs; each ends with a min pass over retain"),
        .integer("msteps", 2, 0...100_000, "the first msteps epochs begin with a max pass over forget"),
        .number("lr", 1e-4, 1e-12...1e3, "learning rate (constant, as the reference)"),
        .number("momentum", 0.9, 0...0.999_999, "SGD momentum"),
        .number("weightDecay", 5e-4, 0...1e3, "L2 weight decay"),
        .number("temperature", 4, 1e-3...1e3, "distillation temperature T (kd_T)"),
        .number("gamma", 0.99, 0...1e3, "weight γ of the retain cross-entropy in the min step"),
        .number("alpha", 0.001, 0...1e3, "weight α of the retain KL to the teacher in the min step"),
        .integer("forgetBatchSize", 32, 1...1_000_000, "forget examples per max step"),
        .integer("retainBatchSize", 128, 1...1_000_000, "retain examples per min step"),
    ]
    /// Yes: the max steps push the student away from the teacher on forget.
    public let readsForget = true

    /// SCRUB with the original as the teacher.
    public func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome {
        try unlearn(context, teacher: context.original)
    }

    /// SCRUB with an explicit teacher model (the original, as `unlearn(_:)` passes it). The teacher is only read.
    public func unlearn(_ context: UnlearningContext, teacher teacherModel: Model) throws -> UnlearningOutcome {
        let h = try context.hyperparameters.resolved(for: self)
        let student = context.original.clone()
        let network = Network(model: student)
        let teacher = Network(model: teacherModel)
        var rng = SeededGenerator(seed: context.seed)
        let epochs = h.int("epochs"), msteps = min(h.int("msteps"), h.int("epochs"))
        let t = h.float("temperature"), gamma = h.float("gamma"), alpha = h.float("alpha")
        var recipe = TrainingRecipe(epochs: 1, batchSize: h.int("retainBatchSize"), learningRate: h.float("lr"),
                                    momentum: h.float("momentum"), weightDecay: h.float("weightDecay"), schedule: .constant)
        let forget = ExampleStream(source: context.trainingSource, indices: context.split.forget, batchSize: h.int("forgetBatchSize"))
        let retain = ExampleStream(source: context.trainingSource, indices: context.split.retain, batchSize: h.int("retainBatchSize"))
        let d = Tensor(shape: [0])

        // One step of either kind: `maximize` on forget batches, minimize on retain batches.
        func step(_ batch: Batch, maximize: Bool) -> StepOutcome {
            let teacherLogits = teacher.forward(batch.x, training: false)
            let logits = network.forward(batch.x, training: true)
            let loss = maximize
                ? SCRUB.maximizeLoss(student: logits, teacher: teacherLogits, temperature: t, dStudent: d)
                : batch.labels.withUnsafeBufferPointer {
                    SCRUB.minimizeLoss(student: logits, teacher: teacherLogits, labels: $0.baseAddress!, gamma: gamma, alpha: alpha,
                                       temperature: t, dStudent: d)
                }
            network.backward(d)
            return StepOutcome(loss: Double(loss), correct: countCorrectPredictions(logits, batch.labels), examples: batch.count)
        }

        if msteps > 0 {
            recipe.epochs = msteps
            _ = try TrainingLoop.run(network, streams: [forget, retain], order: .sequential, recipe: recipe, rng: &rng,
                                     control: context.control, stage: "scrub max+min") { s in
                step(s.batches[s.stream], maximize: s.stream == 0)
            }
        }
        if epochs > msteps {
            recipe.epochs = epochs - msteps
            _ = try TrainingLoop.run(network, streams: [retain], recipe: recipe, rng: &rng, control: context.control,
                                     stage: "scrub min") { s in
                step(s.batches[0], maximize: false)
            }
        }
        return UnlearningOutcome(model: student, hyperparameters: h.values, recipe: context.originalRecipe)
    }

    /// The max step's loss: −T²·KL(softmax(teacher/T) ‖ softmax(student/T)) averaged over the batch (−DistillKL).
    /// Writes its gradient with respect to the student's logits into `dStudent`.
    @discardableResult
    public static func maximizeLoss(student: Tensor, teacher: Tensor, temperature: Float, dStudent: Tensor? = nil) -> Float {
        let kl = KLDivergence.forward(student: student, teacher: teacher, temperature: temperature, dStudent: dStudent)
        if let d = dStudent { for i in 0..<d.count { d[i] = -d[i] } }
        return -kl
    }

    /// The min step's loss: γ·CE(student, labels) + α·T²·KL(teacher ‖ student), batch means. Writes its gradient with
    /// respect to the student's logits into `dStudent`.
    @discardableResult
    public static func minimizeLoss(student: Tensor, teacher: Tensor, labels: UnsafePointer<Int32>, gamma: Float, alpha: Float,
                                    temperature: Float, dStudent: Tensor? = nil) -> Float {
        let dKL = dStudent.map { _ in Tensor(shape: student.shape) }
        let ce = CrossEntropy.forward(logits: student, labels: labels, dLogits: dStudent)
        let kl = KLDivergence.forward(student: student, teacher: teacher, temperature: temperature, dStudent: dKL)
        if let d = dStudent, let dKL { for i in 0..<d.count { d[i] = gamma * d[i] + alpha * dKL[i] } }
        return gamma * ce + alpha * kl
    }
}

/// How many rows of `logits` have their largest value at the label.
func countCorrectPredictions(_ logits: Tensor, _ labels: [Int32]) -> Int {
    var correct = 0
    let classes = logits.rowSize
    for b in 0..<logits.rows where Kernels.argmax(logits.data + b * classes, classes) == Int(labels[b]) { correct += 1 }
    return correct
}
