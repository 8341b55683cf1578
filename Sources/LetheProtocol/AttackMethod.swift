// attack: every membership-inference attack and the challenge's forget-quality metric, one request shape and one
// result shape. The kinds are the daemon's attack registry (LetheDaemon/Attacks), which a test holds equal to
// `Attack.kinds` and to the OpenRPC document's enum.
import JSONRPC

/// The `attack` request: one params shape and one result shape for every attack kind.
public enum Attack: LetheMethod {
    /// The wire name.
    public static let name = "attack"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Run a membership-inference attack (simple, mia-efficacy, lira, rmia, ulira) or the NeurIPS 2023 forget-quality metric (epsilon) on a model and a split."
    /// Every attack kind, in the registry's order.
    public static let kinds = ["simple", "mia-efficacy", "lira", "rmia", "ulira", "epsilon"]
    /// How the simple attack sizes its two sides: "both" (default) or "kit".
    public static let balances = ["both", "kit"]
    /// LiRA's and RMIA's variants.
    public static let variants = ["online", "offline"]

    /// What `attack` takes; a parameter the chosen kind does not read is refused.
    public struct Params: Codable, Sendable {
        /// The model attacked (simple, mia-efficacy, lira, rmia), or the original an unlearning method starts from
        /// (ulira, epsilon).
        public var model: String
        /// The split: forget (members) against test (non-members); retain for mia-efficacy's fit and the utility ratios.
        public var split: String
        /// One of `Attack.kinds`; default "simple".
        public var kind: String?
        /// simple: "both" (default), the larger of forget and test sampled down so 0.5 is chance; "kit", the starting
        /// kit's exact procedure, which cuts only the forget side.
        public var balance: String?
        /// Seeds the simple attack's draws; for fleets, the seed of the shadows' halves or the first member seed. Default 0.
        public var seed: UInt64?
        /// lira, rmia: the number of shadow (reference) models, even; default 16.
        public var shadows: Int?
        /// lira, rmia: "online" (default; shadows with and without each example) or "offline" (only without).
        public var variant: String?
        /// lira, rmia: the model whose architecture and recipe the shadows repeat; default `model` (pass the
        /// original when attacking an unlearned model, so every method's attack shares one shadow fleet).
        public var original: String?
        /// ulira, epsilon: the unlearning method (default "finetune") and its hyperparameters.
        public var method: String?
        /// ulira, epsilon: the method's hyperparameters, checked as forget checks them.
        public var hyperparameters: [String: JSONValue]?
        /// ulira, epsilon: models per group (N unlearned and N retrained); default 32.
        public var models: Int?
        /// Threads per fleet member (default 1); members train side by side within the daemon's threads.
        public var threadsPerModel: Int?
        /// lira, rmia, ulira, epsilon: a directory to write per-example scores (and, for epsilon, the per-model confidences) as `.npy`; created if missing.
        public var outputs: String?
        /// Threads for this job (default: the daemon's); fleet members use `threadsPerModel`.
        public var threads: Int?
        /// Receive `$/progress` notifications while fleet members train.
        public var workDoneToken: ProgressToken?
        public init(model: String, split: String, kind: String? = nil, balance: String? = nil, seed: UInt64? = nil) {
            self.model = model
            self.split = split
            self.kind = kind
            self.balance = balance
            self.seed = seed
        }
    }

    /// A ROC curve, at most a few hundred points (the full per-example scores go to `outputs`).
    public struct Curve: Codable, Sendable {
        /// False-positive rates, ascending from 0 to 1.
        public let fpr: [Double]
        /// True-positive rates at those false-positive rates.
        public let tpr: [Double]
        public init(fpr: [Double], tpr: [Double]) {
            self.fpr = fpr
            self.tpr = tpr
        }
    }

    /// The challenge's forget quality (kind "epsilon").
    public struct EpsilonReport: Codable, Sendable {
        /// F: the mean over forget examples of 2^-k, k the ε bucket (width 0.5) of the example.
        public let forgetQuality: Double
        /// F × (RA_U / RA_R) × (TA_U / TA_R): the challenge's final score.
        public let score: Double
        /// Mean retain accuracy of the unlearned models over that of the retrained ones.
        public let retainRatio: Double
        /// Mean test accuracy of the unlearned models over that of the retrained ones.
        public let testRatio: Double
        /// The ε histogram: bucket edges (one more than counts) and forget examples per bucket.
        public let histogramEdges: [Double]
        /// Forget examples per ε bucket.
        public let histogramCounts: [Int]
        /// Models per group.
        public let unlearnedModels: Int
        /// Models in the retrained group.
        public let retrainedModels: Int
        public init(forgetQuality: Double, score: Double, retainRatio: Double, testRatio: Double, histogramEdges: [Double],
                    histogramCounts: [Int], unlearnedModels: Int, retrainedModels: Int) {
            self.forgetQuality = forgetQuality
            self.score = score
            self.retainRatio = retainRatio
            self.testRatio = testRatio
            self.histogramEdges = histogramEdges
            self.histogramCounts = histogramCounts
            self.unlearnedModels = unlearnedModels
            self.retrainedModels = retrainedModels
        }
    }

