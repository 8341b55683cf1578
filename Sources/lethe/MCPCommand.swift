// `lethe mcp`: the Model Context Protocol over standard input and output (modelcontextprotocol/swift-sdk), so editors
// and assistants that speak MCP can run experiments. Each tool is one daemon method; its input schema is that
// method's params as the running daemon documents them (`rpc.discover`, the OpenRPC document the drift tests hold
// equal to the Swift types), so the tools cannot drift from the protocol. A tool call opens its own connection:
// calls run side by side, MCP progress tokens receive the job's `$/progress`, and an MCP cancellation sends
// `$/cancelRequest`. Daemon errors come back as tool results with `isError` (MCP's convention, so the model sees them).
import ArgumentParser
import Foundation
import JSONRPC
import MCP

struct MCPCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the Model Context Protocol on standard input and output: \(MCPTools.methods.joined(separator: ", ")) as tools.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let socket = options.socket, autostart = options.autostart
        let first = LetheClient(connected: try Autostart.connect(socketPath: socket, allowed: autostart, quiet: false))
        let tools = try MCPTools(document: try first.call("rpc.discover", nil))
        let done = DispatchSemaphore(value: 0)
        let failure = Box<Error>()
        Task {
            do { try await MCPBridge(socket: socket, autostart: autostart, tools: tools).serve() } catch { failure.value = error }
            done.signal()
        }
        done.wait()
        if let error = failure.value { throw ClientError(description: "MCP: \(error)", status: .failure) }
    }
}

/// A value set on one thread and read on another after a semaphore.
final class Box<T>: @unchecked Sendable { var value: T? }

/// The tools: which daemon methods, their MCP names and schemas.
struct MCPTools: Sendable {
    /// The daemon methods exposed as tools.
    static let methods = ["server/status", "forget", "evaluate", "attack", "compare"]

    /// One tool.
    struct Entry: Sendable {
        /// The daemon method.
        let method: String
        /// Whether the method takes a `workDoneToken` (so MCP progress can be forwarded).
        let reportsProgress: Bool
        /// The MCP declaration.
        let tool: Tool
    }

    /// The tools by MCP name.
    let entries: [String: Entry]
    /// The tools in `methods` order.
    let list: [Tool]
    /// The daemon's version, from the document.
    let version: String

    /// MCP tool names allow letters, digits, `_` and `-`: "server/status" becomes "server_status".
    static func toolName(_ method: String) -> String { method.replacingOccurrences(of: "/", with: "_") }

    /// Builds the tools from the OpenRPC document the daemon serves.
    init(document: JSONValue) throws {
        guard case .array(let methods)? = document["methods"] else { throw ClientError(description: "rpc.discover gave no methods", status: .failure) }
        let schemas = document["components"]?["schemas"]
        var entries: [String: Entry] = [:], list: [Tool] = []
        for name in Self.methods {
            guard let method = methods.first(where: { $0["name"]?.stringValue == name }), case .array(let params)? = method["params"] else {
                throw ClientError(description: "the daemon does not document \(name)", status: .failure)
            }
            var properties: [String: JSONValue] = [:], required: [JSONValue] = []
            var reportsProgress = false
            for param in params {
                guard let pname = param["name"]?.stringValue else { continue }
                if pname == "workDoneToken" { reportsProgress = true; continue }  // the bridge sets it from MCP's progressToken
                var schema = Self.resolve(param["schema"] ?? .object([:]), schemas, depth: 0)
                if case .object(var fields) = schema, let text = param["description"] { fields["description"] = text; schema = .object(fields) }
                properties[pname] = schema
                if param["required"] == .bool(true) { required.append(.string(pname)) }
            }
            let input: JSONValue = .object(["type": "object", "properties": .object(properties), "required": .array(required),
                                            "additionalProperties": false])
            let text = [method["summary"]?.stringValue, method["description"]?.stringValue].compactMap { $0 }.joined(separator: "\n\n")
            let tool = Tool(name: Self.toolName(name), title: "lethe \(name)", description: text, inputSchema: try input.mcp(),
                            annotations: .init(readOnlyHint: name != "forget", openWorldHint: false))
            entries[tool.name] = Entry(method: name, reportsProgress: reportsProgress, tool: tool)
            list.append(tool)
        }
        self.entries = entries
        self.list = list
        version = document["info"]?["version"]?.stringValue ?? "unknown"
    }

