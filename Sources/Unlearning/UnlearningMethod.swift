// The contract every unlearning method fulfils, and what it is given to work with.
import Datasets
import NeuralNet
import Tensor

/// Everything a method may read. The original model is never modified: methods return a new model.
public struct UnlearningContext {
    /// The trained model to unlearn from; never written.
    public let original: Model
    /// The recipe the original was trained with, if known (`retrain` repeats it).
    public let originalRecipe: TrainingRecipe?
    /// The training part the split's retain and forget indices point into.
    public let data: LabeledExamples
    /// What training passes read: `data`, augmented when the dataset was loaded with augmentation (the recipe a
    /// retrain repeats includes it). Measurements (losses, saliency, Fisher information) read `data` itself.
    public let trainingSource: ExampleSource
    /// Retain, forget, validation and test indices.
    public let split: Split
    /// The request's hyperparameters, checked by `resolved(for:)`.
    public let hyperparameters: Hyperparameters
    /// Seeds every random draw of the method.
    public let seed: UInt64
    /// Cancellation and progress of the job.
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

/// An unlearning method: one file, one registry line.
public protocol UnlearningMethod: Sendable {
    /// The wire name, e.g. "finetune".
    var name: String { get }
    /// One line: what the method does.
    var summary: String { get }
    /// Where the method comes from: paper and reference code.
    var reference: String { get }
    /// The reference code's defaults (usually for ResNet-18 on CIFAR-10), as a short text for Docs/Methods.md.
    var referenceDefaults: String { get }
    /// Why the defaults here differ from the reference's, or "" when they do not.
    var defaultsNote: String { get }
    /// Every hyperparameter the method reads, typed, with its default (tuned for the zoo on Fashion-MNIST; the
    /// reference defaults and why these differ are in Docs/Methods.md).
    var hyperparameters: [HyperparameterSpec] { get }
    /// Whether the method reads forget examples (gradient ascent, saliency, teachers on forget). A method that says
    /// false promises its passes read retain examples only, and `UnlearningTests` holds it to that by recording
    /// every index its training source gathers. No default: every method must declare it.
    var readsForget: Bool { get }
    func unlearn(_ context: UnlearningContext) throws -> UnlearningOutcome
}

/// What a method produced: the new model, the hyperparameters it actually used, and the recipe a later `retrain`
/// of this model should repeat.
public struct UnlearningOutcome {
    /// The unlearned model.
    public let model: Model
    /// Every hyperparameter the method ran with.
    public let hyperparameters: [String: HyperparameterValue]
    /// The recipe a later `retrain` of this model repeats.
    public let recipe: TrainingRecipe?
    /// Numbers a method measured about itself, e.g. the fraction of weights it reset or changed.
    public let details: [String: Double]
    public init(model: Model, hyperparameters: [String: HyperparameterValue], recipe: TrainingRecipe?, details: [String: Double] = [:]) {
        self.model = model
        self.hyperparameters = hyperparameters
        self.recipe = recipe
        self.details = details
    }
}

/// A method's refusal, with a message naming the hyperparameter or condition.
public struct UnlearningError: Error, CustomStringConvertible, Sendable {
    /// The refusal's message.
    public let description: String
    public init(_ description: String) { self.description = description }
}
