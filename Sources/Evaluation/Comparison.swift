// The measurements `compare` takes of each model, with one definition each: accuracy on retain, forget and test,
// unlearning accuracy UA = 1 − forget accuracy, the balanced simple MIA, and SalUn's average gap to retrain.
//
// Average gap (Fan et al. ICLR 2024, "SalUn", Tables 1–2, "Avg. Gap"): the mean of the absolute differences from
// Retrain over UA, MIA, RA and TA, in percentage points, where SalUn's MIA column is its MIA-efficacy (the
// confidence feature, MIAEfficacy.swift). The balanced simple MIA is measured too, as its own column.
import Datasets
import NeuralNet
import Tensor

/// Why a model cannot be measured.
public enum MeasurementError: Error, CustomStringConvertible {
    /// Its outputs are not finite (NaN or ±∞ logits: its weights diverged); what was found.
    case diverged(String)

    /// The reason, as one line.
    public var description: String {
        switch self {
        case .diverged(let what): "the model diverged: \(what)"
        }
    }
}

/// One model's numbers in a comparison.
public struct UnlearningMeasurement: Sendable {
    /// Accuracy on the split's retain (RA), forget and test (TA) sets.
    public let retainAccuracy: Double
    /// Accuracy on the forget set (1 − UA).
    public let forgetAccuracy: Double
    /// Accuracy on the split's test set (TA).
    public let testAccuracy: Double
    /// The balanced simple MIA's score on forget against test (0.5 is chance).
    public let mia: Double
    /// SalUn's MIA-efficacy (confidence feature): the fraction of forget predicted non-member.
    public let miaEfficacy: Double
    /// When the forget set holds every training example of some classes (class-wise forgetting): accuracy on the
    /// test examples of the other classes, the "remaining classes" of the literature's class-forgetting tables.
    public var remainingTestAccuracy: Double?
    /// UA = 1 − forget accuracy.
    public var unlearningAccuracy: Double { 1 - forgetAccuracy }
    /// Per-example cross-entropy on the forget and test sets (for loss histograms).
    public var forgetLosses: [Double] = []
    /// Per-example cross-entropy on the test set.
    public var testLosses: [Double] = []

    /// A measurement from its five numbers (remainingTestAccuracy unset).
    public init(retainAccuracy: Double, forgetAccuracy: Double, testAccuracy: Double, mia: Double, miaEfficacy: Double) {
        self.retainAccuracy = retainAccuracy
        self.forgetAccuracy = forgetAccuracy
        self.testAccuracy = testAccuracy
        self.mia = mia
        self.miaEfficacy = miaEfficacy
    }

    /// Measures a model on a split; the MIA draws from `seed`; `predict` (default: inference) supplies the outputs.
    public static func measure(_ model: Model, dataset: Dataset, split: Split, seed: UInt64, control: JobControl?,
                               predict: Evaluator.Predict? = nil) throws -> Self {
        let network = Network(model: model)
        let outputs: Evaluator.Predict = predict ?? { try Inference.predict(network, on: $0, indices: $1, control: control) }
        let retain = try outputs(dataset.train, split.retain)
        let forget = try outputs(dataset.train, split.forget)
        let test = try outputs(dataset.test, split.test)
        let nonFinite = [retain, forget, test].map { $0.logits.lazy.filter { !$0.isFinite }.count }.reduce(0, +)
        if nonFinite > 0 {
            throw MeasurementError.diverged("\(nonFinite) of its \(logitCount(retain, forget, test)) logits on retain, forget and test are not finite")
        }
        let mia = SimpleMIA.run(forgetLosses: forget.losses, testLosses: test.losses, balance: .both, seed: seed)
        let efficacy = try MIAEfficacy.run(retain: retain, test: test, forget: forget, features: [MIAEfficacy.headline])
        var result = Self(retainAccuracy: retain.accuracy, forgetAccuracy: forget.accuracy, testAccuracy: test.accuracy,
                          mia: mia.accuracy, miaEfficacy: efficacy.efficacy)
        result.forgetLosses = forget.losses.map(Double.init)
        result.testLosses = test.losses.map(Double.init)
        let forgotten = forgottenClasses(dataset.train, split: split)
        if !forgotten.isEmpty {
            let kept = test.labels.indices.filter { !forgotten.contains(test.labels[$0]) }
            result.remainingTestAccuracy = Double(kept.filter { test.correct[$0] }.count) / Double(max(kept.count, 1))
        }
        return result
    }

    private static func logitCount(_ sets: Predictions...) -> Int { sets.map(\.logits.count).reduce(0, +) }

    /// Classes every training example of which is in the forget set.
    public static func forgottenClasses(_ train: LabeledExamples, split: Split) -> Set<Int32> {
        var total = [Int32: Int](), inForget = [Int32: Int]()
        for i in 0..<train.count { total[train.labels[i], default: 0] += 1 }
        for i in split.forget { inForget[train.labels[i], default: 0] += 1 }
        return Set(inForget.filter { total[$0.key] == $0.value }.keys)
    }

    /// SalUn's average gap to a reference (retrain), in percentage points: mean |Δ| over UA, MIA-efficacy, RA and TA.
    public func averageGap(to reference: Self) -> Double {
        let gaps = [unlearningAccuracy - reference.unlearningAccuracy, miaEfficacy - reference.miaEfficacy,
                    retainAccuracy - reference.retainAccuracy, testAccuracy - reference.testAccuracy]
        return 100 * gaps.map(abs).reduce(0, +) / 4
    }
}

/// Mean and sample standard deviation (n − 1; 0 for a single value), as tables over seeds report them.
public struct MeanStd: Sendable, Equatable {
    /// Arithmetic mean.
    public let mean: Double
    /// Sample standard deviation (n − 1), 0 for one value.
    public let std: Double
    /// Mean and standard deviation of `values`.
    public init(_ values: [Double]) {
        let n = Double(values.count)
        let m = values.reduce(0, +) / max(n, 1)
        mean = m
        std = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot() : 0
    }
}
