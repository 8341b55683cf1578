// What every registered method must do, whatever it is: leave its source bit-identical, give the same bits for
// the same seed, declare well-formed typed hyperparameters and refuse unknown or mistyped ones by name. And the
// three methods of this file's second half: reset-finetune, cf-k, eu-k.
import Datasets
import NeuralNet
import Tensor
import Unlearning
import XCTest

final class RegistryMethodsTests: XCTestCase {
    private func setUp(_ hidden: [Int] = [16]) throws -> (Model, LabeledExamples, Split, TrainingRecipe) {
        let data = try blobs(300, seed: 1)
        let model = try Model(architecture: Architecture(kind: "mlp", hidden: hidden), inputShape: [6], classCount: 3, seed: 1)
        let recipe = TrainingRecipe(epochs: 3, batchSize: 32, learningRate: 0.05)
        var rng = SeededGenerator(seed: 2)
        _ = try Trainer.train(Network(model: model), on: data, indices: Array(0..<300), recipe: recipe, rng: &rng, control: JobControl())
        return (model, data, Split(retain: Array(30..<300), forget: Array(0..<30), validation: [], test: []), recipe)
    }

    private func run(_ method: UnlearningMethod, _ m: Model, _ d: LabeledExamples, _ s: Split, _ r: TrainingRecipe,
                     _ h: [String: HyperparameterValue] = [:], seed: UInt64 = 3) throws -> UnlearningOutcome {
        try method.unlearn(UnlearningContext(original: m, originalRecipe: r, data: d, split: s, hyperparameters: Hyperparameters(h),
                                             seed: seed, control: JobControl()))
    }

    func testEveryMethodLeavesItsSourceAndRepeatsItsBits() throws {
        let (original, data, split, recipe) = try setUp()
        let before = original.fingerprint
        for method in UnlearningRegistry.all {
            let a = try run(method, original, data, split, recipe)
            XCTAssertEqual(original.fingerprint, before, "\(method.name) modified its source")
            let b = try run(method, original, data, split, recipe)
            XCTAssertEqual(a.model.fingerprint, b.model.fingerprint, "\(method.name): same seed, same bits")
            XCTAssertNotEqual(a.model.fingerprint, before, "\(method.name) changed nothing")
            for spec in method.hyperparameters where spec.defaultValue != nil {
                XCTAssertNotNil(a.hyperparameters[spec.name], "\(method.name) reports \(spec.name)")
            }
        }
    }

    func testHyperparametersAreDeclaredWellAndCheckedByName() throws {
        let (original, data, split, recipe) = try setUp()
        XCTAssertEqual(Set(UnlearningRegistry.names).count, UnlearningRegistry.all.count, "unique names")
        for method in UnlearningRegistry.all {
            XCTAssertFalse(method.summary.isEmpty || method.reference.isEmpty || method.referenceDefaults.isEmpty, method.name)
            XCTAssertEqual(Set(method.hyperparameters.map(\.name)).count, method.hyperparameters.count, "\(method.name): unique names")
            for spec in method.hyperparameters {
                guard let value = spec.defaultValue else { continue }
                switch (spec.kind, value) {
                case (.number, .number), (.integer, .integer), (.bool, .bool), (.string, .string): break
                default: XCTFail("\(method.name).\(spec.name): default \(value) is not a \(spec.kind)")
                }
                if case .number(let x) = value, let range = spec.range { XCTAssertTrue(range.contains(x), "\(method.name).\(spec.name)") }
                if case .integer(let x) = value, let range = spec.range { XCTAssertTrue(range.contains(Double(x)), "\(method.name).\(spec.name)") }
            }
            XCTAssertThrowsError(try run(method, original, data, split, recipe, ["nonsense": 1])) {
                XCTAssertTrue("\($0)".contains("no hyperparameter 'nonsense'"), "\($0)")
            }
            if let spec = method.hyperparameters.first {
                let wrong: HyperparameterValue = spec.kind == .string ? .number(1) : .string("x")
                XCTAssertThrowsError(try run(method, original, data, split, recipe, [spec.name: wrong])) {
                    XCTAssertTrue("\($0)".contains("hyperparameter '\(spec.name)'"), "\(method.name): \($0)")
                }
            }
        }
        XCTAssertThrowsError(try run(Finetune(), original, data, split, recipe, ["epochs": 1.5])) {
            XCTAssertTrue("\($0)".contains("'epochs' must be a whole number"), "\($0)")
        }
        XCTAssertThrowsError(try run(Finetune(), original, data, split, recipe, ["lr": 0])) {
            XCTAssertTrue("\($0)".contains("'lr' must be in"), "\($0)")
        }
    }

