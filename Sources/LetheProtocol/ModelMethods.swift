// model/* methods.
import JSONRPC

/// A model architecture of the zoo (Docs/Architecture.md §2.5).
public struct ArchitectureSpec: Codable, Sendable, Equatable {
    /// "mlp", "cnn", "resnet18" or "layers".
    public var kind: String
    /// mlp: hidden widths (default [512, 256]); cnn: hidden fully-connected widths (default [128]).
    public var hidden: [Int]?
    /// cnn: channels of its two convolutions (default [32, 64]).
    public var channels: [Int]?
    /// resnet18: width of the first stage (default 64).
    public var width: Int?
    /// resnet18: CIFAR stem, a 3×3 stride-1 first convolution and no max-pool (default false).
    public var cifarStem: Bool?
    /// layers: the nn.Sequential-style list.
    public var layers: [LayerSpec]?
    public init(kind: String, hidden: [Int]? = nil, channels: [Int]? = nil, width: Int? = nil, cifarStem: Bool? = nil,
                layers: [LayerSpec]? = nil) {
        self.kind = kind
        self.hidden = hidden
        self.channels = channels
        self.width = width
        self.cifarStem = cifarStem
        self.layers = layers
    }

    /// One layer of a "layers" architecture; input sizes are inferred.
    public struct LayerSpec: Codable, Sendable, Equatable {
        /// conv2d, linear, relu, leakyrelu, gelu, tanh, sigmoid, maxpool2d, avgpool2d, adaptiveavgpool2d,
        /// batchnorm1d, batchnorm2d, dropout, flatten
        public var type: String
        /// conv2d: out channels; linear: out features.
        public var out: Int?
        /// conv2d, maxpool2d, avgpool2d: the square kernel size, at least 1.
        public var kernel: Int?
        /// conv2d: default 1; maxpool2d, avgpool2d: default the kernel size.
        public var stride: Int?
        /// conv2d, maxpool2d, avgpool2d: zero padding on each side, default 0 (pools: at most half the kernel).
        public var padding: Int?
        /// conv2d: whether it has a bias, default true (linear always has one; ignored there).
        public var bias: Bool?
        /// dropout probability.
        public var p: Double?
        /// leakyrelu negative slope.
        public var slope: Double?
        public init(type: String, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, bias: Bool? = nil,
                    p: Double? = nil, slope: Double? = nil) {
            self.type = type
            self.out = out
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.bias = bias
            self.p = p
            self.slope = slope
        }
    }
}

/// The `model/create` request: a freshly initialised model sized for a dataset.
public enum ModelCreate: LetheMethod {
    /// The wire name.
    public static let name = "model/create"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Create a freshly initialised model sized for a dataset's examples and classes."

    /// What `model/create` takes.
    public struct Params: Codable, Sendable {
        /// Name of the new model.
        public var name: String
        /// Which network: a kind of the zoo and its options.
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

    /// What `model/create` answers.
    public struct Result: Codable, Sendable {
        /// The new model's name.
        public let name: String
        /// The architecture, echoed as given (fields the kind does not use included).
        public let architecture: ArchitectureSpec
        /// The per-example input shape the model takes (the dataset's example shape).
        public let inputShape: [Int]
        /// Number of classes the model outputs (the dataset's class count).
        public let classCount: Int
        /// Trained parameters.
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

/// The `model/train` request: train a model on a dataset's training part or a split's retain set.
public enum ModelTrain: LetheMethod {
    /// The wire name.
    public static let name = "model/train"
    /// The optimizers `optimizer` takes (NeuralNet's OptimizerKind); the CLI's `--optimizer` choices.
    public static let optimizers = ["sgd", "adam", "adamw"]
    /// The learning-rate schedules `schedule` takes (NeuralNet's LearningRateSchedule.Kind); the CLI's `--schedule` choices.
    public static let schedules = ["constant", "step", "cosine"]
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Train a model on a dataset's training part (or a split's retain set); the recipe is kept for `retrain`."

