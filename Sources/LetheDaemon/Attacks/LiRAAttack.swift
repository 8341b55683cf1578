// "lira": the likelihood-ratio attack of Carlini et al. 2022 (Evaluation/LiRA.swift has the definition and the
// reference) on the target's forget (members) and test (non-members) examples, with a shadow fleet of the original's
// recipe on random halves of the pool.
import Evaluation

struct LiRAAttack: AttackKind {
    let name = "lira"
    func fleets(_ request: AttackRequest) -> [FleetKind] { [.shadow] }

    func run(_ context: AttackContext) throws -> AttackOutcome {
        let attacked = try AttackedExamples(context)
        let scores = context.request.online
            ? LiRA.onlineScores(targetLogits: attacked.targetLogits, shadowLogits: attacked.shadowLogits, labels: attacked.labels,
                                classes: attacked.classes, inMask: attacked.inMask)
            : LiRA.offlineScores(targetLogits: attacked.targetLogits, shadowLogits: attacked.shadowLogits, labels: attacked.labels,
                                 classes: attacked.classes, inMask: attacked.inMask)
        var outcome = try context.rocOutcome(memberScores: Array(scores[..<attacked.forgetCount]),
                                             nonMemberScores: Array(scores[attacked.forgetCount...]))
        outcome.variant = context.request.online ? "online" : "offline"
        return outcome
    }
}

/// The target's and the shadows' outputs on the attacked examples: the split's forget set, then its test set.
struct AttackedExamples {
    let classes: Int
    let forgetCount: Int
    let labels: [Int32]
    let targetLogits: [Float]
    let shadowLogits: [[Float]]
    let inMask: [[Bool]]
    /// The validation set (RMIA's population): the target's and the shadows' logits, labels and masks.
    let populationLabels: [Int32]
    let populationTargetLogits: [Float]
    let populationShadowLogits: [[Float]]
    let populationInMask: [[Bool]]

    init(_ context: AttackContext) throws {
        let (fleet, members) = context.members(.shadow)
        let examples = fleet.examples
        let c = context.target.classCount
        classes = c
        forgetCount = examples.forget.count
        let attacked = 0..<(examples.forget.count + examples.test.count)
        let population = examples.validationRange
        func rows(_ logits: [Float], _ r: Range<Int>) -> [Float] { Array(logits[(r.lowerBound * c)..<(r.upperBound * c)]) }
        labels = Array(examples.labels[attacked])
        targetLogits = try context.predictions(.forget).logits + context.predictions(.test).logits
        shadowLogits = members.map { rows($0.logits, attacked) }
        inMask = members.map { Array($0.inMask![attacked]) }
        populationLabels = Array(examples.labels[population])
        populationTargetLogits = try context.predictions(.validation).logits
        populationShadowLogits = members.map { rows($0.logits, population) }
        populationInMask = members.map { Array($0.inMask![population]) }
    }
}
