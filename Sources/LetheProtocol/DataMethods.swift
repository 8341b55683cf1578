// dataset/* and split/* methods.
import JSONRPC

public enum DatasetLoad: LetheMethod {
    public static let name = "dataset/load"
    public static let summary = "Load a dataset into memory: with no path, the embedded Fashion-MNIST default."

    public struct Params: Codable, Sendable {
        /// Name in the workspace; default "fashion-mnist".
        public var name: String?
        /// A directory of MNIST-style IDX files (`train-images-idx3-ubyte[.gz]` …); default Debian's
        /// `/usr/share/datasets/fashion-mnist`.
        public var path: String?
        /// Number of classes; default 10.
        public var classes: Int?
        public init(name: String? = nil, path: String? = nil, classes: Int? = nil) {
            self.name = name
            self.path = path
            self.classes = classes
        }
    }

    public struct Result: Codable, Sendable {
        public let name: String
        public let origin: String
        public let trainCount: Int
        public let testCount: Int
        public let exampleShape: [Int]
        public let classCount: Int
        public let seconds: Double
        public init(name: String, origin: String, trainCount: Int, testCount: Int, exampleShape: [Int], classCount: Int, seconds: Double) {
            self.name = name
            self.origin = origin
            self.trainCount = trainCount
            self.testCount = testCount
            self.exampleShape = exampleShape
            self.classCount = classCount
            self.seconds = seconds
        }
    }
}

public enum SplitCreate: LetheMethod {
    public static let name = "split/create"
    public static let summary = "Choose a forget set from a dataset's training part and halve its test part into validation and test."

    public struct Params: Codable, Sendable {
        /// Name in the workspace; default "<dataset>-split".
        public var name: String?
        public var dataset: String
        public var forget: ForgetSpec
        /// Fraction of the test part used for validation; default 0.5 (the NeurIPS 2023 starting kit).
        public var validationFraction: Double?
        /// Default 0.
        public var seed: UInt64?
        public init(name: String? = nil, dataset: String, forget: ForgetSpec, validationFraction: Double? = nil, seed: UInt64? = nil) {
            self.name = name
            self.dataset = dataset
            self.forget = forget
            self.validationFraction = validationFraction
            self.seed = seed
        }
    }

    /// Exactly one of the fields.
    public struct ForgetSpec: Codable, Sendable {
        /// A uniformly random fraction of the training part, in (0, 1).
        public var fraction: Double?
        /// A uniformly random number of training examples.
        public var count: Int?
        public init(fraction: Double? = nil, count: Int? = nil) {
            self.fraction = fraction
            self.count = count
        }
    }

    public struct Result: Codable, Sendable {
        public let name: String
        public let dataset: String
        public let retain: Int
        public let forget: Int
        public let validation: Int
        public let test: Int
        public let seed: UInt64
        public init(name: String, dataset: String, retain: Int, forget: Int, validation: Int, test: Int, seed: UInt64) {
            self.name = name
            self.dataset = dataset
            self.retain = retain
            self.forget = forget
            self.validation = validation
            self.test = test
            self.seed = seed
        }
    }
}
