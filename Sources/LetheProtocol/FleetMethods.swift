// Model fleets (fleet/train, fleet/list, fleet/delete) and freeing what a long-lived daemon holds (model/delete,
// dataset/delete, split/delete).
import JSONRPC

/// A fleet as `fleet/train` and `fleet/list` describe it.
public struct FleetSummary: Codable, Sendable {
    /// The fleet's id ("fleet-3"), for fleet/delete.
    public let id: String
    /// "shadow", "retrained" or "unlearned".
    public let kind: String
    /// The model it was built from (its architecture and recipe; unlearned fleets start from its weights).
    public let model: String
    /// That model's weights fingerprint when the fleet was built.
    public let modelFingerprint: String
    /// The split whose examples the members' outputs cover.
    public let split: String
    /// Unlearned fleets: the method and the hyperparameters as given.
    public let method: String?
    /// Unlearned fleets: the hyperparameters as given.
    public let hyperparameters: [String: JSONValue]?
    /// Members trained so far, and their seeds (shadow fleets: indices 0..<K).
    public let members: Int
    /// Member seeds (shadow fleets: indices 0..<K).
    public let seeds: [UInt64]
    /// Shadow fleets: the seed of the random halves.
    public let shadowSeed: UInt64?
    /// Shadow fleets: the number of shadows K the halves were drawn for.
    public var shadowCount: Int?
    /// Whether members keep their weights (otherwise only their outputs).
    public let keepsWeights: Bool
    /// When members keep their weights: each one's weights fingerprint, in `seeds` order (equal to the fingerprint
    /// `forget` reports for the same method and seed).
    public let fingerprints: [String]?
    /// Memory the fleet holds.
    public let residentBytes: Int
    /// Mean seconds to train and measure one member.
    public let memberSeconds: Double
    public init(id: String, kind: String, model: String, modelFingerprint: String, split: String, method: String?,
                hyperparameters: [String: JSONValue]?, members: Int, seeds: [UInt64], shadowSeed: UInt64?, keepsWeights: Bool,
                fingerprints: [String]?, residentBytes: Int, memberSeconds: Double) {
        self.id = id
        self.kind = kind
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.split = split
        self.method = method
        self.hyperparameters = hyperparameters
        self.members = members
        self.seeds = seeds
        self.shadowSeed = shadowSeed
        self.keepsWeights = keepsWeights
        self.fingerprints = fingerprints
        self.residentBytes = residentBytes
        self.memberSeconds = memberSeconds
    }
}

/// The `fleet/train` request: build or complete a fleet.
public enum FleetTrain: LetheMethod {
    /// The wire name.
    public static let name = "fleet/train"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Train a fleet of models side by side (LiRA shadows, retrained or unlearned models), reusing every member the daemon already has."
    /// The fleet kinds.
    public static let kinds = ["shadow", "retrained", "unlearned"]

    /// What `fleet/train` takes.
    public struct Params: Codable, Sendable {
        /// "shadow": models on random halves of the pool (training part + test part), each example in exactly half;
        /// "retrained": `retrain` of the model with seeds seed…seed+count−1; "unlearned": one method from the model
        /// with those seeds.
        public var kind: String
        /// The original model: its architecture and recipe (and, for unlearned fleets, its weights).
        public var model: String
        /// The split whose forget, test and validation outputs members keep (and whose retain set retrains use).
        public var split: String
        /// Number of members (shadow: even, each example is in exactly count/2 of them).
        public var count: Int
        /// First member seed (retrained, unlearned) or the seed of the halves (shadow); default 0.
        public var seed: UInt64?
        /// Unlearned fleets: the method (default "finetune") and its hyperparameters.
        public var method: String?
        /// Unlearned fleets: the method's hyperparameters, checked as forget checks them.
        public var hyperparameters: [String: JSONValue]?
        /// Keep each member's weights too (default false: only the outputs attacks read).
        public var keepWeights: Bool?
        /// Threads per member (default 1); members run side by side within the daemon's threads.
        public var threadsPerModel: Int?
        /// Train only these members of the fleet (retrained and unlearned: seeds in seed…seed+count−1; shadow:
        /// indices in 0..<count): this daemon's share of a fleet trained on several machines (Docs/ScaleOut.md).
        /// Default: every member.
        public var members: [UInt64]?
        /// Receive `$/progress` notifications, one stage per member.
        public var workDoneToken: ProgressToken?
        public init(kind: String, model: String, split: String, count: Int, seed: UInt64? = nil, method: String? = nil,
                    hyperparameters: [String: JSONValue]? = nil, keepWeights: Bool? = nil, threadsPerModel: Int? = nil,
                    members: [UInt64]? = nil, workDoneToken: ProgressToken? = nil) {
            self.kind = kind
            self.model = model
            self.split = split
            self.count = count
            self.seed = seed
            self.method = method
            self.hyperparameters = hyperparameters
            self.keepWeights = keepWeights
            self.threadsPerModel = threadsPerModel
            self.members = members
            self.workDoneToken = workDoneToken
        }
    }

