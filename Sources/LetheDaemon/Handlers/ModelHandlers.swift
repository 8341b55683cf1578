// model/create and model/train.
import Datasets
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

extension Daemon {
    func createModel(_ p: ModelCreate.Params) async throws -> ModelCreate.Result {
        try Validate.name(p.name, field: "name")
        guard Architecture.kinds.contains(p.architecture.kind) else {
            throw RPCError.invalidParams("parameter 'architecture.kind': unknown architecture '\(p.architecture.kind)'; known: \(Architecture.kinds.joined(separator: ", "))")
        }
        let dataset = try await workspace.dataset(p.dataset)
        let architecture = Architecture(wire: p.architecture)
        let model = try Model(architecture: architecture, inputShape: dataset.exampleShape, classCount: dataset.classCount, seed: p.seed ?? 0)
        try await checkMemory(adding: Self.bytes(model), for: "model '\(p.name)'")
        try await workspace.create(model: ModelEntry(model: model, dataset: p.dataset, recipe: nil), as: p.name)
        return .init(name: p.name, architecture: architecture.wire, inputShape: model.inputShape, classCount: model.classCount,
                     parameterCount: model.parameterCount)
    }

    func train(_ p: ModelTrain.Params, _ context: RequestContext) async throws -> ModelTrain.Result {
        let entry = try await workspace.model(p.model)
        let dataset = try await workspace.dataset(p.dataset)
        try Self.checkFits(entry.model, dataset, datasetName: p.dataset)
        let indices: [Int]
        switch p.subset ?? "train" {
        case "train": indices = Array(0..<dataset.train.count)
        case "retain":
            guard let splitName = p.split else { throw RPCError.invalidParams("subset 'retain' needs parameter 'split'") }
            let split = try await workspace.split(splitName)
            guard split.dataset == p.dataset, split.data === dataset else {
                throw RPCError.invalidParams(split.dataset == p.dataset
                    ? "split '\(splitName)' was drawn from an earlier load of dataset '\(p.dataset)'; create it again"
                    : "split '\(splitName)' belongs to dataset '\(split.dataset)', not '\(p.dataset)'")
            }
            indices = split.split.retain
        case let other: throw RPCError.invalidParams("parameter 'subset' must be \"train\" or \"retain\", got '\(other)'")
        }
        let recipe = try Self.recipe(p)
        let seed = p.seed ?? 0
        let (model, summary) = try await writingModel(p.model, mustBeNew: false) {
            let (model, summary) = try await job(ModelTrain.name, target: p.model, token: p.workDoneToken, threads: p.threads,
                                                 context: context) { control in
                let model = entry.model.clone()
                var rng = SeededGenerator(seed: seed)
                let network = Network(model: model, seed: rng.next())
                // The training part, augmented when the dataset was loaded with augmentation (seeded from the job's seed).
                let summary = try Trainer.train(network, on: dataset.trainingSource(seed: seed), indices: indices, recipe: recipe,
                                                rng: &rng, control: control)
                return (model, summary)
            }
            return (ModelEntry(model: model, dataset: entry.dataset, recipe: recipe), (model, summary))
        }
        return .init(model: p.model, examples: indices.count, epochs: summary.epochs, loss: summary.finalLoss,
                     accuracy: summary.finalAccuracy, seconds: summary.seconds, fingerprint: model.fingerprint)
    }

