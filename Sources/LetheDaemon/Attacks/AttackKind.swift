// The attack registry: one file per kind, one line each in `AttackRegistry.all`. A kind says which fleets it reads
// (the handler plans and checks them before the job waits for cores) and turns the target's outputs and the
// fleets' members into one result shape (Attack.Result). Docs/Architecture.md §7 has the definitions.
import Datasets
import Evaluation
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

/// One attack kind.
protocol AttackKind: Sendable {
    /// The wire name (`Attack.kinds`).
    var name: String { get }
    /// The fleets it reads, planned from the request before the job starts.
    func fleets(_ request: AttackRequest) -> [FleetKind]
    /// Runs the attack (on a compute thread; may train missing fleet members through the context).
    func run(_ context: AttackContext) throws -> AttackOutcome
}

/// Every attack kind, in the order `Attack.kinds` lists them.
enum AttackRegistry {
    static let all: [AttackKind] = [SimpleAttack(), MIAEfficacyAttack(), LiRAAttack(), RMIAAttack(), ULiRAAttack(), EpsilonAttack()]
    static func kind(named name: String) -> AttackKind? { all.first { $0.name == name } }
    static var names: [String] { all.map(\.name) }
}

/// An attack request with its defaults applied and every choice checked.
struct AttackRequest: Sendable {
    let kind: String
    let balance: MIABalance
    let seed: UInt64
    let shadows: Int
    let online: Bool
    let models: Int
    let outputs: String?
}

/// What a kind produces; the handler adds the names and the time.
struct AttackOutcome: Sendable {
    var score: Double
    var scoreName: String
    var chanceLevel: Double?
    var roc: ROCSummary?
    var balance: String?
    var folds: [Double]?
    var variant: String?
    var features: [String: Double]?
    var epsilon: Attack.EpsilonReport?
    var members: Int
    var nonMembers: Int
    var note: String?

    init(score: Double, scoreName: String, chanceLevel: Double?, members: Int, nonMembers: Int) {
        self.score = score
        self.scoreName = scoreName
        self.chanceLevel = chanceLevel
        self.members = members
        self.nonMembers = nonMembers
    }
}

/// What a running attack reads: the target's outputs, its fleets (already trained), and where to write files. `run`
/// executes as one unit on the compute pool with the job's threads.
final class AttackContext: @unchecked Sendable {
    let request: AttackRequest
    let target: Model
    let data: Dataset
    let split: Split
    let control: JobControl
    /// The fleets the kind declared, trained before `run` starts.
    let plans: [FleetKind: FleetPlan]
    private let outputs: OutputsCache
    private let lock = NSLock()
    private(set) var written: [String: String] = [:]

    init(request: AttackRequest, target: Model, data: Dataset, split: Split, control: JobControl, plans: [FleetKind: FleetPlan],
         outputs: OutputsCache) {
        self.outputs = outputs
        self.request = request
        self.target = target
        self.data = data
        self.split = split
        self.control = control
        self.plans = plans
    }

    /// The target's predictions on a part of the split (from the daemon's outputs cache when it has them).
    func predictions(_ part: SplitPart) throws -> Predictions {
        try outputs.predictions(target, on: part.isTraining ? data.train : data.test, indices: part.indices(split), control: control)
    }

    /// A declared fleet and its wanted members, in seed order (trained before `run`).
    func members(_ kind: FleetKind) -> (fleet: Fleet, members: [FleetMember]) {
        guard let plan = plans[kind] else { preconditionFailure("attack \(request.kind) did not declare a \(kind) fleet") }
        return (plan.fleet, plan.members)
    }

    /// Writes `values` as `<outputs>/<file>.npy` when the request asked for outputs; `what` names it in the result.
    func write(_ what: String, file: String, float64 values: [Double], shape: [Int]) throws {
        guard let directory = request.outputs else { return }
        let path = directory + "/" + file + ".npy"
        try AtomicFile.write(NPY.encode(float64: values, shape: shape), to: path)
        lock.withLock { written[what] = path }
    }

    /// The ROC summary of member (forget) and non-member (test) scores, written to outputs as scores.npy with
    /// labels.npy (1 = member).
    func rocOutcome(memberScores: [Double], nonMemberScores: [Double], scoreName: String = "auc") throws -> AttackOutcome {
        let scores = memberScores + nonMemberScores
        let labels = [Bool](repeating: true, count: memberScores.count) + [Bool](repeating: false, count: nonMemberScores.count)
        try write("scores", file: "scores", float64: scores, shape: [scores.count])
        try write("labels", file: "labels", float64: labels.map { $0 ? 1 : 0 }, shape: [labels.count])
        let roc = ROC.summary(scores: scores, labels: labels)
        var outcome = AttackOutcome(score: roc.auc, scoreName: scoreName, chanceLevel: 0.5, members: memberScores.count,
                                    nonMembers: nonMemberScores.count)
        outcome.roc = roc
        return outcome
    }
}

/// A part of a split.
enum SplitPart: Sendable {
    case retain, forget, validation, test
    var isTraining: Bool { self == .retain || self == .forget }
    func indices(_ split: Split) -> [Int] {
        switch self {
        case .retain: return split.retain
        case .forget: return split.forget
        case .validation: return split.validation
        case .test: return split.test
        }
    }
}
