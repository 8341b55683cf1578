import Datasets
import NeuralNet
import Tensor
import Unlearning
import XCTest

/// Three noisy classes in 6 dimensions, as in-memory examples.
func blobs(_ n: Int, seed: UInt64) throws -> LabeledExamples {
    var rng = SeededGenerator(seed: seed)
    var x: [Float] = [], y: [Int32] = []
    for i in 0..<n {
        let label = i % 3
        for d in 0..<6 { x.append((d / 2 == label ? 1.2 : 0) + rng.normal()) }
        y.append(Int32(label))
    }
    return try LabeledExamples(exampleShape: [6], classCount: 3, features: x, labels: y)
}

final class UnlearningTests: XCTestCase {
    private func setUpOriginal() throws -> (Model, LabeledExamples, Split, TrainingRecipe) {
        let data = try blobs(300, seed: 1)
        let model = try Model(architecture: Architecture(kind: "mlp", hidden: [16]), inputShape: [6], classCount: 3, seed: 1)
        let recipe = TrainingRecipe(epochs: 3, batchSize: 32, learningRate: 0.05)
        var rng = SeededGenerator(seed: 2)
        _ = try Trainer.train(Network(model: model), on: data, indices: Array(0..<300), recipe: recipe, rng: &rng, control: JobControl())
        let split = Split(retain: Array(30..<300), forget: Array(0..<30), validation: [], test: [])
        return (model, data, split, recipe)
    }

    private func context(_ m: Model, _ d: LabeledExamples, _ s: Split, _ r: TrainingRecipe?, _ h: [String: HyperparameterValue] = [:]) -> UnlearningContext {
        UnlearningContext(original: m, originalRecipe: r, data: d, split: s, hyperparameters: Hyperparameters(h), seed: 3, control: JobControl())
    }

    func testFinetuneWritesANewModelAndLeavesTheOriginalUntouched() throws {
        let (original, data, split, recipe) = try setUpOriginal()
        let before = original.fingerprint
        let method = try XCTUnwrap(UnlearningRegistry.method(named: "finetune"))
        let result = try method.unlearn(context(original, data, split, recipe, ["epochs": 1]))
        XCTAssertEqual(original.fingerprint, before)
        XCTAssertNotEqual(result.model.fingerprint, before)
        XCTAssertEqual(try method.unlearn(context(original, data, split, recipe, ["epochs": 1])).model.fingerprint, result.model.fingerprint, "seeded")
        XCTAssertEqual(result.hyperparameters["epochs"], 1)
        XCTAssertEqual(result.hyperparameters["lr"], 0.01, "defaults are reported too")
        XCTAssertEqual(result.recipe, recipe, "a later retrain repeats the original recipe")
    }

    /// retrain repeats the original recipe from a fresh initialisation on retain only: the same as training a fresh
    /// model on the retain indices with that recipe and the method's seed stream.
    func testRetrainEqualsTrainingFromScratchOnRetain() throws {
        let (original, data, split, recipe) = try setUpOriginal()
        let outcome = try Retrain().unlearn(context(original, data, split, recipe))
        let retrained = outcome.model
        XCTAssertEqual(outcome.hyperparameters["epochs"], 3, "the recipe's values, not placeholders")
        XCTAssertEqual(outcome.recipe, recipe)
        var rng = SeededGenerator(seed: 3)
        let fresh = try Model(architecture: original.architecture, inputShape: [6], classCount: 3, seed: rng.next())
        _ = try Trainer.train(Network(model: fresh), on: data, indices: split.retain, recipe: recipe, rng: &rng, control: JobControl())
        XCTAssertEqual(retrained.fingerprint, fresh.fingerprint)
        // With an explicit epochs override the recipe changes, and so do the weights.
        let shorter = try Retrain().unlearn(context(original, data, split, recipe, ["epochs": 1]))
        XCTAssertNotEqual(shorter.model.fingerprint, fresh.fingerprint)
        XCTAssertEqual(shorter.recipe?.epochs, 1)
    }