    // MARK: reset-finetune

    func testResetMaskTakesTheLeastImportantFraction() {
        let importance: [Float] = [0.5, 0.1, 0.9, 0.1, 0.3, 0.0, 0.7, 0.2, 0.6, 0.4]
        XCTAssertEqual(ResetFinetune.resetMask(importance: importance, fraction: 0.3),
                       [false, true, false, true, false, true, false, false, false, false])
        XCTAssertEqual(ResetFinetune.resetMask(importance: importance, fraction: 0).filter { $0 }.count, 0)
        XCTAssertEqual(ResetFinetune.resetMask(importance: importance, fraction: 1).filter { $0 }.count, 10)
    }

    /// With a learning rate too small to move a float32 weight, the result is the reset model itself: every weight
    /// is either the source's or the fresh initialisation's, and the reset share is what the method reports.
    func testResetFinetuneResetsTheFractionItReports() throws {
        let (original, data, split, recipe) = try setUp()
        let out = try run(ResetFinetune(), original, data, split, recipe, ["epochs": 1, "lr": 1e-12, "weightDecay": 0])
        let reported = try XCTUnwrap(out.details["resetFraction"])
        var changed = 0
        for i in 0..<original.parameterCount where out.model.parameters[i] != original.parameters[i] { changed += 1 }
        let n = Double(original.parameterCount)
        XCTAssertEqual(reported, (0.3 * n).rounded(.down) / n, accuracy: 1e-12)
        // A fresh value can coincide with the old one only by chance; float32 makes that vanishingly rare.
        XCTAssertEqual(Double(changed) / n, reported, accuracy: 2 / n)
    }

    // MARK: cf-k and eu-k

    /// Modules of the mlp [6 → 16 → 8 → 3]: "1", "3", "5". k = 2 trains "3" and "5"; "1" stays bit-identical.
    func testLastKLayersMethodsTouchOnlyTheLastKModules() throws {
        let (original, data, split, recipe) = try setUp([16, 8])
        XCTAssertEqual(original.moduleNames, ["1", "3", "5"])
        for method in [CatastrophicForgettingK(), ExactUnlearningK()] as [UnlearningMethod] {
            let out = try run(method, original, data, split, recipe, ["k": 2, "epochs": 1])
            for entry in original.entries {
                let a = Array(UnsafeBufferPointer(start: original.pointer(to: entry), count: entry.count))
                let b = Array(UnsafeBufferPointer(start: out.model.pointer(to: entry), count: entry.count))
                if entry.name.hasPrefix("1.") {
                    XCTAssertEqual(a, b, "\(method.name): \(entry.name) is frozen")
                } else {
                    XCTAssertTrue(zip(a, b).allSatisfy { $0 != $1 }, "\(method.name): every value of \(entry.name) changed")
                }
            }
            XCTAssertThrowsError(try run(method, original, data, split, recipe, ["k": 4])) {
                XCTAssertTrue("\($0)".contains("'k' must be between 1 and the model's 3 modules"), "\($0)")
            }
        }
    }

    /// eu-k starts the last k modules from a fresh initialisation: with a negligible learning rate they hold the
    /// fresh model's values, not the source's.
    func testExactUnlearningKReinitialisesTheLastModules() throws {
        let (original, data, split, recipe) = try setUp([16, 8])
        let out = try run(ExactUnlearningK(), original, data, split, recipe, ["k": 1, "epochs": 1, "lr": 1e-12, "weightDecay": 0])
        let head = try XCTUnwrap(original.entry(named: "5.weight"))
        let after = Array(UnsafeBufferPointer(start: out.model.pointer(to: head), count: head.count))
        let bound = 1 / Float(8).squareRoot()  // PyTorch's Linear init: U(±1/√fan_in)
        XCTAssertTrue(after.allSatisfy { abs($0) <= bound })
        XCTAssertNotEqual(after, Array(UnsafeBufferPointer(start: original.pointer(to: head), count: head.count)))
    }
}
