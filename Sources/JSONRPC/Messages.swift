// JSON-RPC 2.0 messages (https://www.jsonrpc.org/specification).
import Foundation

/// A request id: a number or a string (null only in error replies to unreadable requests).
public typealias RequestID = JSONValue

/// A message as received: a request when it has an id, a notification when not.
public struct IncomingMessage: Sendable {
    /// The request's id; nil for a notification.
    public let id: RequestID?
    /// The method name.
    public let method: String
    /// The params (an object or an array), when given.
    public let params: JSONValue?

    /// Whether the message is a notification (it has no id), so it gets no reply.
    public var isNotification: Bool { id == nil }

    /// Validates the envelope. Throws an RPCError (-32600) with the id when one could be read.
    public static func parse(_ value: JSONValue) throws -> IncomingMessage {
        guard case .object(let object) = value else {
            throw RPCError(code: .invalidRequest, message: "a request must be a JSON object")
        }
        let id = object["id"]
        if let id {
            switch id {
            case .string, .number, .null: break
            default: throw RPCError(code: .invalidRequest, message: "'id' must be a string or a number")
            }
        }
        let replyID: RequestID = id ?? .null
        guard object["jsonrpc"] == .string("2.0") else {
            throw RPCError(code: .invalidRequest, message: "'jsonrpc' must be \"2.0\"", id: replyID)
        }
        guard case .string(let method)? = object["method"] else {
            throw RPCError(code: .invalidRequest, message: "'method' must be a string", id: replyID)
        }
        let params = object["params"]
        if let params {
            switch params {
            case .object, .array: break
            default: throw RPCError(code: .invalidRequest, message: "'params' must be an object or an array", id: replyID)
            }
        }
        return IncomingMessage(id: id, method: method, params: params)
    }
}

/// A reply: exactly one of result and error.
public struct Response: Codable, Sendable {
    /// Always "2.0".
    public var jsonrpc = "2.0"
    /// The id of the request answered; null when it could not be read.
    public let id: RequestID
    /// The result, when the request succeeded.
    public let result: JSONValue?
    /// The error, when the request failed.
    public let error: ErrorObject?

    public init(id: RequestID, result: JSONValue) {
        self.id = id
        self.result = result
        self.error = nil
    }

    public init(id: RequestID, error: ErrorObject) {
        self.id = id
        self.result = nil
        self.error = error
    }

    /// Encodes the value as its JSON form.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(jsonrpc, forKey: .jsonrpc)
        try c.encode(id, forKey: .id)  // null stays null, as the spec requires for unreadable requests
        if let error { try c.encode(error, forKey: .error) } else { try c.encode(result ?? .null, forKey: .result) }
    }
}

/// An outgoing request or notification (used by clients, and by the daemon for `$/progress`).
public struct OutgoingMessage: Encodable, Sendable {
    /// Always "2.0".
    public var jsonrpc = "2.0"
    /// The request's id; nil for a notification.
    public let id: RequestID?
    /// The method name.
    public let method: String
    /// The params, when any.
    public let params: JSONValue?

    public init(id: RequestID?, method: String, params: JSONValue?) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// A JSON-RPC error object.
public struct ErrorObject: Codable, Sendable, Equatable {
    /// The error code (see `ErrorCode` and Protocol/README.md).
    public let code: Int
    /// One line a person can act on; invalid-params messages name the field.
    public let message: String
    /// Present only for some errors: error 1 about an unknown name carries `{kind, name}`.
    public let data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }
}
