// One source of truth for the wire contract: every method type's params and result fields, which of them are
// required, and its summary must equal Protocol/lethe.openrpc.json's, and the method list must equal the document's.
// Fields are read from the Swift types themselves by decoding them with a recording decoder (the synthesized
// Decodable conformance asks for every stored property, with `decode` when it is required and `decodeIfPresent`
// when it is optional), so no list is written by hand.
import Foundation
import JSONRPC
import LetheProtocol
import XCTest

final class ProtocolDriftTests: XCTestCase {
    static let document: JSONValue = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/lethe.openrpc.json")
        return try! JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file))
    }()

    /// Follows `$ref`s into components.
    static func resolve(_ schema: JSONValue?) -> JSONValue? {
        guard let ref = schema?["$ref"]?.stringValue else { return schema }
        var node: JSONValue? = document
        for part in ref.dropFirst(2).split(separator: "/") { node = node?[String(part)] }
        return resolve(node)
    }

    func testEveryMethodTypeMatchesTheDocument() throws {
        guard case .array(let methods)? = Self.document["methods"] else { return XCTFail("no methods") }
        let documented = Dictionary(uniqueKeysWithValues: methods.compactMap { m in m["name"]?.stringValue.map { ($0, m) } })
        XCTAssertEqual(Set(LetheMethods.all.map { $0.name }) , Set(documented.keys).subtracting(["$/cancelRequest"]),
                       "LetheMethods.all against the document's methods")
        var problems: [String] = []
        for type in LetheMethods.all {
            guard let doc = documented[type.name] else { continue }
            if doc["summary"]?.stringValue != type.summary {
                problems.append("\(type.name): summary differs — Swift: \(type.summary) | document: \(doc["summary"]?.stringValue ?? "none")")
            }
            // Params.
            let swiftParams = FieldRecorder.fields(of: type.paramsType)
            var docParams: [String: Bool] = [:]
            var docParamTypes: [String: String] = [:]
            if case .array(let params)? = doc["params"] {
                for p in params {
                    guard let n = p["name"]?.stringValue else { continue }
                    docParams[n] = p["required"] == .bool(true)
                    if let t = Self.type(of: p["schema"]) { docParamTypes[n] = t }
                }
            }
            compare(type.name + " params", swift: swiftParams, document: docParams, into: &problems)
            compareTypes(type.name + " params", swift: FieldRecorder.types(of: type.paramsType), document: docParamTypes, into: &problems)
            // Result, when the document describes an object with properties.
            if let schema = Self.resolve(doc["result"]?["schema"]), case .object(let properties)? = schema["properties"] {
                var docResult: [String: Bool] = [:]
                var required: Set<String> = []
                if case .array(let r)? = schema["required"] { required = Set(r.compactMap { $0.stringValue }) }
                var docTypes: [String: String] = [:]
                for (key, property) in properties {
                    docResult[key] = required.contains(key)
                    if let t = Self.type(of: property) { docTypes[key] = t }
                }
                compare(type.name + " result", swift: FieldRecorder.fields(of: type.resultType), document: docResult, into: &problems)
                compareTypes(type.name + " result", swift: FieldRecorder.types(of: type.resultType), document: docTypes, into: &problems)
            }
        }
        XCTAssertTrue(problems.isEmpty, "\(problems.count) differences between the Swift types and lethe.openrpc.json:\n" + problems.joined(separator: "\n"))
    }

    /// The wire types are the protocol's one source of truth, and the engine's modules are libraries: each public
    /// declaration says what it is for in a `///` line (initialisers and Codable/Hashable members aside).
    func testEveryPublicDeclarationIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var undocumented: [String] = []
        for directory in ["LetheProtocol", "JSONRPC", "NeuralNet", "Unlearning", "Datasets", "Tensor", "Evaluation"].map({ "Sources/" + $0 }) {
            let url = root.appendingPathComponent(directory)
            let files = (FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }.sorted()
            XCTAssertFalse(files.isEmpty, directory)
            for file in files {
                let lines = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8).components(separatedBy: "\n")
                for (i, line) in lines.enumerated() {
                    let text = line.trimmingCharacters(in: .whitespaces)
                    guard text.hasPrefix("public ") || text.hasPrefix("open ") else { continue }
                    if text.hasPrefix("public init") || ["encode(to", "hash(into", "static func =="].contains(where: text.contains) { continue }
                    var j = i - 1
                    while j >= 0, lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("@") { j -= 1 }
                    if j < 0 || !lines[j].trimmingCharacters(in: .whitespaces).hasPrefix("///") {
                        undocumented.append("\(directory)/\(file):\(i + 1): \(text.prefix(80))")
                    }
                }
            }
        }
        XCTAssertTrue(undocumented.isEmpty, "\(undocumented.count) public declarations without a /// line:\n" + undocumented.joined(separator: "\n"))
    }

    /// The recorder itself: it reads forget's params and attack's result as they are declared.
    func testTheRecorderReadsFieldsAndRequiredness() {
        let forget = FieldRecorder.fields(of: Forget.Params.self)
        XCTAssertEqual(forget?["model"], true)
        XCTAssertEqual(forget?["method"], true)
        XCTAssertEqual(forget?["output"], false)
        XCTAssertEqual(forget?["hyperparameters"], false)
        XCTAssertEqual(forget?.count, 8, "\(String(describing: forget))")
        let attack = FieldRecorder.fields(of: Attack.Result.self)
        XCTAssertEqual(attack?["score"], true)
        XCTAssertEqual(attack?["roc"], false)
        XCTAssertEqual(attack?["epsilon"], false)
        XCTAssertNil(FieldRecorder.fields(of: NoParams.self), "no keyed fields")
        let types = FieldRecorder.types(of: Forget.Params.self)
        XCTAssertEqual(types["model"], .some("string"))
        XCTAssertEqual(types["seed"], .some("integer"))
        XCTAssertEqual(types["hyperparameters"], .some("object"))
        XCTAssertEqual(types["workDoneToken"], .some(nil), "any JSON")
        XCTAssertEqual(FieldRecorder.types(of: Compare.Params.self)["methods"], .some("array"))
    }

    /// The JSON type a schema declares (following $refs); nil when it allows several (oneOf, no type).
    static func type(of schema: JSONValue?) -> String? {
        guard let resolved = resolve(schema) else { return nil }
        if let t = resolved["type"]?.stringValue { return t }
        return nil
    }

    private func compareTypes(_ what: String, swift: [String: String?], document: [String: String], into problems: inout [String]) {
        for (name, swiftType) in swift.sorted(by: { $0.key < $1.key }) {
            guard let swiftType, let documented = document[name] else { continue }
            if swiftType != documented, !(swiftType == "integer" && documented == "number") {
                problems.append("\(what): '\(name)' is \(swiftType) in Swift but \(documented) in the document")
            }
        }
    }

    private func compare(_ what: String, swift: [String: Bool]?, document: [String: Bool], into problems: inout [String]) {
        guard let swift else { return }
        for (name, required) in swift.sorted(by: { $0.key < $1.key }) {
            guard let documentedRequired = document[name] else { problems.append("\(what): '\(name)' is in the Swift type but not documented"); continue }
            if documentedRequired != required {
                problems.append("\(what): '\(name)' is \(required ? "required" : "optional") in Swift but \(documentedRequired ? "required" : "optional") in the document")
            }
        }
        for name in document.keys.sorted() where swift[name] == nil {
            problems.append("\(what): '\(name)' is documented but not in the Swift type")
        }
    }
}

