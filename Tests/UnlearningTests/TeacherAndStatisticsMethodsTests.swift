// What scrub, bad-teacher, ssd, fisher and boundary-shrink claim, checked on small in-memory data: teachers are
// never modified; ssd trains nothing and touches only the weights it selects; fisher's noise follows the inverse
// Fisher; boundary-shrink's labels are wrong classes and the forget accuracy falls; and every loss these methods add
// has the gradient its value implies (finite differences on a tiny network).
import Datasets
import NeuralNet
import Tensor
import Unlearning
import XCTest

final class TeacherAndStatisticsMethodsTests: XCTestCase {
    private func setUp() throws -> (Model, LabeledExamples, Split) {
        let data = try blobs(300, seed: 1)
        let model = try Model(architecture: Architecture(kind: "mlp", hidden: [16]), inputShape: [6], classCount: 3, seed: 1)
        var rng = SeededGenerator(seed: 2)
        _ = try Trainer.train(Network(model: model), on: data, indices: Array(0..<300), recipe: TrainingRecipe(epochs: 3, batchSize: 32, learningRate: 0.05),
                              rng: &rng, control: JobControl())
        return (model, data, Split(retain: Array(30..<300), forget: Array(0..<30), validation: [], test: []))
    }

    /// The same data and model with class 0 (every third example of `blobs`) as the forget set: forgetting a whole
    /// class is where the teachers' and the boundary's effects on forget stand apart from their effects on retain.
    private func setUpClassForget() throws -> (Model, LabeledExamples, Split) {
        let (model, data, _) = try setUp()
        let all = Array(0..<300)
        return (model, data, Split(retain: all.filter { $0 % 3 != 0 }, forget: all.filter { $0 % 3 == 0 }, validation: [], test: []))
    }

    private func context(_ m: Model, _ d: LabeledExamples, _ s: Split, _ h: [String: HyperparameterValue] = [:],
                         trainingSource: ExampleSource? = nil, seed: UInt64 = 3) -> UnlearningContext {
        UnlearningContext(original: m, originalRecipe: nil, data: d, trainingSource: trainingSource, split: s,
                          hyperparameters: Hyperparameters(h), seed: seed, control: JobControl())
    }

    private func predictions(_ m: Model, _ d: LabeledExamples, _ indices: [Int]) throws -> Predictions {
        try Inference.predict(Network(model: m), on: d, indices: indices)
    }

    /// Mean over `indices` of KL(softmax(teacher) ‖ softmax(student)), in Double.
    private func meanKL(teacher: Model, student: Model, _ d: LabeledExamples, _ indices: [Int]) throws -> Double {
        let t = try predictions(teacher, d, indices), s = try predictions(student, d, indices)
        var sum = 0.0
        for i in 0..<indices.count {
            let p = t.probabilities(i), q = s.probabilities(i)
            for c in 0..<p.count where p[c] > 0 { sum += Double(p[c]) * (log(Double(p[c])) - log(Double(max(q[c], 1e-30)))) }
        }
        return sum / Double(indices.count)
    }

    // MARK: scrub

    func testSCRUBNeverModifiesItsTeacherAndPushesForgetAwayFromIt() throws {
        let (original, data, split) = try setUpClassForget()
        let before = original.fingerprint
        let teacher = original.clone()
        let h: [String: HyperparameterValue] = ["lr": 0.05]
        let outcome = try SCRUB().unlearn(context(original, data, split, h), teacher: teacher)
        XCTAssertEqual(teacher.fingerprint, before, "the teacher was modified")
        XCTAssertEqual(original.fingerprint, before, "the source was modified")
        XCTAssertNotEqual(outcome.model.fingerprint, before)
        // The default teacher is the original itself, read and never written: the same bits as with a copy of it.
        let viaOriginal = try SCRUB().unlearn(context(original, data, split, h))
        XCTAssertEqual(original.fingerprint, before, "the source (the default teacher) was modified")
        XCTAssertEqual(viaOriginal.model.fingerprint, outcome.model.fingerprint)
        // Max steps on forget, min steps on retain: the student drifts from its teacher on forget, not on retain.
        let forgetKL = try meanKL(teacher: original, student: outcome.model, data, split.forget)
        let retainKL = try meanKL(teacher: original, student: outcome.model, data, split.retain)
        XCTAssertGreaterThan(forgetKL, 3 * retainKL, "forget KL \(forgetKL), retain KL \(retainKL)")
    }

