// Error codes: JSON-RPC's own, LSP's request-cancelled, and Lethe's positive codes (Protocol/README.md).

/// A JSON-RPC error code: JSON-RPC's own, LSP's request-cancelled, and Lethe's positive codes.
public struct ErrorCode: RawRepresentable, Sendable, Hashable, Codable {
    /// The numeric code as sent on the wire.
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// -32700: invalid JSON, or an unreadable or oversize frame.
    public static let parseError = ErrorCode(rawValue: -32700)
    /// -32600: the envelope is not a valid JSON-RPC 2.0 request, or the batch is empty.
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    /// -32601: the method is unknown.
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    /// -32602: a param is missing, mistyped, unknown or out of range (the message names it).
    public static let invalidParams = ErrorCode(rawValue: -32602)
    /// -32603: an unexpected failure; the message says what.
    public static let internalError = ErrorCode(rawValue: -32603)
    /// LSP: the request was cancelled with `$/cancelRequest`.
    public static let requestCancelled = ErrorCode(rawValue: -32800)

    // Lethe's own.
    /// 1: an unknown name (dataset, split, model, fleet or run; with `data`), or a missing file or directory.
    public static let notFound = ErrorCode(rawValue: 1)
    /// 2: the name is already in use (model/create, forget's output, model/load without replace).
    public static let alreadyExists = ErrorCode(rawValue: 2)
    /// 3: a file is not a readable file of its format, or could not be written.
    public static let invalidData = ErrorCode(rawValue: 3)
    /// 4: the model's input shape or class count does not fit the dataset, or the architecture cannot be built.
    public static let shapeMismatch = ErrorCode(rawValue: 4)
    /// 5: the resource is in use by a running job (such as a model being written), or a daemon limit is reached; retry later.
    public static let busy = ErrorCode(rawValue: 5)
    /// The server is shutting down (after `shutdown`), as LSP's InvalidRequest-after-shutdown.
    public static let shuttingDown = ErrorCode(rawValue: 6)
}

/// An error a request fails with, sent as its reply's error object.
public struct RPCError: Error, Sendable, CustomStringConvertible {
    /// The error code.
    public let code: ErrorCode
    /// One line a person can act on.
    public let message: String
    /// Extra data for the error object (error 1 about an unknown name: `{kind, name}`).
    public let data: JSONValue?
    /// The id to reply to, when the error concerns a request whose id is known.
    public var id: RequestID?

    public init(code: ErrorCode, message: String, data: JSONValue? = nil, id: RequestID? = nil) {
        self.code = code
        self.message = message
        self.data = data
        self.id = id
    }

    /// The error as it goes on the wire.
    public var object: ErrorObject { ErrorObject(code: code.rawValue, message: message, data: data) }
    /// "error <code>: <message>".
    public var description: String { "error \(code.rawValue): \(message)" }

    /// A -32602 error with this message.
    public static func invalidParams(_ message: String) -> RPCError { RPCError(code: .invalidParams, message: message) }
    /// Error 1 for an unknown `kind` ("dataset", "split", "model", …) named `name`, with `{kind, name}` as data.
    public static func notFound(_ kind: String, _ name: String) -> RPCError {
        RPCError(code: .notFound, message: "no \(kind) named '\(name)'", data: .object(["kind": .string(kind), "name": .string(name)]))
    }
}
