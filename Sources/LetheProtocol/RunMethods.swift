// The run store over the wire: run/list, run/show, run/export, run/delete. Every train, forget, evaluate, attack,
// compare and fleet/train request is recorded as a run when it starts and when it ends.
import JSONRPC

/// One recorded run.
public struct RunInfo: Codable, Sendable {
    /// The run's number in this store, counting from 1.
    public let id: Int
    /// The RPC method: "model/train", "forget", "evaluate", "attack", "compare" or "fleet/train".
    public let kind: String
    /// The unlearning method (forget, fleet/train) or the attack kind, when the request named one.
    public let method: String?
    /// The model the request named.
    public let model: String?
    /// The split and its dataset, and the split's fingerprint (FNV-1a over its four index lists) when it ran.
    public let split: String?
    /// The split's dataset.
    public let dataset: String?
    /// The split's fingerprint (FNV-1a over its four index lists) when the run started.
    public let splitFingerprint: String?
    /// The dataset's fingerprint (FNV-1a over its shapes, features and labels) when the run started.
    public let datasetFingerprint: String?
    /// The request's seed, when it gave one.
    public let seed: Int?
    /// Threads of its job.
    public let threads: Int?
    /// "running", "succeeded", "failed", "cancelled" or "interrupted" (the daemon died while it ran).
    public let status: String
    /// Why it failed or stopped.
    public let error: String?
    /// When it started and ended (ISO 8601, UTC), and its wall time.
    public let startedAt: String
    /// When it ended (absent while it runs).
    public let endedAt: String?
    /// Its wall time (absent while it runs).
    public let seconds: Double?
    /// The params as sent.
    public let params: JSONValue
    /// The models it read and wrote: [{name, fingerprint, role: "read" | "written"}], fingerprints as they were when it ended.
    public let models: JSONValue
    /// The result it answered (run/show and run/export only).
    public let result: JSONValue?
    /// Per-epoch progress (run/show only).
    public let progress: [RunProgress]?
    public init(id: Int, kind: String, method: String?, model: String?, split: String?, dataset: String?, splitFingerprint: String?,
                datasetFingerprint: String?, seed: Int?, threads: Int?, status: String, error: String?, startedAt: String, endedAt: String?, seconds: Double?,
                params: JSONValue, models: JSONValue, result: JSONValue?, progress: [RunProgress]?) {
        self.id = id
        self.kind = kind
        self.method = method
        self.model = model
        self.split = split
        self.dataset = dataset
        self.splitFingerprint = splitFingerprint
        self.datasetFingerprint = datasetFingerprint
        self.seed = seed
        self.threads = threads
        self.status = status
        self.error = error
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.seconds = seconds
        self.params = params
        self.models = models
        self.result = result
        self.progress = progress
    }
}

/// One epoch of a run's progress.
public struct RunProgress: Codable, Sendable {
    /// The stage ("train", "finetune", …), the unit and the step of steps.
    public let stage: String
    /// "epoch" (or "batch" for passes that are not training).
    public let unit: String
    /// The step reached, counting from 1.
    public let step: Int
    /// Steps in the stage.
    public let steps: Int
    /// Mean loss and accuracy over the unit's examples.
    public let loss: Double?
    /// Mean accuracy over the unit's examples.
    public let accuracy: Double?
    /// When it was reported (ISO 8601, UTC).
    public let at: String
    public init(stage: String, unit: String, step: Int, steps: Int, loss: Double?, accuracy: Double?, at: String) {
        self.stage = stage
        self.unit = unit
        self.step = step
        self.steps = steps
        self.loss = loss
        self.accuracy = accuracy
        self.at = at
    }
}