    static func recipe(_ p: ModelTrain.Params) throws -> TrainingRecipe {
        var r = TrainingRecipe.standard
        func positive(_ value: Double?, _ field: String) throws -> Float? {
            guard let value else { return nil }
            guard value.isFinite, value > 0 else { throw RPCError.invalidParams("parameter '\(field)' must be a positive number, got \(value)") }
            return Float(value)
        }
        func nonNegative(_ value: Double?, _ field: String) throws -> Float? {
            guard let value else { return nil }
            guard value.isFinite, value >= 0 else { throw RPCError.invalidParams("parameter '\(field)' must be a non-negative number, got \(value)") }
            return Float(value)
        }
        func choice<T: RawRepresentable & CaseIterable>(_ value: String?, _ field: String, _ type: T.Type) throws -> T? where T.RawValue == String {
            guard let value else { return nil }
            guard let v = T(rawValue: value) else {
                throw RPCError.invalidParams("parameter '\(field)' must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(value)'")
            }
            return v
        }
        if let e = p.epochs {
            guard (1...100_000).contains(e) else { throw RPCError.invalidParams("parameter 'epochs' must be between 1 and 100000, got \(e)") }
            r.epochs = e
        }
        if let b = p.batchSize {
            guard (1...1_000_000).contains(b) else { throw RPCError.invalidParams("parameter 'batchSize' must be between 1 and 1000000, got \(b)") }
            r.batchSize = b
        }
        r.learningRate = try positive(p.lr, "lr") ?? r.learningRate
        r.momentum = try nonNegative(p.momentum, "momentum") ?? r.momentum
        r.weightDecay = try nonNegative(p.weightDecay, "weightDecay") ?? r.weightDecay
        r.optimizer = try choice(p.optimizer, "optimizer", TrainingRecipe.OptimizerKind.self) ?? .sgd
        r.nesterov = p.nesterov ?? false
        r.beta1 = try nonNegative(p.beta1, "beta1") ?? r.beta1
        r.beta2 = try nonNegative(p.beta2, "beta2") ?? r.beta2
        guard r.beta1 < 1, r.beta2 < 1 else { throw RPCError.invalidParams("parameters 'beta1' and 'beta2' must be below 1") }
        r.schedule.kind = try choice(p.schedule, "schedule", LearningRateSchedule.Kind.self) ?? .constant
        r.schedule.perStep = p.schedulePerStep ?? false
        if let w = p.warmup {
            guard w >= 0 else { throw RPCError.invalidParams("parameter 'warmup' must be ≥ 0, got \(w)") }
            r.schedule.warmup = w
        }
        if let s = p.stepSize {
            guard s >= 1 else { throw RPCError.invalidParams("parameter 'stepSize' must be ≥ 1, got \(s)") }
            r.schedule.stepSize = s
        }
        r.schedule.gamma = try positive(p.gamma, "gamma") ?? r.schedule.gamma
        r.loss.classWeights = try p.classWeights.map { try $0.map { try nonNegative($0, "classWeights")! } }
        r.loss.labelSmoothing = try nonNegative(p.labelSmoothing, "labelSmoothing") ?? 0
        r.clipNorm = try positive(p.clipNorm, "clipNorm")
        r.frozen = p.frozen ?? []
        return r
    }

    func info(_ p: ModelInfo.Params) async throws -> ModelInfo.Result {
        let entry = try await workspace.model(p.model)
        let model = entry.model
        let layers = try model.architecture.describe(inputShape: model.inputShape, classCount: model.classCount).map {
            ModelInfo.Layer(name: $0.name, type: $0.type, outputShape: $0.outputShape, parameters: $0.parameters, flops: 2 * $0.multiplyAdds)
        }
        return .init(name: p.model, architecture: model.architecture.wire, dataset: entry.dataset, inputShape: model.inputShape,
                     classCount: model.classCount, parameterCount: model.parameterCount, bufferCount: model.bufferCount,
                     flopsPerExample: layers.reduce(0) { $0 + $1.flops }, layers: layers, trained: entry.recipe != nil,
                     fingerprint: model.fingerprint)
    }

    /// A model can only read a dataset whose examples have its input shape and whose labels it can output.
    static func checkFits(_ model: Model, _ dataset: Dataset, datasetName: String) throws {
        guard model.inputShape == dataset.exampleShape, model.classCount >= dataset.classCount else {
            throw RPCError(code: .shapeMismatch, message: "the model takes inputs \(model.inputShape) with \(model.classCount) classes but dataset '\(datasetName)' has examples \(dataset.exampleShape) with \(dataset.classCount) classes")
        }
    }
}

extension Architecture {
    /// From the wire type (LetheProtocol keeps its own copy: it cannot import the engine).
    init(wire a: ArchitectureSpec) {
        self.init(kind: a.kind, hidden: a.hidden, channels: a.channels, width: a.width, cifarStem: a.cifarStem,
                  layers: a.layers?.map { LayerSpec(type: $0.type, out: $0.out, kernel: $0.kernel, stride: $0.stride, padding: $0.padding,
                                                    bias: $0.bias, p: $0.p, slope: $0.slope) })
    }

    var wire: ArchitectureSpec {
        ArchitectureSpec(kind: kind, hidden: hidden, channels: channels, width: width, cifarStem: cifarStem,
                         layers: layers?.map { .init(type: $0.type, out: $0.out, kernel: $0.kernel, stride: $0.stride, padding: $0.padding,
                                                     bias: $0.bias, p: $0.p, slope: $0.slope) })
    }
}
