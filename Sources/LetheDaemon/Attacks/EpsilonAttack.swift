// "epsilon": the NeurIPS 2023 Machine Unlearning challenge's forget quality, as the organisers' code computes it
// (Evaluation/Epsilon.swift has the definition, the reference and where it differs): N unlearned models (the method
// from the original, seeds s…s+N−1) and N retrained ones; per forget example, the logit-scaled confidences of both
// groups give an ε; F is the mean of 2^-k over the examples' ε buckets, and the final score is
// F × (RA_U/RA_R) × (TA_U/TA_R) with each accuracy the mean over its group's models.
import Evaluation
import Tensor

struct EpsilonAttack: AttackKind {
    let name = "epsilon"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [.unlearned, .retrained] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let (fleet, unlearned) = context.members(.unlearned)
        let (_, retrained) = context.members(.retrained)
        let examples = fleet.examples
        let classes = context.target.classCount, n = examples.forget.count
        let forgetLabels = Array(examples.labels[examples.forgetRange])
        func confidences(_ m: FleetMember) -> [Double] {
            Epsilon.logitScaledConfidence(logits: Array(m.logits[..<(n * classes)]), classCount: classes, labels: forgetLabels)
        }
        func testAccuracy(_ m: FleetMember) -> Double {
            let r = examples.testRange
            var correct = 0
            for i in r {
                let row = m.logits[(i * classes)..<((i + 1) * classes)]
                if row.firstIndex(of: row.max()!)! - i * classes == Int(examples.labels[i]) { correct += 1 }
            }
            return Double(correct) / Double(max(r.count, 1))
        }
        let u = unlearned.map(confidences), r = retrained.map(confidences)
        let result = Epsilon.forgetQuality(unlearned: u, retrained: r, threads: Parallel.threads)
        let score = Epsilon.score(forgetQuality: result.forgetQuality,
                                  retainAccuraciesUnlearned: unlearned.map { $0.retainAccuracy! },
                                  retainAccuraciesRetrained: retrained.map { $0.retainAccuracy! },
                                  testAccuraciesUnlearned: unlearned.map(testAccuracy), testAccuraciesRetrained: retrained.map(testAccuracy))
        func mean(_ a: [Double]) -> Double { a.reduce(0, +) / Double(max(a.count, 1)) }
        let retainRatio = mean(unlearned.map { $0.retainAccuracy! }) / mean(retrained.map { $0.retainAccuracy! })
        let testRatio = mean(unlearned.map(testAccuracy)) / mean(retrained.map(testAccuracy))
        try context.write("epsilons", file: "epsilons", float64: result.epsilons, shape: [n])
        try context.write("unlearnedConfidences", file: "unlearned_confidences", float64: u.flatMap { $0 }, shape: [u.count, n])
        try context.write("retrainedConfidences", file: "retrained_confidences", float64: r.flatMap { $0 }, shape: [r.count, n])
        var outcome = AttackOutcome(score: result.forgetQuality, scoreName: "forgetQuality", chanceLevel: nil,
                                    members: unlearned.count, nonMembers: retrained.count)
        outcome.epsilon = .init(forgetQuality: result.forgetQuality, score: score, retainRatio: retainRatio, testRatio: testRatio,
                                histogramEdges: result.bucketEdges, histogramCounts: result.bucketCounts,
                                unlearnedModels: unlearned.count, retrainedModels: retrained.count)
        outcome.note = "members and nonMembers count the unlearned and retrained models; F = 1 only when every forget example's ε is below 0.5 — with two groups from one distribution F stays well below 1 (the metric's noise floor, about 0.19 at N = 512)"
        return outcome
    }
}
