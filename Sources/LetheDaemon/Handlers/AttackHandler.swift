// attack: checks the whole request and plans the fleets its kind reads before the job waits for cores; the job
// trains the fleets' missing members side by side (units on the pool), then runs the kind as one unit with the
// job's threads.
import Datasets
import Evaluation
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

extension Daemon {
    func attack(_ p: Attack.Params, _ context: RequestContext) async throws -> Attack.Result {
        let kindName = p.kind ?? "simple"
        guard let kind = AttackRegistry.kind(named: kindName) else {
            throw RPCError.invalidParams("parameter 'kind': unknown attack '\(kindName)'; known: \(AttackRegistry.names.joined(separator: ", "))")
        }
        let request = try Self.checkedAttack(p, kind: kindName)
        let target = try await workspace.model(p.model)
        let splitEntry = try await workspace.split(p.split)
        try Self.checkFits(target.model, splitEntry.data, datasetName: splitEntry.dataset)
        if let threads = p.threads, !(1...256).contains(threads) {
            throw RPCError.invalidParams("parameter 'threads' must be between 1 and 256, got \(threads)")
        }
        if let original = p.original, original != p.model {
            let o = try await workspace.model(original)
            guard o.model.inputShape == target.model.inputShape, o.model.classCount == target.model.classCount else {
                throw RPCError(code: .shapeMismatch, message: "parameter 'original': model '\(original)' takes inputs \(o.model.inputShape) with \(o.model.classCount) classes but model '\(p.model)' takes \(target.model.inputShape) with \(target.model.classCount)")
            }
        }
        var plans: [FleetKind: FleetPlan] = [:]
        for fleetKind in kind.fleets(request) {
            switch fleetKind {
            case .shadow:
                plans[.shadow] = try await planFleet(kind: .shadow, modelName: p.original ?? p.model, splitName: p.split, count: request.shadows,
                                                     seed: request.seed, method: nil, hyperparameters: nil, keepWeights: false,
                                                     threadsPerModel: p.threadsPerModel, countField: "shadows")
            case .retrained:
                plans[.retrained] = try await planFleet(kind: .retrained, modelName: p.model, splitName: p.split, count: request.models,
                                                        seed: request.seed, method: nil, hyperparameters: nil, keepWeights: false,
                                                        threadsPerModel: p.threadsPerModel, countField: "models")
            case .unlearned:
                plans[.unlearned] = try await planFleet(kind: .unlearned, modelName: p.model, splitName: p.split, count: request.models,
                                                        seed: request.seed, method: p.method ?? "finetune", hyperparameters: p.hyperparameters,
                                                        keepWeights: false, threadsPerModel: p.threadsPerModel)
            }
        }
        if let directory = request.outputs { try Self.makeDirectory(directory, field: "outputs") }
        let plansFinal = plans
        let cache = outputs
        let jobThreads = p.threads ?? threads
        let connection = context.connection
        let run = context.run
        let start = monotonicSeconds()
        let (outcome, uses, written) = try await job(Attack.name, target: p.model, token: nil, threads: p.threads, context: context,
                                                    holdsThreads: false) { control in
            var uses: [Attack.FleetUse] = []
            for fleetKind in FleetKind.allCases {
                guard let plan = plansFinal[fleetKind] else { continue }
                let fill = try Self.train(plan, parent: control, token: p.workDoneToken, connection: connection, run: run)
                uses.append(.init(id: plan.fleet.id, kind: fleetKind.rawValue, members: plan.seeds.count, trained: fill.trained, reused: fill.reused))
            }
            let attackContext = AttackContext(request: request, target: target.model, data: splitEntry.data, split: splitEntry.split,
                                              control: control, plans: plansFinal, outputs: cache)
            let outcome = try ComputePool.runHere(threads: jobThreads) { try kind.run(attackContext) }
            return (outcome, uses, attackContext.written)
        }
        let roc = outcome.roc
        return .init(model: p.model, split: p.split, kind: kindName, score: outcome.score, scoreName: outcome.scoreName,
                     chanceLevel: outcome.chanceLevel, auc: roc?.auc, tprAt0_1PercentFPR: roc?.tprAt0_1PercentFPR,
                     tprAt1PercentFPR: roc?.tprAt1PercentFPR, bestAccuracy: roc?.bestAccuracy,
                     roc: roc.map { Attack.Curve(fpr: $0.fpr, tpr: $0.tpr) }, balance: outcome.balance, folds: outcome.folds,
                     variant: outcome.variant, features: outcome.features, epsilon: outcome.epsilon, members: outcome.members,
                     nonMembers: outcome.nonMembers, fleets: uses.isEmpty ? nil : uses, outputs: written.isEmpty ? nil : written,
                     note: outcome.note, seconds: monotonicSeconds() - start)
    }

    /// Applies the defaults and refuses parameters the kind does not read, naming them.
    static func checkedAttack(_ p: Attack.Params, kind: String) throws -> AttackRequest {
        func only(_ given: Any?, _ field: String, _ kinds: [String]) throws {
            if given != nil, !kinds.contains(kind) {
                throw RPCError.invalidParams("parameter '\(field)' applies to the \(kinds.joined(separator: " and ")) attack\(kinds.count > 1 ? "s" : ""), not \(kind)")
            }
        }
        try only(p.balance, "balance", ["simple"])
        try only(p.shadows, "shadows", ["lira", "rmia"])
        try only(p.variant, "variant", ["lira", "rmia"])
        try only(p.original, "original", ["lira", "rmia"])
        try only(p.method, "method", ["ulira", "epsilon"])
        try only(p.hyperparameters, "hyperparameters", ["ulira", "epsilon"])
        try only(p.models, "models", ["ulira", "epsilon"])
        try only(p.threadsPerModel, "threadsPerModel", ["lira", "rmia", "ulira", "epsilon"])
        try only(p.outputs, "outputs", ["lira", "rmia", "ulira", "epsilon"])  // simple and mia-efficacy score no examples
        guard let balance = MIABalance(rawValue: p.balance ?? "both") else {
            throw RPCError.invalidParams("parameter 'balance': unknown balance '\(p.balance ?? "")'; known: \(Attack.balances.joined(separator: ", "))")
        }
        let variant = p.variant ?? "online"
        guard Attack.variants.contains(variant) else {
            throw RPCError.invalidParams("parameter 'variant': unknown variant '\(variant)'; known: \(Attack.variants.joined(separator: ", "))")
        }
        let shadows = p.shadows ?? 16
        guard (2...4096).contains(shadows), shadows % 2 == 0 else {
            throw RPCError.invalidParams("parameter 'shadows' must be an even number from 2 to 4096 (each example is in exactly half of the shadows), got \(shadows)")
        }
        let models = p.models ?? 32
        guard (2...4096).contains(models) else { throw RPCError.invalidParams("parameter 'models' must be between 2 and 4096, got \(models)") }
        return AttackRequest(kind: kind, balance: balance, seed: p.seed ?? 0, shadows: shadows, online: variant == "online",
                             models: models, outputs: p.outputs)
    }

    /// Creates `path` (and its parents) when missing; a clear error when it cannot, or when it is not a directory.
    static func makeDirectory(_ path: String, field: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw RPCError.invalidParams("parameter '\(field)': '\(path)' exists and is not a directory") }
            guard access(path, W_OK) == 0 else { throw RPCError.invalidParams("parameter '\(field)': cannot write in '\(path)'") }
            return
        }
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw RPCError.invalidParams("parameter '\(field)': cannot create directory '\(path)': \(error.localizedDescription)")
        }
    }
}
