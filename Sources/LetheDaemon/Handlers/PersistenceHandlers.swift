// split/info, model/save, model/load and model/predict.
import Datasets
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

extension Daemon {
    func splitInfo(_ p: SplitInfo.Params) async throws -> SplitInfo.Result {
        let entry = try await workspace.split(p.name)
        let dataset = entry.data  // the data the split was drawn from, even if the name was reloaded since
        let s = entry.split
        func part(_ examples: LabeledExamples, _ indices: [Int], groups: [Int]?) -> SplitInfo.Part {
            // classCounts sizes by the example set's own class count; report the dataset's for every part.
            var counts = examples.classCounts(of: indices)
            counts += [Int](repeating: 0, count: max(0, dataset.classCount - counts.count))
            return .init(count: indices.count, classCounts: counts, groups: groups.map { g in Set(indices.map { g[$0] }).count })
        }
        var result = SplitInfo.Result(name: p.name, dataset: entry.dataset, seed: entry.seed,
                                      retain: part(dataset.train, s.retain, groups: dataset.trainGroups),
                                      forget: part(dataset.train, s.forget, groups: dataset.trainGroups),
                                      validation: part(dataset.test, s.validation, groups: nil), test: part(dataset.test, s.test, groups: nil))
        result.fingerprint = s.fingerprintHex
        result.dataFingerprint = dataset.fingerprint
        return result
    }

    func saveModel(_ p: ModelSave.Params, _ context: RequestContext) async throws -> ModelSave.Result {
        let entry = try await workspace.model(p.model)
        if p.path?.isEmpty == true { throw RPCError.invalidParams("parameter 'path' must not be empty") }
        let path = try p.path ?? libraryPath(p.model, creating: true)
        let start = monotonicSeconds()
        let bytes = try await job(ModelSave.name, target: p.model, token: nil, context: context) { _ in
            try entry.model.save(to: path, recipe: entry.recipe)
        }
        return .init(model: p.model, path: path, bytes: bytes, tensors: entry.model.entries.count,
                     fingerprint: entry.model.fingerprint, seconds: monotonicSeconds() - start)
    }

    func loadModel(_ p: ModelLoad.Params, _ context: RequestContext) async throws -> ModelLoad.Result {
        try Validate.name(p.name, field: "name")
        // The wire spec and the engine's Architecture share their JSON shape, so new architecture fields pass through.
        let architecture = try p.architecture.map { try JSONValue(encoding: $0).decode(as: Architecture.self) }
        if let kind = architecture?.kind, !Architecture.kinds.contains(kind) {
            throw RPCError.invalidParams("parameter 'architecture.kind': unknown architecture '\(kind)'; known: \(Architecture.kinds.joined(separator: ", "))")
        }
        var inputShape = p.inputShape, classes = p.classes
        if let name = p.dataset {
            let dataset = try await workspace.dataset(name)
            inputShape = inputShape ?? dataset.exampleShape
            classes = classes ?? dataset.classCount
        }
        let start = monotonicSeconds()
        let path = try p.path ?? libraryPath(p.name, creating: false)
        if p.path == nil, !FileManager.default.fileExists(atPath: path) {
            throw RPCError(code: .notFound, message: "no model named '\(p.name)' in the library (\(path)); model/list shows what it holds")
        }
        let (shape, classCount) = (inputShape, classes)
        let (model, tensors) = try await writingModel(p.name, mustBeNew: !(p.replace ?? false)) {
            let (model, recipe, tensors) = try await job(ModelLoad.name, target: p.name, token: nil, context: context) { _ in
                let file = try SafetensorsFile.read(path)
                let model = try Model.load(file, architecture: architecture, inputShape: shape, classCount: classCount)
                return (model, try Model.describe(file).recipe, file.tensors.count)
            }
            return (ModelEntry(model: model, dataset: p.dataset, recipe: recipe), (model, tensors))
        }
        let spec = try JSONValue(encoding: model.architecture).decode(as: ArchitectureSpec.self)
        return .init(name: p.name, path: path, architecture: spec, inputShape: model.inputShape, classCount: model.classCount,
                     parameterCount: model.parameterCount, tensors: tensors, fingerprint: model.fingerprint,
                     seconds: monotonicSeconds() - start)
    }

    func predict(_ p: ModelPredict.Params, _ context: RequestContext) async throws -> ModelPredict.Result {
        let entry = try await workspace.model(p.model)
        let model = entry.model
        let outputKind = p.output ?? "logits"
        guard outputKind == "logits" || outputKind == "probabilities" else {
            throw RPCError.invalidParams("parameter 'output' must be \"logits\" or \"probabilities\", got '\(outputKind)'")
        }
        let (source, indices, labelled) = try await predictionInputs(p, model: model)
        let classes = model.classCount
        if p.path == nil, indices.count * classes > ModelPredict.maximumInlineValues {
            throw RPCError.invalidParams("\(indices.count) examples × \(classes) classes is too many values for a reply; name a 'path' to write them to an .npy file")
        }
        let start = monotonicSeconds()
        let path = p.path
        let cache = outputs
        let (values, predictions, accuracy) = try await job(ModelPredict.name, target: p.model, token: p.workDoneToken, context: context) { control in
            // Dataset and split parts come from the outputs cache; inline inputs are computed every time.
            let out = try labelled && source is LabeledExamples
                ? cache.predictions(model, on: source as! LabeledExamples, indices: indices, control: control)
                : Inference.predict(Network(model: model), on: source, indices: indices, control: control)
            var values = out.logits
            if outputKind == "probabilities" {
                for i in 0..<out.count { values.replaceSubrange((i * classes)..<((i + 1) * classes), with: out.probabilities(i)) }
            }
            let predictions = out.logits.withUnsafeBufferPointer { l in (0..<out.count).map { Kernels.argmax(l.baseAddress! + $0 * classes, classes) } }
            if let path { try AtomicFile.write(NPY.encode(float32: values, shape: [out.count, classes]), to: path) }
            return (values, predictions, labelled ? out.accuracy : nil)
        }
        let inline = path == nil ? (0..<indices.count).map { i in values[(i * classes)..<((i + 1) * classes)].map(Double.init) } : nil
        return .init(model: p.model, count: indices.count, classCount: classes, output: outputKind, predictions: predictions,
                     values: inline, path: path, accuracy: accuracy, seconds: monotonicSeconds() - start)
    }