    /// What `model/train` takes.
    public struct Params: Codable, Sendable {
        /// The model to train.
        public var model: String
        /// The dataset whose training part is used.
        public var dataset: String
        /// With `subset: "retain"`, train on this split's retain set only.
        public var split: String?
        /// "train" (the whole training part, default) or "retain" (needs `split`).
        public var subset: String?
        /// Defaults: 5 epochs, batch 128, lr 0.05, momentum 0.9, weight decay 5e-4, constant schedule, seed 0.
        public var epochs: Int?
        /// 1…1000000; default 128. The last batch of an epoch may be smaller.
        public var batchSize: Int?
        /// Learning rate, positive; default 0.05.
        public var lr: Double?
        /// SGD momentum, ≥ 0; default 0.9 (sgd only).
        public var momentum: Double?
        /// ≥ 0; default 5e-4. sgd and adam add it as an L2 term to the gradient; adamw decays the weights directly.
        public var weightDecay: Double?
        /// "sgd" (default), "adam" or "adamw".
        public var optimizer: String?
        /// SGD with Nesterov momentum.
        public var nesterov: Bool?
        /// Adam's β1 and β2 (defaults 0.9, 0.999).
        public var beta1: Double?
        /// Adam's β2, in [0, 1); default 0.999.
        public var beta2: Double?
        /// "constant" (default), "step" or "cosine".
        public var schedule: String?
        /// Step the schedule after every batch instead of every epoch.
        public var schedulePerStep: Bool?
        /// Linear warm-up length, in epochs (or steps with schedulePerStep).
        public var warmup: Int?
        /// "step" schedule: multiply by gamma every stepSize epochs (defaults 30, 0.1).
        public var stepSize: Int?
        /// "step" schedule: the decay factor, positive; default 0.1.
        public var gamma: Double?
        /// Cross-entropy class weights (one per class) and label smoothing ε.
        public var classWeights: [Double]?
        /// Cross-entropy label smoothing ε, in [0, 1); default 0.
        public var labelSmoothing: Double?
        /// Clip the global gradient norm.
        public var clipNorm: Double?
        /// Parameter-name prefixes kept fixed ("1.", "layer4.").
        public var frozen: [String]?
        /// Seeds the shuffling and the dropout masks; default 0 (only values up to 2^53 are exact).
        public var seed: UInt64?
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        /// Receive `$/progress` notifications, one per epoch (stage "train").
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

    /// What `model/train` answers.
    public struct Result: Codable, Sendable {
        /// The model trained.
        public let model: String
        /// Training examples per epoch.
        public let examples: Int
        /// Epochs run.
        public let epochs: Int
        /// Mean training loss and accuracy of the last epoch (training mode).
        public let loss: Double
        /// Mean training accuracy of the last epoch (training mode), in [0, 1].
        public let accuracy: Double
        /// Wall-clock seconds.
        public let seconds: Double
        /// The trained weights' fingerprint (16 hexadecimal digits).
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

/// The `model/info` request: describe a resident model.
public enum ModelInfo: LetheMethod {
    /// The wire name.
    public static let name = "model/info"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "A model's architecture, parameter count, per-layer output shapes and FLOPs per example."

    /// What `model/info` takes.
    public struct Params: Codable, Sendable {
        /// The model to describe.
        public var model: String
        public init(model: String) { self.model = model }
    }

    /// One layer, in forward order.
    public struct Layer: Codable, Sendable {
        /// PyTorch module name ("3", "layer2.0", "fc"; empty for an unnamed Flatten).
        public let name: String
        /// The engine's layer type, e.g. "Linear", "Conv2d", "BatchNorm", "BasicBlock".
        public let type: String
        /// Per example.
        public let outputShape: [Int]
        /// Trained parameters of the layer.
        public let parameters: Int
        /// Forward FLOPs per example (2 × multiply-adds).
        public let flops: Int
        public init(name: String, type: String, outputShape: [Int], parameters: Int, flops: Int) {
            self.name = name
            self.type = type
            self.outputShape = outputShape
            self.parameters = parameters
            self.flops = flops
        }
    }

    /// What `model/info` answers.
    public struct Result: Codable, Sendable {
        /// The model's name.
        public let name: String
        /// The architecture it was created with, as model/create echoed it.
        public let architecture: ArchitectureSpec
        /// The dataset the model was created for; absent for a model loaded from a file without naming one.
        public let dataset: String?
        /// The per-example input shape the model takes.
        public let inputShape: [Int]
        /// Number of classes the model outputs.
        public let classCount: Int
        /// Trained parameters.
        public let parameterCount: Int
        /// Non-trained state (BatchNorm running statistics).
        public let bufferCount: Int
        /// The sum of the layers' flops.
        public let flopsPerExample: Int
        /// Per layer, in forward order: name, type, output shape, parameters and FLOPs.
        public let layers: [Layer]
        /// Whether the model has a recorded training recipe: it was trained with model/train, or made by forget from a
        /// source that had one (retrain always records one).
        public let trained: Bool
        /// The weights' fingerprint (16 hexadecimal digits).
        public let fingerprint: String
        public init(name: String, architecture: ArchitectureSpec, dataset: String?, inputShape: [Int], classCount: Int,
                    parameterCount: Int, bufferCount: Int, flopsPerExample: Int, layers: [Layer], trained: Bool, fingerprint: String) {
            self.name = name
            self.architecture = architecture
            self.dataset = dataset
            self.inputShape = inputShape
            self.classCount = classCount
            self.parameterCount = parameterCount
            self.bufferCount = bufferCount
            self.flopsPerExample = flopsPerExample
            self.layers = layers
            self.trained = trained
            self.fingerprint = fingerprint
        }
    }
}
