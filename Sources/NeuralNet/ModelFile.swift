// Models as safetensors files: PyTorch state_dict names and layouts, float32 (BatchNorm's num_batches_tracked as
// int64, as PyTorch keeps it), and Lethe's metadata (architecture, input shape, class count, training recipe) so
// a file reloads without restating them. A PyTorch export without that metadata loads when they are given.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Model {
    /// The safetensors metadata keys Lethe writes.
    public enum MetadataKey {
        /// The architecture, as JSON.
        public static let architecture = "lethe.architecture"
        /// The per-example input shape, as JSON.
        public static let inputShape = "lethe.inputShape"
        /// The class count, as a decimal string.
        public static let classCount = "lethe.classCount"
        /// The training recipe, as JSON (only when known).
        public static let recipe = "lethe.recipe"
    }

    /// Saves atomically; returns the file's size in bytes.
    @discardableResult
    public func save(to path: String, recipe: TrainingRecipe? = nil) throws -> Int {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try encoder.encode(v), as: UTF8.self) }
        var metadata = ["format": "pt", MetadataKey.architecture: try json(architecture),
                        MetadataKey.inputShape: try json(inputShape), MetadataKey.classCount: String(classCount)]
        if let recipe { metadata[MetadataKey.recipe] = try json(recipe) }
        let tensors = entries.map { e -> SafetensorsFile.OutputTensor in
            let p = pointer(to: e)
            if e.isBuffer && e.name.hasSuffix("num_batches_tracked") {
                // PyTorch keeps it as a 0-d int64 tensor; load_state_dict wants exactly that shape back.
                let values = (0..<e.count).map { Int64(p[$0].rounded()) }
                return .init(name: e.name, dtype: "I64", shape: e.count == 1 ? [] : e.shape, bytes: values.withUnsafeBytes { Array($0) })
            }
            return .init(name: e.name, dtype: "F32", shape: e.shape,
                         bytes: Array(UnsafeRawBufferPointer(start: p, count: e.count * MemoryLayout<Float>.size)))
        }
        return try SafetensorsFile.write(tensors, metadata: metadata, to: path)
    }

    /// What a file says about the model it holds (nil fields: not written by Lethe).
    public struct FileDescription: Sendable {
        /// The architecture, if the file states it.
        public var architecture: Architecture?
        /// The per-example input shape, if the file states it.
        public var inputShape: [Int]?
        /// The class count, if the file states it.
        public var classCount: Int?
        /// The recipe the model was trained with, if the file states it.
        public var recipe: TrainingRecipe?
    }

    /// Reads Lethe's metadata from `file`; throws when a value is there but malformed.
    public static func describe(_ file: SafetensorsFile) throws -> FileDescription {
        let decoder = JSONDecoder()
        func value<T: Decodable>(_ key: String, _ type: T.Type) throws -> T? {
            guard let text = file.metadata[key] else { return nil }
            do { return try decoder.decode(T.self, from: Data(text.utf8)) } catch {
                throw ModelFileError.invalid(file: file.path, problem: "metadata '\(key)' is malformed: \(text)")
            }
        }
        return FileDescription(architecture: try value(MetadataKey.architecture, Architecture.self),
                               inputShape: try value(MetadataKey.inputShape, [Int].self),
                               classCount: try value(MetadataKey.classCount, Int.self),
                               recipe: try value(MetadataKey.recipe, TrainingRecipe.self))
    }

    /// Loads a file into a new model; given values override the file's metadata. Every tensor of the model must
    /// be in the file with its shape, and the file may hold no other tensor.
    public static func load(_ file: SafetensorsFile, architecture: Architecture?, inputShape: [Int]?, classCount: Int?) throws -> Model {
        let described = try describe(file)
        guard let architecture = architecture ?? described.architecture,
              let inputShape = inputShape ?? described.inputShape,
              let classCount = classCount ?? described.classCount
        else { throw ModelFileError.needsArchitecture(file: file.path) }
        let model = try Model(architecture: architecture, inputShape: inputShape, classCount: classCount)
        var problems: [String] = []
        // PyTorch stores num_batches_tracked as a 0-d tensor; [] and [1] hold the same single value.
        func same(_ a: [Int], _ b: [Int]) -> Bool { a == b || (a.reduce(1, *) == 1 && b.reduce(1, *) == 1 && a.count <= 1 && b.count <= 1) }
        for e in model.entries {
            guard let t = file.tensors[e.name] else {
                problems.append("tensor '\(e.name)' is missing from the file (the model expects shape \(e.shape))")
                continue
            }
            guard same(t.shape, e.shape) else {
                problems.append("tensor '\(e.name)' has shape \(t.shape) in the file but the model expects \(e.shape)")
                continue
            }
            file.floats(e.name, into: model.pointer(to: e))
        }
        let expected = Set(model.entries.map(\.name))
        for name in file.tensors.keys.sorted() where !expected.contains(name) {
            problems.append("tensor '\(name)' of shape \(file.tensors[name]!.shape) in the file is not part of a \(architecture.kind) model (which has no tensor of that name)")
        }
        if let first = problems.first {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more: \(problems.dropFirst().prefix(3).joined(separator: "; ")))" : ""
            throw ModelFileError.mismatch(file: file.path, problem: first + more)
        }
        if let bad = (0..<model.parameterCount).first(where: { !model.parameters[$0].isFinite }) {
            throw ModelFileError.invalid(file: file.path, problem: "non-finite parameter value \(model.parameters[bad])")
        }
        return model
    }
}
