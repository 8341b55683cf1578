// Bad input over a real socket, in both framings: the right JSON-RPC error, a message naming the problem, and a
// connection (and a daemon) that keeps serving.
import Foundation
import JSONRPC
import LetheProtocol
import XCTest

final class ProtocolTests: XCTestCase {
    static var daemon: DaemonProcess!

    override class func setUp() {
        super.setUp()
        daemon = try! DaemonProcess()
    }

    override class func tearDown() {
        daemon.stop()
        super.tearDown()
    }

    private func assertStillServing(_ c: RawConnection, file: StaticString = #filePath, line: UInt = #line) throws {
        let status = try c.call("server/status")
        XCTAssertEqual(status.result?["version"], "0.1.0", "connection still usable", file: file, line: line)
    }

    func testStatusInBothFramings() throws {
        for framing in [Framing.lines, .contentLength] {
            let c = try Self.daemon.connect(framing)
            let reply = try c.call("server/status")
            XCTAssertEqual(reply["jsonrpc"], "2.0")
            XCTAssertEqual(reply["id"], 1)
            XCTAssertNotNil(reply.result?["uptimeSeconds"]?.doubleValue)
        }
    }

    func testInitializeIsOptionalAndListsMethods() throws {
        let c = try Self.daemon.connect()
        try assertStillServing(c)  // before any initialize
        let r = try c.call("initialize", ["clientInfo": ["name": "e2e"]])
        guard case .array(let methods)? = r.result?["capabilities"]?["methods"] else { return XCTFail("\(r)") }
        XCTAssertTrue(methods.contains("forget") && methods.contains("attack") && methods.contains("$/cancelRequest"))
    }