    /// The examples to predict: inline inputs (as an unlabelled example set), a dataset part, or a split part.
    private func predictionInputs(_ p: ModelPredict.Params, model: Model) async throws -> (ExampleSource, [Int], Bool) {
        let given = [p.inputs != nil, p.dataset != nil, p.split != nil].filter { $0 }.count
        guard given == 1 else { throw RPCError.invalidParams("parameter 'inputs', 'dataset' or 'split' is needed, exactly one of them") }
        if let inputs = p.inputs {
            guard !inputs.isEmpty, inputs.count <= ModelPredict.maximumInlineInputs else {
                throw RPCError.invalidParams("parameter 'inputs' must hold 1 to \(ModelPredict.maximumInlineInputs) examples; larger sets go in a dataset")
            }
            let size = model.inputShape.reduce(1, *)
            var flat: [Float] = []
            flat.reserveCapacity(inputs.count * size)
            for (i, x) in inputs.enumerated() {
                guard x.count == size else {
                    throw RPCError(code: .shapeMismatch, message: "parameter 'inputs[\(i)]' has \(x.count) values but the model takes inputs \(model.inputShape) (\(size) values)")
                }
                guard x.allSatisfy(\.isFinite) else { throw RPCError.invalidParams("parameter 'inputs[\(i)]' holds a non-finite value") }
                flat += x.map { Float($0) }
            }
            let examples = try LabeledExamples(exampleShape: model.inputShape, classCount: model.classCount, features: flat,
                                               labels: [Int32](repeating: 0, count: inputs.count))
            return (examples, Array(0..<inputs.count), false)
        }
        if let name = p.dataset {
            let dataset = try await workspace.dataset(name)
            try Self.checkFits(model, dataset, datasetName: name)
            let examples: LabeledExamples
            switch p.part ?? "test" {
            case "train": examples = dataset.train
            case "test": examples = dataset.test
            case let other: throw RPCError.invalidParams("parameter 'part' must be \"train\" or \"test\", got '\(other)'")
            }
            let indices = p.indices ?? Array(0..<examples.count)
            if let bad = indices.first(where: { $0 < 0 || $0 >= examples.count }) {
                throw RPCError.invalidParams("parameter 'indices': index \(bad) outside 0..<\(examples.count) (the \(p.part ?? "test") part's size)")
            }
            return (examples, indices, true)
        }
        let splitName = p.split!
        let entry = try await workspace.split(splitName)
        let dataset = entry.data
        try Self.checkFits(model, dataset, datasetName: entry.dataset)
        guard p.indices == nil, p.part == nil else { throw RPCError.invalidParams("parameters 'indices' and 'part' go with 'dataset', not 'split'") }
        switch p.subset ?? "forget" {
        case "retain": return (dataset.train, entry.split.retain, true)
        case "forget": return (dataset.train, entry.split.forget, true)
        case "validation": return (dataset.test, entry.split.validation, true)
        case "test": return (dataset.test, entry.split.test, true)
        case let other: throw RPCError.invalidParams("parameter 'subset' must be retain, forget, validation or test, got '\(other)'")
        }
    }

    /// Where the library keeps a model saved by name: `<state-dir>/models/<name>.safetensors`.
    func libraryPath(_ name: String, creating: Bool) throws -> String {
        guard let runs else {
            throw RPCError.invalidParams("parameter 'path' is needed: this daemon has no state directory for a model library")
        }
        try Validate.name(name, field: "model")
        let directory = (runs.path as NSString).deletingLastPathComponent + "/models"
        if creating { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        return directory + "/" + name + ".safetensors"
    }

    func listModels() async -> ModelList.Result {
        let resident = await workspace.models
        var saved: [String: (String, Int)] = [:]
        if let runs {
            let dir = (runs.path as NSString).deletingLastPathComponent + "/models"
            for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where file.hasSuffix(".safetensors") {
                let path = dir + "/" + file
                let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
                saved[String(file.dropLast(".safetensors".count))] = (path, size)
            }
        }
        let names = Set(resident.keys).union(saved.keys).sorted()
        return .init(models: names.map { name in
            ModelList.Entry(name: name, resident: resident[name] != nil, fingerprint: resident[name]?.model.fingerprint,
                            saved: saved[name] != nil, path: saved[name]?.0, bytes: saved[name]?.1)
        })
    }
}
