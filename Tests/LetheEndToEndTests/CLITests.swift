// The CLI as a Unix tool, run as a user runs it: global options on either side of the subcommand, exit statuses by
// kind of failure, closed choices from the registries, plain progress when piped and a live bar on a terminal,
// Ctrl-C cancelling the request on the daemon, lethed started when none answers; and the editor paths: `lethe stdio`
// driven by Neovim's own JSON-RPC client, `lethe mcp` by the MCP Swift SDK's client.
import Foundation
import JSONRPC
import LetheProtocol
import MCP
import SystemPackage
import XCTest

final class CLITests: XCTestCase {
    static let lethe = DaemonProcess.binary.deletingLastPathComponent().appendingPathComponent("lethe")
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `lethe` with `arguments` (and `input` on standard input), waits, returns what it printed.
    @discardableResult
    static func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Outcome {
        let p = Process()
        p.executableURL = lethe
        p.arguments = arguments
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), stdin = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// A daemon with a tiny dataset `tiny` and an untrained mlp `m` on it.
    static func daemonWithModel() throws -> DaemonProcess {
        let d = try DaemonProcess(extraArguments: ["--threads", "1"])
        let c = try d.connect()
        let data = try writeSyntheticIDX(train: 600, test: 200)
        XCTAssertNotNil(try c.call("dataset/load", .object(["name": "tiny", "path": .string(data), "classes": 3])).result)
        XCTAssertNotNil(try c.call("model/create", .object(["name": "m", "dataset": "tiny", "architecture": .object(["kind": "mlp", "hidden": [8]])])).result)
        return d
    }

