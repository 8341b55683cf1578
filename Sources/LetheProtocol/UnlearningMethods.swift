// forget, evaluate and attack.
import JSONRPC

public enum Forget: LetheMethod {
    public static let name = "forget"
    public static let summary = "Apply an unlearning method to a model for a split's forget set, writing a new model; the source is untouched."

    public struct Params: Codable, Sendable {
        /// The trained model to unlearn from.
        public var model: String
        public var split: String
        /// "retrain" or "finetune".
        public var method: String
        /// Name of the new model; default "<model>-<method>".
        public var output: String?
        /// Method hyperparameters by name (e.g. {"epochs": 3, "lr": 0.01}); unknown names are errors.
        public var hyperparameters: [String: Double]?
        /// Default 0.
        public var seed: UInt64?
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        public var workDoneToken: ProgressToken?
        public init(model: String, split: String, method: String, output: String? = nil,
                    hyperparameters: [String: Double]? = nil, seed: UInt64? = nil, workDoneToken: ProgressToken? = nil) {
            self.model = model
            self.split = split
            self.method = method
            self.output = output
            self.hyperparameters = hyperparameters
            self.seed = seed
            self.workDoneToken = workDoneToken
        }
    }

    public struct Result: Codable, Sendable {
        public let model: String
        public let source: String
        public let method: String
        /// Every hyperparameter the method used, defaults included.
        public let hyperparameters: [String: Double]
        public let seconds: Double
        public let fingerprint: String
        public init(model: String, source: String, method: String, hyperparameters: [String: Double], seconds: Double, fingerprint: String) {
            self.model = model
            self.source = source
            self.method = method
            self.hyperparameters = hyperparameters
            self.seconds = seconds
            self.fingerprint = fingerprint
        }
    }
}

public struct SetMetricsResult: Codable, Sendable {
    public let count: Int
    public let accuracy: Double
    /// Mean cross-entropy.
    public let loss: Double
    public init(count: Int, accuracy: Double, loss: Double) {
        self.count = count
        self.accuracy = accuracy
        self.loss = loss
    }
}

public enum Evaluate: LetheMethod {
    public static let name = "evaluate"
    public static let summary = "Accuracy and mean cross-entropy of a model on a split's retain, forget, validation and test sets."

    public struct Params: Codable, Sendable {
        public var model: String
        public var split: String
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        public init(model: String, split: String) {
            self.model = model
            self.split = split
        }
    }

    public struct Result: Codable, Sendable {
        public let model: String
        public let split: String
        public let retain: SetMetricsResult
        public let forget: SetMetricsResult
        public let validation: SetMetricsResult
        public let test: SetMetricsResult
        /// UA = 1 − forget accuracy.
        public let unlearningAccuracy: Double
        public let seconds: Double
        public init(model: String, split: String, retain: SetMetricsResult, forget: SetMetricsResult, validation: SetMetricsResult,
                    test: SetMetricsResult, unlearningAccuracy: Double, seconds: Double) {
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

public enum Attack: LetheMethod {
    public static let name = "attack"
    public static let summary = "Run a membership-inference attack on a model's forget set (kind \"simple\": the NeurIPS 2023 starting kit's)."
    public static let kinds = ["simple"]

    public struct Params: Codable, Sendable {
        public var model: String
        public var split: String
        /// "simple" (default).
        public var kind: String?
        /// Seeds the forget subsampling and the folds; default 0.
        public var seed: UInt64?
        /// Threads for this job (default: the daemon's).
        public var threads: Int?
        public init(model: String, split: String, kind: String? = nil, seed: UInt64? = nil) {
            self.model = model
            self.split = split
            self.kind = kind
            self.seed = seed
        }
    }

    public struct Result: Codable, Sendable {
        public let model: String
        public let split: String
        public let kind: String
        /// "simple": mean held-out accuracy of the attack; about 0.5 is ideal.
        public let score: Double
        public let folds: [Double]
        public let members: Int
        public let nonMembers: Int
        public let seconds: Double
        public init(model: String, split: String, kind: String, score: Double, folds: [Double], members: Int, nonMembers: Int, seconds: Double) {
            self.model = model
            self.split = split
            self.kind = kind
            self.score = score
            self.folds = folds
            self.members = members
            self.nonMembers = nonMembers
            self.seconds = seconds
        }
    }
}