    func testSCRUBLossesHaveTheGradientsTheirValuesImply() throws {
        let (network, x, labels) = try tinyNetwork()
        let teacher = tinyTeacherLogits(rows: x.rows)
        for t: Float in [1, 4] {
            // The max step is −DistillKL; its value against a direct computation first.
            let logits = network.forward(x, training: true)
            XCTAssertEqual(Double(SCRUB.maximizeLoss(student: logits, teacher: teacher, temperature: t)),
                           -referenceKL(student: logits, teacher: teacher, temperature: t) * Double(t * t) / Double(x.rows), accuracy: 1e-5)
            assertParameterGradients(network, x, "scrub max, T \(t)") { logits, d in
                SCRUB.maximizeLoss(student: logits, teacher: teacher, temperature: t, dStudent: d)
            }
            assertParameterGradients(network, x, "scrub min, T \(t)") { logits, d in
                labels.withUnsafeBufferPointer {
                    SCRUB.minimizeLoss(student: logits, teacher: teacher, labels: $0.baseAddress!, gamma: 0.7, alpha: 0.9, temperature: t, dStudent: d)
                }
            }
        }
    }

    // MARK: bad-teacher

    func testBadTeacherNeverModifiesItsTeachersAndForgetFollowsTheIncompetentOne() throws {
        let (original, data, split) = try setUpClassForget()
        let competent = original.clone()
        var draw = SeededGenerator(seed: 3)
        let incompetent = try Model(architecture: original.architecture, inputShape: [6], classCount: 3, seed: draw.next())
        let before = (original.fingerprint, competent.fingerprint, incompetent.fingerprint)
        let h: [String: HyperparameterValue] = ["lr": 0.01, "epochs": 20]
        let outcome = try BadTeacher().unlearn(context(original, data, split, h), competentTeacher: competent, incompetentTeacher: incompetent)
        XCTAssertEqual(competent.fingerprint, before.1, "the competent teacher was modified")
        XCTAssertEqual(incompetent.fingerprint, before.2, "the incompetent teacher was modified")
        XCTAssertEqual(original.fingerprint, before.0, "the source was modified")
        XCTAssertEqual(outcome.details["retainExamples"], Double(Int(0.3 * 200)))
        // `unlearn(_:)` uses the original and the fresh model its seed draws first: the same run.
        let plain = try BadTeacher().unlearn(context(original, data, split, h))
        XCTAssertEqual(original.fingerprint, before.0)
        XCTAssertEqual(plain.model.fingerprint, outcome.model.fingerprint)
        // On forget the student moves toward the incompetent teacher; on retain it stays with the competent one.
        let forgetBefore = try meanKL(teacher: incompetent, student: original, data, split.forget)
        let forgetAfter = try meanKL(teacher: incompetent, student: outcome.model, data, split.forget)
        XCTAssertLessThan(forgetAfter, 0.5 * forgetBefore, "KL(incompetent ‖ student) on forget: \(forgetBefore) → \(forgetAfter)")
        let retainDrift = try meanKL(teacher: original, student: outcome.model, data, split.retain)
        let forgetDrift = try meanKL(teacher: original, student: outcome.model, data, split.forget)
        XCTAssertLessThan(retainDrift, 0.5 * forgetDrift, "KL(original ‖ student): retain \(retainDrift), forget \(forgetDrift)")
    }