    /// What `fleet/train` answers.
    public struct Result: Codable, Sendable {
        /// The fleet after training.
        public let fleet: FleetSummary
        /// Members trained by this request, and members that already existed.
        public let trained: Int
        /// Members that already existed.
        public let reused: Int
        /// Wall time of the request.
        public let seconds: Double
        public init(fleet: FleetSummary, trained: Int, reused: Int, seconds: Double) {
            self.fleet = fleet
            self.trained = trained
            self.reused = reused
            self.seconds = seconds
        }
    }
}

/// Members of a fleet as one daemon exports them and another imports them: their outputs (and optionally weights)
/// with everything that identifies the fleet, so a member trained elsewhere cannot join a fleet it does not belong to.
public struct FleetBundle: Codable, Sendable {
    /// Always "lethe-fleet".
    public let format: String
    /// The exporting daemon's Lethe version; import requires its own (members' bits depend on the engine).
    public let version: String
    /// "shadow", "retrained" or "unlearned".
    public let kind: String
    /// Weights fingerprint of the model the fleet was built from.
    public let modelFingerprint: String
    /// Content fingerprint of the dataset (as `dataset/load` reports it).
    public let dataFingerprint: String
    /// Fingerprint of the split's four index lists (as `split/info` reports it).
    public let splitFingerprint: String
    /// The recipe members were trained with (shadow, retrained) or the method with its resolved hyperparameters
    /// and the original's recipe (unlearned), as canonical JSON text.
    public let recipe: String
    /// Unlearned fleets: the method.
    public let method: String?
    /// Unlearned fleets: the hyperparameters as given to `fleet/train`.
    public let hyperparameters: [String: JSONValue]?
    /// Shadow fleets: the number of shadows K (their halves depend on it).
    public let shadowCount: Int?
    /// Shadow fleets: the seed of the halves.
    public let shadowSeed: UInt64?
    /// Examples each member's outputs cover (the split's forget, test and validation sets, in that order).
    public let examples: Int
    /// Classes of the model (logits per example).
    public let classes: Int
    /// The members, in seed order.
    public let members: [Member]

    /// One exported member.
    public struct Member: Codable, Sendable {
        /// The member's seed (retrained, unlearned) or index (shadow).
        public let seed: UInt64
        /// Logits, [examples × classes] float32 little-endian, base64.
        public let logits: String
        /// Shadow members: for each example, "1" when it was in the member's training half, else "0".
        public let inMask: String?
        /// Retrained and unlearned members: accuracy on the split's retain set.
        public let retainAccuracy: Double?
        /// Seconds it took to train and measure.
        public let seconds: Double
        /// With weights: the weights fingerprint.
        public let fingerprint: String?
        /// With weights: the parameters, float32 little-endian, base64, in the model's parameter order.
        public let parameters: String?
        /// With weights: the buffers (BatchNorm statistics), float32 little-endian, base64.
        public let buffers: String?
        public init(seed: UInt64, logits: String, inMask: String?, retainAccuracy: Double?, seconds: Double, fingerprint: String?,
                    parameters: String?, buffers: String?) {
            self.seed = seed
            self.logits = logits
            self.inMask = inMask
            self.retainAccuracy = retainAccuracy
            self.seconds = seconds
            self.fingerprint = fingerprint
            self.parameters = parameters
            self.buffers = buffers
        }
    }

    public init(format: String, version: String, kind: String, modelFingerprint: String, dataFingerprint: String, splitFingerprint: String,
                recipe: String, method: String?, hyperparameters: [String: JSONValue]?, shadowCount: Int?, shadowSeed: UInt64?,
                examples: Int, classes: Int, members: [Member]) {
        self.format = format
        self.version = version
        self.kind = kind
        self.modelFingerprint = modelFingerprint
        self.dataFingerprint = dataFingerprint
        self.splitFingerprint = splitFingerprint
        self.recipe = recipe
        self.method = method
        self.hyperparameters = hyperparameters
        self.shadowCount = shadowCount
        self.shadowSeed = shadowSeed
        self.examples = examples
        self.classes = classes
        self.members = members
    }
}

