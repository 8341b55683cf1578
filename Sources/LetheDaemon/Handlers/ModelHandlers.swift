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
        let architecture = Architecture(kind: p.architecture.kind, hidden: p.architecture.hidden)
        let model = try Model(architecture: architecture, inputShape: dataset.exampleShape, classCount: dataset.classCount, seed: p.seed ?? 0)
        try await workspace.create(model: ModelEntry(model: model, dataset: p.dataset, recipe: nil), as: p.name)
        return .init(name: p.name, architecture: p.architecture, inputShape: model.inputShape, classCount: model.classCount,
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
            guard split.dataset == p.dataset else {
                throw RPCError.invalidParams("split '\(splitName)' belongs to dataset '\(split.dataset)', not '\(p.dataset)'")
            }
            indices = split.split.retain
        case let other: throw RPCError.invalidParams("parameter 'subset' must be \"train\" or \"retain\", got '\(other)'")
        }
        let recipe = try Self.recipe(p)
        let seed = p.seed ?? 0
        let (model, summary) = try await writingModel(p.model, mustBeNew: false) {
            let (model, summary) = try await job(ModelTrain.name, target: p.model, token: p.workDoneToken, context: context) { control in
                let model = entry.model.clone()
                var rng = SeededGenerator(seed: seed)
                // The training part, augmented when the dataset was loaded with augmentation (seeded from the job's seed).
                let summary = try Trainer.train(Network(model: model), on: dataset.trainingSource(seed: seed), indices: indices, recipe: recipe,
                                                rng: &rng, control: control)
                return (model, summary)
            }
            return (ModelEntry(model: model, dataset: entry.dataset, recipe: recipe), (model, summary))
        }
        return .init(model: p.model, examples: indices.count, epochs: summary.epochs, loss: summary.finalLoss,
                     accuracy: summary.finalAccuracy, seconds: summary.seconds, fingerprint: model.fingerprint)
    }

    static func recipe(_ p: ModelTrain.Params) throws -> TrainingRecipe {
        let base = TrainingRecipe.standard
        let epochs = p.epochs ?? base.epochs
        let batchSize = p.batchSize ?? base.batchSize
        let lr = p.lr ?? Double(base.learningRate)
        guard epochs >= 1 else { throw RPCError.invalidParams("parameter 'epochs' must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw RPCError.invalidParams("parameter 'batchSize' must be at least 1, got \(batchSize)") }
        guard lr > 0, lr.isFinite else { throw RPCError.invalidParams("parameter 'lr' must be a positive number, got \(lr)") }
        let scheduleName = p.schedule ?? "constant"
        guard let schedule = Schedule(rawValue: scheduleName) else {
            throw RPCError.invalidParams("parameter 'schedule' must be one of \(Schedule.allCases.map(\.rawValue)), got '\(scheduleName)'")
        }
        return TrainingRecipe(epochs: epochs, batchSize: batchSize, learningRate: Float(lr),
                              momentum: Float(p.momentum ?? Double(base.momentum)),
                              weightDecay: Float(p.weightDecay ?? Double(base.weightDecay)), schedule: schedule)
    }

    /// A model can only read a dataset whose examples have its input shape and whose labels it can output.
    static func checkFits(_ model: Model, _ dataset: Dataset, datasetName: String) throws {
        guard model.inputShape == dataset.exampleShape, model.classCount >= dataset.classCount else {
            throw RPCError(code: .shapeMismatch, message: "the model takes inputs \(model.inputShape) with \(model.classCount) classes but dataset '\(datasetName)' has examples \(dataset.exampleShape) with \(dataset.classCount) classes")
        }
    }
}
