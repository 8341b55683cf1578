// Every RPC method is one type naming its params and result (as sourcekit-lsp models LSP requests). The daemon
// and the clients share these types, so the wire shapes are defined once.
import JSONRPC

/// An RPC method: its wire name, summary, params type and result type, shared by the daemon and the clients.
public protocol LetheMethod {
    /// What the method takes (its params object).
    associatedtype Params: Codable & Sendable
    /// What the method answers.
    associatedtype Result: Codable & Sendable
    /// The wire name.
    static var name: String { get }
    /// One line for `rpc.discover` and the CLI's help.
    static var summary: String { get }
}

/// Params of methods that take none; decodes from an absent or empty params object.
public struct NoParams: Codable, Sendable {
    public init() {}
}

/// A result of `null` (LSP's `shutdown`).
public struct NullResult: Codable, Sendable {
    public init() {}
    public init(from decoder: Decoder) throws {}
    /// Encodes the value as its JSON form.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encodeNil()
    }
}

/// A token the client picks to receive `$/progress` notifications about one request (LSP's workDoneToken).
public typealias ProgressToken = JSONValue

/// Params of `$/progress`.
public struct ProgressParams: Codable, Sendable {
    /// The request's workDoneToken, echoed unchanged.
    public let token: ProgressToken
    /// The report.
    public let value: ProgressValue
    public init(token: ProgressToken, value: ProgressValue) {
        self.token = token
        self.value = value
    }
}

/// One `$/progress` report: `step` of `steps` units of a stage are done.
public struct ProgressValue: Codable, Sendable {
    /// Which part of the job: "train", "finetune", "retrain", "importance", …
    public let stage: String
    /// What a step counts: "epoch" (a pass over the training examples) or "batch" (a batch of a pass that is not
    /// training, such as an importance pass).
    public let unit: String
    /// The unit just finished, from 1.
    public let step: Int
    /// Units in this stage.
    public let steps: Int
    /// The same as step and steps when the unit is "epoch"; absent otherwise.
    public let epoch: Int?
    /// With unit "epoch": the same as steps; absent otherwise.
    public let epochs: Int?
    /// Mean loss and accuracy over the examples of the unit just done.
    public let loss: Double
    /// Mean accuracy over the examples of the unit just done, in [0, 1].
    public let accuracy: Double
    /// Examples processed per second during the unit just done.
    public let examplesPerSecond: Double
    public init(stage: String, unit: String, step: Int, steps: Int, epoch: Int?, epochs: Int?, loss: Double, accuracy: Double,
                examplesPerSecond: Double) {
        self.stage = stage
        self.unit = unit
        self.step = step
        self.steps = steps
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.accuracy = accuracy
        self.examplesPerSecond = examplesPerSecond
    }
}

/// Params of `$/cancelRequest`.
public struct CancelParams: Codable, Sendable {
    /// The id of the request to cancel, exactly as it was sent (1 and "1" differ).
    public let id: RequestID
    public init(id: RequestID) { self.id = id }
}