    func testBadTeacherLossHasTheGradientItsValueImplies() throws {
        let (network, x, _) = try tinyNetwork()
        let competent = tinyTeacherLogits(rows: x.rows, seed: 5), incompetent = tinyTeacherLogits(rows: x.rows, seed: 6)
        let flags = (0..<x.rows).map { $0 % 2 == 0 }
        for t: Float in [1, 3] {
            // The value: Σ KL to the row's teacher / (batch × classes), no T².
            let logits = network.forward(x, training: true)
            let mixed = Tensor(shape: competent.shape)
            for b in 0..<x.rows { for c in 0..<3 { mixed[b * 3 + c] = flags[b] ? incompetent[b * 3 + c] : competent[b * 3 + c] } }
            XCTAssertEqual(Double(BadTeacher.loss(student: logits, competent: competent, incompetent: incompetent, isForget: flags, temperature: t)),
                           referenceKL(student: logits, teacher: mixed, temperature: t) / Double(x.rows * 3), accuracy: 1e-6)
            // Checked at batch × classes times its size, so its gradients are well above the checker's absolute bound.
            let scale = Float(x.rows * 3)
            assertParameterGradients(network, x, "bad-teacher, T \(t)") { logits, d in
                let value = BadTeacher.loss(student: logits, competent: competent, incompetent: incompetent, isForget: flags, temperature: t, dStudent: d)
                if let d { for i in 0..<d.count { d[i] *= scale } }
                return value * scale
            }
        }
    }

    // MARK: ssd

    func testSSDTrainsNothingAndDampensOnlyTheWeightsItSelects() throws {
        let (original, data, split) = try setUp()
        let recording = RecordingSource(data)
        let alpha: Float = 2, lambda: Float = 0.5
        let outcome = try SSD().unlearn(context(original, data, split, ["alpha": 2, "lambda": 0.5], trainingSource: recording))
        XCTAssertTrue(recording.gathered.isEmpty, "ssd read its training source: it trains nothing")
        let f = try SSD.importances(of: original, on: data, indices: split.forget, batchSize: 128, control: JobControl())
        let d = try SSD.importances(of: original, on: data, indices: split.retain + split.forget, batchSize: 128, control: JobControl())
        var selected = 0
        for i in 0..<original.parameterCount {
            let old = original.parameters[i], new = outcome.model.parameters[i]
            if f[i] > alpha * d[i] {
                selected += 1
                XCTAssertEqual(new.bitPattern, (old * min(lambda * d[i] / f[i], 1)).bitPattern, "weight \(i): f \(f[i]), D \(d[i])")
                XCTAssertLessThanOrEqual(abs(new), abs(old))
            } else {
                XCTAssertEqual(new.bitPattern, old.bitPattern, "weight \(i) is not selected (f \(f[i]) ≤ α·D \(alpha * d[i])) but changed")
            }
        }
        XCTAssertGreaterThan(selected, 0, "nothing selected: the test would prove nothing")
        XCTAssertLessThan(selected, original.parameterCount, "everything selected: the test would prove nothing")
        XCTAssertEqual(outcome.details["dampenedFraction"] ?? -1, Double(selected) / Double(original.parameterCount), accuracy: 1e-12)
        // The importance is the batch mean of squared batch gradients: one batch is one squared gradient.
        let one = try SSD.importances(of: original, on: data, indices: Array(0..<20), batchSize: 20, control: JobControl())
        let g = try GradientStatistics.mean(Network(model: original), on: data, indices: Array(0..<20), batchSize: 20, kind: .gradient,
                                            granularity: .perBatch, control: JobControl(), stage: "test")
        for i in stride(from: 0, to: g.count, by: 7) { XCTAssertEqual(one[i], g[i] * g[i], accuracy: 1e-6 * max(1, one[i])) }
    }

    // MARK: fisher

