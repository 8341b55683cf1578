// fleet/train, fleet/list, fleet/delete, and the deletes that free a long-lived daemon's memory.
import Datasets
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

extension Daemon {
    func fleetTrain(_ p: FleetTrain.Params, _ context: RequestContext) async throws -> FleetTrain.Result {
        guard let kind = FleetKind(rawValue: p.kind) else {
            throw RPCError.invalidParams("parameter 'kind': unknown fleet kind '\(p.kind)'; known: \(FleetTrain.kinds.joined(separator: ", "))")
        }
        let plan = try await planFleet(kind: kind, modelName: p.model, splitName: p.split, count: p.count, seed: p.seed ?? 0,
                                       method: p.method, hyperparameters: p.hyperparameters, keepWeights: p.keepWeights ?? false,
                                       threadsPerModel: p.threadsPerModel, only: p.members)
        let start = monotonicSeconds()
        let connection = context.connection
        let run = context.run
        let fill = try await job(FleetTrain.name, target: plan.fleet.id, token: nil, threads: nil, context: context, holdsThreads: false) { control in
            try Self.train(plan, parent: control, token: p.workDoneToken, connection: connection, run: run)
        }
        return .init(fleet: Self.summary(plan.fleet), trained: fill.trained, reused: fill.reused, seconds: monotonicSeconds() - start)
    }

    func fleetList() -> FleetList.Result { .init(fleets: fleets.all.map(Self.summary)) }

    func fleetDelete(_ p: FleetDelete.Params) throws -> DeleteResult {
        guard let fleet = fleets.all.first(where: { $0.id == p.id }) else { throw RPCError.notFound("fleet", p.id) }
        let bytes = fleet.residentBytes
        _ = fleets.remove(id: p.id)
        return .init(deleted: p.id, fleets: [p.id], freedBytes: bytes)
    }

    func deleteModel(_ p: DeleteParams) async throws -> DeleteResult {
        let entry = try await workspace.removeModel(p.name)
        let fingerprint = entry.model.fingerprint
        var stillUsed = false
        for name in await workspace.names.models { if (try? await workspace.model(name))?.model.fingerprint == fingerprint { stillUsed = true } }
        let gone = stillUsed ? [] : fleets.removeAll { $0.key.modelFingerprint == fingerprint }
        return .init(deleted: p.name, fleets: gone, freedBytes: Self.bytes(entry.model))
    }

    func deleteDataset(_ p: DeleteParams) async throws -> DeleteResult {
        let dataset = try await workspace.removeDataset(p.name)
        return .init(deleted: p.name, fleets: [], freedBytes: Self.bytes(dataset))
    }

    func deleteSplit(_ p: DeleteParams) async throws -> DeleteResult {
        let entry = try await workspace.removeSplit(p.name)
        let gone = fleets.removeAll { $0.key.split == p.name && $0.key.splitFingerprint == entry.split.fingerprint }
        return .init(deleted: p.name, fleets: gone, freedBytes: Self.bytes(entry.split))
    }

    static func summary(_ fleet: Fleet) -> FleetSummary {
        let members = fleet.members
        var summary = FleetSummary(
            id: fleet.id, kind: fleet.key.kind.rawValue, model: fleet.modelName, modelFingerprint: fleet.key.modelFingerprint,
            split: fleet.key.split, method: fleet.method, hyperparameters: fleet.hyperparameters, members: members.count,
            seeds: members.map(\.seed), shadowSeed: fleet.key.shadowSeed, keepsWeights: fleet.keepsWeights,
            fingerprints: fleet.keepsWeights ? members.compactMap { $0.model?.fingerprint } : nil, residentBytes: fleet.residentBytes,
            memberSeconds: members.isEmpty ? 0 : members.map(\.seconds).reduce(0, +) / Double(members.count))
        summary.shadowCount = fleet.key.shadowCount
        return summary
    }

    /// Resident bytes of each kind of object, for server/status and the deletes.
    static func bytes(_ model: Model) -> Int { model.parameterCount * 4 }
    static func bytes(_ dataset: Dataset) -> Int {
        (dataset.train.count * dataset.train.exampleSize + dataset.test.count * dataset.test.exampleSize) * 4
            + (dataset.train.count + dataset.test.count) * 4
    }
    static func bytes(_ split: Split) -> Int { (split.retain.count + split.forget.count + split.validation.count + split.test.count) * 8 }
}
