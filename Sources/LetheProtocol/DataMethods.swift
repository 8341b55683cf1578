// dataset/* and split/* methods.
import JSONRPC

public enum DatasetLoad: LetheMethod {
    public static let name = "dataset/load"
    public static let summary = "Load a dataset into memory: IDX (default: the embedded Fashion-MNIST), NPY, NPZ, CIFAR-10 binary or CSV."

    public struct Params: Codable, Sendable {
        /// Name in the workspace; default "fashion-mnist".
        public var name: String?
        /// A directory of MNIST-style IDX files (`train-images-idx3-ubyte[.gz]` …); default Debian's
        /// `/usr/share/datasets/fashion-mnist`.
        public var path: String?
        /// Number of classes; default 10 for idx and cifar10, else one more than the largest label.
        public var classes: Int?
        /// "idx" (default), "npy", "npz", "cifar10" or "csv"; the rest of the options are in DatasetFormats.swift.
        public var format: String?
        public var files: [String: String]?
        public var layout: String?
        public var labelColumn: String?
        public var groupColumn: String?
        public var normalize: NormalizeSpec?
        public var augment: AugmentSpec?
        public init(name: String? = nil, path: String? = nil, classes: Int? = nil, format: String? = nil,
                    files: [String: String]? = nil, layout: String? = nil, labelColumn: String? = nil,
                    groupColumn: String? = nil, normalize: NormalizeSpec? = nil, augment: AugmentSpec? = nil) {
            self.name = name
            self.path = path
            self.classes = classes
            self.format = format
            self.files = files
            self.layout = layout
            self.labelColumn = labelColumn
            self.groupColumn = groupColumn
            self.normalize = normalize
            self.augment = augment
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
        public var format: String?
        /// Distinct group ids of the training part, when it has them.
        public var groupCount: Int?
        /// The normalisation applied (given or computed), and the training augmentation.
        public var normalization: NormalizeSpec?
        public var augmentation: AugmentSpec?
        /// Content fingerprint of both parts (shapes, feature bits, labels): equal for the same data from any files.
        public var fingerprint: String?
        public init(name: String, origin: String, trainCount: Int, testCount: Int, exampleShape: [Int], classCount: Int, seconds: Double,
                    format: String? = nil, groupCount: Int? = nil, normalization: NormalizeSpec? = nil, augmentation: AugmentSpec? = nil) {
            self.name = name
            self.origin = origin
            self.trainCount = trainCount
            self.testCount = testCount
            self.exampleShape = exampleShape
            self.classCount = classCount
            self.seconds = seconds
            self.format = format
            self.groupCount = groupCount
            self.normalization = normalization
            self.augmentation = augmentation
        }
    }
}

public enum SplitCreate: LetheMethod {
    public static let name = "split/create"
    public static let summary = "Choose a forget set from a dataset's training part (random, classes, indices, groups) and carve a validation part from its test part."

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
        /// Every training example of these classes.
        public var classes: [Int]?
        /// Exactly these training indices, inline or from a 1-D integer `.npy` file (the starting kit's forget_idx.npy).
        public var indices: [Int]?
        public var indicesFile: String?
        /// Every training example of these group ids, or of this many groups drawn at random.
        public var groups: [Int]?
        public var randomGroups: Int?
        public init(fraction: Double? = nil, count: Int? = nil, classes: [Int]? = nil, indices: [Int]? = nil,
                    indicesFile: String? = nil, groups: [Int]? = nil, randomGroups: Int? = nil) {
            self.fraction = fraction
            self.count = count
            self.classes = classes
            self.indices = indices
            self.indicesFile = indicesFile
            self.groups = groups
            self.randomGroups = randomGroups
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
