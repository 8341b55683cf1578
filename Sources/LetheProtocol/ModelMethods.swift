// model/* methods.
import JSONRPC

/// A model architecture of the zoo (DESIGN.md §2).
public struct ArchitectureSpec: Codable, Sendable, Equatable {
    /// "mlp"
    public var kind: String
    /// Hidden widths for "mlp"; default [512, 256].
    public var hidden: [Int]?
    public init(kind: String, hidden: [Int]? = nil) {
        self.kind = kind
        self.hidden = hidden
    }
}

public enum ModelCreate: LetheMethod {
    public static let name = "model/create"
    public static let summary = "Create a freshly initialised model sized for a dataset's examples and classes."

    public struct Params: Codable, Sendable {
        public var name: String
        public var architecture: ArchitectureSpec
        /// The dataset whose example shape and class count the model takes.
        public var dataset: String
        /// Initialisation seed; default 0.
        public var seed: UInt64?
        public init(name: String, architecture: ArchitectureSpec, dataset: String, seed: UInt64? = nil) {
            self.name = name
            self.architecture = architecture
            self.dataset = dataset
            self.seed = seed
        }
    }

    public struct Result: Codable, Sendable {
        public let name: String
        public let architecture: ArchitectureSpec
        public let inputShape: [Int]
        public let classCount: Int
        public let parameterCount: Int
        public init(name: String, architecture: ArchitectureSpec, inputShape: [Int], classCount: Int, parameterCount: Int) {
            self.name = name
            self.architecture = architecture
            self.inputShape = inputShape
            self.classCount = classCount
            self.parameterCount = parameterCount
        }
    }
}

public enum ModelTrain: LetheMethod {
    public static let name = "model/train"
    public static let summary = "Train a model with SGD on a dataset's training part (or a split's retain set); the recipe is kept for `retrain`."

    public struct Params: Codable, Sendable {
        public var model: String
        public var dataset: String
        /// With `subset: "retain"`, train on this split's retain set only.
        public var split: String?
        /// "train" (the whole training part, default) or "retain" (needs `split`).
        public var subset: String?
        /// Defaults: 5 epochs, batch 128, lr 0.05, momentum 0.9, weight decay 5e-4, constant schedule, seed 0.
        public var epochs: Int?
        public var batchSize: Int?
        public var lr: Double?
        public var momentum: Double?
        public var weightDecay: Double?
        /// "constant" or "cosine".
        public var schedule: String?
        public var seed: UInt64?
        public var workDoneToken: ProgressToken?
        public init(model: String, dataset: String, split: String? = nil, subset: String? = nil, epochs: Int? = nil,
                    batchSize: Int? = nil, lr: Double? = nil, momentum: Double? = nil, weightDecay: Double? = nil,
                    schedule: String? = nil, seed: UInt64? = nil, workDoneToken: ProgressToken? = nil) {
            self.model = model
            self.dataset = dataset
            self.split = split
            self.subset = subset
            self.epochs = epochs
            self.batchSize = batchSize
            self.lr = lr
            self.momentum = momentum
            self.weightDecay = weightDecay
            self.schedule = schedule
            self.seed = seed
            self.workDoneToken = workDoneToken
        }
    }

    public struct Result: Codable, Sendable {
        public let model: String
        public let examples: Int
        public let epochs: Int
        /// Mean training loss and accuracy of the last epoch (training mode).
        public let loss: Double
        public let accuracy: Double
        public let seconds: Double
        public let fingerprint: String
        public init(model: String, examples: Int, epochs: Int, loss: Double, accuracy: Double, seconds: Double, fingerprint: String) {
            self.model = model
            self.examples = examples
            self.epochs = epochs
            self.loss = loss
            self.accuracy = accuracy
            self.seconds = seconds
            self.fingerprint = fingerprint
        }
    }
}
