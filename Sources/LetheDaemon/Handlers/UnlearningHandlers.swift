// forget and evaluate (attack: AttackHandler.swift).
import Datasets
import Evaluation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor
import Unlearning

extension Daemon {
    func forget(_ p: Forget.Params, _ context: RequestContext) async throws -> Forget.Result {
        guard let method = UnlearningRegistry.method(named: p.method) else {
            throw RPCError.invalidParams("parameter 'method': unknown unlearning method '\(p.method)'; known: \(UnlearningRegistry.names.joined(separator: ", "))")
        }
        let source = try await workspace.model(p.model)
        let splitEntry = try await workspace.split(p.split)
        let dataset = splitEntry.data
        try Self.checkFits(source.model, dataset, datasetName: splitEntry.dataset)
        let output = p.output ?? "\(p.model)-\(p.method)"
        try Validate.name(output, field: "output")
        let hyperparameters = try Self.hyperparameters(p.hyperparameters ?? [:])
        _ = try hyperparameters.resolved(for: method)  // unknown names and wrong types fail before any work starts
        let seed = p.seed ?? 0
        try await checkMemory(adding: Self.bytes(source.model), for: "forget's output model '\(output)'")
        return try await writingModel(output, mustBeNew: true) {
            let start = monotonicSeconds()
            let outcome = try await job(Forget.name, target: output, token: p.workDoneToken, threads: p.threads, context: context) { control in
                try method.unlearn(UnlearningContext(
                    original: source.model, originalRecipe: source.recipe, data: dataset.train,
                    trainingSource: dataset.trainingSource(seed: seed), split: splitEntry.split,
                    hyperparameters: hyperparameters, seed: seed, control: control))
            }
            let result = Forget.Result(model: output, source: p.model, method: p.method, hyperparameters: outcome.hyperparameters.mapValues(Self.wire),
                                       details: outcome.details.isEmpty ? nil : outcome.details,
                                       seconds: monotonicSeconds() - start, fingerprint: outcome.model.fingerprint)
            return (ModelEntry(model: outcome.model, dataset: source.dataset, recipe: outcome.recipe), result)
        }
    }

    func evaluate(_ p: Evaluate.Params, _ context: RequestContext) async throws -> Evaluate.Result {
        let entry = try await workspace.model(p.model)
        let splitEntry = try await workspace.split(p.split)
        let dataset = splitEntry.data
        try Self.checkFits(entry.model, dataset, datasetName: splitEntry.dataset)
        var reference: ModelEntry?
        if let name = p.reference { reference = try await workspace.model(name) }
        if let reference, reference.model.classCount != entry.model.classCount {
            throw RPCError(code: .shapeMismatch, message: "parameter 'reference': model '\(p.reference!)' has \(reference.model.classCount) classes but '\(p.model)' has \(entry.model.classCount)")
        }
        if let reference { try Self.checkFits(reference.model, dataset, datasetName: splitEntry.dataset) }
        let referenceEntry = reference
        let start = monotonicSeconds()
        let cache = outputs
        let (report, compared) = try await job(Evaluate.name, target: p.model, token: nil, threads: p.threads, context: context) { control in
            let predict: Evaluator.Predict = { try cache.predictions(entry.model, on: $0, indices: $1, control: control) }
            let report = try Evaluator.report(model: entry.model, dataset: dataset, split: splitEntry.split, control: control, predict: predict)
            let compared = try referenceEntry.map { reference in
                ReferenceComparison.compare(try predict(dataset.train, splitEntry.split.forget),
                                            to: try cache.predictions(reference.model, on: dataset.train, indices: splitEntry.split.forget, control: control))
            }
            return (report, compared)
        }
        func wire(_ m: SetMetrics) -> SetMetricsResult { .init(count: m.count, accuracy: m.accuracy, loss: m.meanLoss) }
        return .init(model: p.model, split: p.split, retain: wire(report.retain), forget: wire(report.forget),
                     validation: wire(report.validation), test: wire(report.test), unlearningAccuracy: report.unlearningAccuracy,
                     reference: compared.map { Evaluate.ReferenceResult(model: p.reference!, jsDivergence: $0.jsDivergence,
                                                                        l2Distance: $0.l2Distance, agreement: $0.agreement) },
                     seconds: monotonicSeconds() - start)
    }

    /// Wire values to typed hyperparameter values; the method's specs then check names, kinds and ranges.
    static func hyperparameters(_ given: [String: JSONValue]) throws -> Hyperparameters {
        var out: [String: HyperparameterValue] = [:]
        for (name, value) in given {
            switch value {
            case .number(let x): out[name] = .number(x)
            case .bool(let b): out[name] = .bool(b)
            case .string(let s): out[name] = .string(s)
            default: throw RPCError.invalidParams("hyperparameter '\(name)' must be a number, a boolean or a string")
            }
        }
        return Hyperparameters(out)
    }

    static func wire(_ value: HyperparameterValue) -> JSONValue {
        switch value {
        case .number(let x): return .number(x)
        case .integer(let x): return .number(Double(x))
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        }
    }
}
