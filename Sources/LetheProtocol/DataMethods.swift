// dataset/* and split/* methods.
import JSONRPC

/// The `dataset/load` request: load a dataset into memory under a name.
public enum DatasetLoad: LetheMethod {
    /// The wire name.
    public static let name = "dataset/load"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Load a dataset into memory: IDX (default: the embedded Fashion-MNIST), NPY, NPZ, CIFAR-10 binary or CSV."

    /// What `dataset/load` takes.
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
        /// File names (npy, csv, trainGroups) or archive keys (npz) by role, overriding the defaults.
        public var files: [String: String]?
        /// Axis order of the image arrays: NCHW or NHWC (required for 4-D arrays), NHW, NF.
        public var layout: String?
        /// csv: the label column; default "label".
        public var labelColumn: String?
        /// csv: a column of integer group ids.
        public var groupColumn: String?
        /// Per-channel normalisation, applied once at load to both parts.
        public var normalize: NormalizeSpec?
        /// Training augmentation, applied by model/train.
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

    /// What `dataset/load` answers.
    public struct Result: Codable, Sendable {
        /// The dataset's name in the workspace.
        public let name: String
        /// The directory or file it was loaded from.
        public let origin: String
        /// Examples in the training part.
        public let trainCount: Int
        /// Examples in the test part.
        public let testCount: Int
        /// Per-example shape, e.g. [1, 28, 28].
        public let exampleShape: [Int]
        /// Number of classes.
        public let classCount: Int
        /// Wall-clock seconds.
        public let seconds: Double
        /// The format it was read as: "idx", "npy", "npz", "cifar10" or "csv".
        public var format: String?
        /// Distinct group ids of the training part, when it has them.
        public var groupCount: Int?
        /// The normalisation applied (given or computed), and the training augmentation.
        public var normalization: NormalizeSpec?
        /// The training augmentation model/train applies, when one was given.
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

/// The `split/create` request: choose a forget set and a validation part.
public enum SplitCreate: LetheMethod {
    /// The wire name.
    public static let name = "split/create"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Choose a forget set from a dataset's training part (random, classes, indices, groups) and carve a validation part from its test part."

    /// What `split/create` takes.
    public struct Params: Codable, Sendable {
        /// Name in the workspace; default "<dataset>-split".
        public var name: String?
        /// A loaded dataset.
        public var dataset: String
        /// How the forget set is chosen from the training part.
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
        /// A 1-D integer .npy file of training indices, as the NeurIPS 2023 starting kit ships forget_idx.npy.
        public var indicesFile: String?
        /// Every training example of these group ids, or of this many groups drawn at random.
        public var groups: [Int]?
        /// Every training example of this many distinct groups drawn at random from the seed.
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

    /// What `split/create` answers.
    public struct Result: Codable, Sendable {
        /// The split's name in the workspace.
        public let name: String
        /// The dataset it was drawn from.
        public let dataset: String
        /// Size of the retain set.
        public let retain: Int
        /// Size of the forget set.
        public let forget: Int
        /// Size of the validation set.
        public let validation: Int
        /// Size of the test set.
        public let test: Int
        /// The seed used (default 0).
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
