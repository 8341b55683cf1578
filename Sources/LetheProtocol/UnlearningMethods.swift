// forget, evaluate and attack.
import JSONRPC

/// The `forget` request: apply an unlearning method to a model, writing a new model.
public enum Forget: LetheMethod {
    /// The wire name.
    public static let name = "forget"
    /// Every unlearning method, in the daemon's registry order (Unlearning/Registry.swift); a test holds the two and
    /// the OpenRPC document's enums equal, and the CLI's `--method` choices come from here.
    public static let methods = ["retrain", "finetune", "gradient-ascent", "neggrad+", "random-labels", "salun", "l1-sparse",
                                 "scrub", "ssd", "bad-teacher", "fisher", "boundary-shrink", "reset-finetune", "cf-k", "eu-k"]
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Apply an unlearning method to a model for a split's forget set, writing a new model; the source is untouched."

    /// What `forget` takes.
    public struct Params: Codable, Sendable {
        /// The trained model to unlearn from.
        public var model: String
        /// The split whose forget set is unlearnt.
        public var split: String
        /// One of `Forget.methods` (the registry's; Docs/Methods.md describes each).
        public var method: String
        /// Name of the new model; default "<model>-<method>".
        public var output: String?
        /// Method hyperparameters by name (e.g. {"epochs": 3, "lr": 0.01, "layers": "fc."}): numbers, integers,
        /// booleans or strings as the method declares them; an unknown name or a wrong type is an error naming it.
        public var hyperparameters: [String: JSONValue]?
        /// Default 0.
        public var seed: UInt64?
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        /// Receive `$/progress` notifications, one per epoch of each training stage and per batch of a measuring pass.
        public var workDoneToken: ProgressToken?
        public init(model: String, split: String, method: String, output: String? = nil,
                    hyperparameters: [String: JSONValue]? = nil, seed: UInt64? = nil, workDoneToken: ProgressToken? = nil) {
            self.model = model
            self.split = split
            self.method = method
            self.output = output
            self.hyperparameters = hyperparameters
            self.seed = seed
            self.workDoneToken = workDoneToken
        }
    }

    /// What `forget` answers.
    public struct Result: Codable, Sendable {
        /// The new model (the output).
        public let model: String
        /// The model it was unlearnt from.
        public let source: String
        /// The unlearning method applied.
        public let method: String
        /// Every hyperparameter the method used, defaults included.
        public let hyperparameters: [String: JSONValue]
        /// What the method measured about itself (e.g. the fraction of weights it reset); absent when nothing.
        public let details: [String: Double]?
        /// Wall-clock seconds.
        public let seconds: Double
        /// The new model's weights fingerprint (16 hexadecimal digits).
        public let fingerprint: String
        public init(model: String, source: String, method: String, hyperparameters: [String: JSONValue], details: [String: Double]?,
                    seconds: Double, fingerprint: String) {
            self.model = model
            self.source = source
            self.method = method
            self.hyperparameters = hyperparameters
            self.details = details
            self.seconds = seconds
            self.fingerprint = fingerprint
        }
    }
}

/// Accuracy and mean cross-entropy of a model on one set of examples ("NaN" for both when the set is empty).
public struct SetMetricsResult: Codable, Sendable {
    /// Number of examples in the set.
    public let count: Int
    /// Fraction of the set classified correctly, in [0, 1].
    public let accuracy: Double
    /// Mean cross-entropy.
    public let loss: Double
    public init(count: Int, accuracy: Double, loss: Double) {
        self.count = count
        self.accuracy = accuracy
        self.loss = loss
    }
}

/// The `evaluate` request: accuracy and loss of a model on a split's four sets.
public enum Evaluate: LetheMethod {
    /// The wire name.
    public static let name = "evaluate"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Accuracy and mean cross-entropy of a model on a split's retain, forget, validation and test sets, and optionally its outputs against a reference model's on forget."

    /// What `evaluate` takes.
    public struct Params: Codable, Sendable {
        /// The model to evaluate.
        public var model: String
        /// The split whose four parts it is evaluated on.
        public var split: String
        /// A model to compare outputs with on the forget set (usually the retrained one): adds `reference`.
        public var reference: String?
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        public init(model: String, split: String, reference: String? = nil) {
            self.model = model
            self.split = split
            self.reference = reference
        }
    }

    /// The model's outputs against a reference model's on the forget set.
    public struct ReferenceResult: Codable, Sendable {
        /// The reference model.
        public let model: String
        /// Mean Jensen–Shannon divergence of the two softmax distributions, in nats (0 identical, at most ln 2).
        public let jsDivergence: Double
        /// Mean Euclidean distance between the two probability vectors.
        public let l2Distance: Double
        /// Fraction of forget examples on which both predict the same class.
        public let agreement: Double
        public init(model: String, jsDivergence: Double, l2Distance: Double, agreement: Double) {
            self.model = model
            self.jsDivergence = jsDivergence
            self.l2Distance = l2Distance
            self.agreement = agreement
        }
    }

    /// What `evaluate` answers.
    public struct Result: Codable, Sendable {
        /// The model evaluated.
        public let model: String
        /// The split it was evaluated on.
        public let split: String
        /// Metrics on the retain set.
        public let retain: SetMetricsResult
        /// Metrics on the forget set.
        public let forget: SetMetricsResult
        /// Metrics on the validation set.
        public let validation: SetMetricsResult
        /// Metrics on the test set.
        public let test: SetMetricsResult
        /// UA = 1 − forget accuracy.
        public let unlearningAccuracy: Double
        /// With a `reference` model: the outputs compared on the forget set.
        public let reference: ReferenceResult?
        /// Wall-clock seconds.
        public let seconds: Double
        public init(model: String, split: String, retain: SetMetricsResult, forget: SetMetricsResult, validation: SetMetricsResult,
                    test: SetMetricsResult, unlearningAccuracy: Double, reference: ReferenceResult? = nil, seconds: Double) {
            self.reference = reference
            self.model = model
            self.split = split
            self.retain = retain
            self.forget = forget
            self.validation = validation
            self.test = test
            self.unlearningAccuracy = unlearningAccuracy
            self.seconds = seconds
        }
    }
}

