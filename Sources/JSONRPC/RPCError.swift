// Error codes: JSON-RPC's own, LSP's request-cancelled, and Lethe's positive codes (Protocol/README.md).

public struct ErrorCode: RawRepresentable, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let parseError = ErrorCode(rawValue: -32700)
    public static let invalidRequest = ErrorCode(rawValue: -32600)
    public static let methodNotFound = ErrorCode(rawValue: -32601)
    public static let invalidParams = ErrorCode(rawValue: -32602)
    public static let internalError = ErrorCode(rawValue: -32603)
    /// LSP: the request was cancelled with `$/cancelRequest`.
    public static let requestCancelled = ErrorCode(rawValue: -32800)

    // Lethe's own.
    public static let notFound = ErrorCode(rawValue: 1)
    public static let alreadyExists = ErrorCode(rawValue: 2)
    public static let invalidData = ErrorCode(rawValue: 3)
    public static let shapeMismatch = ErrorCode(rawValue: 4)
    public static let busy = ErrorCode(rawValue: 5)
    /// The server is shutting down (after `shutdown`), as LSP's InvalidRequest-after-shutdown.
    public static let shuttingDown = ErrorCode(rawValue: 6)
}

public struct RPCError: Error, Sendable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public let data: JSONValue?
    /// The id to reply to, when the error concerns a request whose id is known.
    public var id: RequestID?

    public init(code: ErrorCode, message: String, data: JSONValue? = nil, id: RequestID? = nil) {
        self.code = code
        self.message = message
        self.data = data
        self.id = id
    }

    public var object: ErrorObject { ErrorObject(code: code.rawValue, message: message, data: data) }
    public var description: String { "error \(code.rawValue): \(message)" }

    public static func invalidParams(_ message: String) -> RPCError { RPCError(code: .invalidParams, message: message) }
    public static func notFound(_ kind: String, _ name: String) -> RPCError {
        RPCError(code: .notFound, message: "no \(kind) named '\(name)'", data: .object(["kind": .string(kind), "name": .string(name)]))
    }
}
