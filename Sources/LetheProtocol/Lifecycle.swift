// Lifecycle and server methods.
import JSONRPC

/// The `initialize` request: exchange client and server information (optional).
public enum Initialize: LetheMethod {
    /// The wire name.
    public static let name = "initialize"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Exchange client and server information (optional: every method works without it)."

    /// What `initialize` takes.
    public struct Params: Codable, Sendable {
        /// Who the client is (logged).
        public var clientInfo: ClientInfo?
        public init(clientInfo: ClientInfo? = nil) { self.clientInfo = clientInfo }
    }
    /// Who the client is; only logged.
    public struct ClientInfo: Codable, Sendable {
        /// The client's name.
        public var name: String
        /// The client's version.
        public var version: String?
        public init(name: String, version: String? = nil) {
            self.name = name
            self.version = version
        }
    }
    /// What `initialize` answers.
    public struct Result: Codable, Sendable {
        /// Who the server is.
        public let serverInfo: ServerInfo
        /// What the server offers.
        public let capabilities: Capabilities
        public init(serverInfo: ServerInfo, capabilities: Capabilities) {
            self.serverInfo = serverInfo
            self.capabilities = capabilities
        }
    }
    /// Who the server is.
    public struct ServerInfo: Codable, Sendable {
        /// The server's name, "lethed".
        public let name: String
        /// The daemon's version, e.g. "0.1.0".
        public let version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }
    /// What the server offers.
    public struct Capabilities: Codable, Sendable {
        /// Every method the daemon dispatches: its method table in table order, then "exit" and "$/cancelRequest".
        public let methods: [String]
        /// Values accepted by forget's `method`.
        public let unlearningMethods: [String]
        /// Values accepted by attack's `kind`.
        public let attacks: [String]
        /// Values accepted by model/create's `architecture.kind`: mlp, cnn, resnet18, layers.
        public let architectures: [String]
        /// The framings the socket speaks: "content-length" and "lines".
        public let framings: [String]
        public init(methods: [String], unlearningMethods: [String], attacks: [String], architectures: [String], framings: [String]) {
            self.methods = methods
            self.unlearningMethods = unlearningMethods
            self.attacks = attacks
            self.architectures = architectures
            self.framings = framings
        }
    }
}

/// The `shutdown` request: stop accepting work until `exit`.
public enum Shutdown: LetheMethod {
    /// The wire name.
    public static let name = "shutdown"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Stop accepting work; the daemon exits on the `exit` that follows."
    /// Takes no params.
    public typealias Params = NoParams
    /// Always null.
    public typealias Result = NullResult
}

/// The `exit` notification or request: exit the daemon.
public enum Exit: LetheMethod {
    /// The wire name.
    public static let name = "exit"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Exit the daemon (code 0 after shutdown, 1 otherwise); as a request, it is answered null first."
    /// Takes no params (any params are ignored).
    public typealias Params = NoParams
    /// null, sent when `exit` is a request, just before the process exits.
    public typealias Result = NullResult
}

/// The `server/status` request: version, uptime, resident objects and running jobs.
public enum ServerStatus: LetheMethod {
    /// The wire name.
    public static let name = "server/status"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Version, uptime, resident objects and running jobs; answered at once, even while jobs run."
    /// Takes no params.
    public typealias Params = NoParams

    /// What `server/status` answers.
    public struct Result: Codable, Sendable {
        /// The daemon's version, e.g. "0.1.0".
        public let version: String
        /// The daemon's process id.
        public let pid: Int
        /// Seconds since the daemon started.
        public let uptimeSeconds: Double
        /// Compute threads (BLAS and kernels), `lethed --threads`.
        public let threads: Int
        /// Names of the resident datasets, sorted.
        public let datasets: [String]
        /// Names of the splits, sorted.
        public let splits: [String]
        /// Names of the resident models, sorted.
        public let models: [String]
        /// Running jobs, ordered by job id.
        public let jobs: [Job]
        /// Fleet ids.
        public let fleets: [String]
        /// Every resident object with the memory it holds, largest first.
        public let resident: [Resident]
        /// The sum of `resident`'s bytes.
        public let residentBytes: Int
        /// The outputs cache: model outputs on dataset parts, computed once and shared by evaluate, attack, compare
        /// and model/predict.
        public let outputsCache: CacheStats
        public init(version: String, pid: Int, uptimeSeconds: Double, threads: Int, datasets: [String], splits: [String],
                    models: [String], jobs: [Job], fleets: [String], resident: [Resident], outputsCache: CacheStats) {
            self.outputsCache = outputsCache
            self.fleets = fleets
            self.resident = resident
            self.residentBytes = resident.reduce(0) { $0 + $1.bytes }
            self.version = version
            self.pid = pid
            self.uptimeSeconds = uptimeSeconds
            self.threads = threads
            self.datasets = datasets
            self.splits = splits
            self.models = models
            self.jobs = jobs
        }
    }
    /// What the outputs cache holds and how often it answered.
    public struct CacheStats: Codable, Sendable {
        /// Cached (model, examples) outputs, and the bytes they hold.
        public let entries: Int
        /// Bytes the cached outputs hold.
        public let bytes: Int
        /// The most it may hold; the least recently used entries go first.
        public let budgetBytes: Int
        /// Lookups answered from the cache, and lookups that computed.
        public let hits: Int
        /// Lookups that found no entry and computed the outputs.
        public let misses: Int
        public init(entries: Int, bytes: Int, budgetBytes: Int, hits: Int, misses: Int) {
            self.entries = entries
            self.bytes = bytes
            self.budgetBytes = budgetBytes
            self.hits = hits
            self.misses = misses
        }
    }

    /// One resident object and its memory.
    public struct Resident: Codable, Sendable {
        /// "dataset", "split", "model" or "fleet".
        public let kind: String
        /// Its name (a fleet's id).
        public let name: String
        /// Bytes it holds (features, indices, weights, or a fleet's member outputs).
        public let bytes: Int
        public init(kind: String, name: String, bytes: Int) {
            self.kind = kind
            self.name = name
            self.bytes = bytes
        }
    }
    /// A running job.
    public struct Job: Codable, Sendable {
        /// Job number, counting from 1 for the daemon's lifetime (not a request id).
        public let id: Int
        /// The method the job serves, e.g. "model/train".
        public let method: String
        /// The dataset being loaded, the model being trained, saved, loaded, predicted with, evaluated or attacked, or forget's output.
        public let target: String
        /// Seconds since the job started.
        public let seconds: Double
        public init(id: Int, method: String, target: String, seconds: Double) {
            self.id = id
            self.method = method
            self.target = target
            self.seconds = seconds
        }
    }
}
