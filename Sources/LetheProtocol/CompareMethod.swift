// compare: several unlearning methods on one model and split, against retrain, over seeds — one table.
import JSONRPC

/// `compare`: methods against retrain over seeds, one table.
public enum Compare: LetheMethod {
    /// The wire name.
    public static let name = "compare"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Run unlearning methods on one model and split against retrain over seeds, and tabulate accuracy, UA, MIA, MIA-efficacy, average gap, time, and optionally the challenge's forget quality."

    /// What `compare` takes.
    public struct Params: Codable, Sendable {
        /// The trained model to unlearn from (it is never modified).
        public var model: String
        /// The split whose forget set is unlearned.
        public var split: String
        /// Methods to run (default: every registered method); retrain always runs as the reference.
        public var methods: [String]?
        /// Per-method hyperparameters, e.g. {"finetune": {"epochs": 3}}; checked before anything runs.
        public var hyperparameters: [String: [String: JSONValue]]?
        /// Seeds; every method runs once per seed, and each row gives mean ± std over them (default [0]).
        public var seeds: [UInt64]?
        /// Threads per method run (default 1): runs go side by side within the daemon's thread budget.
        public var threadsPerMethod: Int?
        /// When set: the challenge's forget quality for every method, from this many unlearned models per method
        /// (seeds 0…N−1) against as many retrained ones (one fleet shared by all methods); adds `forgetQuality` and
        /// `epsilonScore` to the rows. The fleets stay cached for later attacks and compares.
        public var epsilonModels: Int?
        /// Progress token: every run's stages, prefixed "<method>/<seed> ".
        public var workDoneToken: ProgressToken?
        public init(model: String, split: String, methods: [String]? = nil, hyperparameters: [String: [String: JSONValue]]? = nil,
                    seeds: [UInt64]? = nil, threadsPerMethod: Int? = nil, workDoneToken: ProgressToken? = nil) {
            self.model = model
            self.split = split
            self.methods = methods
            self.hyperparameters = hyperparameters
            self.seeds = seeds
            self.threadsPerMethod = threadsPerMethod
            self.workDoneToken = workDoneToken
        }
    }

    /// A value over seeds.
    public struct Stat: Codable, Sendable, Equatable {
        /// Mean over seeds.
        public let mean: Double
        /// Sample standard deviation over seeds (0 with one seed).
        public let std: Double
        public init(mean: Double, std: Double) {
            self.mean = mean
            self.std = std
        }
    }

    /// Per-example loss histograms of one model on the forget and test sets, over bins every row shares.
    public struct LossHistogram: Codable, Sendable, Equatable {
        /// Bin edges (bins + 1, geometric from the 1st to the 99th percentile of every row's losses): bin i holds
        /// edges[i] ≤ loss < edges[i+1]; the first bin also holds the losses below, the last those above.
        public let edges: [Double]
        /// Forget examples per bin.
        public let forget: [Int]
        /// Test examples per bin.
        public let test: [Int]
        public init(edges: [Double], forget: [Int], test: [Int]) {
            self.edges = edges
            self.forget = forget
            self.test = test
        }
    }

    /// The loss-threshold membership attack on one model (Yeom et al. 2018: lower loss → member), forget as members
    /// against test as non-members, all of both: the ROC behind the balanced simple MIA's single number.
    public struct LossAttack: Codable, Sendable {
        /// Area under the ROC curve (0.5 is chance).
        public let auc: Double
        /// TPR at 0.1% FPR (the low-FPR regime Carlini et al. 2022 argue for).
        public let tprAt0_1PercentFPR: Double
        /// TPR at 1% FPR.
        public let tprAt1PercentFPR: Double
        /// The ROC curve, thinned to at most 200 points.
        public let roc: Attack.Curve
        public init(auc: Double, tprAt0_1PercentFPR: Double, tprAt1PercentFPR: Double, roc: Attack.Curve) {
            self.auc = auc
            self.tprAt0_1PercentFPR = tprAt0_1PercentFPR
            self.tprAt1PercentFPR = tprAt1PercentFPR
            self.roc = roc
        }
    }

