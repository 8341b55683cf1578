// Training a fleet's missing members: each member is a unit on the compute pool at `threadsPerModel` threads (one
// by default), so as many train side by side as the daemon's thread budget allows; the request's cancellation
// stops them all at their next batch, and members finished before it stay in the fleet.
import Datasets
import Dispatch
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor
import Unlearning

/// A checked request for a fleet: everything needed to train any of its members.
struct FleetPlan: Sendable {
    let fleet: Fleet
    let kind: FleetKind
    let source: ModelEntry
    let splitEntry: SplitEntry
    /// Member seeds wanted: shadow indices 0..<K, or s…s+N−1 (or the share of them the request names).
    let seeds: [UInt64]
    /// Shadow fleets: the seed of the halves.
    let shadowSeed: UInt64
    /// Shadow fleets: the number of shadows K, which the halves depend on (the request may train only some).
    let shadowCount: Int
    /// The recipe shadow members train with.
    let recipe: TrainingRecipe
    /// Unlearned fleets: the method and the hyperparameters as given.
    let method: UnlearningMethod?
    let hyperparameters: Hyperparameters
    let threadsPerModel: Int

    var missing: [UInt64] { seeds.filter { fleet.member($0) == nil } }
    /// The members wanted, in seed order (after `train` they all exist).
    var members: [FleetMember] { seeds.compactMap { fleet.member($0) } }
}

/// How a fleet request went.
struct FleetFill: Sendable {
    let trained: Int
    let reused: Int
    let seconds: Double
}

extension Daemon {
    /// Checks a fleet request and finds (or creates, empty) its fleet. Nothing is trained here.
    func planFleet(kind: FleetKind, modelName: String, splitName: String, count: Int, seed: UInt64, method methodName: String?,
                   hyperparameters given: [String: JSONValue]?, keepWeights: Bool, threadsPerModel: Int?,
                   only: [UInt64]? = nil, countField: String = "count", prefix: String = "") async throws -> FleetPlan {
        guard (1...4096).contains(count) else { throw RPCError.invalidParams("parameter '\(prefix)\(countField)' must be between 1 and 4096, got \(count)") }
        if kind == .shadow, count < 2 || count % 2 != 0 {
            throw RPCError.invalidParams("parameter '\(prefix)\(countField)': shadow fleets need an even number of models (each example is in exactly half of them), got \(count)")
        }
        let threads = threadsPerModel ?? 1
        guard (1...256).contains(threads) else { throw RPCError.invalidParams("parameter 'threadsPerModel' must be between 1 and 256, got \(threads)") }
        let source = try await workspace.model(modelName)
        let splitEntry = try await workspace.split(splitName)
        try Self.checkFits(source.model, splitEntry.data, datasetName: splitEntry.dataset)
        var method: UnlearningMethod?
        var hyperparameters = Hyperparameters([:])
        var recipeText: String
        let recipe = source.recipe ?? .standard
        switch kind {
        case .shadow, .retrained:
            if methodName != nil || given != nil {
                throw RPCError.invalidParams("parameter '\(prefix)method': only unlearned fleets take a method and hyperparameters")
            }
            recipeText = String(decoding: try JSONEncoder.sorted.encode(recipe), as: UTF8.self)
        case .unlearned:
            let name = methodName ?? "finetune"
            guard let m = UnlearningRegistry.method(named: name) else {
                throw RPCError.invalidParams("parameter '\(prefix)method': unknown unlearning method '\(name)'; known: \(UnlearningRegistry.names.joined(separator: ", "))")
            }
            method = m
            hyperparameters = try Self.hyperparameters(given ?? [:])
            let resolved: ResolvedHyperparameters
            do { resolved = try hyperparameters.resolved(for: m) } catch let e as UnlearningError {
                throw RPCError.invalidParams("parameter '\(prefix)hyperparameters': \(e.description)")
            }
            let wire = JSONValue.object(resolved.values.mapValues(Self.wire))
            recipeText = name + " " + String(decoding: try JSONEncoder.sorted.encode(wire), as: UTF8.self)
            // A method whose defaults come from the original's recipe depends on it too.
            recipeText += " " + String(decoding: try JSONEncoder.sorted.encode(recipe), as: UTF8.self)
        }
        let key = FleetKey(kind: kind, split: splitName, splitFingerprint: splitEntry.split.fingerprint,
                           data: ObjectIdentifier(splitEntry.data), modelFingerprint: source.model.fingerprint, recipe: recipeText,
                           shadowCount: kind == .shadow ? count : nil, shadowSeed: kind == .shadow ? seed : nil)
        let examples = FleetExamples(dataset: splitEntry.data, split: splitEntry.split)
        let fleet = fleets.fleet(for: key) { id in
            Fleet(id: id, key: key, modelName: modelName, method: method?.name, hyperparameters: kind == .unlearned ? (given ?? [:]) : nil,
                  keepsWeights: keepWeights, examples: examples, dataFingerprint: splitEntry.data.fingerprint,
                  classCount: source.model.classCount)
        }
        if keepWeights, !fleet.keepsWeights, !fleet.members.isEmpty {
            throw RPCError.invalidParams("parameter 'keepWeights': \(fleet.id) already holds members without their weights; delete it with fleet/delete first")
        }
        let all: [UInt64] = kind == .shadow ? (0..<UInt64(count)).map { $0 } : (0..<UInt64(count)).map { seed &+ $0 }
        var seeds = all
        if let only {
            let wanted = Set(all)
            if let outside = only.first(where: { !wanted.contains($0) }) {
                let range = kind == .shadow ? "0…\(count - 1)" : "\(seed)…\(seed &+ UInt64(count - 1))"
                throw RPCError.invalidParams("parameter '\(prefix)members': \(outside) is not a member of this fleet (members are \(range))")
            }
            guard Set(only).count == only.count else { throw RPCError.invalidParams("parameter '\(prefix)members' names a member twice") }
            guard !only.isEmpty else { throw RPCError.invalidParams("parameter '\(prefix)members' is empty; leave it out to train every member") }
            seeds = only.sorted()
        }
        let missing = seeds.filter { fleet.member($0) == nil }.count
        let perMember = FleetMember.bytes(outputs: examples.count * source.model.classCount, mask: kind == .shadow ? examples.count : 0,
                                          parameters: fleet.keepsWeights ? source.model.parameterCount : 0)
        try await checkMemory(adding: missing * perMember, for: "\(missing) new \(kind.rawValue) models of \(fleet.id)")
        return FleetPlan(fleet: fleet, kind: kind, source: source, splitEntry: splitEntry, seeds: seeds, shadowSeed: seed,
                         shadowCount: count, recipe: recipe, method: method, hyperparameters: hyperparameters, threadsPerModel: threads)
    }

