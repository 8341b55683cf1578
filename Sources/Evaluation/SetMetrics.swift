// Per-set metrics: accuracy and mean cross-entropy on retain, forget, validation and test (Docs/Architecture.md §7).
import Datasets
import NeuralNet

/// A model's accuracy and mean cross-entropy on one set.
public struct SetMetrics: Sendable {
    /// Examples in the set.
    public let count: Int
    /// Fraction predicted correctly (NaN for an empty set).
    public let accuracy: Double
    /// Mean per-example cross-entropy (NaN for an empty set).
    public let meanLoss: Double
}

/// A model's metrics on the four parts of a split.
public struct ModelReport: Sendable {
    /// On the retain set (RA).
    public let retain: SetMetrics
    /// On the forget set (1 − UA).
    public let forget: SetMetrics
    /// On the validation set.
    public let validation: SetMetrics
    /// On the test set (TA).
    public let test: SetMetrics
    /// Unlearning accuracy, UA = 1 − forget accuracy.
    public var unlearningAccuracy: Double { 1 - forget.accuracy }
}

/// Per-set metrics of a model.
public enum Evaluator {
    /// The metrics of one set's predictions.
    public static func metrics(_ p: Predictions) -> SetMetrics {
        SetMetrics(count: p.count, accuracy: p.accuracy, meanLoss: p.meanLoss)
    }

    /// How a model's outputs on examples are obtained: computed, or from a cache of earlier ones.
    public typealias Predict = (LabeledExamples, [Int]) throws -> Predictions

    /// Evaluates a model on the four parts of a split; `predict` (default: inference) supplies the outputs.
    public static func report(model: Model, dataset: Dataset, split: Split, control: JobControl? = nil,
                              predict: Predict? = nil) throws -> ModelReport {
        let network = Network(model: model)
        func run(_ source: LabeledExamples, _ indices: [Int]) throws -> SetMetrics {
            if let predict { return metrics(try predict(source, indices)) }
            return metrics(try Inference.predict(network, on: source, indices: indices, control: control))
        }
        return ModelReport(retain: try run(dataset.train, split.retain), forget: try run(dataset.train, split.forget),
                           validation: try run(dataset.test, split.validation), test: try run(dataset.test, split.test))
    }
}