extension LetheMethod {
    static var paramsType: Decodable.Type { Params.self }
    static var resultType: Decodable.Type { Result.self }
}

/// Reads a Decodable type's top-level keys and whether each is required, by decoding it from nothing.
enum FieldRecorder {
    /// Field name → required; nil when the type is not a keyed object (NoParams, NullResult, a single value).
    static func fields(of type: Decodable.Type) -> [String: Bool]? {
        let recorder = Recorder(depth: 0)
        _ = try? type.init(from: recorder)
        return recorder.keyed ? recorder.fields : nil
    }

    /// Field name → JSON type (nil: any JSON), for the keyed types `fields` reads.
    static func types(of type: Decodable.Type) -> [String: String?] {
        let recorder = Recorder(depth: 0)
        _ = try? type.init(from: recorder)
        return recorder.types
    }

    final class Recorder: Decoder {
        let depth: Int
        var fields: [String: Bool] = [:]
        /// Field name → its JSON type ("string", "integer", "number", "boolean", "array", "object"), nil for any JSON.
        var types: [String: String?] = [:]
        var keyed = false
        var codingPath: [CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        init(depth: Int) { self.depth = depth }
        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            keyed = true
            return KeyedDecodingContainer(Keyed<Key>(recorder: self))
        }
        func unkeyedContainer() throws -> UnkeyedDecodingContainer { Unkeyed() }
        func singleValueContainer() throws -> SingleValueDecodingContainer { Single(depth: depth) }
    }

