// The workspace of named, resident objects: datasets, splits and models. An actor, so lookups and updates are
// serialised while the heavy work runs elsewhere on the compute pool. Models are copy-on-write: a job that
// writes a model works on a clone and swaps it in when done, so readers never see half-written weights.
import Datasets
import JSONRPC
import NeuralNet

struct SplitEntry: Sendable {
    let dataset: String
    /// The loaded data the indices point into. Reloading a dataset under the same name makes a new object; a split
    /// keeps the data it was drawn from, so its indices never point past the end.
    let data: Dataset
    let split: Split
    let seed: UInt64
}

struct ModelEntry: Sendable {
    var model: Model
    /// The dataset the model was created for (its input shape and classes); nil for a model loaded from a file
    /// without naming one.
    let dataset: String?
    /// How it was last trained, if it was; `retrain` repeats it.
    var recipe: TrainingRecipe?
}

actor Workspace {
    private(set) var datasets: [String: Dataset] = [:]
    private(set) var splits: [String: SplitEntry] = [:]
    private(set) var models: [String: ModelEntry] = [:]
    /// Names being written by a running job: a second writer gets `busy`, a creator `alreadyExists`.
    private var writing: Set<String> = []

    func dataset(_ name: String) throws -> Dataset {
        guard let d = datasets[name] else { throw RPCError.notFound("dataset", name) }
        return d
    }

    func split(_ name: String) throws -> SplitEntry {
        guard let s = splits[name] else { throw RPCError.notFound("split", name) }
        return s
    }

    func model(_ name: String) throws -> ModelEntry {
        guard let m = models[name] else { throw RPCError.notFound("model", name) }
        return m
    }

    /// Datasets are replaced by a load under the same name (reloading is idempotent for the same files).
    func put(dataset: Dataset, as name: String) { datasets[name] = dataset }

    func put(split: SplitEntry, as name: String) { splits[name] = split }

    func create(model entry: ModelEntry, as name: String) throws {
        guard models[name] == nil, !writing.contains(name) else {
            throw RPCError(code: .alreadyExists, message: "a model named '\(name)' already exists; choose another name")
        }
        models[name] = entry
    }

    /// Reserves `name` for a job that will write it; throws when another job is writing it, or when
    /// `mustBeNew` and it exists.
    func beginWriting(_ name: String, mustBeNew: Bool) throws {
        if writing.contains(name) {
            throw RPCError(code: .busy, message: "model '\(name)' is being written by another job; retry when it finishes")
        }
        if mustBeNew, models[name] != nil {
            throw RPCError(code: .alreadyExists, message: "a model named '\(name)' already exists; choose another output name")
        }
        writing.insert(name)
    }

    func endWriting(_ name: String, result: ModelEntry?) {
        writing.remove(name)
        if let result { models[name] = result }
    }

    /// Removes a model; refused while a job writes it.
    func removeModel(_ name: String) throws -> ModelEntry {
        guard let entry = models[name] else { throw RPCError.notFound("model", name) }
        if writing.contains(name) {
            throw RPCError(code: .busy, message: "model '\(name)' is being written by a job; cancel it or retry when it finishes")
        }
        models[name] = nil
        return entry
    }

    func removeDataset(_ name: String) throws -> Dataset {
        guard let d = datasets.removeValue(forKey: name) else { throw RPCError.notFound("dataset", name) }
        return d
    }

    func removeSplit(_ name: String) throws -> SplitEntry {
        guard let s = splits.removeValue(forKey: name) else { throw RPCError.notFound("split", name) }
        return s
    }

    var names: (datasets: [String], splits: [String], models: [String]) {
        (datasets.keys.sorted(), splits.keys.sorted(), models.keys.sorted())
    }
}

extension Daemon {
    /// Runs `body` holding the write reservation on model `name`; publishes the entry it returns, or nothing when
    /// it throws, so a failed or cancelled job leaves the previous model in place.
    func writingModel<T>(_ name: String, mustBeNew: Bool, _ body: () async throws -> (ModelEntry, T)) async throws -> T {
        try await workspace.beginWriting(name, mustBeNew: mustBeNew)
        do {
            let (entry, value) = try await body()
            await workspace.endWriting(name, result: entry)
            return value
        } catch {
            await workspace.endWriting(name, result: nil)
            throw error
        }
    }
}
