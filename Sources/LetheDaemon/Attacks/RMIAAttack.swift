// "rmia": the relative membership-inference attack of Zarifzadeh et al. 2024 (Evaluation/RMIA.swift has the
// definition and the reference), γ = 1, with the shadow fleet as reference models and the split's validation set as
// the population samples z (never attacked, so no target example is its own population).
import Evaluation

struct RMIAAttack: AttackKind {
    let name = "rmia"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [.shadow] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let a = try AttackedExamples(context)
        let scores = RMIA.scores(targetLogits: a.targetLogits, referenceLogits: a.shadowLogits, labels: a.labels, inMask: a.inMask,
                                 populationTargetLogits: a.populationTargetLogits, populationReferenceLogits: a.populationShadowLogits,
                                 populationLabels: a.populationLabels, classes: a.classes, populationInMask: a.populationInMask,
                                 mode: context.request.online ? .online : .offline)
        var outcome = try context.rocOutcome(memberScores: Array(scores[..<a.forgetCount]), nonMemberScores: Array(scores[a.forgetCount...]))
        outcome.variant = context.request.online ? "online" : "offline"
        return outcome
    }
}