/// The `fleet/export` request.
public enum FleetExport: LetheMethod {
    /// The wire name.
    public static let name = "fleet/export"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "A fleet's members as a portable bundle (outputs, optionally weights) that fleet/import on another daemon accepts."
    /// What `fleet/export` takes.
    public struct Params: Codable, Sendable {
        /// The fleet's id, as fleet/train or fleet/list gives it.
        public var id: String
        /// Export only these members (seeds, or shadow indices); default all.
        public var members: [UInt64]?
        /// Include each member's weights (the fleet must keep them); default false.
        public var weights: Bool?
        public init(id: String, members: [UInt64]? = nil, weights: Bool? = nil) {
            self.id = id
            self.members = members
            self.weights = weights
        }
    }
    /// The bundle.
    public typealias Result = FleetBundle
}

/// The `fleet/import` request.
public enum FleetImport: LetheMethod {
    /// The wire name.
    public static let name = "fleet/import"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Add members trained by another daemon to this daemon's fleet, after checking model, data, split, recipe and version."
    /// What `fleet/import` takes.
    public struct Params: Codable, Sendable {
        /// The model the fleet is built from here (its weights fingerprint must equal the bundle's).
        public var model: String
        /// The split here (its fingerprint and its dataset's must equal the bundle's).
        public var split: String
        /// The bundle fleet/export returned.
        public var bundle: FleetBundle
        public init(model: String, split: String, bundle: FleetBundle) {
            self.model = model
            self.split = split
            self.bundle = bundle
        }
    }
    /// What `fleet/import` answers.
    public struct Result: Codable, Sendable {
        /// The fleet after the import.
        public let fleet: FleetSummary
        /// Members added.
        public let imported: Int
        /// Members the fleet already held, bit-identical to the bundle's (a retried task): not counted twice.
        public let duplicates: Int
        public init(fleet: FleetSummary, imported: Int, duplicates: Int) {
            self.fleet = fleet
            self.imported = imported
            self.duplicates = duplicates
        }
    }
}

/// The `fleet/list` request.
public enum FleetList: LetheMethod {
    /// The wire name.
    public static let name = "fleet/list"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "The fleets the daemon holds, with their members and memory."
    /// Takes no params.
    public typealias Params = NoParams
    /// What `fleet/list` answers.
    public struct Result: Codable, Sendable {
        /// Every fleet, oldest first.
        public let fleets: [FleetSummary]
        public init(fleets: [FleetSummary]) { self.fleets = fleets }
    }
}

/// The `fleet/delete` request.
public enum FleetDelete: LetheMethod {
    /// The wire name.
    public static let name = "fleet/delete"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Free a fleet's memory."
    /// What `fleet/delete` takes.
    public struct Params: Codable, Sendable {
        /// The fleet's id, as fleet/list shows it.
        public var id: String
        public init(id: String) { self.id = id }
    }
    /// What was freed.
    public typealias Result = DeleteResult
}

/// What a delete freed.
public struct DeleteResult: Codable, Sendable {
    /// The object deleted.
    public let deleted: String
    /// Fleets removed with it (they were built from the deleted model or split).
    public let fleets: [String]
    /// Bytes no longer held by this object (memory returns once no running job still reads it).
    public let freedBytes: Int
    public init(deleted: String, fleets: [String], freedBytes: Int) {
        self.deleted = deleted
        self.fleets = fleets
        self.freedBytes = freedBytes
    }
}

/// Params of the delete methods: the object's name.
public struct DeleteParams: Codable, Sendable {
    /// The name to delete.
    public var name: String
    public init(name: String) { self.name = name }
}

/// The `model/delete` request.
public enum ModelDelete: LetheMethod {
    /// The wire name.
    public static let name = "model/delete"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Remove a resident model (and the fleets built from it); its saved files are untouched."
    /// The name to delete.
    public typealias Params = DeleteParams
    /// What was freed.
    public typealias Result = DeleteResult
}

/// The `dataset/delete` request.
public enum DatasetDelete: LetheMethod {
    /// The wire name.
    public static let name = "dataset/delete"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Remove a resident dataset; splits drawn from it keep their data until they are deleted too."
    /// The name to delete.
    public typealias Params = DeleteParams
    /// What was freed.
    public typealias Result = DeleteResult
}

/// The `split/delete` request.
public enum SplitDelete: LetheMethod {
    /// The wire name.
    public static let name = "split/delete"
    /// One line for rpc.discover and the CLI's help.
    public static let summary = "Remove a split (and the fleets built on it)."
    /// The name to delete.
    public typealias Params = DeleteParams
    /// What was freed.
    public typealias Result = DeleteResult
}
