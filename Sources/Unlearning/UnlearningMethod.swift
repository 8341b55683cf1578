// The contract every unlearning method fulfils, and what it is given to work with.
import Datasets
import NeuralNet
import Tensor

/// Everything a method may read. The original model is never modified: methods return a new model.
public struct UnlearningContext {
    public let original: Model
    /// The recipe the original was trained with, if known (`retrain` repeats it).
    public let originalRecipe: TrainingRecipe?
    /// The training part the split's retain and forget indices point into.
    public let data: LabeledExamples
    /// What training passes read: `data`, augmented when the dataset was loaded with augmentation (the recipe a
    /// retrain repeats includes it). Measurements (losses, saliency, Fisher information) read `data` itself.
    public let trainingSource: ExampleSource
    public let split: Split
    public let hyperparameters: Hyperparameters
    public let seed: UInt64
    public let control: JobControl

    public init(original: Model, originalRecipe: TrainingRecipe?, data: LabeledExamples, trainingSource: ExampleSource? = nil,
                split: Split, hyperparameters: Hyperparameters, seed: UInt64, control: JobControl) {
        self.original = original
        self.originalRecipe = originalRecipe
        self.data = data
        self.trainingSource = trainingSource ?? data
        self.split = split
        self.hyperparameters = hyperparameters
        self.seed = seed
        self.control = control
    }
}

public protocol UnlearningMethod: Sendable {
    /// The wire name, e.g. "finetune".
    var name: String { get }
    var summary: String { get }
    /// Every hyperparameter the method reads, with its default (DESIGN.md §6, tuned for the zoo on Fashion-MNIST).
    var defaults: [String: Double] { get }
    /// Whether the method reads forget examples (gradient ascent, saliency, teachers on forget). A method that says
    /// false promises its passes read retain examples only, and `UnlearningTests` holds it to that by recording
    /// every index its training source gathers. No default: every method must declare it.
    var readsForget: Bool { get }
    func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome
}

/// What a method produced: the new model, the hyperparameters it actually used, and the recipe a later `retrain`
/// of this model should repeat.
public struct UnlearningOutcome {
    public let model: Model
    public let hyperparameters: [String: Double]
    public let recipe: TrainingRecipe?
}

/// Numeric hyperparameters by name, checked against a method's defaults so a typo is an error, not a silent default.
public struct Hyperparameters: Sendable {
    public let values: [String: Double]
    public init(_ values: [String: Double] = [:]) { self.values = values }

    public func resolved(for method: UnlearningMethod) throws -> [String: Double] {
        let known = method.defaults
        if let unknown = values.keys.sorted().first(where: { known[$0] == nil }) {
            throw UnlearningError("method '\(method.name)' has no hyperparameter '\(unknown)'; it takes: \(known.keys.sorted().joined(separator: ", "))")
        }
        if let (key, value) = values.sorted(by: { $0.key < $1.key }).first(where: { !$0.value.isFinite || abs($0.value) > 1e9 }) {
            throw UnlearningError("hyperparameter '\(key)' must be a finite number of reasonable size, got \(value)")
        }
        return known.merging(values) { _, given in given }
    }
}

public struct UnlearningError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Dictionary where Key == String, Value == Double {
    /// Reads a resolved hyperparameter; methods only ask for keys in their own defaults.
    func value(_ key: String) -> Double { self[key]! }
    /// Integer hyperparameters (epochs, batchSize): whole numbers only, so what is reported is what ran. Values were
    /// checked finite and |x| ≤ 1e9 by `resolved`, so the conversion cannot trap.
    func int(_ key: String) throws -> Int {
        let v = self[key]!
        guard v.rounded() == v else { throw UnlearningError("hyperparameter '\(key)' must be a whole number, got \(v)") }
        return Int(v)
    }
    func float(_ key: String) -> Float { Float(self[key]!) }
}