    /// The NeurIPS 2023 metric's per-example ε histogram for one method (the buckets that score 2^−k points).
    public struct EpsilonHistogram: Codable, Sendable {
        /// Bucket edges (counts.count + 1).
        public let edges: [Double]
        /// Forget examples per bucket.
        public let counts: [Int]
        public init(edges: [Double], counts: [Int]) {
            self.edges = edges
            self.counts = counts
        }
    }

    /// One method's row.
    public struct Row: Codable, Sendable {
        /// The method; "none" is the original model itself, "retrain" the reference.
        public let method: String
        /// Accuracy on retain (RA), forget and test (TA); UA = 1 − forget accuracy.
        public let retainAccuracy: Stat
        /// Accuracy on the forget set.
        public let forgetAccuracy: Stat
        /// Accuracy on the test set (TA).
        public let testAccuracy: Stat
        /// UA = 1 − forget accuracy.
        public let unlearningAccuracy: Stat
        /// With whole classes forgotten: test accuracy on the other classes; absent otherwise.
        public let remainingTestAccuracy: Stat?
        /// The balanced simple MIA (0.5 is chance).
        public let mia: Stat
        /// SalUn's MIA-efficacy (the confidence feature): the fraction of forget an SVC fitted on retain vs test calls
        /// non-member. Read it against retrain's.
        public let miaEfficacy: Stat
        /// SalUn's average gap to retrain of the same seed, in percentage points: mean |Δ| over UA, MIA-efficacy, RA, TA.
        public let averageGap: Stat
        /// With `epsilonModels`: the challenge's forget quality F and final score F × (RA_U/RA_R) × (TA_U/TA_R)
        /// (retrain's row: its fleet against itself is not computed, so absent; "none": absent).
        public var forgetQuality: Double?
        /// With `epsilonModels`: F × (RA_U/RA_R) × (TA_U/TA_R).
        public var epsilonScore: Double?
        /// With `epsilonModels`: the histogram of per-example ε behind F.
        public var epsilonHistogram: EpsilonHistogram?
        /// Per-example cross-entropy of the first seed's model on forget and on test, binned as every row is.
        public var lossHistogram: LossHistogram?
        /// The loss-threshold attack's ROC on the first seed's model, forget against test.
        public var lossAttack: LossAttack?
        /// Wall time of the method alone (0 for "none").
        public let seconds: Stat
        /// Mean seconds as a fraction of retrain's mean seconds.
        public let timeFraction: Double
        /// Every hyperparameter the method used (its first seed's run); absent for "none".
        public let hyperparameters: [String: JSONValue]?
        public init(method: String, retainAccuracy: Stat, forgetAccuracy: Stat, testAccuracy: Stat, unlearningAccuracy: Stat,
                    remainingTestAccuracy: Stat?, mia: Stat, miaEfficacy: Stat,
                    averageGap: Stat, seconds: Stat, timeFraction: Double, hyperparameters: [String: JSONValue]?) {
            self.method = method
            self.retainAccuracy = retainAccuracy
            self.forgetAccuracy = forgetAccuracy
            self.testAccuracy = testAccuracy
            self.unlearningAccuracy = unlearningAccuracy
            self.remainingTestAccuracy = remainingTestAccuracy
            self.mia = mia
            self.miaEfficacy = miaEfficacy
            self.averageGap = averageGap
            self.seconds = seconds
            self.timeFraction = timeFraction
            self.hyperparameters = hyperparameters
        }
    }

    /// What `compare` answers.
    public struct Result: Codable, Sendable {
        /// The source model (never modified).
        public let model: String
        /// The split whose forget set was unlearned.
        public let split: String
        /// The seeds every method ran with.
        public let seeds: [UInt64]
        /// "none" first, then retrain, then the methods in the order asked.
        public let rows: [Row]
        /// Which MIA the table uses and how the gap is defined.
        public let notes: String
        /// Wall time of the whole comparison.
        public let seconds: Double
        /// Methods whose model diverged (non-finite outputs, usually NaN weights) for some seed, with what was found:
        /// they have no row. Absent when none did.
        public var diverged: [String: String]?
        public init(model: String, split: String, seeds: [UInt64], rows: [Row], notes: String, seconds: Double) {
            self.model = model
            self.split = split
            self.seeds = seeds
            self.rows = rows
            self.notes = notes
            self.seconds = seconds
        }
    }
}