    func testFisherNoiseFollowsTheInverseFisher() throws {
        let (original, data, split) = try setUp()
        let before = original.fingerprint
        // No cap in reach, so the Fisher alone sets each weight's noise; all of retain, as the Fisher below.
        let alpha: Float = 1e-5
        let outcome = try Fisher().unlearn(context(original, data, split, ["alpha": 1e-5, "maxStd": 1e3, "classScale": 1, "maxExamples": 0]))
        XCTAssertEqual(original.fingerprint, before)
        let fisher = try Fisher.diagonal(of: original, on: data, indices: split.retain, control: JobControl())
        let std = Fisher.noiseStandardDeviations(fisher: fisher, model: original, alpha: alpha, maxStd: 1e3, classScale: 1)
        for i in 0..<std.count where fisher[i] > 0 { XCTAssertEqual(std[i], (alpha / fisher[i]).squareRoot(), accuracy: 1e-6 * std[i]) }
        let delta = (0..<original.parameterCount).map { Double(outcome.model.parameters[$0]) - Double(original.parameters[$0]) }
        // Standardised by the predicted deviation the noise is N(0, 1): mean square about 1.
        let usable = (0..<delta.count).filter { fisher[$0] > 0 }
        let meanSquare = usable.reduce(0.0) { $0 + pow(delta[$1] / Double(std[$1]), 2) } / Double(usable.count)
        XCTAssertEqual(meanSquare, 1, accuracy: 0.35, "noise / predicted std has mean square \(meanSquare) over \(usable.count) weights")
        // Weights with the larger Fisher move less, on average.
        let byFisher = usable.sorted { fisher[$0] < fisher[$1] }
        let low = byFisher.prefix(byFisher.count / 2), high = byFisher.suffix(byFisher.count / 2)
        func meanMove(_ s: ArraySlice<Int>) -> Double { s.reduce(0.0) { $0 + abs(delta[$1]) } / Double(s.count) }
        XCTAssertLessThan(meanMove(high), 0.5 * meanMove(low), "high-Fisher half moved \(meanMove(high)), low-Fisher half \(meanMove(low))")
        // The cap binds where alpha / F is large, and class-sized parameters (the last bias) get classScale times it.
        let capped = Fisher.noiseStandardDeviations(fisher: fisher, model: original, alpha: 1, maxStd: 1e-3, classScale: 10)
        let lastBias = try XCTUnwrap(original.entries.last { !$0.isBuffer })
        XCTAssertEqual(lastBias.shape, [3])
        for i in 0..<original.parameterCount {
            XCTAssertEqual(capped[i], i >= lastBias.offset ? 1e-2 : 1e-3, accuracy: 1e-9)
        }
    }

    // MARK: boundary-shrink

    func testBoundaryShrinkLabelsAreWrongClassesAndForgetAccuracyDrops() throws {
        let (original, data, split) = try setUpClassForget()
        let before = original.fingerprint
        let x = Tensor(shape: [split.forget.count, 6])
        var truth = [Int32](repeating: 0, count: split.forget.count)
        truth.withUnsafeMutableBufferPointer { data.gather(split.forget[...], into: x, labels: $0.baseAddress!) }
        let teacher = Network(model: original)
        let nearest = BoundaryShrink.nearestWrongLabels(teacher, x: x, labels: truth, bound: 0.1)
        XCTAssertEqual(original.fingerprint, before)
        for i in 0..<truth.count { XCTAssertNotEqual(nearest.labels[i], truth[i], "example \(i) kept its true label") }
        // Where FGSM crossed a boundary, the label is the class the original gives the adversarial input.
        XCTAssertGreaterThanOrEqual(nearest.flipped, 0)
        let forgetBefore = try predictions(original, data, split.forget).accuracy
        // The reference's lr 1e-5 for ten epochs of two batches barely moves this tiny model; 0.01 does.
        let outcome = try BoundaryShrink().unlearn(context(original, data, split, ["lr": 0.01]))
        XCTAssertEqual(original.fingerprint, before, "the source was modified")
        let forgetAfter = try predictions(outcome.model, data, split.forget).accuracy
        let retainAfter = try predictions(outcome.model, data, split.retain).accuracy
        XCTAssertLessThan(forgetAfter, forgetBefore - 0.2, "forget accuracy \(forgetBefore) → \(forgetAfter)")
        XCTAssertGreaterThan(retainAfter, 0.6, "retain accuracy after: \(retainAfter)")
        XCTAssertNotNil(outcome.details["fgsmFlipRate"])
    }

