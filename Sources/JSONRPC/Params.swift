// Decoding typed params with errors a person can act on: -32602 naming the field and what was wrong.
import Foundation

/// Decoding typed params, turning decoding failures into -32602 errors that name the field and what was wrong.
public enum Params {
    /// Decodes `params` (absent params decode as an empty object, so methods whose fields are all optional
    /// accept a bare call).
    public static func decode<T: Decodable>(_ type: T.Type, from params: JSONValue?) throws -> T {
        let value = params ?? .object([:])
        if case .array = value {
            throw RPCError.invalidParams("params must be an object with named fields, not an array")
        }
        do {
            return try JSONValueDecoder().decode(T.self, from: value)
        } catch let error as DecodingError {
            throw RPCError.invalidParams(describe(error))
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError.invalidParams("\(error)")
        }
    }

    static func path(_ codingPath: [CodingKey], _ last: CodingKey? = nil) -> String {
        let keys = codingPath + (last.map { [$0] } ?? [])
        let joined = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            return "missing parameter '\(path(context.codingPath, key))'"
        case .typeMismatch(let type, let context):
            return "parameter '\(path(context.codingPath))' must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "parameter '\(path(context.codingPath))' must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "malformed params: \(context.debugDescription)" : "parameter '\(field)': \(context.debugDescription)"
        @unknown default:
            return "invalid params"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type, is UInt.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a \(name)"
        }
    }
}

extension Params {
    /// Decodes like `decode`, then rejects fields the type does not know, so a misspelt option is an error
    /// instead of a silently ignored default. A field is unknown when it does not survive a decode/encode round
    /// trip (nulls are exempt: an optional field given as null round-trips to absent).
    public static func decodeStrict<T: Codable>(_ type: T.Type, from params: JSONValue?) throws -> T {
        let value = try decode(type, from: params)
        let echoed = try JSONValue(encoding: value)
        if let params, let unknown = firstUnknownField(params, echoed, path: "") {
            throw RPCError.invalidParams("unknown parameter '\(unknown)'")
        }
        return value
    }

    static func firstUnknownField(_ given: JSONValue, _ known: JSONValue, path: String) -> String? {
        if case .array(let g) = given, case .array(let k) = known {
            for (i, (a, b)) in zip(g, k).enumerated() {
                if let deeper = firstUnknownField(a, b, path: "\(path)[\(i)]") { return deeper }
            }
            return nil
        }
        guard case .object(let g) = given, case .object(let k) = known else { return nil }
        for key in g.keys.sorted() {
            let field = path.isEmpty ? key : "\(path).\(key)"
            guard let sub = k[key] else {
                if g[key] == .null { continue }
                return field
            }
            if let deeper = firstUnknownField(g[key]!, sub, path: field) { return deeper }
        }
        return nil
    }
}
