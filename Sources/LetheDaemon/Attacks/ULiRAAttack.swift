// "ulira": U-LiRA (Hayes et al. 2024; Evaluation/ULiRA.swift has the definition): can an attacker tell a model that
// was trained on the forget set and then unlearned from one that never saw it? N unlearned models (the method from
// the original, seeds s…s+N−1) against N retrained ones; per forget example, Gaussians of φ fitted on the other
// models (leave one model out). Score: AUC over (model, example) pairs, unlearned = positive; 0.5 is perfect
// unlearning.
import Evaluation

struct ULiRAAttack: AttackKind {
    let name = "ulira"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [.unlearned, .retrained] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let (fleet, unlearned) = context.members(.unlearned)
        let (_, retrained) = context.members(.retrained)
        let classes = context.target.classCount, n = fleet.examples.forget.count
        func forgetLogits(_ m: FleetMember) -> [Float] { Array(m.logits[..<(n * classes)]) }
        let result = ULiRA.run(unlearnedLogits: unlearned.map(forgetLogits), retrainedLogits: retrained.map(forgetLogits),
                               labels: Array(fleet.examples.labels[..<n]), classes: classes)
        let members = zip(result.pairScores, result.pairLabels).filter { $0.1 == 1 }.map(\.0)
        let nonMembers = zip(result.pairScores, result.pairLabels).filter { $0.1 == 0 }.map(\.0)
        try context.write("modelScores", file: "model_scores", float64: result.modelScores, shape: [result.modelScores.count])
        var outcome = try context.rocOutcome(memberScores: members, nonMemberScores: nonMembers)
        outcome.note = "members are (unlearned model, forget example) pairs and non-members (retrained model, forget example) pairs; "
            + "balanced accuracy at likelihood ratio 1: \((result.pairBalancedAccuracyAtZero * 1000).rounded() / 1000)"
        return outcome
    }
}
