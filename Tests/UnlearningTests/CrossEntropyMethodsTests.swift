// The cross-entropy methods (gradient-ascent, neggrad+, random-labels, salun, l1-sparse) do what they claim, on small
// in-memory data: each claim is measured against the source model or against finetune with the same budget, and
// every loss term a method adds has a finite-difference check with the strict bounds of NeuralNetTests'
// GradientCheck.swift (1e-3 absolute + 1e-2 relative; that helper lives in another test target, so its bound is
// repeated here).
import Datasets
import NeuralNet
import Tensor
import Unlearning
import XCTest

/// GradientCheck.swift's bound: |analytic − numeric| ≤ 1e-3 + 1e-2·max(|analytic|, |numeric|).
private func assertGradientClose(_ analytic: Double, _ numeric: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    let ok = analytic.isFinite && numeric.isFinite && abs(analytic - numeric) <= 1e-3 + 1e-2 * max(abs(analytic), abs(numeric))
    XCTAssertTrue(ok, "\(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
}

final class CrossEntropyMethodsTests: XCTestCase {
    /// An mlp trained on three blobs; forget = the first 30 examples.
    private func original() throws -> (Model, LabeledExamples, Split) {
        let data = try blobs(300, seed: 1)
        let model = try Model(architecture: Architecture(kind: "mlp", hidden: [16]), inputShape: [6], classCount: 3, seed: 1)
        var rng = SeededGenerator(seed: 2)
        _ = try Trainer.train(Network(model: model), on: data, indices: Array(0..<300), recipe: TrainingRecipe(epochs: 10, batchSize: 32, learningRate: 0.05),
                              rng: &rng, control: JobControl())
        return (model, data, Split(retain: Array(30..<300), forget: Array(0..<30), validation: [], test: []))
    }

    private func run(_ name: String, _ m: Model, _ d: LabeledExamples, _ s: Split, _ h: [String: HyperparameterValue] = [:],
                     source: ExampleSource? = nil, seed: UInt64 = 3) throws -> UnlearningOutcome {
        let method = try XCTUnwrap(UnlearningRegistry.method(named: name), name)
        return try method.unlearn(UnlearningContext(original: m, originalRecipe: nil, data: d, trainingSource: source, split: s,
                                                    hyperparameters: Hyperparameters(h), seed: seed, control: JobControl()))
    }

    private func measure(_ m: Model, _ d: LabeledExamples, _ indices: [Int]) throws -> Predictions {
        try Inference.predict(Network(model: m), on: d, indices: indices)
    }

    func testEveryMethodLeavesItsSourceUntouchedIsSeededAndDeclaresWhatItReads() throws {
        let (model, data, split) = try original()
        let before = model.fingerprint
        for name in ["gradient-ascent", "neggrad+", "random-labels", "salun", "l1-sparse"] {
            let recording = RecordingSource(data)
            let a = try run(name, model, data, split, ["epochs": 2, "batchSize": 8], source: recording)
            XCTAssertEqual(model.fingerprint, before, "\(name) modified its source")
            XCTAssertNotEqual(a.model.fingerprint, before, "\(name) changed nothing")
            XCTAssertEqual(try run(name, model, data, split, ["epochs": 2, "batchSize": 8]).model.fingerprint, a.model.fingerprint, "\(name): same seed, same bits")
            XCTAssertNotEqual(try run(name, model, data, split, ["epochs": 2, "batchSize": 8], seed: 4).model.fingerprint, a.model.fingerprint, "\(name): the seed matters")
            let method = try XCTUnwrap(UnlearningRegistry.method(named: name))
            // A method that reads forget examples must say so (the retain-only promise is checked in UnlearningTests).
            XCTAssertEqual(method.readsForget, !Set(recording.gathered).isDisjoint(with: split.forget), "\(name): readsForget")
            XCTAssertEqual(a.hyperparameters["epochs"], 2)
        }
    }

    // MARK: gradient-ascent

    func testGradientAscentRaisesTheForgetLoss() throws {
        let (model, data, split) = try original()
        let before = try measure(model, data, split.forget)
        let outcome = try run("gradient-ascent", model, data, split, ["epochs": 10, "lr": 0.05, "batchSize": 10])
        let after = try measure(outcome.model, data, split.forget)
        XCTAssertGreaterThan(after.meanLoss, before.meanLoss + 0.5, "forget loss \(before.meanLoss) → \(after.meanLoss)")
        XCTAssertEqual(outcome.details["forgetLoss"] ?? .nan, after.meanLoss, accuracy: 1e-6)
    }

    /// The gradient GradientAscent accumulates is that of −CE(forget), against central differences.
    func testGradientAscentGradientIsThatOfTheNegatedCrossEntropy() throws {
        let (_, data, split) = try original()
        let tiny = try Model(architecture: Architecture(kind: "mlp", hidden: [4]), inputShape: [6], classCount: 3, seed: 5)
        let network = Network(model: tiny)
        var rng = SeededGenerator(seed: 1)
        let stream = ExampleStream(source: data, indices: split.forget, batchSize: split.forget.count)
        var checked = 0
        _ = try TrainingLoop.run(network, streams: [stream], recipe: TrainingRecipe(epochs: 1, learningRate: 1e-9, momentum: 0, weightDecay: 0),
                                 rng: &rng, control: JobControl(), stage: "check") { step in
            let batch = step.batches[0]
            let outcome = GradientAscent.stepLoss(network, forget: batch)
            checked = checkGradient(network, what: "−CE") { -crossEntropy(network, batch) }
            return outcome
        }
        XCTAssertEqual(checked, tiny.parameterCount)
    }

    // MARK: neggrad+

    /// neggrad+ fine-tunes on retain while pushing the forget loss up: its forget loss ends above finetune's with the
    /// same budget (which only lowers it further) and above the source's, and retain accuracy stays high.
    func testNegGradPlusAscendsTheForgetLossWhileKeepingRetain() throws {
        let (model, data, split) = try original()
        let budget: [String: HyperparameterValue] = ["epochs": 10, "lr": 0.05, "momentum": 0.9, "weightDecay": 0, "batchSize": 32]
        let neg = try run("neggrad+", model, data, split, budget.merging(["alpha": 0.8, "forgetBatchSize": 10]) { $1 })
        let ft = try run("finetune", model, data, split, budget)
        let source = try measure(model, data, split.forget).meanLoss
        let negForget = try measure(neg.model, data, split.forget).meanLoss, ftForget = try measure(ft.model, data, split.forget).meanLoss
        XCTAssertGreaterThan(negForget, source + 0.3, "neggrad+ forget loss \(negForget) vs source \(source)")
        XCTAssertGreaterThan(negForget, ftForget + 0.3, "neggrad+ forget loss \(negForget) vs finetune \(ftForget)")
        XCTAssertGreaterThan(try measure(neg.model, data, split.retain).accuracy, 0.8, "retain accuracy collapsed")
    }

    /// The objective NegGradPlus accumulates is α·CE(retain) − (1−α)·CE(forget), against central differences on a
    /// tiny network.
    func testNegGradPlusGradientIsThatOfItsObjective() throws {
        let (_, data, split) = try original()
        let tiny = try Model(architecture: Architecture(kind: "mlp", hidden: [4]), inputShape: [6], classCount: 3, seed: 6)
        let network = Network(model: tiny)
        var rng = SeededGenerator(seed: 1)
        let retain = ExampleStream(source: data, indices: Array(split.retain.prefix(40)), batchSize: 40)
        let forget = ExampleStream(source: data, indices: split.forget, batchSize: 30)
        let alpha: Float = 0.7
        var checked = 0
        _ = try TrainingLoop.run(network, streams: [retain, forget], recipe: TrainingRecipe(epochs: 1, learningRate: 1e-9, momentum: 0, weightDecay: 0),
                                 rng: &rng, control: JobControl(), stage: "check") { step in
            let (r, f) = (step.batches[0], step.batches[1])
            let outcome = NegGradPlus.stepLoss(network, retain: r, forget: f, alpha: alpha)
            let objective = Double(alpha) * crossEntropy(network, r) - Double(1 - alpha) * crossEntropy(network, f)
            XCTAssertEqual(outcome.loss, objective, accuracy: 1e-5, "reported loss is the objective")
            checked = checkGradient(network, what: "α·CE(r) − (1−α)·CE(f)") {
                Double(alpha) * crossEntropy(network, r) - Double(1 - alpha) * crossEntropy(network, f)
            }
            return outcome
        }
        XCTAssertEqual(checked, tiny.parameterCount)
    }

    // MARK: random-labels

    func testWrongLabelsAreNeverTheTrueLabelAndCoverTheOthers() {
        var rng = SeededGenerator(seed: 9)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 {
            let y = RandomLabels.wrongLabel(for: 2, classCount: 5, rng: &rng)
            counts[Int(y)] += 1
        }
        XCTAssertEqual(counts[2], 0)
        for c in [0, 1, 3, 4] { XCTAssertEqual(Double(counts[c]), 1250, accuracy: 150, "class \(c): \(counts)") }
    }

    /// Training the forget set towards wrong labels lowers its accuracy below what finetune with the same budget
    /// leaves, while retain accuracy stays high.
    func testRandomLabelsDropsForgetAccuracyBelowFinetune() throws {
        let (model, data, split) = try original()
        let budget: [String: HyperparameterValue] = ["epochs": 20, "lr": 0.05, "batchSize": 16]
        let rl = try run("random-labels", model, data, split, budget)
        let ft = try run("finetune", model, data, split, budget)
        let rlForget = try measure(rl.model, data, split.forget).accuracy, ftForget = try measure(ft.model, data, split.forget).accuracy
        XCTAssertLessThan(rlForget, ftForget - 0.1, "random-labels forget accuracy \(rlForget) vs finetune \(ftForget)")
        XCTAssertGreaterThan(try measure(rl.model, data, split.retain).accuracy, 0.8)
    }

    // MARK: salun

    /// The mask keeps exactly int(N·fraction) weights, and they are the largest |∇ CE(forget)| over all parameters.
    func testSaliencyMaskIsTheTopFractionOfForgetGradientMagnitudes() throws {
        let (model, data, split) = try original()
        let before = model.fingerprint
        let mask = try SalUn.saliencyMask(model, on: data, forget: split.forget, fraction: 0.3, batchSize: 16, control: JobControl())
        XCTAssertEqual(model.fingerprint, before)
        XCTAssertEqual(mask.count, model.parameterCount)
        XCTAssertEqual(mask.filter { $0 == 1 }.count, Int(Double(model.parameterCount) * 0.3))
        XCTAssertTrue(mask.allSatisfy { $0 == 0 || $0 == 1 })
        let g = try GradientStatistics.mean(Network(model: model), on: data, indices: split.forget, batchSize: 16, kind: .gradient,
                                            granularity: .perBatch, control: JobControl(), stage: "check")
        let inside = (0..<g.count).filter { mask[$0] == 1 }.map { abs(g[$0]) }
        let outside = (0..<g.count).filter { mask[$0] == 0 }.map { abs(g[$0]) }
        XCTAssertGreaterThanOrEqual(inside.min()!, outside.max()!, "global top fraction, not per layer")
        // Several layers take part: the ranking is joint, not one layer's.
        let ranges = model.entries.filter { !$0.isBuffer }.map { $0.offset..<($0.offset + $0.count) }
        XCTAssertGreaterThan(ranges.filter { r in r.contains { mask[$0] == 1 } }.count, 1)
    }

    /// salun changes no weight outside its mask (bit-identical to the source, weight decay and momentum notwithstanding)
    /// and does change weights inside it.
    func testSalUnChangesNoWeightOutsideItsMask() throws {
        let (model, data, split) = try original()
        let h: [String: HyperparameterValue] = ["epochs": 3, "fraction": 0.4, "weightDecay": 0.01, "batchSize": 16]
        let outcome = try run("salun", model, data, split, h)
        let mask = try SalUn.saliencyMask(model, on: data, forget: split.forget, fraction: 0.4, batchSize: 16, control: JobControl())
        var changedInside = 0, movedOutside: [Int] = []
        for i in 0..<model.parameterCount {
            let same = outcome.model.parameters[i].bitPattern == model.parameters[i].bitPattern
            if mask[i] == 0 && !same { movedOutside.append(i) }
            if mask[i] == 1 && !same { changedInside += 1 }
        }
        XCTAssertEqual(movedOutside, [], "\(movedOutside.count) weights outside the mask moved")
        XCTAssertGreaterThan(changedInside, mask.filter { $0 == 1 }.count / 2)
        XCTAssertEqual(outcome.details["maskFraction"] ?? .nan, Double(Int(Double(model.parameterCount) * 0.4)) / Double(model.parameterCount), accuracy: 1e-12)
    }

    // MARK: l1-sparse

    /// l1-sparse leaves more near-zero weights (|w| < 1e-3) than finetune with the same budget.
    func testL1SparseLeavesMoreNearZeroWeightsThanFinetune() throws {
        let (model, data, split) = try original()
        let budget: [String: HyperparameterValue] = ["epochs": 20, "lr": 0.05, "batchSize": 32]
        func nearZero(_ m: Model) -> Int { (0..<m.parameterCount).filter { abs(m.parameters[$0]) < 1e-3 }.count }
        let l1 = try run("l1-sparse", model, data, split, budget.merging(["alpha": 0.01]) { $1 })
        let ft = try run("finetune", model, data, split, budget)
        XCTAssertGreaterThan(nearZero(l1.model), nearZero(ft.model) + 5, "l1-sparse \(nearZero(l1.model)) vs finetune \(nearZero(ft.model))")
        XCTAssertEqual(l1.details["nearZeroFraction"] ?? .nan, Double(nearZero(l1.model)) / Double(model.parameterCount), accuracy: 1e-12)
        XCTAssertGreaterThan(try measure(l1.model, data, split.retain).accuracy, 0.8)
    }

    /// The hook adds the gradient of α·‖θ‖₁ (checked by central differences away from 0, where it is smooth), and α_t
    /// decays per epoch as the reference's α·(1 − epoch/E).
    func testL1GradientAndItsSchedule() {
        var rng = SeededGenerator(seed: 4)
        let n = 50
        var theta = (0..<n).map { _ -> Float in let v = rng.uniform(-1, 1); return v + (v < 0 ? -0.05 : 0.05) }
        let alpha: Float = 0.3
        var grad = [Float](repeating: 0, count: n)
        theta.withUnsafeBufferPointer { p in grad.withUnsafeMutableBufferPointer { L1Sparse.addL1Gradient(p.baseAddress!, $0.baseAddress!, count: n, coefficient: alpha) } }
        func penalty() -> Double { Double(alpha) * theta.reduce(0.0) { $0 + Double(abs($1)) } }
        let eps: Float = 1e-2
        for i in 0..<n {
            let saved = theta[i]
            theta[i] = saved + eps; let up = penalty()
            theta[i] = saved - eps; let down = penalty()
            theta[i] = saved
            assertGradientClose(Double(grad[i]), (up - down) / Double(2 * eps), "∂ α‖θ‖₁/∂θ[\(i)]")
        }
        XCTAssertEqual(L1Sparse.coefficient(alpha: 1e-4, epoch: 0, epochs: 10), 1e-4)
        XCTAssertEqual(L1Sparse.coefficient(alpha: 1e-4, epoch: 9, epochs: 10), 1e-5, accuracy: 1e-10)
        XCTAssertEqual(L1Sparse.coefficient(alpha: 1e-4, epoch: 5, epochs: 10), 5e-5, accuracy: 1e-10)
    }
}

/// Mean cross-entropy of the network on a batch, forward only, in Double.
private func crossEntropy(_ network: Network, _ batch: Batch) -> Double {
    let logits = network.forward(batch.x, training: true)
    return batch.labels.withUnsafeBufferPointer { Double(CrossEntropy.forward(logits: logits, labels: $0.baseAddress!)) }
}

/// Compares the network's accumulated gradients with central differences of `objective` for every parameter;
/// returns how many were checked. Restores every parameter it perturbs.
/// ε = 1e-3 rather than GradientCheck's 1e-2: these objectives are means over 30–40 real examples whose ReLU
/// pre-activations cannot be nudged off their kinks, and a step of 1e-2 crosses some of them.
private func checkGradient(_ network: Network, what: String, eps: Float = 1e-3, objective: () -> Double) -> Int {
    let model = network.model
    let analytic = Array(UnsafeBufferPointer(start: network.gradients, count: model.parameterCount))
    for i in 0..<model.parameterCount {
        let saved = model.parameters[i]
        model.parameters[i] = saved + eps; let up = objective()
        model.parameters[i] = saved - eps; let down = objective()
        model.parameters[i] = saved
        assertGradientClose(Double(analytic[i]), (up - down) / Double(2 * eps), "\(what): ∂/∂θ[\(i)]")
    }
    return model.parameterCount
}
