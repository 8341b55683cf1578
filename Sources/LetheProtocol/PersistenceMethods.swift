// split/info, model/save, model/load and model/predict: what a user brings in and takes back out.
import JSONRPC

/// The `split/info` request: sizes and per-class counts of every part of a split.
public enum SplitInfo: LetheMethod {
    /// The wire name.
    public static let name = "split/info"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Sizes and per-class counts of every part of a split."

    /// What `split/info` takes.
    public struct Params: Codable, Sendable {
        /// The split.
        public var name: String
        public init(name: String) { self.name = name }
    }

    /// One part of a split: its size, examples per class and distinct groups.
    public struct Part: Codable, Sendable, Equatable {
        /// Examples in the part.
        public let count: Int
        /// Examples per class, indexed by class.
        public let classCounts: [Int]
        /// Distinct group ids in the part (training parts of datasets with groups).
        public let groups: Int?
        public init(count: Int, classCounts: [Int], groups: Int?) {
            self.count = count
            self.classCounts = classCounts
            self.groups = groups
        }
    }

    /// What `split/info` answers.
    public struct Result: Codable, Sendable {
        /// The split's name.
        public let name: String
        /// The dataset it was drawn from.
        public let dataset: String
        /// The seed it was created with.
        public let seed: UInt64
        /// The retain set (of the training part).
        public let retain: Part
        /// The forget set (of the training part).
        public let forget: Part
        /// The validation part (of the test part).
        public let validation: Part
        /// The test set (the rest of the test part).
        public let test: Part
        /// Fingerprint of the four index lists: equal on two daemons when the split is the same (fleet bundles carry it).
        public var fingerprint: String?
        /// Content fingerprint of the data the split was drawn from.
        public var dataFingerprint: String?
        public init(name: String, dataset: String, seed: UInt64, retain: Part, forget: Part, validation: Part, test: Part) {
            self.name = name
            self.dataset = dataset
            self.seed = seed
            self.retain = retain
            self.forget = forget
            self.validation = validation
            self.test = test
        }
    }
}

/// The `model/save` request: write a model to a safetensors file.
public enum ModelSave: LetheMethod {
    /// The wire name.
    public static let name = "model/save"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Write a model to a safetensors file (PyTorch state_dict names), atomically; without a path, into the daemon's model library by name."

    /// What `model/save` takes.
    public struct Params: Codable, Sendable {
        /// The model to save.
        public var model: String
        /// The file to write; an existing file is replaced atomically. Without it the model is saved by name in the
        /// daemon's library (`<state-dir>/models/<model>.safetensors`), which model/list and model/load read.
        public var path: String?
        public init(model: String, path: String? = nil) {
            self.model = model
            self.path = path
        }
    }

    /// What `model/save` answers.
    public struct Result: Codable, Sendable {
        /// The model saved.
        public let model: String
        /// The file written (the library file when no path was given).
        public let path: String
        /// Size of the file written, in bytes.
        public let bytes: Int
        /// Tensors written (parameters and buffers).
        public let tensors: Int
        /// The saved weights' fingerprint (16 hexadecimal digits).
        public let fingerprint: String
        /// Wall-clock seconds.
        public let seconds: Double
        public init(model: String, path: String, bytes: Int, tensors: Int, fingerprint: String, seconds: Double) {
            self.model = model
            self.path = path
            self.bytes = bytes
            self.tensors = tensors
            self.fingerprint = fingerprint
            self.seconds = seconds
        }
    }
}

/// The `model/load` request: load a model from a safetensors file or the daemon's library.
public enum ModelLoad: LetheMethod {
    /// The wire name.
    public static let name = "model/load"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Load a model from a safetensors file (Lethe's own, or a PyTorch export given its architecture), or by name from the daemon's model library."

    /// What `model/load` takes.
    public struct Params: Codable, Sendable {
        /// The name it gets in the workspace.
        public var name: String
        /// The file to read; without it, the model saved under `name` in the daemon's library.
        public var path: String?
        /// Needed for files without Lethe's metadata (PyTorch exports); overrides the metadata when given.
        public var architecture: ArchitectureSpec?
        /// A loaded dataset whose example shape and class count the model takes (or give inputShape and classes).
        public var dataset: String?
        /// Per-example input shape (instead of dataset).
        public var inputShape: [Int]?
        /// Number of classes (instead of dataset).
        public var classes: Int?
        /// Replace an existing model of that name; default false.
        public var replace: Bool?
        public init(name: String, path: String? = nil, architecture: ArchitectureSpec? = nil, dataset: String? = nil,
                    inputShape: [Int]? = nil, classes: Int? = nil, replace: Bool? = nil) {
            self.name = name
            self.path = path
            self.architecture = architecture
            self.dataset = dataset
            self.inputShape = inputShape
            self.classes = classes
            self.replace = replace
        }
    }

    /// What `model/load` answers.
    public struct Result: Codable, Sendable {
        /// The model's name in the workspace.
        public let name: String
        /// The file read (the library file when no path was given).
        public let path: String
        /// The architecture built, from the params or the file's metadata.
        public let architecture: ArchitectureSpec
        /// The per-example input shape the model takes.
        public let inputShape: [Int]
        /// Number of classes the model outputs.
        public let classCount: Int
        /// Trained parameters.
        public let parameterCount: Int
        /// Tensors the file held.
        public let tensors: Int
        /// The loaded weights' fingerprint (16 hexadecimal digits).
        public let fingerprint: String
        /// Wall-clock seconds.
        public let seconds: Double
        public init(name: String, path: String, architecture: ArchitectureSpec, inputShape: [Int], classCount: Int,
                    parameterCount: Int, tensors: Int, fingerprint: String, seconds: Double) {
            self.name = name
            self.path = path
            self.architecture = architecture
            self.inputShape = inputShape
            self.classCount = classCount
            self.parameterCount = parameterCount
            self.tensors = tensors
            self.fingerprint = fingerprint
            self.seconds = seconds
        }
    }
}

/// The `model/predict` request: a model's logits or probabilities for inline inputs or dataset examples.
public enum ModelPredict: LetheMethod {
    /// The wire name.
    public static let name = "model/predict"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Logits or probabilities of a model for inline inputs or dataset examples, inline or written to an .npy file."