/// Which runs run/list and run/export select; every filter is optional.
public struct RunSelection: Codable, Sendable {
    /// Only runs of this method ("forget", "attack", …).
    public var kind: String?
    /// Only runs that named or wrote this model.
    public var model: String?
    /// Only runs of this unlearning method or attack kind.
    public var method: String?
    /// Only runs with this status.
    public var status: String?
    /// Only runs started at or after / before these times (ISO 8601, e.g. "2026-11-29T15:00:00Z").
    public var since: String?
    /// Only runs started before this time (ISO 8601).
    public var until: String?
    /// Page size (default 50, at most 1000) and how many to skip; newest first.
    public var limit: Int?
    /// Runs to skip (default 0).
    public var offset: Int?
    public init(kind: String? = nil, model: String? = nil, method: String? = nil, status: String? = nil, since: String? = nil,
                until: String? = nil, limit: Int? = nil, offset: Int? = nil) {
        self.kind = kind
        self.model = model
        self.method = method
        self.status = status
        self.since = since
        self.until = until
        self.limit = limit
        self.offset = offset
    }
}

/// The `run/list` request.
public enum RunList: LetheMethod {
    /// The wire name.
    public static let name = "run/list"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Recorded runs, newest first, filtered by kind, model, method, status and time, a page at a time."
    /// The methods whose requests are recorded as runs (a run's `kind`), in the order the daemon documents them.
    public static let kinds = [ModelTrain.name, Forget.name, Evaluate.name, Attack.name, Compare.name, FleetTrain.name]
    /// A run's states: running, then one of the four ends.
    public static let statuses = ["running", "succeeded", "failed", "cancelled", "interrupted"]
    /// The filters and the page.
    public typealias Params = RunSelection
    /// What `run/list` answers.
    public struct Result: Codable, Sendable {
        /// The page of runs (without results or progress: run/show has them).
        public let runs: [RunInfo]
        /// Runs matching the filters, over all pages.
        public let total: Int
        public init(runs: [RunInfo], total: Int) {
            self.runs = runs
            self.total = total
        }
    }
}

/// The `run/show` request.
public enum RunShow: LetheMethod {
    /// The wire name.
    public static let name = "run/show"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "One recorded run with its params, result, models and per-epoch progress."
    /// What `run/show` takes.
    public struct Params: Codable, Sendable {
        /// The run's id.
        public var id: Int
        public init(id: Int) { self.id = id }
    }
    /// The run, with its result and progress.
    public typealias Result = RunInfo
}

/// The `run/export` request.
public enum RunExport: LetheMethod {
    /// The wire name.
    public static let name = "run/export"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Write the selected runs to a file as JSON lines or CSV."
    /// The formats run/export writes.
    public static let formats = ["jsonl", "csv"]
    /// What `run/export` takes: a file, a format and run/list's filters.
    public struct Params: Codable, Sendable {
        /// The file to write (replaced atomically).
        public var path: String
        /// "jsonl" (default; one run per line with params and result) or "csv" (one row per run; params and result as JSON cells).
        public var format: String?
        /// Which runs (all by default; `limit` defaults to every run here).
        public var kind: String?
        /// Only runs that named or wrote this model.
        public var model: String?
        /// Only runs of this unlearning method or attack kind.
        public var method: String?
        /// Only runs with this status.
        public var status: String?
        /// Only runs started at or after this time (ISO 8601).
        public var since: String?
        /// Only runs started before this time (ISO 8601).
        public var until: String?
        public init(path: String, format: String? = nil) {
            self.path = path
            self.format = format
        }
    }
    /// What `run/export` answers.
    public struct Result: Codable, Sendable {
        /// The file written, the runs in it and its size.
        public let path: String
        /// Runs written.
        public let runs: Int
        /// The file's size.
        public let bytes: Int
        public init(path: String, runs: Int, bytes: Int) {
            self.path = path
            self.runs = runs
            self.bytes = bytes
        }
    }
}

/// The `run/delete` request.
public enum RunDelete: LetheMethod {
    /// The wire name.
    public static let name = "run/delete"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Delete finished runs by id."
    /// What `run/delete` takes.
    public struct Params: Codable, Sendable {
        /// The runs to delete; a running one is refused.
        public var ids: [Int]
        public init(ids: [Int]) { self.ids = ids }
    }
    /// What `run/delete` answers.
    public struct Result: Codable, Sendable {
        /// The runs deleted.
        public let deleted: [Int]
        public init(deleted: [Int]) { self.deleted = deleted }
    }
}