    /// The schema with `#/components/schemas/…` references replaced by their definitions (MCP wants self-contained
    /// schemas).
    static func resolve(_ schema: JSONValue, _ components: JSONValue?, depth: Int) -> JSONValue {
        guard depth < 32 else { return schema }
        switch schema {
        case .object(let fields):
            if case .string(let ref)? = fields["$ref"], ref.hasPrefix("#/components/schemas/"),
               let target = components?[String(ref.dropFirst("#/components/schemas/".count))] {
                return resolve(target, components, depth: depth + 1)
            }
            return .object(fields.mapValues { resolve($0, components, depth: depth + 1) })
        case .array(let items): return .array(items.map { resolve($0, components, depth: depth + 1) })
        default: return schema
        }
    }
}

/// The MCP server: lists the tools and runs each call on its own daemon connection.
struct MCPBridge: Sendable {
    let socket: String
    let autostart: Bool
    let tools: MCPTools

    /// Serves until standard input ends.
    func serve() async throws {
        let server = Server(name: "lethe", version: tools.version, capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: tools.list) }
        await server.withMethodHandler(CallTool.self) { params in try await call(params, server: server) }
        try await server.start(transport: StdioTransport())
        await server.waitUntilCompleted()
    }

    private func call(_ params: CallTool.Parameters, server: Server) async throws -> CallTool.Result {
        guard let entry = tools.entries[params.name] else {
            throw MCPError.invalidParams("unknown tool '\(params.name)'; the tools are \(tools.list.map(\.name).joined(separator: ", "))")
        }
        var arguments = try JSONValue(mcp: MCP.Value.object(params.arguments ?? [:]))
        let token = params._meta?.progressToken
        if token != nil, entry.reportsProgress, case .object(var fields) = arguments {
            fields["workDoneToken"] = "mcp"
            arguments = .object(fields)
        }
        let signal = CancelSignal()
        let (socket, autostart, request) = (self.socket, self.autostart, arguments)
        let outcome: Result<JSONValue, Error> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    do {
                        let client = LetheClient(connected: try Autostart.connect(socketPath: socket, allowed: autostart, quiet: true))
                        client.cancelSignal = signal
                        if let token {
                            client.onProgress = { p in
                                let v = p.value
                                let message = "\(v.stage) \(v.unit) \(v.step)/\(v.steps): loss \(Output.number(v.loss)), accuracy \(Output.percent(v.accuracy))"
                                Task { try? await server.notify(ProgressNotification.message(
                                    .init(progressToken: token, progress: Double(v.step), total: Double(v.steps), message: message))) }
                            }
                        }
                        continuation.resume(returning: .success(try client.call(entry.method, request)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
        } onCancel: {
            signal.fire()
        }
        switch outcome {
        case .success(let result):
            let structured: JSONValue = { if case .object = result { return result }; return .object(["result": result]) }()
            return try .init(content: [.text(text: result.prettyText, annotations: nil, _meta: nil)], structuredContent: try structured.mcp(), isError: false)
        case .failure(let error as RPCError):
            return .init(content: [.text(text: "\(error.message) (error \(error.code.rawValue))", annotations: nil, _meta: nil)], isError: true)
        case .failure(let error as CancelledByUser):
            return .init(content: [.text(text: "cancelled: \(error.message)", annotations: nil, _meta: nil)], isError: true)
        case .failure(let error as ClientError):
            return .init(content: [.text(text: error.description, annotations: nil, _meta: nil)], isError: true)
        case .failure(let error):
            throw error
        }
    }
}

extension JSONValue {
    /// The same JSON as MCP's `Value`.
    func mcp() throws -> MCP.Value { try JSONDecoder().decode(MCP.Value.self, from: JSONCoding.encoder.encode(self)) }
    /// The same JSON as an MCP `Value`.
    init(mcp value: MCP.Value) throws { self = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)) }
    /// Indented JSON text.
    var prettyText: String { Output.prettyJSON(self) ?? "\(self)" }
}