    func testUnknownHyperparameterIsAnErrorListingTheKnownOnes() throws {
        let (original, data, split, recipe) = try setUpOriginal()
        XCTAssertThrowsError(try Finetune().unlearn(context(original, data, split, recipe, ["epoch": 1]))) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("no hyperparameter 'epoch'") && text.contains("epochs"), text)
        }
        XCTAssertThrowsError(try Finetune().unlearn(context(original, data, split, recipe, ["lr": 0])))
        XCTAssertThrowsError(try Finetune().unlearn(context(original, data, split, recipe, ["epochs": 1e20])), "no integer overflow trap")
    }

    /// A method that declares it does not read forget reads exactly the retain set. Two probes: its training
    /// source records every index gathered (each retain index once per epoch for methods with epochs, never a
    /// forget index), and the forget rows of the measured data are NaN: a measurement pass that read one
    /// (saliency, Fisher, importance) would leave NaN in the model or, where a cap hides the NaN, give other bits
    /// than the same run on the clean data.
    func testMethodsThatSayTheyReadRetainOnlyReadExactlyRetain() throws {
        let (original, data, split, recipe) = try setUpOriginal()
        var features = Array(UnsafeBufferPointer(start: data.features, count: data.count * 6))
        for i in split.forget { for k in 0..<6 { features[i * 6 + k] = .nan } }
        let poisoned = try LabeledExamples(exampleShape: [6], classCount: 3, features: features, labels: data.labels)
        var checked = 0
        for method in UnlearningRegistry.all where !method.readsForget {
            let recording = RecordingSource(data)
            let hasEpochs = method.hyperparameters.contains { $0.name == "epochs" }
            let out = try method.unlearn(UnlearningContext(original: original, originalRecipe: recipe, data: poisoned, trainingSource: recording,
                                                           split: split, hyperparameters: Hyperparameters(hasEpochs ? ["epochs": 2] : [:]),
                                                           seed: 1, control: JobControl()))
            if hasEpochs {
                XCTAssertEqual(recording.gathered.sorted(), (split.retain + split.retain).sorted(), "\(method.name): each retain index once per epoch")
            }
            XCTAssertTrue(Set(recording.gathered).isDisjoint(with: split.forget), "\(method.name) trained on a forget example")
            XCTAssertFalse((0..<out.model.parameterCount).contains { out.model.parameters[$0].isNaN }, "\(method.name) measured a forget example")
            // And bit for bit: what a method that never reads forget rows produces cannot depend on them.
            let clean = try method.unlearn(UnlearningContext(original: original, originalRecipe: recipe, data: data, trainingSource: RecordingSource(data),
                                                             split: split, hyperparameters: Hyperparameters(hasEpochs ? ["epochs": 2] : [:]),
                                                             seed: 1, control: JobControl()))
            XCTAssertEqual(clean.model.fingerprint, out.model.fingerprint, "\(method.name) depends on the forget rows")
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 6)
    }

    func testRegistryNamesTheMethods() {
        // The methods of Docs/Architecture.md §6 and issue 8, each registered once.
        XCTAssertEqual(Set(UnlearningRegistry.names), ["retrain", "finetune", "gradient-ascent", "neggrad+", "random-labels", "salun", "l1-sparse",
                                                       "scrub", "ssd", "bad-teacher", "fisher", "boundary-shrink", "reset-finetune", "cf-k", "eu-k"])
        XCTAssertEqual(UnlearningRegistry.names.count, 15)
        for m in UnlearningRegistry.all { XCTAssertFalse(m.summary.isEmpty) }
    }
}

/// Passes examples through and records every index gathered, in order.
final class RecordingSource: ExampleSource {
    let base: LabeledExamples
    var gathered: [Int] = []
    init(_ base: LabeledExamples) { self.base = base }
    var exampleShape: [Int] { base.exampleShape }
    var classCount: Int { base.classCount }
    var count: Int { base.count }
    func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels: UnsafeMutablePointer<Int32>) {
        gathered += indices
        base.gather(indices, into: x, labels: labels)
    }
}
