// dataset/load and split/create.
import Datasets
import JSONRPC
import LetheProtocol
import NeuralNet

extension Daemon {
    func loadDataset(_ p: DatasetLoad.Params, _ context: RequestContext) async throws -> DatasetLoad.Result {
        let name = p.name ?? "fashion-mnist"
        try Validate.name(name, field: "name")
        let source = try Self.datasetSource(p)
        let (dataset, seconds) = try await job(DatasetLoad.name, target: name, token: nil, context: context) { _ in
            let start = monotonicSeconds()
            let d = try DatasetLoader.load(source)
            return (d, monotonicSeconds() - start)
        }
        // Published only now, whole: a failed load leaves the workspace as it was.
        let replaced = (try? await workspace.dataset(name)).map(Self.bytes) ?? 0
        try await checkMemory(adding: Self.bytes(dataset), for: "dataset '\(name)'", replacing: replaced)
        await workspace.put(dataset: dataset, as: name)
        logger.info("loaded dataset \(name) (\(source.format.rawValue)) from \(source.path) in \(seconds) s")
        var result = DatasetLoad.Result(
            name: name, origin: dataset.origin, trainCount: dataset.train.count, testCount: dataset.test.count,
            exampleShape: dataset.exampleShape, classCount: dataset.classCount, seconds: seconds,
            format: source.format.rawValue, groupCount: dataset.trainGroups.map { Set($0).count },
            normalization: dataset.normalization.map { NormalizeSpec(mean: $0.mean.map(Double.init), std: $0.std.map(Double.init)) },
            augmentation: dataset.augmentation.map { AugmentSpec(cropPadding: $0.cropPadding, horizontalFlip: $0.horizontalFlip) })
        result.fingerprint = dataset.fingerprint
        return result
    }

    func createSplit(_ p: SplitCreate.Params) async throws -> SplitCreate.Result {
        let dataset = try await workspace.dataset(p.dataset)
        let name = p.name ?? "\(p.dataset)-split"
        try Validate.name(name, field: "name")
        let selection = try Self.forgetSelection(p.forget)
        let seed = p.seed ?? 0
        let split = try SplitBuilder.make(dataset: dataset, forget: selection, validationFraction: p.validationFraction ?? 0.5, seed: seed)
        await workspace.put(split: SplitEntry(dataset: p.dataset, data: dataset, split: split, seed: seed), as: name)
        return .init(name: name, dataset: p.dataset, retain: split.retain.count, forget: split.forget.count,
                     validation: split.validation.count, test: split.test.count, seed: seed)
    }
}

enum Validate {
    /// Workspace names: 1–128 characters of letters, digits, '-', '_', '.'.
    static func name(_ name: String, field: String) throws {
        let allowed = name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "-_.".unicodeScalars.contains($0) }
        guard !name.isEmpty, name.count <= 128, allowed else {
            throw RPCError.invalidParams("parameter '\(field)' must be 1–128 letters, digits, '-', '_' or '.', got '\(name)'")
        }
    }
}
