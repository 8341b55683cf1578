// How close a model's outputs are to a reference model's (usually the retrained one) on the same examples
// (Docs/Architecture.md §7): the Jensen–Shannon divergence and the L2 distance of the two softmax distributions, averaged over
// the examples, and the fraction of examples on which both predict the same class. JS is in nats (0 for identical
// outputs, at most ln 2); the literature reports it on the forget set to ask whether an unlearned model answers
// there as the retrained one would (e.g. Chundawat et al., AAAI 2023, "bad teacher", its ZRF uses the same JS).
import Foundation
import NeuralNet

/// A model's outputs against a reference model's on the same examples.
public struct ReferenceMetrics: Sendable, Equatable {
    /// Mean over examples of JS(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q)/2, in nats.
    public let jsDivergence: Double
    /// Mean over examples of the Euclidean distance ‖p − q‖₂ between the probability vectors.
    public let l2Distance: Double
    /// Fraction of examples on which both models predict the same class (first maximum on ties).
    public let agreement: Double
    /// Examples compared.
    public let count: Int
    public init(jsDivergence: Double, l2Distance: Double, agreement: Double, count: Int) {
        self.jsDivergence = jsDivergence
        self.l2Distance = l2Distance
        self.agreement = agreement
        self.count = count
    }
}

/// Compares two models' outputs on the same examples.
public enum ReferenceComparison {
    /// Compares `model`'s and `reference`'s predictions on the same examples (same count and classes, row by row).
    public static func compare(_ model: Predictions, to reference: Predictions) -> ReferenceMetrics {
        precondition(model.count == reference.count && model.classCount == reference.classCount,
                     "the two predictions must cover the same examples and classes")
        var js = 0.0, l2 = 0.0, agree = 0
        for i in 0..<model.count {
            let p = model.probabilities(i).map(Double.init), q = reference.probabilities(i).map(Double.init)
            var kl = 0.0, sq = 0.0
            for k in p.indices {
                let m = (p[k] + q[k]) / 2
                if p[k] > 0 { kl += 0.5 * p[k] * Foundation.log(p[k] / m) }
                if q[k] > 0 { kl += 0.5 * q[k] * Foundation.log(q[k] / m) }
                sq += (p[k] - q[k]) * (p[k] - q[k])
            }
            js += kl
            l2 += sq.squareRoot()
            if p.firstIndex(of: p.max()!) == q.firstIndex(of: q.max()!) { agree += 1 }
        }
        let n = Double(max(model.count, 1))
        return ReferenceMetrics(jsDivergence: js / n, l2Distance: l2 / n, agreement: Double(agree) / n, count: model.count)
    }
}
