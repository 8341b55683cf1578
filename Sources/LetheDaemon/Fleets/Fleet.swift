// Model fleets: many models of one recipe, trained side by side at one thread each, kept by what they are (the
// data, the split, the original model, the recipe or method, the seeds) so a second attack or a second method
// reuses every member that exists. A member keeps its logits on the examples attacks read (the split's forget,
// test and validation sets) and its retain accuracy; its weights only when asked, so hundreds fit in memory.
//
// Kinds (Docs/Architecture.md §4.4):
//   shadow     K models on random halves of the pool (training part + test part), each pool example in exactly
//              K/2 of them — LiRA's `keep` construction (Carlini et al. 2022, reference `train.py`: argsort of
//              uniform draws per example, first K/2 in). Members train with the original's recipe.
//   retrained  N models, seeds s…s+N−1, of `retrain` from the original (its recipe on retain): member seed s is
//              bit for bit `forget --method retrain --seed s`.
//   unlearned  N runs of one unlearning method from the same original, seeds s…s+N−1: member seed s is bit for bit
//              `forget --method M --seed s` with the same hyperparameters.
import Datasets
import Foundation
import JSONRPC
import NeuralNet
import Tensor
import Unlearning

/// What a fleet's members are.
enum FleetKind: String, Sendable, CaseIterable {
    case shadow, retrained, unlearned
}

/// One trained member: its outputs on the fleet's examples, never the data itself.
struct FleetMember: Sendable {
    /// The member's seed (retrained, unlearned) or its index among the shadows.
    let seed: UInt64
    /// Logits on the fleet's examples ([examples × classes]: forget, then test, then validation).
    let logits: [Float]
    /// Shadow members: whether each of the fleet's examples was in the member's training half.
    let inMask: [Bool]?
    /// Accuracy on the split's retain set (retrained and unlearned members; nil for shadows).
    let retainAccuracy: Double?
    /// The weights, when the fleet keeps them.
    let model: Model?
    /// Wall time to train and measure it.
    let seconds: Double

    /// Bytes this member keeps resident.
    var residentBytes: Int {
        Self.bytes(outputs: logits.count, mask: inMask?.count ?? 0, parameters: model?.parameterCount ?? 0)
    }

    /// Bytes of a member with `outputs` logits, a mask over `mask` examples and `parameters` weights kept.
    static func bytes(outputs: Int, mask: Int, parameters: Int) -> Int { outputs * 4 + mask + parameters * 4 }
}

/// What identifies a fleet: two requests with equal keys share members.
struct FleetKey: Hashable, Sendable {
    let kind: FleetKind
    /// The split's name and a fingerprint of its indices (a split recreated under the same name differs).
    let split: String
    let splitFingerprint: UInt64
    /// The data the split points into (a reloaded dataset is a new object).
    let data: ObjectIdentifier
    /// The original model's weights (unlearned fleets start from it; the others take its architecture and recipe).
    let modelFingerprint: String
    /// The recipe members train with (shadow, retrained) as JSON, or the method and its resolved hyperparameters.
    let recipe: String
    /// Shadow fleets: the number of shadows K (their halves depend on it) and the seed of the halves.
    let shadowCount: Int?
    let shadowSeed: UInt64?
}

/// A fleet in the daemon's cache.
final class Fleet: @unchecked Sendable {
    let id: String
    let key: FleetKey
    /// The model and split names it was first requested for (for people reading `fleet/list`).
    let modelName: String
    let method: String?
    let hyperparameters: [String: JSONValue]?
    let keepsWeights: Bool
    /// Examples the members' outputs cover, in order: forget, test, validation.
    let examples: FleetExamples
    /// Content fingerprint of the data (fleet bundles carry it; the key holds the resident object's identity).
    let dataFingerprint: String
    /// Classes of the members (logits per example).
    let classCount: Int
    private let lock = NSLock()
    private var membersBySeed: [UInt64: FleetMember] = [:]