    /// Trains the plan's missing members as units on the compute pool; blocking, run inside a job that holds no
    /// threads itself. Progress stages are "<fleet id> <kind> <seed> <stage>".
    static func train(_ plan: FleetPlan, parent: JobControl, token: ProgressToken?, connection: Connection,
                      run: RunRecorder?) throws -> FleetFill {
        let start = monotonicSeconds()
        let missing = plan.missing
        let reused = plan.seeds.count - missing.count
        guard !missing.isEmpty else { return FleetFill(trained: 0, reused: reused, seconds: 0) }
        let data = plan.splitEntry.data, split = plan.splitEntry.split
        let examples = plan.fleet.examples
        let (halves, examplesIn) = plan.kind == .shadow ? shadowHalves(plan, data: data, examples: examples) : ([], [])
        let failures = UnitFailures()
        let group = DispatchGroup()
        for seed in missing {
            group.enter()
            ComputePool.submit(threads: plan.threadsPerModel) {
                defer { group.leave() }
                let prefix = "\(plan.fleet.id) \(plan.kind.rawValue) \(seed) "
                let control = JobControl(progress: progressReporter(token, connection, stagePrefix: prefix, run: run), parent: parent)
                do {
                    try control.checkCancellation()
                    let memberStart = monotonicSeconds()
                    let model: Model
                    switch plan.kind {
                    case .shadow:
                        var rng = SeededGenerator(seed: plan.shadowSeed ^ (seed &+ 1) &* 0x9E37_79B9_7F4A_7C15)
                        model = try Model(architecture: plan.source.model.architecture, inputShape: plan.source.model.inputShape,
                                          classCount: plan.source.model.classCount, seed: rng.next())
                        _ = try Trainer.train(Network(model: model), on: data.poolSource(seed: seed), indices: halves[Int(seed)],
                                              recipe: plan.recipe, rng: &rng, control: control, stage: "shadow")
                    case .retrained, .unlearned:
                        let method = plan.kind == .retrained ? Retrain() : plan.method!
                        model = try method.unlearn(UnlearningContext(
                            original: plan.source.model, originalRecipe: plan.source.recipe, data: data.train,
                            trainingSource: data.trainingSource(seed: seed), split: split,
                            hyperparameters: plan.kind == .retrained ? Hyperparameters([:]) : plan.hyperparameters,
                            seed: seed, control: control)).model
                    }
                    let network = Network(model: model)
                    let forget = try Inference.predict(network, on: data.train, indices: examples.forget, control: control)
                    let rest = try Inference.predict(network, on: data.test, indices: examples.test + examples.validation, control: control)
                    let retain = plan.kind == .shadow ? nil
                        : try Inference.predict(network, on: data.train, indices: split.retain, control: control).accuracy
                    plan.fleet.add(FleetMember(seed: seed, logits: forget.logits + rest.logits,
                                               inMask: plan.kind == .shadow ? examplesIn[Int(seed)] : nil,
                                               retainAccuracy: retain, model: plan.fleet.keepsWeights ? model : nil,
                                               seconds: monotonicSeconds() - memberStart))
                } catch {
                    failures.record(error)
                    parent.cancel()  // one failed member ends the request; the others stop at their next batch
                }
            }
        }
        group.wait()
        try failures.rethrow()
        return FleetFill(trained: missing.count, reused: reused, seconds: monotonicSeconds() - start)
    }
}

/// Shadow halves: for each pool example, a random order of the K shadows, the first K/2 of which take it (the
/// LiRA reference's argsort of uniform draws). Returns each shadow's training indices into the pool, and whether each
/// of the fleet's examples is in it.
func shadowHalves(_ plan: FleetPlan, data: Dataset, examples: FleetExamples) -> ([[Int]], [[Bool]]) {
    let k = plan.shadowCount, pool = data.train.count + data.test.count
    var rng = SeededGenerator(seed: plan.shadowSeed ^ 0x7368_6164_6F77_7321)
    var inMember = [[Bool]](repeating: [Bool](repeating: false, count: pool), count: k)
    for p in 0..<pool {
        let order = rng.permutation(k)
        for m in 0..<k where order[m] < k / 2 { inMember[m][p] = true }
    }
    let poolIndices = examples.poolIndices(trainCount: data.train.count)
    return (inMember.map { mask in mask.indices.filter { mask[$0] } }, inMember.map { mask in poolIndices.map { mask[$0] } })
}

extension JSONEncoder {
    /// Keys sorted, so equal values encode to equal bytes (fleet keys).
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
