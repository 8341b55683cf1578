// "epsilon": the NeurIPS 2023 Machine Unlearning challenge's forget quality, as the organisers' code computes it
// (Evaluation/Epsilon.swift has the definition, the reference and where it differs): N unlearned models (the method
// from the original, seeds s…s+N−1) and N retrained ones; per forget example, the logit-scaled confidences of both
// groups give an ε; F is the mean of 2^-k over the examples' ε buckets, and the final score is
// F × (RA_U/RA_R) × (TA_U/TA_R) with each accuracy the mean over its group's models. `compare` uses the same
// measurement (EpsilonMeasurement) for every method's row.
import Evaluation
import LetheProtocol
import Tensor

struct EpsilonAttack: AttackKind {
    let name = "epsilon"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [.unlearned, .retrained] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let (fleet, unlearned) = context.members(.unlearned)
        let (_, retrained) = context.members(.retrained)
        let m = EpsilonMeasurement(examples: fleet.examples, classes: context.target.classCount, unlearned: unlearned,
                                   retrained: retrained, threads: Parallel.threads)
        let n = fleet.examples.forget.count
        try context.write("epsilons", file: "epsilons", float64: m.result.epsilons, shape: [n])
        try context.write("unlearnedConfidences", file: "unlearned_confidences", float64: m.unlearned.flatMap { $0 }, shape: [m.unlearned.count, n])
        try context.write("retrainedConfidences", file: "retrained_confidences", float64: m.retrained.flatMap { $0 }, shape: [m.retrained.count, n])
        var outcome = AttackOutcome(score: m.result.forgetQuality, scoreName: "forgetQuality", chanceLevel: nil,
                                    members: unlearned.count, nonMembers: retrained.count)
        outcome.epsilon = m.report
        outcome.note = "members and nonMembers count the unlearned and retrained models; F = 1 only when every forget example's ε is below 0.5 — with two groups from one distribution F stays well below 1 (the metric's noise floor, about 0.19 at N = 512)"
        return outcome
    }
}

/// The challenge's metric on two fleets' members: confidences, F, the final score and its two ratios.
struct EpsilonMeasurement {
    /// Logit-scaled confidences, [model][forget example].
    let unlearned: [[Double]]
    let retrained: [[Double]]
    let result: EpsilonResult
    let score: Double
    let retainRatio: Double
    let testRatio: Double

    init(examples: FleetExamples, classes: Int, unlearned u: [FleetMember], retrained r: [FleetMember], threads: Int) {
        let n = examples.forget.count
        let forgetLabels = Array(examples.labels[examples.forgetRange])
        func confidences(_ m: FleetMember) -> [Double] {
            Epsilon.logitScaledConfidence(logits: Array(m.logits[..<(n * classes)]), classCount: classes, labels: forgetLabels)
        }
        func testAccuracy(_ m: FleetMember) -> Double {
            var correct = 0
            for i in examples.testRange {
                let row = m.logits[(i * classes)..<((i + 1) * classes)]
                if row.firstIndex(of: row.max()!)! - i * classes == Int(examples.labels[i]) { correct += 1 }
            }
            return Double(correct) / Double(max(examples.testRange.count, 1))
        }
        func mean(_ a: [Double]) -> Double { a.reduce(0, +) / Double(max(a.count, 1)) }
        unlearned = u.map(confidences)
        retrained = r.map(confidences)
        result = Epsilon.forgetQuality(unlearned: unlearned, retrained: retrained, threads: threads)
        let retainU = u.map { $0.retainAccuracy! }, retainR = r.map { $0.retainAccuracy! }
        let testU = u.map(testAccuracy), testR = r.map(testAccuracy)
        score = Epsilon.score(forgetQuality: result.forgetQuality, retainAccuraciesUnlearned: retainU, retainAccuraciesRetrained: retainR,
                              testAccuraciesUnlearned: testU, testAccuraciesRetrained: testR)
        retainRatio = mean(retainU) / mean(retainR)
        testRatio = mean(testU) / mean(testR)
    }

    var report: Attack.EpsilonReport {
        .init(forgetQuality: result.forgetQuality, score: score, retainRatio: retainRatio, testRatio: testRatio,
              histogramEdges: result.bucketEdges, histogramCounts: result.bucketCounts,
              unlearnedModels: unlearned.count, retrainedModels: retrained.count)
    }
}