    init(id: String, key: FleetKey, modelName: String, method: String?, hyperparameters: [String: JSONValue]?,
         keepsWeights: Bool, examples: FleetExamples, dataFingerprint: String, classCount: Int) {
        self.id = id
        self.key = key
        self.modelName = modelName
        self.method = method
        self.hyperparameters = hyperparameters
        self.keepsWeights = keepsWeights
        self.examples = examples
        self.dataFingerprint = dataFingerprint
        self.classCount = classCount
    }

    func member(_ seed: UInt64) -> FleetMember? { lock.withLock { membersBySeed[seed] } }
    /// The first member stored under a seed wins (two requests may train the same member at once); false when
    /// the fleet already held one.
    @discardableResult
    func add(_ member: FleetMember) -> Bool {
        lock.withLock {
            guard membersBySeed[member.seed] == nil else { return false }
            membersBySeed[member.seed] = member
            return true
        }
    }
    var members: [FleetMember] { lock.withLock { membersBySeed.values.sorted { $0.seed < $1.seed } } }
    var residentBytes: Int { members.reduce(examples.labels.count * 4) { $0 + $1.residentBytes } }
}

/// The examples a fleet's outputs cover: the split's forget set (training part), then its test and validation
/// sets (test part), with their labels.
struct FleetExamples: Sendable {
    let forget: [Int]
    let test: [Int]
    let validation: [Int]
    let labels: [Int32]
    var count: Int { forget.count + test.count + validation.count }
    var forgetRange: Range<Int> { 0..<forget.count }
    var testRange: Range<Int> { forget.count..<(forget.count + test.count) }
    var validationRange: Range<Int> { (forget.count + test.count)..<count }

    init(dataset: Dataset, split: Split) {
        forget = split.forget
        test = split.test
        validation = split.validation
        labels = split.forget.map { dataset.train.labels[$0] } + (split.test + split.validation).map { dataset.test.labels[$0] }
    }

    /// Pool indices (training part, then test part) of the examples, in order.
    func poolIndices(trainCount: Int) -> [Int] { forget + (test + validation).map { trainCount + $0 } }
}

/// The daemon's fleets, by key; thread-safe, since fleet work runs on compute threads.
final class FleetStore: @unchecked Sendable {
    private let lock = NSLock()
    private var fleets: [FleetKey: Fleet] = [:]
    private var nextID = 1

    /// The fleet for `key`, created empty by `make` when none exists.
    func fleet(for key: FleetKey, make: (String) -> Fleet) -> Fleet {
        lock.withLock {
            if let f = fleets[key] { return f }
            let f = make("fleet-\(nextID)")
            nextID += 1
            fleets[key] = f
            return f
        }
    }

    var all: [Fleet] { lock.withLock { fleets.values.sorted { $0.id.count != $1.id.count ? $0.id.count < $1.id.count : $0.id < $1.id } } }

    /// Removes a fleet; false when no fleet has this id.
    func remove(id: String) -> Bool {
        lock.withLock {
            guard let key = fleets.first(where: { $0.value.id == id })?.key else { return false }
            fleets[key] = nil
            return true
        }
    }

    /// Removes every fleet built from this model's weights or this split; returns their ids.
    func removeAll(where predicate: (Fleet) -> Bool) -> [String] {
        lock.withLock {
            let gone = fleets.filter { predicate($0.value) }
            for key in gone.keys { fleets[key] = nil }
            return gone.values.map(\.id).sorted()
        }
    }
}

extension Split {
    /// FNV-1a over the four index lists: equal for equal splits, different when any index moves.
    var fingerprint: UInt64 {
        var h = FNV1a()
        for part in [retain, forget, validation, test] {
            for i in part { h.mix(UInt64(bitPattern: Int64(i))) }
            h.mix(0xff)
        }
        return h.value
    }

    /// The fingerprint as 16 hexadecimal digits, as split/info and fleet bundles show it.
    var fingerprintHex: String { FNV1a.hex(fingerprint) }
}