    func testBadInputInBothFramings() throws {
        for framing in [Framing.lines, .contentLength] {
            let c = try Self.daemon.connect(framing)

            c.sendPayload("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":")  // malformed JSON
            var r = try XCTUnwrap(c.readReply())
            XCTAssertEqual(r.errorCode, -32700, "\(framing)")
            XCTAssertEqual(r["id"], .null)
            try assertStillServing(c)

            r = try c.call("no/such/method")
            XCTAssertEqual(r.errorCode, -32601)
            XCTAssertTrue(r.errorMessage.contains("no/such/method"))

            c.sendPayload(#"{"id":9,"method":"server/status"}"#)  // no "jsonrpc"
            r = try XCTUnwrap(c.readReply())
            XCTAssertEqual(r.errorCode, -32600)
            XCTAssertEqual(r["id"], 9)

            r = try c.call("split/create", ["dataset": "fmnist"])
            XCTAssertEqual(r.errorCode, -32602)
            XCTAssertEqual(r.errorMessage, "missing parameter 'forget'")

            r = try c.call("model/create", ["name": "m", "architecture": ["kind": "mlp"], "dataset": 7])
            XCTAssertEqual(r.errorCode, -32602)
            XCTAssertEqual(r.errorMessage, "parameter 'dataset' must be a string")

            r = try c.call("split/create", ["dataset": "d", "forget": ["fraction": 0.1], "sede": 3])
            XCTAssertEqual(r.errorCode, -32602)
            XCTAssertEqual(r.errorMessage, "unknown parameter 'sede'")

            r = try c.call("split/create", ["dataset": "nope", "forget": ["fraction": 0.1]])
            XCTAssertEqual(r.errorCode, 1)
            XCTAssertTrue(r.errorMessage.contains("'nope'"), r.errorMessage)

            for (method, params, name) in [("evaluate", ["model": "ghost", "split": "s"] as JSONValue, "ghost"),
                                           ("model/train", ["model": "phantom", "dataset": "d"], "phantom"),
                                           ("forget", ["model": "m0", "split": "s", "method": "finetune"], "m0")] {
                r = try c.call(method, params)
                XCTAssertEqual(r.errorCode, 1, method)
                XCTAssertTrue(r.errorMessage.contains("model named '\(name)'"), r.errorMessage)
            }

            r = try c.call("forget", ["model": "m0", "split": "s", "method": "amnesia"])
            XCTAssertEqual(r.errorCode, -32602)
            XCTAssertTrue(r.errorMessage.contains("unknown unlearning method 'amnesia'"), r.errorMessage)

            r = try c.call("dataset/load", ["name": "x", "path": "/nonexistent/dir"])
            XCTAssertEqual(r.errorCode, 1)
            XCTAssertTrue(r.errorMessage.contains("/nonexistent/dir"), r.errorMessage)

            // A batch: replies to its requests, none to its notification.
            c.sendPayload(#"[{"jsonrpc":"2.0","id":"a","method":"server/status"},{"jsonrpc":"2.0","method":"nothing"},{"jsonrpc":"2.0","id":"b","method":"nope"}]"#)
            r = try XCTUnwrap(c.readReply())
            guard case .array(let replies) = r else { return XCTFail("batch reply \(r)") }
            XCTAssertEqual(replies.map { $0["id"] }, ["a", "b"])
            XCTAssertEqual(replies[1].errorCode, -32601)
            try assertStillServing(c)
        }
    }

    func testInvalidDataFileIsInvalidDataAndNothingStaysResident() throws {
        let dir = try writeSyntheticIDX(train: 10, test: 5)
        // Corrupt the test labels: a label outside the 3 classes.
        let path = dir + "/t10k-labels-idx1-ubyte"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 1] = 9
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let c = try Self.daemon.connect()
        let r = try c.call("dataset/load", ["name": "corrupt", "path": .string(dir), "classes": 3])
        XCTAssertEqual(r.errorCode, 3)
        XCTAssertTrue(r.errorMessage.contains("t10k-labels-idx1-ubyte") && r.errorMessage.contains("label 9"), r.errorMessage)
        let status = try c.call("server/status")
        XCTAssertFalse(status.result?["datasets"] == ["corrupt"])
        guard case .array(let names)? = status.result?["datasets"] else { return XCTFail() }
        XCTAssertFalse(names.contains("corrupt"))
    }

    func testOversizeFrameClosesOnlyThatConnection() throws {
        let small = try DaemonProcess(extraArguments: ["--max-frame-bytes", "1000"])
        defer { small.stop() }
        let other = try small.connect()
        let bad = try small.connect(.contentLength)
        bad.sendRaw(Array("Content-Length: 5000\r\n\r\n".utf8))
        let r = try XCTUnwrap(bad.readReply())
        XCTAssertEqual(r.errorCode, -32700)
        XCTAssertTrue(r.errorMessage.contains("exceeds the limit"), r.errorMessage)
        XCTAssertNil(try bad.readReply(), "the unreadable stream is closed")
        try assertStillServing(other)
        try assertStillServing(try small.connect())
    }

    func testShutdownThenExit() throws {
        let d = try DaemonProcess()
        let c = try d.connect()
        XCTAssertEqual(try c.call("shutdown").result, .null)
        let refused = try c.call("server/status")
        XCTAssertEqual(refused.errorCode, 6)
        try c.notify("exit")
        d.process.waitUntilExit()
        XCTAssertEqual(d.process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d.socketPath), "the socket file is removed")
    }

    func testSocketDirectoryIsPrivate() throws {
        let dir = (Self.daemon.socketPath as NSString).deletingLastPathComponent
        let dirMode = try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as! Int
        let sockMode = try FileManager.default.attributesOfItem(atPath: Self.daemon.socketPath)[.posixPermissions] as! Int
        XCTAssertEqual(dirMode & 0o777, 0o700)
        XCTAssertEqual(sockMode & 0o777, 0o600)
    }

    func testSecondDaemonOnALiveSocketRefusesToStart() throws {
        let p = Process()
        p.executableURL = DaemonProcess.binary
        p.arguments = ["--socket", Self.daemon.socketPath, "--state-dir", NSTemporaryDirectory() + "lethe-second-\(UUID().uuidString.prefix(8))"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        try assertStillServing(try Self.daemon.connect())
    }
}

final class OrderingTests: XCTestCase {
    /// A script piped in one go runs in order: each request sees the effects of the ones before it, and exit,
    /// sent as a request, is answered before the daemon exits.
    func testPipedRequestsRunInOrderAndExitReplies() throws {
        let d = try DaemonProcess()
        let dir = try writeSyntheticIDX(train: 60, test: 20)
        let c = try d.connect()
        let script = [
            #"{"jsonrpc":"2.0","id":1,"method":"dataset/load","params":{"name":"d","path":"\#(dir)","classes":3}}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"split/create","params":{"name":"s","dataset":"d","forget":{"count":6}}}"#,
            #"{"jsonrpc":"2.0","id":3,"method":"model/create","params":{"name":"m","architecture":{"kind":"mlp","hidden":[8]},"dataset":"d"}}"#,
            #"{"jsonrpc":"2.0","id":4,"method":"model/train","params":{"model":"m","dataset":"d","epochs":1}}"#,
            #"{"jsonrpc":"2.0","id":5,"method":"attack","params":{"model":"m","split":"s"}}"#,
            #"{"jsonrpc":"2.0","id":6,"method":"shutdown"}"#,
            #"{"jsonrpc":"2.0","id":7,"method":"exit"}"#,
        ].joined(separator: "\n") + "\n"
        c.sendRaw(Array(script.utf8))
        shutdown(c.fd, Int32(SHUT_WR))  // as `echo … | socat` does: the replies must still come
        var replies: [JSONValue] = []
        while let r = try c.readReply() { replies.append(r) }
        XCTAssertEqual(replies.map { $0["id"] }, [1, 2, 3, 4, 5, 6, 7])
        for r in replies { XCTAssertNil(r["error"], "\(r)") }
        XCTAssertEqual(replies[4].result?["kind"], "simple", "attack's kind defaults to simple")
        d.process.waitUntilExit()
        XCTAssertEqual(d.process.terminationStatus, 0)
    }

    func testNumbersAreCheckedForTheFieldsType() throws {
        let d = try DaemonProcess()
        let c = try d.connect()
        XCTAssertEqual(try c.call("model/train", ["model": "m", "dataset": "d", "epochs": 2.5]).errorMessage,
                       "parameter 'epochs': must be an integer, got 2.5")
        XCTAssertEqual(try c.call("split/create", ["dataset": "d", "forget": ["count": 3], "seed": -1]).errorCode, -32602)
        let r = try c.call("model/train", ["model": "m", "dataset": "d", "workDoneToken": ["not": "a token"]])
        XCTAssertEqual(r.errorCode, 1, "checks run in order: the unknown model first")
    }
}

final class PeerCheckTests: XCTestCase {
    /// Even when the socket's permissions are opened up, another user's connection is refused (SO_PEERCRED).
    /// Connecting as another user needs root (setpriv switches to uid 65534). Not root: skipped, saying so. As root
    /// (CI runs as root) the test always runs: a missing tool is a failure, not a skip, so a broken image cannot
    /// quietly turn the check off.
    func testAnotherUsersConnectionIsRefused() throws {
        try XCTSkipUnless(getuid() == 0, "SO_PEERCRED check not exercised: it needs root to connect as another user "
                          + "(uid \(getuid()) here); CI runs the suite as root, where this test runs")
        for tool in ["/usr/bin/setpriv", "/usr/bin/python3"] where !FileManager.default.isExecutableFile(atPath: tool) {
            XCTFail("running as root but \(tool) is missing: the peer-credentials check cannot run (install util-linux / python3)")
            return
        }
        let d = try DaemonProcess()
        defer { d.stop() }
        let dir = (d.socketPath as NSString).deletingLastPathComponent
        chmod(dir, 0o777)
        chmod(d.socketPath, 0o777)
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        let script = """
        import socket, sys
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
        try:  # the daemon may close before or after reading the request: a reset or broken pipe is a refusal too
            s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"server/status"}\\n')
            print(len(s.recv(65536)))
        except (ConnectionResetError, BrokenPipeError):
            print(0)
        """
        client.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, d.socketPath]
        let out = Pipe(), err = Pipe()
        client.standardOutput = out
        client.standardError = err
        try client.run()
        client.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problems = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(client.terminationStatus, 0, "the other user must reach the socket (is \(dir) traversable by uid 65534?): \(problems)")
        XCTAssertEqual(printed.trimmingCharacters(in: .whitespacesAndNewlines), "0", "…but got no reply: the daemon closed it")
        XCTAssertNotNil(try d.connect().call("server/status").result, "its owner is still served")
    }
}

final class DiscoveryTests: XCTestCase {
    /// rpc.discover serves Protocol/lethe.openrpc.json as built, and it lists exactly the methods the daemon answers.
    func testRPCDiscoverServesTheDocumentOfTheMethodsImplemented() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        let served = try XCTUnwrap(c.call("rpc.discover").result)
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/lethe.openrpc.json")
        XCTAssertEqual(served, try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file)))
        guard case .array(let documented)? = served["methods"],
              case .array(let implemented)? = try c.call("initialize").result?["capabilities"]?["methods"] else { return XCTFail() }
        XCTAssertEqual(Set(documented.compactMap { $0["name"]?.stringValue }), Set(implemented.compactMap(\.stringValue)))
    }

    /// The attack kinds are one list: the daemon's registry (initialize), the protocol's `Attack.kinds` (the CLI's
    /// help), and the OpenRPC document's enums for attack's kind param and result.
    func testAttackKindsAreOneList() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        guard case .array(let listed)? = try c.call("initialize").result?["capabilities"]?["attacks"] else { return XCTFail() }
        XCTAssertEqual(listed.compactMap { $0.stringValue }, Attack.kinds, "the registry against Attack.kinds")
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/lethe.openrpc.json")
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: file))
        guard case .array(let methods)? = document["methods"],
              let attack = methods.first(where: { $0["name"]?.stringValue == "attack" }),
              case .array(let params)? = attack["params"],
              case .array(let paramEnum)? = params.first(where: { $0["name"]?.stringValue == "kind" })?["schema"]?["enum"],
              case .array(let resultEnum)? = attack["result"]?["schema"]?["properties"]?["kind"]?["enum"] else { return XCTFail("attack's kind enums") }
        XCTAssertEqual(paramEnum.compactMap { $0.stringValue }, Attack.kinds, "attack's kind param in the OpenRPC document")
        XCTAssertEqual(resultEnum.compactMap { $0.stringValue }, Attack.kinds, "attack's result kind in the OpenRPC document")
    }

    /// --max-connections: one connection more is answered error 5 naming the limit, and closed; the others go on,
    /// and once one closes a new one is served.
    func testConnectionsBeyondTheLimitAreRefusedWithAnError() throws {
        let d = try DaemonProcess(extraArguments: ["--max-connections", "2"])
        defer { d.stop() }
        let a = try d.connect(), b = try d.connect()
        XCTAssertNotNil(try a.call("server/status").result)
        XCTAssertNotNil(try b.call("server/status").result)
        let refused = try d.connect()
        let reply = try XCTUnwrap(try refused.readOneMessage())
        XCTAssertEqual(reply["error"]?["code"], 5)
        XCTAssertTrue(reply["error"]?["message"]?.stringValue?.contains("at most 2") ?? false, "\(reply)")
        XCTAssertNil(try refused.readOneMessage(), "then closed")
        XCTAssertNotNil(try b.call("server/status").result, "the others go on")
        a.disconnect()
        var served = false
        for _ in 0..<50 where !served {
            usleep(20_000)
            let c = try d.connect()
            served = (try? c.call("server/status"))?.result != nil
        }
        XCTAssertTrue(served, "a new connection is served once one closed")
    }

    /// --memory-limit: a model or fleet that would take the resident objects past the limit is refused with error 5
    /// naming the largest resident objects, before any work; freeing one lets the same request through.
    func testTheMemoryLimitRefusesWhatWouldExceedItAndNamesWhatIsResident() throws {
        let d = try DaemonProcess(extraArguments: ["--memory-limit", "1M"])
        defer { d.stop() }
        let c = try d.connect()
        XCTAssertNotNil(try c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]).result)
        XCTAssertNotNil(try c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24]]).result)
        // 64·2048 + 2048 + 2048·3 + 3 = 139,267 parameters: 557 KB each; two do not fit in 1 MiB beside the data.
        let big: JSONValue = ["kind": "mlp", "hidden": [2048]]
        XCTAssertNotNil(try c.call("model/create", ["name": "b1", "architecture": big, "dataset": "d"]).result)
        let refused = try c.call("model/create", ["name": "b2", "architecture": big, "dataset": "d"])
        XCTAssertEqual(refused["error"]?["code"], 5)
        let message = refused["error"]?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("model 'b1'") && message.contains("--memory-limit"), message)
        XCTAssertEqual(try c.call("model/info", ["model": "b2"])["error"]?["code"], 1, "nothing was created")
        XCTAssertNotNil(try c.call("model/delete", ["name": "b1"]).result)
        XCTAssertNotNil(try c.call("model/create", ["name": "b2", "architecture": big, "dataset": "d"]).result, "fits once b1 is gone")
        // A fleet of 1,000 members would keep 1,000 × 144 examples × 3 classes × 4 bytes = 1.7 MB of outputs.
        XCTAssertNotNil(try c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [4]], "dataset": "d"]).result)
        let fleet = try c.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 1000])
        XCTAssertEqual(fleet["error"]?["code"], 5, "\(fleet)")
        guard case .array(let fleets)? = try c.call("fleet/list").result?["fleets"] else { return XCTFail() }
        XCTAssertEqual(fleets.first?["members"], 0, "no member trained")
    }
}
