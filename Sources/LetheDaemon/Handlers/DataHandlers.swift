// dataset/load and split/create.
import Datasets
import JSONRPC
import LetheProtocol
import NeuralNet

extension Daemon {
    func loadDataset(_ p: DatasetLoad.Params, _ context: RequestContext) async throws -> DatasetLoad.Result {
        let name = p.name ?? "fashion-mnist"
        try Validate.name(name, field: "name")
        let path = p.path ?? DatasetLoader.fashionMNISTDirectory
        let classes = p.classes ?? 10
        guard classes >= 2 else { throw RPCError.invalidParams("parameter 'classes' must be at least 2, got \(classes)") }
        let (dataset, seconds) = try await job(DatasetLoad.name, target: name, token: nil, context: context) { _ in
            let start = monotonicSeconds()
            let d = try DatasetLoader.loadIDXDirectory(path, classCount: classes)
            return (d, monotonicSeconds() - start)
        }
        await workspace.put(dataset: dataset, as: name)
        logger.info("loaded dataset \(name) from \(path) in \(seconds) s")
        return .init(name: name, origin: dataset.origin, trainCount: dataset.train.count, testCount: dataset.test.count,
                     exampleShape: dataset.exampleShape, classCount: dataset.classCount, seconds: seconds)
    }

    func createSplit(_ p: SplitCreate.Params) async throws -> SplitCreate.Result {
        let dataset = try await workspace.dataset(p.dataset)
        let name = p.name ?? "\(p.dataset)-split"
        try Validate.name(name, field: "name")
        let selection: ForgetSelection
        switch (p.forget.fraction, p.forget.count) {
        case (let f?, nil): selection = .fraction(f)
        case (nil, let c?): selection = .count(c)
        default: throw RPCError.invalidParams("parameter 'forget' needs exactly one of 'fraction' or 'count'")
        }
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
