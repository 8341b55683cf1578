// Lifecycle and server methods.
import JSONRPC

public enum Initialize: LetheMethod {
    public static let name = "initialize"
    public static let summary = "Exchange client and server information (optional: every method works without it)."

    public struct Params: Codable, Sendable {
        public var clientInfo: ClientInfo?
        public init(clientInfo: ClientInfo? = nil) { self.clientInfo = clientInfo }
    }
    public struct ClientInfo: Codable, Sendable {
        public var name: String
        public var version: String?
        public init(name: String, version: String? = nil) {
            self.name = name
            self.version = version
        }
    }
    public struct Result: Codable, Sendable {
        public let serverInfo: ServerInfo
        public let capabilities: Capabilities
        public init(serverInfo: ServerInfo, capabilities: Capabilities) {
            self.serverInfo = serverInfo
            self.capabilities = capabilities
        }
    }
    public struct ServerInfo: Codable, Sendable {
        public let name: String
        public let version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }
    public struct Capabilities: Codable, Sendable {
        public let methods: [String]
        public let unlearningMethods: [String]
        public let attacks: [String]
        public let architectures: [String]
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

public enum Shutdown: LetheMethod {
    public static let name = "shutdown"
    public static let summary = "Stop accepting work; the daemon exits on the `exit` that follows."
    public typealias Params = NoParams
    public typealias Result = NullResult
}

public enum Exit: LetheMethod {
    public static let name = "exit"
    public static let summary = "Exit the daemon (code 0 after shutdown, 1 otherwise); as a request, it is answered null first."
    public typealias Params = NoParams
    public typealias Result = NullResult
}

public enum ServerStatus: LetheMethod {
    public static let name = "server/status"
    public static let summary = "Version, uptime, resident objects and running jobs; answered at once, even while jobs run."
    public typealias Params = NoParams

    public struct Result: Codable, Sendable {
        public let version: String
        public let pid: Int
        public let uptimeSeconds: Double
        public let threads: Int
        public let datasets: [String]
        public let splits: [String]
        public let models: [String]
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
        public let bytes: Int
        /// The most it may hold; the least recently used entries go first.
        public let budgetBytes: Int
        /// Lookups answered from the cache, and lookups that computed.
        public let hits: Int
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
    public struct Job: Codable, Sendable {
        public let id: Int
        public let method: String
        public let target: String
        public let seconds: Double
        public init(id: Int, method: String, target: String, seconds: Double) {
            self.id = id
            self.method = method
            self.target = target
            self.seconds = seconds
        }
    }
}