    /// Answers "present" to `contains` and "null" to `decodeNil`, so optional fields come out nil and are recorded as
    /// optional; `decode` records a required field and returns a placeholder.
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let recorder: Recorder
        var codingPath: [CodingKey] = []
        var allKeys: [Key] = []
        func contains(_ key: Key) -> Bool {
            if recorder.depth == 0, recorder.fields[key.stringValue] == nil { recorder.fields[key.stringValue] = false }
            return true
        }
        func decodeNil(forKey key: Key) throws -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            if recorder.depth == 0 {
                recorder.fields[key.stringValue] = true
                recorder.types[key.stringValue] = jsonType(type)
            }
            return try placeholder(type, depth: recorder.depth + 1)
        }
        private func optional<T>(_ type: T.Type, _ key: Key) -> T? {
            if recorder.depth == 0 {
                recorder.fields[key.stringValue] = false
                recorder.types[key.stringValue] = jsonType(type)
            }
            return nil
        }
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { optional(type, key) }
        func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { optional(type, key) }
        func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { optional(type, key) }
        func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { optional(type, key) }
        func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { optional(type, key) }
        func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { optional(type, key) }
        func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { optional(type, key) }
        func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { optional(type, key) }
        func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { optional(type, key) }
        func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { optional(type, key) }
        func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { optional(type, key) }
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(Keyed<NestedKey>(recorder: Recorder(depth: recorder.depth + 1)))
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { Unkeyed() }
        func superDecoder() throws -> Decoder { Recorder(depth: recorder.depth + 1) }
        func superDecoder(forKey key: Key) throws -> Decoder { Recorder(depth: recorder.depth + 1) }
    }

    /// The JSON type a Swift field encodes as; nil for JSONValue (any JSON).
    static func jsonType(_ type: Any.Type) -> String? {
        let name = String(describing: type)
        if name == "JSONValue" { return nil }
        if type is String.Type || type is any RawRepresentable.Type && name != "ProgressToken" { return "string" }
        if type is Bool.Type { return "boolean" }
        if [Int.self, Int32.self, Int64.self, UInt.self, UInt32.self, UInt64.self].contains(where: { $0 == type }) { return "integer" }
        if type is Double.Type || type is Float.Type { return "number" }
        if name.hasPrefix("Array<") { return "array" }
        return "object"
    }

    static func placeholder<T: Decodable>(_ type: T.Type, depth: Int) throws -> T {
        switch type {
        case is String.Type: return "" as! T
        case is Bool.Type: return false as! T
        case is Int.Type: return 0 as! T
        case is Int64.Type: return Int64(0) as! T
        case is UInt64.Type: return UInt64(0) as! T
        case is Double.Type: return 0.0 as! T
        case is Float.Type: return Float(0) as! T
        default: return try T(from: Recorder(depth: depth))
        }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        var codingPath: [CodingKey] = []
        var count: Int? = 0
        var isAtEnd: Bool { true }
        var currentIndex = 0
        mutating func decodeNil() throws -> Bool { true }
        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { throw DecodingError.valueNotFound(type, .init(codingPath: [], debugDescription: "empty")) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            KeyedDecodingContainer(Keyed<NestedKey>(recorder: Recorder(depth: 99)))
        }
        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { Unkeyed() }
        mutating func superDecoder() throws -> Decoder { Recorder(depth: 99) }
    }

    struct Single: SingleValueDecodingContainer {
        let depth: Int
        var codingPath: [CodingKey] = []
        func decodeNil() -> Bool { true }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try placeholder(type, depth: depth + 1) }
    }
}