    func testGlobalOptionsGoBeforeOrAfterTheSubcommand() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        for arguments in [["--socket", d.socketPath, "--json", "status"], ["--json", "--socket=\(d.socketPath)", "status"],
                          ["status", "--json", "--socket", d.socketPath], ["--socket", d.socketPath, "model", "list", "--json"]] {
            let r = try Self.run(arguments + ["--no-autostart"])
            XCTAssertEqual(r.status, 0, "\(arguments): \(r.stderr)")
            XCTAssertNoThrow(try JSONDecoder().decode(JSONValue.self, from: Data(r.stdout.utf8)), "\(arguments) printed JSON: \(r.stdout)")
        }
    }

    /// Each kind of failure has its documented status, and the message says what to do.
    func testExitStatusesTellFailuresApart() throws {
        let d = try Self.daemonWithModel()
        defer { d.stop() }
        let s = ["--socket", d.socketPath, "--no-autostart"]
        let notFound = try Self.run(["model", "info", "--model", "nope"] + s)
        XCTAssertEqual(notFound.status, 66, notFound.stderr)
        XCTAssertTrue(notFound.stderr.contains("no model named 'nope'"), notFound.stderr)
        let exists = try Self.run(["model", "create", "--name", "m", "--dataset", "tiny"] + s)
        XCTAssertEqual(exists.status, 73, exists.stderr)
        let badChoice = try Self.run(["forget", "--model", "m", "--split", "x", "--method", "forget-everything"] + s)
        XCTAssertEqual(badChoice.status, 64, badChoice.stderr)
        XCTAssertTrue(badChoice.stderr.contains("gradient-ascent"), "the choices are listed: \(badChoice.stderr)")
        let badParams = try Self.run(["model", "train", "--model", "m", "--dataset", "tiny", "--epochs", "0"] + s)
        XCTAssertEqual(badParams.status, 64, "-32602 from the daemon is a usage error: \(badParams.stderr)")
        XCTAssertTrue(badParams.stderr.contains("epochs"), badParams.stderr)
        let missing = NSTemporaryDirectory() + "lethe-none-\(UUID().uuidString.prefix(8))/lethed.sock"
        let unavailable = try Self.run(["status", "--socket", missing, "--no-autostart"])
        XCTAssertEqual(unavailable.status, 69, unavailable.stderr)
        XCTAssertTrue(unavailable.stderr.contains("cannot reach lethed at \(missing)"), unavailable.stderr)
        let offByEnvironment = try Self.run(["status", "--socket", missing], environment: ["LETHE_NO_AUTOSTART": "1"])
        XCTAssertEqual(offByEnvironment.status, 69, offByEnvironment.stderr)
        // A peer that reads the request and hangs up without replying: the connection was lost, 74.
        let hangUp = NSTemporaryDirectory() + "lethe-hangup-\(UUID().uuidString.prefix(8)).sock"
        let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in raw.copyBytes(from: Array(hangUp.utf8) + [0]) }
        XCTAssertEqual(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }, 0)
        XCTAssertEqual(listen(server, 1), 0)
        Thread.detachNewThread {
            let peer = accept(server, nil, nil)
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = read(peer, &buffer, buffer.count)
            close(peer)
            close(server)
        }
        let lost = try Self.run(["status", "--socket", hangUp, "--no-autostart"])
        XCTAssertEqual(lost.status, 74, lost.stderr)
        XCTAssertTrue(lost.stderr.contains("closed the connection before replying"), lost.stderr)
        unlink(hangUp)
    }

    /// The CLI's closed choices are the protocol's lists, which are the daemon's registries and the OpenRPC enums.
    /// A fleet's share moves between daemons through a file: `fleet train --members`, `fleet export -o`, `fleet import`.
    func testFleetSharesMoveThroughFiles() throws {
        let worker = try Self.daemonWithModel(), coordinator = try Self.daemonWithModel()
        defer { worker.stop(); coordinator.stop() }
        for d in [worker, coordinator] {
            XCTAssertNotNil(try d.connect().call("split/create", .object(["name": "s", "dataset": "tiny", "forget": ["count": 30]])).result)
        }
        let w = ["--socket", worker.socketPath, "--no-autostart"], c = ["--socket", coordinator.socketPath, "--no-autostart"]
        let trained = try Self.run(["fleet", "train", "--kind", "retrained", "--model", "m", "--split", "s", "--count", "4", "--members", "3,1", "--json"] + w)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("\"trained\" : 2"), trained.stdout)
        let file = NSTemporaryDirectory() + "lethe-share-\(UUID().uuidString.prefix(8)).json"
        let exported = try Self.run(["fleet", "export", "fleet-1", "--members", "1", "-o", file] + w)
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let imported = try Self.run(["fleet", "import", "--model", "m", "--split", "s", file] + c)
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.contains("1 / 0"), "one member imported, none already held: \(imported.stdout)")
        let piped = try Self.run(["fleet", "import", "--model", "m", "--split", "s", "-", "--json"] + c,
                                 input: try String(contentsOfFile: file, encoding: .utf8))
        XCTAssertTrue(piped.stdout.contains("\"duplicates\" : 1"), piped.stdout + piped.stderr)
        FileManager.default.createFile(atPath: file, contents: Data("{\"not\": \"a bundle\"}".utf8))
        let garbage = try Self.run(["fleet", "import", "--model", "m", "--split", "s", file] + c)
        XCTAssertEqual(garbage.status, 65, garbage.stderr)
        let missing = try Self.run(["fleet", "import", "--model", "m", "--split", "s", file + ".gone"] + c)
        XCTAssertEqual(missing.status, 66, missing.stderr)
        let badMembers = try Self.run(["fleet", "export", "fleet-1", "--members", "one"] + w)
        XCTAssertEqual(badMembers.status, 64, badMembers.stderr)
    }

    func testChoicesAreTheRegistries() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let capabilities = try d.connect().call("initialize").result?["capabilities"]
        XCTAssertEqual(capabilities?["unlearningMethods"], .array(Forget.methods.map { .string($0) }), "Forget.methods against the registry")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: Self.root.appendingPathComponent("Protocol/lethe.openrpc.json")))
        guard case .array(let methods)? = document["methods"] else { return XCTFail() }
        func paramEnum(_ method: String, _ param: String) -> [String]? {
            guard let m = methods.first(where: { $0["name"]?.stringValue == method }), case .array(let params)? = m["params"],
                  case .array(let values)? = params.first(where: { $0["name"]?.stringValue == param })?["schema"]?["enum"] else { return nil }
            return values.compactMap(\.stringValue)
        }
        XCTAssertEqual(paramEnum("forget", "method"), Forget.methods)
        XCTAssertEqual(paramEnum("attack", "method"), Forget.methods)
        XCTAssertEqual(paramEnum("fleet/train", "method"), Forget.methods)
        XCTAssertEqual(paramEnum("fleet/train", "kind"), FleetTrain.kinds)
        XCTAssertEqual(paramEnum("model/train", "optimizer"), ModelTrain.optimizers)
        XCTAssertEqual(paramEnum("model/train", "schedule"), ModelTrain.schedules)
        XCTAssertEqual(paramEnum("run/list", "kind"), RunList.kinds)
        XCTAssertEqual(paramEnum("run/list", "status"), RunList.statuses)
        // The help and the completion script list them.
        let help = try Self.run(["forget", "--help"])
        XCTAssertTrue(Forget.methods.allSatisfy(help.stdout.contains), help.stdout)
        let bash = try Self.run(["--generate-completion-script", "bash"])
        XCTAssertEqual(bash.status, 0)
        for word in ["gradient-ascent", "eu-k", "mia-efficacy", "adamw", "cosine", "mcp", "stdio", "--no-autostart"] {
            XCTAssertTrue(bash.stdout.contains(word), "the bash completion offers \(word)")
        }
    }

    /// Every option, flag and argument of every subcommand says what it is for (ArgumentParser's help dump).
    func testEveryOptionHasHelp() throws {
        let dump = try Self.run(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        var missing: [String] = [], seen = 0
        func walk(_ command: JSONValue, _ path: String) {
            if case .array(let arguments)? = command["arguments"], path != "lethe help" {  // ArgumentParser's own`help`
                for a in arguments where a["shouldDisplay"] != .bool(false) {
                    seen += 1
                    if (a["abstract"]?.stringValue ?? "").isEmpty { missing.append("\(path) \(a["valueName"]?.stringValue ?? "?")") }
                }
            }
            if case .array(let subcommands)? = command["subcommands"] {
                for s in subcommands { walk(s, path + " " + (s["commandName"]?.stringValue ?? "?")) }
            }
        }
        walk(try JSONDecoder().decode(JSONValue.self, from: Data(dump.stdout.utf8))["command"] ?? .null, "lethe")
        XCTAssertGreaterThan(seen, 100, "the dump was read")
        XCTAssertEqual(missing, [], "options without help")
    }

    /// Piped, progress is one plain line per report; on a terminal (a pty from script(1)) it is a bar redrawn in
    /// place with an ETA.
    func testProgressIsPlainWhenPipedAndLiveOnATerminal() throws {
        let d = try Self.daemonWithModel()
        defer { d.stop() }
        let piped = try Self.run(["model", "train", "--model", "m", "--dataset", "tiny", "--epochs", "3", "--socket", d.socketPath])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let lines = piped.stderr.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("train epoch") }.count, 3, piped.stderr)
        XCTAssertFalse(piped.stderr.contains("\r") || piped.stderr.contains("\u{1B}"), "no terminal control codes when piped")
        let command = "\(Self.lethe.path) model train --model m --dataset tiny --epochs 4 --socket \(d.socketPath)"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", command, "/dev/null"]
        p.environment = ["PATH": "/usr/bin:/bin", "TERM": "xterm"]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("\r\u{1B}[K  train ["), "redrawn in place: \(text.debugDescription)")
        XCTAssertTrue(text.contains("epoch 4/4"), text)
        XCTAssertTrue(text.contains("ETA 0:"), "an ETA while steps remain: \(text.debugDescription)")
    }

    /// Ctrl-C sends $/cancelRequest and waits for the daemon's answer: status 130, nothing changed, no job left.
    func testCtrlCCancelsTheRequestOnTheDaemon() throws {
        let d = try Self.daemonWithModel()
        defer { d.stop() }
        let p = Process()
        p.executableURL = Self.lethe
        p.arguments = ["model", "train", "--model", "m", "--dataset", "tiny", "--epochs", "100000", "--socket", d.socketPath]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for the first progress line, so the job runs on the daemon.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("train epoch") {
            let chunk = err.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            seen += chunk
        }
        kill(p.processIdentifier, SIGINT)
        seen += err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 130, text)
        XCTAssertTrue(text.contains("cancelling") && text.contains("cancelled: model/train was cancelled"), text)
        let c = try d.connect()
        XCTAssertEqual(try c.call("server/status").result?["jobs"], .array([]), "the daemon stopped the job")
        XCTAssertEqual(try c.call("model/info", .object(["model": "m"])).result?["trained"], .bool(false), "and kept the old weights")
    }

    /// No daemon answers: lethe starts the lethed beside it, detached, and the next command finds it.
    func testAutostartStartsLethedOnce() throws {
        let dir = NSTemporaryDirectory() + "lethe-auto-\(UUID().uuidString.prefix(8))"
        let socket = dir + "/lethed.sock"
        let env = ["XDG_STATE_HOME": dir + "/state"]
        defer { try? Self.run(["shutdown", "--socket", socket, "--no-autostart"]); try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.run(["status", "--json", "--socket", socket], environment: env)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("started lethed"), first.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/lethed.log"), "its log beside the socket")
        let second = try Self.run(["status", "--json", "--socket", socket], environment: env)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertFalse(second.stderr.contains("started lethed"), "the running daemon is reused: \(second.stderr)")
        let pid = { (o: Outcome) in try JSONDecoder().decode(JSONValue.self, from: Data(o.stdout.utf8))["pid"] }
        XCTAssertEqual(try pid(first), try pid(second))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/state/lethe/runs.sqlite"), "it uses the default state directory")
    }

    /// `lethe stdio` passes lines through, and a half-closed input still gets its replies.
    func testStdioBridgesLines() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let input = #"{"jsonrpc":"2.0","id":1,"method":"server/status"}"# + "\n" + #"{"jsonrpc":"2.0","id":2,"method":"nope"}"# + "\n"
        let r = try Self.run(["stdio", "--socket", d.socketPath, "--no-autostart"], input: input)
        XCTAssertEqual(r.status, 0, r.stderr)
        let replies = try r.stdout.split(separator: "\n").map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
            .sorted { ($0["id"]?.doubleValue ?? 0) < ($1["id"]?.doubleValue ?? 0) }  // an unknown method is answered at once
        XCTAssertEqual(replies.count, 2, r.stdout)
        XCTAssertEqual(replies.first?["id"], 1)
        XCTAssertNotNil(replies.first?["result"]?["pid"])
        XCTAssertEqual(replies.last?["error"]?["code"], -32601)
    }

    /// Neovim's built-in JSON-RPC client (vim.lsp.rpc, Content-Length framing) drives `lethe stdio`: results, errors
    /// and `$/progress` arrive as an editor sees them. Neovim comes from Debian (`make deps`).
    func testStdioBridgeWithNeovim() throws {
        guard let nvim = ["/usr/bin/nvim", "/usr/local/bin/nvim"].first(where: FileManager.default.isExecutableFile) else {
            if ProcessInfo.processInfo.environment["CI"] != nil { return XCTFail("nvim is missing; `make deps` installs neovim") }
            throw XCTSkip("nvim is not installed (make deps installs it)")
        }
        let d = try DaemonProcess(extraArguments: ["--threads", "1"])
        defer { d.stop() }
        let data = try writeSyntheticIDX(train: 300, test: 100)
        let report = NSTemporaryDirectory() + "lethe-nvim-\(UUID().uuidString.prefix(8)).json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: nvim)
        p.arguments = ["--headless", "-u", "NONE", "-i", "NONE", "-c", "luafile \(Self.root.path)/Tests/editors/nvim_stdio.lua"]
        p.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "LETHE": Self.lethe.path, "LETHE_SOCKET": d.socketPath,
                         "LETHE_DATA": data, "LETHE_REPORT": report]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if p.isRunning { p.terminate() } }
        p.waitUntilExit()
        let seen = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: report)))
        XCTAssertNil(seen["startError"], "\(seen)")
        XCTAssertNotNil(seen["status"]?["result"]?["pid"], "server/status: \(seen)")
        XCTAssertEqual(seen["missing"]?["err"]?["code"], 1, "model/info on a missing model: \(seen)")
        XCTAssertTrue(seen["missing"]?["err"]?["message"]?.stringValue?.contains("no-such-model") ?? false)
        XCTAssertEqual(seen["train"]?["result"]?["epochs"], 3, "model/train: \(seen)")
        guard case .array(let progress)? = seen["progress"] else { return XCTFail("no progress: \(seen)") }
        XCTAssertEqual(progress.compactMap { $0["value"]?["step"]?.doubleValue }, [1, 2, 3], "one $/progress per epoch")
        XCTAssertEqual(progress.first?["token"], "nvim")
        XCTAssertEqual(seen["errors"], .array([]))
    }

    /// `lethe mcp` through the MCP Swift SDK's client: the five tools with the protocol's schemas, results as
    /// structured content, daemon errors as tool errors, progress forwarded, and a cancelled call stopped on the daemon.
    func testMCPServerWithTheSDKClient() async throws {
        let d = try Self.daemonWithModel()
        defer { d.stop() }
        let c = try d.connect()
        XCTAssertNotNil(try c.call("split/create", .object(["name": "s", "dataset": "tiny", "forget": .object(["count": 30]), "seed": 1])).result)
        XCTAssertNotNil(try c.call("model/train", .object(["model": "m", "dataset": "tiny", "epochs": 2])).result)

        let p = Process()
        p.executableURL = Self.lethe
        p.arguments = ["mcp", "--socket", d.socketPath, "--no-autostart"]
        let toServer = Pipe(), fromServer = Pipe()
        p.standardInput = toServer
        p.standardOutput = fromServer
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let transport = StdioTransport(input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
                                       output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor))
        let client = Client(name: "lethe-tests", version: "1")
        let progress = Box<[Double]>()
        progress.value = []
        await client.onNotification(ProgressNotification.self) { message in progress.append(message.params.progress) }
        _ = try await client.connect(transport: transport)

        let tools = try await client.listTools().tools
        XCTAssertEqual(tools.map(\.name), ["server_status", "forget", "evaluate", "attack", "compare"])
        let forget = try XCTUnwrap(tools.first { $0.name == "forget" })
        let schema = try JSONValue(encoding: forget.inputSchema)
        XCTAssertEqual(schema["properties"]?["method"]?["enum"], .array(Forget.methods.map { .string($0) }), "the registry's methods")
        XCTAssertEqual(schema["required"], ["model", "split", "method"])
        XCTAssertNil(schema["properties"]?["workDoneToken"], "progress is MCP's, not a parameter")
        XCTAssertEqual(schema["properties"]?["model"]?["type"], "string", "references are resolved: \(schema)")

        let status = try await client.callTool(name: "server_status", arguments: [:]).value
        XCTAssertEqual(status.isError, false)
        XCTAssertEqual(try status.structuredContent.map { try JSONValue(encoding: $0) }?["models"], ["m"])

        let evaluated = try await client.callTool(name: "evaluate", arguments: ["model": "m", "split": "s"]).value
        XCTAssertEqual(evaluated.isError, false)
        let accuracy = try evaluated.structuredContent.map { try JSONValue(encoding: $0) }?["retain"]?["accuracy"]?.doubleValue
        XCTAssertNotNil(accuracy)
        XCTAssertEqual(try c.call("evaluate", .object(["model": "m", "split": "s"])).result?["retain"]?["accuracy"]?.doubleValue, accuracy,
                       "the same numbers as over the socket")

        let missing = try await client.callTool(name: "forget", arguments: ["model": "nope", "split": "s", "method": "finetune"]).value
        XCTAssertEqual(missing.isError, true)
        guard case .text(let text, _, _)? = missing.content.first else { return XCTFail() }
        XCTAssertTrue(text.contains("no model named 'nope'") && text.contains("error 1"), text)

        let forgot = try await client.callTool(name: "forget", arguments: ["model": "m", "split": "s", "method": "finetune",
                                                                           "hyperparameters": ["epochs": 2], "output": "m-ft"],
                                               meta: .init(progressToken: .string("p1"))).value
        XCTAssertEqual(forgot.isError, false, "\(forgot.content)")
        XCTAssertEqual(progress.value, [1, 2], "each epoch reported as MCP progress")

        // Cancelling a long call stops the daemon's job.
        let long: RequestContext<CallTool.Result> = try await client.callTool(name: "forget", arguments: ["model": "m", "split": "s", "method": "finetune", "output": "m-long",
                                                                   "hyperparameters": ["epochs": 100000]])
        var running = false
        for _ in 0..<200 where !running {
            try await Task.sleep(nanoseconds: 20_000_000)
            if case .array(let jobs)? = try c.call("server/status").result?["jobs"], !jobs.isEmpty { running = true }
        }
        XCTAssertTrue(running, "the forget job started")
        try await client.cancelRequest(long.requestID, reason: "test")
        var stopped = false
        for _ in 0..<250 where !stopped {
            try await Task.sleep(nanoseconds: 20_000_000)
            if try c.call("server/status").result?["jobs"] == .array([]) { stopped = true }
        }
        XCTAssertTrue(stopped, "the MCP cancellation reached the daemon")
        // End of input ends the server (the SDK client's disconnect waits on its reader, so the server goes first).
        try toServer.fileHandleForWriting.close()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "lethe mcp exits cleanly when its input ends")
    }
}

/// A value shared with a notification handler.
final class Box<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T?
    var value: T? {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
    func append<E>(_ element: E) where T == [E] {
        lock.lock(); stored = (stored ?? []) + [element]; lock.unlock()
    }
}
