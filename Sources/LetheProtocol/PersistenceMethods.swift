// split/info, model/save, model/load and model/predict: what a user brings in and takes back out.
import JSONRPC

public enum SplitInfo: LetheMethod {
    public static let name = "split/info"
    public static let summary = "Sizes and per-class counts of every part of a split."

    public struct Params: Codable, Sendable {
        public var name: String
        public init(name: String) { self.name = name }
    }

    public struct Part: Codable, Sendable, Equatable {
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

    public struct Result: Codable, Sendable {
        public let name: String
        public let dataset: String
        public let seed: UInt64
        public let retain: Part
        public let forget: Part
        public let validation: Part
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

public enum ModelSave: LetheMethod {
    public static let name = "model/save"
    public static let summary = "Write a model to a safetensors file (PyTorch state_dict names), atomically; without a path, into the daemon's model library by name."

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

    public struct Result: Codable, Sendable {
        public let model: String
        public let path: String
        public let bytes: Int
        public let tensors: Int
        public let fingerprint: String
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

public enum ModelLoad: LetheMethod {
    public static let name = "model/load"
    public static let summary = "Load a model from a safetensors file (Lethe's own, or a PyTorch export given its architecture), or by name from the daemon's model library."

    public struct Params: Codable, Sendable {
        /// The name it gets in the workspace.
        public var name: String
        /// The file to read; without it, the model saved under `name` in the daemon's library.
        public var path: String?
        /// Needed for files without Lethe's metadata (PyTorch exports); overrides the metadata when given.
        public var architecture: ArchitectureSpec?
        /// A loaded dataset whose example shape and class count the model takes (or give inputShape and classes).
        public var dataset: String?
        public var inputShape: [Int]?
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

    public struct Result: Codable, Sendable {
        public let name: String
        public let path: String
        public let architecture: ArchitectureSpec
        public let inputShape: [Int]
        public let classCount: Int
        public let parameterCount: Int
        public let tensors: Int
        public let fingerprint: String
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

public enum ModelPredict: LetheMethod {
    public static let name = "model/predict"
    public static let summary = "Logits or probabilities of a model for inline inputs or dataset examples, inline or written to an .npy file."

    /// Inline inputs are capped so arrays travel in files, not JSON (Docs/Architecture.md §4.6).
    public static let maximumInlineInputs = 1024
    public static let maximumInlineValues = 100_000

    public struct Params: Codable, Sendable {
        public var model: String
        /// Inline examples, each flat in row-major order of the model's input shape.
        public var inputs: [[Double]]?
        /// Or examples of a dataset: its "train" or "test" part (all, or `indices`)...
        public var dataset: String?
        public var part: String?
        public var indices: [Int]?
        /// ...or a part of a split: "retain", "forget", "validation" or "test".
        public var split: String?
        public var subset: String?
        /// "logits" (default) or "probabilities".
        public var output: String?
        /// Write the [n, classes] float32 values to this .npy file instead of the reply.
        public var path: String?
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

    public struct Result: Codable, Sendable {
        public let model: String
        public let count: Int
        public let classCount: Int
        public let output: String
        /// The arg-max class per example.
        public let predictions: [Int]
        /// [count][classCount], when no path was given.
        public let values: [[Double]]?
        public let path: String?
        /// Accuracy against the dataset's labels, for dataset examples.
        public let accuracy: Double?
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

public enum ModelList: LetheMethod {
    public static let name = "model/list"
    public static let summary = "The models resident in the daemon and those saved in its library, by name."
    public typealias Params = NoParams

    /// One model: resident, saved in the library, or both.
    public struct Entry: Codable, Sendable {
        /// Its name.
        public let name: String
        /// Whether it is in memory, and its weights' fingerprint when it is.
        public let resident: Bool
        public let fingerprint: String?
        /// Whether the library holds it, where, and the file's size.
        public let saved: Bool
        public let path: String?
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

    public struct Result: Codable, Sendable {
        /// Every model by name, sorted.
        public let models: [Entry]
        public init(models: [Entry]) { self.models = models }
    }
}