    /// A fleet an attack read, and what this request added to it.
    public struct FleetUse: Codable, Sendable {
        /// The fleet's id (fleet/list, fleet/delete).
        public let id: String
        /// "shadow", "retrained" or "unlearned".
        public let kind: String
        /// Members the attack read.
        public let members: Int
        /// Of those, trained by this request, and found in the cache.
        public let trained: Int
        /// Of those, found in the daemon's fleet cache.
        public let reused: Int
        public init(id: String, kind: String, members: Int, trained: Int, reused: Int) {
            self.id = id
            self.kind = kind
            self.members = members
            self.trained = trained
            self.reused = reused
        }
    }

    /// What `attack` answers: the headline score and, per kind, the fields below.
    public struct Result: Codable, Sendable {
        /// The attacked model (ulira, epsilon: the original).
        public let model: String
        /// The split used.
        public let split: String
        /// The attack kind that ran.
        public let kind: String
        /// The headline number; `scoreName` says what it is.
        public let score: Double
        /// simple: "accuracy" (mean held-out); mia-efficacy: "efficacy" (fraction of forget predicted non-member);
        /// lira, rmia, ulira: "auc"; epsilon: "forgetQuality" (F).
        public let scoreName: String
        /// What the score is for a model the forget set never reached, where the attack defines one (0.5 for
        /// accuracy when balanced and for AUC).
        public let chanceLevel: Double?
        /// Score-producing attacks: AUC, TPR at 0.1% and 1% FPR, the best balanced accuracy over thresholds, and the curve.
        public let auc: Double?
        /// TPR at 0.1% FPR (LiRA's reading of the ROC curve).
        public let tprAt0_1PercentFPR: Double?
        /// TPR at 1% FPR.
        public let tprAt1PercentFPR: Double?
        /// The best balanced accuracy over thresholds.
        public let bestAccuracy: Double?
        /// The ROC curve, thinned to a few hundred points.
        public let roc: Curve?
        /// simple: how the two sides were sized ("both" or "kit") and each fold's held-out accuracy.
        public let balance: String?
        /// simple: each fold's held-out accuracy.
        public let folds: [Double]?
        /// lira, rmia: the variant that ran.
        public let variant: String?
        /// mia-efficacy: the efficacy per feature (correctness, confidence, entropy, m_entropy, prob).
        public let features: [String: Double]?
        /// epsilon: the challenge's forget quality and score.
        public let epsilon: EpsilonReport?
        /// Examples scored as members (forget) and as non-members (test); ulira: (model, example) pairs of each group.
        public let members: Int
        /// Examples scored as non-members (test; ulira: retrained pairs).
        public let nonMembers: Int
        /// The fleets the attack read.
        public let fleets: [FleetUse]?
        /// Files written to `outputs`, by what they hold.
        public let outputs: [String: String]?
        /// Present when something about the numbers needs saying (unequal sides, a fallback taken).
        public let note: String?
        /// Wall time of the job.
        public let seconds: Double
        public init(model: String, split: String, kind: String, score: Double, scoreName: String, chanceLevel: Double?,
                    auc: Double? = nil, tprAt0_1PercentFPR: Double? = nil, tprAt1PercentFPR: Double? = nil,
                    bestAccuracy: Double? = nil, roc: Curve? = nil, balance: String? = nil, folds: [Double]? = nil,
                    variant: String? = nil, features: [String: Double]? = nil, epsilon: EpsilonReport? = nil,
                    members: Int, nonMembers: Int, fleets: [FleetUse]? = nil, outputs: [String: String]? = nil,
                    note: String? = nil, seconds: Double) {
            self.model = model
            self.split = split
            self.kind = kind
            self.score = score
            self.scoreName = scoreName
            self.chanceLevel = chanceLevel
            self.auc = auc
            self.tprAt0_1PercentFPR = tprAt0_1PercentFPR
            self.tprAt1PercentFPR = tprAt1PercentFPR
            self.bestAccuracy = bestAccuracy
            self.roc = roc
            self.balance = balance
            self.folds = folds
            self.variant = variant
            self.features = features
            self.epsilon = epsilon
            self.members = members
            self.nonMembers = nonMembers
            self.fleets = fleets
            self.outputs = outputs
            self.note = note
            self.seconds = seconds
        }
    }
}
