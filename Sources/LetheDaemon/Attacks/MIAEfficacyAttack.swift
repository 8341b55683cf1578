// "mia-efficacy": SalUn's SVC attack fitted on retain against test and applied to forget (Evaluation/MIAEfficacy.swift
// has the definition, the reference and libsvm). The score is the fraction of forget predicted non-member: higher
// means the forget set looks more unseen. It has no chance level of its own; read it against retrain's.
import Evaluation
import Tensor

struct MIAEfficacyAttack: AttackKind {
    let name = "mia-efficacy"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let result = try MIAEfficacy.run(retain: try context.predictions(.retain), test: try context.predictions(.test),
                                         forget: try context.predictions(.forget), threads: Parallel.threads)
        var outcome = AttackOutcome(score: result.efficacy, scoreName: "efficacy", chanceLevel: nil,
                                    members: result.members, nonMembers: result.nonMembers)
        outcome.features = result.perFeature
        var notes = ["score is the '\(result.headline.rawValue)' feature's efficacy (SalUn's tables); read it against retrain's"]
        if result.retainShort { notes.append("the retain set is smaller than the test set, so the SVC was fitted on all \(result.members) retain examples") }
        outcome.note = notes.joined(separator: "; ")
        return outcome
    }
}
