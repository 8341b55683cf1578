// "simple": the NeurIPS 2023 starting kit's logistic-regression attack on per-example losses, both sides balanced
// by default (Evaluation/SimpleMIA.swift has the definition and the reference).
import Evaluation

struct SimpleAttack: AttackKind {
    let name = "simple"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let forget = try context.predictions(.forget), test = try context.predictions(.test)
        let result = SimpleMIA.run(forgetLosses: forget.losses, testLosses: test.losses, balance: context.request.balance,
                                   seed: context.request.seed)
        var outcome = AttackOutcome(score: result.accuracy, scoreName: "accuracy", chanceLevel: result.chanceLevel,
                                    members: result.members, nonMembers: result.nonMembers)
        outcome.balance = context.request.balance.rawValue
        outcome.folds = result.foldAccuracies
        if result.members != result.nonMembers {
            outcome.note = "the two sides differ in size (\(result.members) members, \(result.nonMembers) non-members): "
                + "read the score against the chance level \((result.chanceLevel * 1000).rounded() / 1000), not 0.5"
        }
        return outcome
    }
}