    // MARK: finite differences

    /// A tiny smooth network (tanh, so central differences never straddle a kink), a batch and labels.
    private func tinyNetwork() throws -> (Network, Tensor, [Int32]) {
        let architecture = Architecture(kind: "layers", layers: [LayerSpec(type: "linear", out: 5), LayerSpec(type: "tanh"),
                                                                 LayerSpec(type: "linear", out: 3)])
        let model = try Model(architecture: architecture, inputShape: [4], classCount: 3, seed: 7)
        var rng = SeededGenerator(seed: 8)
        let x = Tensor(shape: [6, 4], values: (0..<24).map { _ in rng.uniform(-1.5, 1.5) })
        return (Network(model: model), x, [0, 1, 2, 2, 1, 0])
    }

    private func tinyTeacherLogits(rows: Int, seed: UInt64 = 9) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [rows, 3], values: (0..<(rows * 3)).map { _ in rng.uniform(-2, 2) })
    }

    /// Σ_b Σ_c p_t·(log p_t − log p_s) with p = softmax(z/T), in Double.
    private func referenceKL(student: Tensor, teacher: Tensor, temperature t: Float) -> Double {
        var sum = 0.0
        let classes = student.rowSize
        for b in 0..<student.rows {
            func logSoftmax(_ z: Tensor) -> [Double] {
                let row = (0..<classes).map { Double(z[b * classes + $0]) / Double(t) }
                let m = row.max()!, lse = m + log(row.reduce(0.0) { $0 + exp($1 - m) })
                return row.map { $0 - lse }
            }
            let lt = logSoftmax(teacher), ls = logSoftmax(student)
            for c in 0..<classes { sum += exp(lt[c]) * (lt[c] - ls[c]) }
        }
        return sum
    }

    /// Every parameter's analytic gradient of `loss` (a function of the network's logits that writes ∂loss/∂logits when
    /// given a tensor) against central differences, with GradientCheck.swift's bounds: |a − n| ≤ 1e-3 + 1e-2·max(|a|, |n|).
    private func assertParameterGradients(_ network: Network, _ x: Tensor, _ what: String, eps: Float = 1e-2,
                                          file: StaticString = #filePath, line: UInt = #line,
                                          loss: (Tensor, Tensor?) -> Float) {
        let model = network.model
        network.zeroGradients()
        let d = Tensor(shape: [0])
        _ = loss(network.forward(x, training: true), d)
        network.backward(d)
        let analytic = (0..<model.parameterCount).map { Double(network.gradients[$0]) }
        var largest = 0.0
        for i in 0..<model.parameterCount {
            let saved = model.parameters[i]
            model.parameters[i] = saved + eps
            let up = Double(loss(network.forward(x, training: true), nil))
            model.parameters[i] = saved - eps
            let down = Double(loss(network.forward(x, training: true), nil))
            model.parameters[i] = saved
            let numeric = (up - down) / Double(2 * eps)
            largest = max(largest, abs(numeric))
            XCTAssertTrue(analytic[i].isFinite && abs(analytic[i] - numeric) <= 1e-3 + 1e-2 * max(abs(analytic[i]), abs(numeric)),
                          "\(what) ∂/∂θ[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", file: file, line: line)
        }
        XCTAssertGreaterThan(largest, 1e-2, "\(what): gradients too small for the check to mean anything", file: file, line: line)
    }
}