    /// Inline inputs are capped so arrays travel in files, not JSON (Docs/Architecture.md §4.6).
    public static let maximumInlineInputs = 1024
    /// The most values (count × classes) a reply carries inline; beyond it, give a `path`.
    public static let maximumInlineValues = 100_000

    /// What `model/predict` takes.
    public struct Params: Codable, Sendable {
        /// The model to predict with.
        public var model: String
        /// Inline examples, each flat in row-major order of the model's input shape.
        public var inputs: [[Double]]?
        /// Or examples of a dataset: its "train" or "test" part (all, or `indices`)...
        public var dataset: String?
        /// The dataset's part: "train" or "test" (default "test").
        public var part: String?
        /// Indices of the examples of that part to predict (default all).
        public var indices: [Int]?
        /// ...or a part of a split: "retain", "forget", "validation" or "test".
        public var split: String?
        /// The split's part: "retain", "forget" (default), "validation" or "test".
        public var subset: String?
        /// "logits" (default) or "probabilities".
        public var output: String?
        /// Write the [n, classes] float32 values to this .npy file instead of the reply.
        public var path: String?
        /// Accepted and checked like the others, but model/predict sends no progress.
        public var workDoneToken: ProgressToken?
        public init(model: String, inputs: [[Double]]? = nil, dataset: String? = nil, part: String? = nil, indices: [Int]? = nil,
                    split: String? = nil, subset: String? = nil, output: String? = nil, path: String? = nil,
                    workDoneToken: ProgressToken? = nil) {
            self.model = model
            self.inputs = inputs
            self.dataset = dataset
            self.part = part
            self.indices = indices
            self.split = split
            self.subset = subset
            self.output = output
            self.path = path
            self.workDoneToken = workDoneToken
        }
    }

    /// What `model/predict` answers.
    public struct Result: Codable, Sendable {
        /// The model predicted with.
        public let model: String
        /// Examples predicted.
        public let count: Int
        /// Classes per example (values per row).
        public let classCount: Int
        /// "logits" or "probabilities", as requested.
        public let output: String
        /// The arg-max class per example.
        public let predictions: [Int]
        /// [count][classCount], when no path was given.
        public let values: [[Double]]?
        /// The .npy file written, when a path was given.
        public let path: String?
        /// Accuracy against the dataset's labels, for dataset examples.
        public let accuracy: Double?
        /// Wall-clock seconds.
        public let seconds: Double
        public init(model: String, count: Int, classCount: Int, output: String, predictions: [Int], values: [[Double]]?,
                    path: String?, accuracy: Double?, seconds: Double) {
            self.model = model
            self.count = count
            self.classCount = classCount
            self.output = output
            self.predictions = predictions
            self.values = values
            self.path = path
            self.accuracy = accuracy
            self.seconds = seconds
        }
    }
}

/// The `model/list` request: resident and saved models by name.
public enum ModelList: LetheMethod {
    /// The wire name.
    public static let name = "model/list"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "The models resident in the daemon and those saved in its library, by name."
    /// Takes no params.
    public typealias Params = NoParams

    /// One model: resident, saved in the library, or both.
    public struct Entry: Codable, Sendable {
        /// Its name.
        public let name: String
        /// Whether it is in memory, and its weights' fingerprint when it is.
        public let resident: Bool
        /// The weights' fingerprint, when resident.
        public let fingerprint: String?
        /// Whether the library holds it, where, and the file's size.
        public let saved: Bool
        /// The library file, when saved.
        public let path: String?
        /// The library file's size in bytes, when saved.
        public let bytes: Int?
        public init(name: String, resident: Bool, fingerprint: String?, saved: Bool, path: String?, bytes: Int?) {
            self.name = name
            self.resident = resident
            self.fingerprint = fingerprint
            self.saved = saved
            self.path = path
            self.bytes = bytes
        }
    }

    /// What `model/list` answers.
    public struct Result: Codable, Sendable {
        /// Every model by name, sorted.
        public let models: [Entry]
        public init(models: [Entry]) { self.models = models }
    }
}
