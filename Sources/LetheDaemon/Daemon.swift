// The daemon's state and request dispatch. Transport-independent: the server hands it payloads and sends back
// what it returns, so tests can drive it without a socket.
import Foundation
import JSONRPC
import LetheProtocol
import Logging
import NeuralNet
import Tensor

/// The daemon's state (workspace, jobs, fleets, caches, run store) and request dispatch.
public actor Daemon {
    /// The daemon's version, as `initialize` and `server/status` report it.
    public static let version = "0.1.0"

    let workspace = Workspace()
    /// Model fleets for the attacks that need many models (Fleets/Fleet.swift).
    let fleets = FleetStore()
    /// Model outputs on dataset parts, computed once (OutputsCache.swift).
    let outputs = OutputsCache()
    /// Where every run is recorded (Runs/RunStore.swift); nil for a daemon that records nothing (unit tests).
    let runs: RunStore?
    let jobs = JobTable()
    let logger: Logger
    let started = monotonicSeconds()
    let threads: Int
    var isShuttingDown = false
    private var table: [String: MethodHandler] = [:]
    /// Called on `exit` with the process exit code (0 after `shutdown`, 1 otherwise, as in LSP).
    nonisolated private let onExit: @Sendable (Int32) -> Void

    /// The memory budget in bytes (`lethed --memory-limit`), or nil for none (MemoryBudget.swift).
    let memoryLimit: Int?

    public init(threads: Int, logger: Logger, stateDirectory: String? = nil, memoryLimit: Int? = nil,
                onExit: @escaping @Sendable (Int32) -> Void) throws {
        self.memoryLimit = memoryLimit
        self.runs = try stateDirectory.map { try RunStore(directory: $0) }
        self.threads = threads
        self.logger = logger
        self.onExit = onExit
        BLAS.setThreads(1)
        Parallel.defaultThreads = threads
        ComputePool.setBudget(threads)
    }

    private func handlers() -> [String: MethodHandler] {
        if table.isEmpty { table = Dictionary(uniqueKeysWithValues: Self.methodTable(self).map { ($0.name, $0) }) }
        return table
    }

    /// Every method the daemon answers: the table's, and the lifecycle messages handled before dispatch.
    var methodNames: [String] { Self.methodTable(self).map(\.name) + [Exit.name, "$/cancelRequest"] }

    /// Protocol/lethe.openrpc.json as bundled with the daemon; looked up without Bundle.module, which traps when the
    /// bundle is missing (a copied binary must not crash on rpc.discover).
    static let openRPCDocument: JSONValue? = {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for bundle in ["Lethe_LetheDaemon.resources", "Lethe_LetheDaemon.bundle/Contents/Resources"] {
            let url = executable.appendingPathComponent(bundle).appendingPathComponent("lethe.openrpc.json")
            if let data = try? Data(contentsOf: url), let value = try? JSONDecoder().decode(JSONValue.self, from: data) { return value }
        }
        return nil
    }()

    /// Parses one frame's JSON; an unreadable payload yields the -32700 reply to send.
    nonisolated static func decode(_ payload: [UInt8]) -> Result<JSONValue, ParseFailure> {
        do {
            return .success(try JSONDecoder().decode(JSONValue.self, from: Data(payload)))
        } catch {
            let reply = Response(id: .null, error: RPCError(code: .parseError, message: "invalid JSON: \(describe(error))").object)
            return .failure(ParseFailure(reply: (try? Array(JSONCoding.encoder.encode(reply))) ?? []))
        }
    }

    struct ParseFailure: Error { let reply: [UInt8] }

    /// Methods answered at once instead of after the connection's earlier requests.
    static let immediateMethods: Set<String> = [ServerStatus.name, Initialize.name, "$/cancelRequest", "rpc.discover"]

    nonisolated static func isImmediate(_ message: JSONValue) -> Bool {
        message["method"]?.stringValue.map(immediateMethods.contains) ?? false
    }

    /// Handles one message (a request, a notification or a batch); returns the reply to send, if any.
    nonisolated func handle(_ value: JSONValue, connection: Connection) async -> [UInt8]? {
        if case .array(let batch) = value {
            guard !batch.isEmpty else {
                return encode(Response(id: .null, error: RPCError(code: .invalidRequest, message: "an empty batch").object))
            }
            var replies: [Response] = []
            for item in batch { if let r = await handleOne(item, connection: connection) { replies.append(r) } }
            return replies.isEmpty ? nil : encode(replies)
        }
        return await handleOne(value, connection: connection).flatMap { encode($0) }
    }

    nonisolated private func handleOne(_ value: JSONValue, connection: Connection) async -> Response? {
        let message: IncomingMessage
        do { message = try IncomingMessage.parse(value) } catch let e as RPCError {
            return Response(id: e.id ?? .null, error: e.object)
        } catch { return Response(id: .null, error: RPCError(code: .invalidRequest, message: "\(error)").object) }

        switch message.method {
        case "$/cancelRequest":
            if let params = try? Params.decode(CancelParams.self, from: message.params) { connection.cancel(params.id) }
            return message.id.map { Response(id: $0, result: .null) }
        case "rpc.discover":
            // OpenRPC service discovery: the document this daemon was built with.
            guard let id = message.id else { return nil }
            guard let document = Self.openRPCDocument else {
                return Response(id: id, error: RPCError(code: .internalError, message: "the OpenRPC document was not installed beside lethed").object)
            }
            return Response(id: id, result: document)
        case Exit.name:
            // Reply first (when asked as a request), then exit once the reply has left.
            let code: Int32 = await isShuttingDown ? 0 : 1
            logger.info("exit requested (code \(code))")
            if let id = message.id, let reply = encode(Response(id: id, result: .null)) { connection.send(reply) }
            connection.afterFlush { [onExit] in onExit(code) }
            return nil
        default:
            break
        }
        do {
            let result = try await dispatch(message, connection: connection)
            return message.id.map { Response(id: $0, result: result) }
        } catch {
            let rpc = Self.rpcError(error)
            if rpc.code == .internalError { logger.error("\(message.method) failed: \(error)") }
            return message.id.map { Response(id: $0, error: rpc.object) }
        }
    }

    private func dispatch(_ message: IncomingMessage, connection: Connection) async throws -> JSONValue {
        guard let handler = handlers()[message.method] else {
            throw RPCError(code: .methodNotFound, message: "unknown method '\(message.method)'; call initialize for the list")
        }
        if isShuttingDown && message.method != Exit.name {
            throw RPCError(code: .shuttingDown, message: "the server is shutting down and only accepts 'exit'")
        }
        let run = handler.run
        let context = RequestContext(id: message.id, connection: connection)
        if let runs, Self.recordedMethods.contains(message.method) {
            return try await recorded(message.method, params: message.params, context: context, store: runs) { try await run(message.params, $0) }
        }
        return try await run(message.params, context)
    }

    nonisolated private func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        (try? JSONCoding.encoder.encode(value)).map { Array($0) }
    }

    static func describe(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }

}
