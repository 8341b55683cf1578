// Claims of the README and Protocol/README.md about jobs, models and the process's life, each checked over a real
// socket: copy-on-write models under concurrent reads, cancelled forgets, the frame limit on lines, exit codes,
// signals, empty batches and the --threads budget.
import Foundation
import JSONRPC
import XCTest

final class LifecycleTests: XCTestCase {
    private func ok(_ reply: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        guard let r = reply.result else { throw HarnessError("expected a result, got \(reply)") }
        return r
    }

    /// Waits for the process to end, killing it (and failing) after `seconds`.
    private func waitForExit(_ d: DaemonProcess, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while d.process.isRunning && Date() < deadline { usleep(10_000) }
        if d.process.isRunning {
            XCTFail("lethed did not exit within \(seconds) s", file: file, line: line)
            kill(d.process.processIdentifier, SIGKILL)
        }
        d.process.waitUntilExit()
    }

    /// Reads everything until the daemon closes the connection. A close with bytes still unread on the daemon's
    /// side shows as a reset on Linux: that is a close too.
    private func readUntilClosed(_ c: RawConnection) -> (messages: [JSONValue], closed: Bool) {
        c.setReceiveTimeout(10)
        var messages: [JSONValue] = []
        while true {
            do {
                guard let m = try c.readReply() else { return (messages, true) }
                messages.append(m)
            } catch {
                return (messages, "\(error)".contains("reset"))
            }
        }
    }

    /// Loads `dir` as dataset "d" with a forget split "s" of 100 examples.
    private func setUpData(_ c: RawConnection, train: Int = 3000, side: Int = 16) throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: train, test: 100, side: side)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 100]]))
    }

    // MARK: - Copy-on-write models

    /// While model/train writes a model, readers on other connections see the model as it was before, or (once
    /// published) as it is after — never weights part-way through training: model/info's fingerprint and evaluate's
    /// metrics (a job running beside the training, one thread each) always equal the before or the after.
    func testReadersSeeTheModelBeforeOrAfterTrainingNeverAMix() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let reader = try d.connect()
        try setUpData(reader)
        _ = try ok(reader.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [256]], "dataset": "d", "seed": 1]))
        func observe() throws -> (fingerprint: JSONValue, metrics: [JSONValue]) {
            let fingerprint = try ok(reader.call("model/info", ["model": "m"]))["fingerprint"]!
            let e = try ok(reader.call("evaluate", ["model": "m", "split": "s", "threads": 1]))
            return (fingerprint, ["retain", "forget", "validation", "test"].map { e[$0]! })
        }
        let before = try observe()

        let writer = try d.connect()
        let trainID = try writer.send("model/train", ["model": "m", "dataset": "d", "epochs": 12, "batchSize": 8, "threads": 1, "workDoneToken": "w"])
        while writer.notifications.isEmpty { _ = try writer.readOneMessage() }  // the first epoch is done: training is under way
        var observations: [(fingerprint: JSONValue, metrics: [JSONValue])] = []
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let o = try observe()
            observations.append(o)
            if o.fingerprint != before.fingerprint { break }
        }
        let trained = try ok(writer.reply(to: trainID))
        let after = try observe()
        XCTAssertEqual(after.fingerprint, trained["fingerprint"], "the trained weights are published")
        XCTAssertNotEqual(after.fingerprint, before.fingerprint)
        XCTAssertNotEqual(after.metrics, before.metrics, "training changed what evaluate reports")
        let whileTraining = observations.filter { $0.fingerprint == before.fingerprint }.count
        XCTAssertGreaterThanOrEqual(whileTraining, 3, "several reads ran while the model trained")
        for (i, o) in observations.enumerated() {
            XCTAssertTrue(o.fingerprint == before.fingerprint || o.fingerprint == after.fingerprint,
                          "read \(i): fingerprint \(o.fingerprint) is neither the model before (\(before.fingerprint)) nor after training")
            XCTAssertTrue(o.metrics == before.metrics || o.metrics == after.metrics, "read \(i): evaluate saw weights part-way through training")
        }
        print("copy-on-write: \(observations.count) reads, \(whileTraining) while training")
    }

    // MARK: - Cancelling forget

    /// A forget cancelled with $/cancelRequest replies -32800 and publishes nothing: its output name does not
    /// exist afterwards (model/info says not found) and is free to use, and the source model is untouched.
    func testCancelledForgetLeavesNoOutputModel() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        try setUpData(c, train: 600, side: 8)
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "d"]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1]))
        let source = try ok(c.call("model/info", ["model": "m"]))["fingerprint"]
        var models: [JSONValue] = ["m"]
        for method in ["retrain", "finetune"] {
            let output = "gone-\(method)"
            let id = try c.send("forget", ["model": "m", "split": "s", "method": .string(method), "output": .string(output),
                                           "hyperparameters": ["epochs": 100_000, "batchSize": 1], "workDoneToken": .string(method)])
            while !c.notifications.contains(where: { $0["params"]?["token"] == .string(method) }) { _ = try c.readOneMessage() }
            // While it runs the name is reserved: another writer is told it is busy.
            XCTAssertEqual(try d.connect().call("forget", ["model": "m", "split": "s", "method": "finetune", "output": .string(output)]).errorCode, 5)
            try c.notify("$/cancelRequest", ["id": id])
            let reply = try c.reply(to: id)
            XCTAssertEqual(reply.errorCode, -32800, "\(reply)")
            let info = try c.call("model/info", ["model": .string(output)])
            XCTAssertEqual(info.errorCode, 1, "the cancelled \(method) left a model named \(output): \(info)")
            let status = try ok(c.call("server/status"))
            XCTAssertEqual(status["models"], .array(models))
            XCTAssertEqual(status["jobs"], [])
            XCTAssertEqual(try ok(c.call("model/info", ["model": "m"]))["fingerprint"], source, "the source is untouched")
            // The name is free again.
            let again = try ok(c.call("forget", ["model": "m", "split": "s", "method": .string(method), "output": .string(output),
                                                 "hyperparameters": ["epochs": 1]]))
            XCTAssertEqual(again["model"], .string(output))
            models = [.string(output)] + models  // sorted: "gone-…" before "m"
        }
    }

    // MARK: - Frame limit in the lines framing

    /// A line over --max-frame-bytes gets -32700 and the connection closes after the replies owed for what was
    /// read before it; a line still arriving past the limit without its newline is refused the same way. Other
    /// connections, and new ones, are served as before.
    func testTooLongLineGetsAnErrorAndClosesOnlyThatConnection() throws {
        let d = try DaemonProcess(extraArguments: ["--max-frame-bytes", "1000"])
        defer { d.stop() }
        let other = try d.connect()
        XCTAssertNotNil(try other.call("server/status").result)

        // A whole line too long, after a request that is still answered. Both lines together stay under 2 KiB, so
        // the daemon reads the long line with its newline at once (the check on complete lines, not on partial ones).
        let bad = try d.connect()
        let longRequest = #"{"jsonrpc":"2.0","id":2,"method":"split/info","params":{"name":""# + String(repeating: "x", count: 1100) + "\"}}\n"
        bad.sendRaw(Array((#"{"jsonrpc":"2.0","id":1,"method":"split/info","params":{"name":"nope"}}"# + "\n" + longRequest).utf8))
        var (messages, closed) = readUntilClosed(bad)
        XCTAssertTrue(closed, "the connection is closed")
        XCTAssertEqual(messages.count, 2, "\(messages)")
        let frameError = messages.first { $0["id"] == .null }
        XCTAssertEqual(frameError?.errorCode, -32700)
        XCTAssertTrue(frameError?.errorMessage.contains("a line longer than 1000 bytes") == true, "\(String(describing: frameError))")
        XCTAssertEqual(messages.first { $0["id"] == 1 }?.errorCode, 1, "the request read before the long line is answered")
        XCTAssertNil(messages.first { $0["id"] == 2 }, "the long line is not run")

        // A line growing past the limit with no newline yet.
        let growing = try d.connect()
        growing.sendRaw(Array((#"{"jsonrpc":"2.0","id":3,"method":"server/status","x":""# + String(repeating: "y", count: 1500)).utf8))
        (messages, closed) = readUntilClosed(growing)
        XCTAssertTrue(closed, "the connection is closed")
        XCTAssertEqual(messages.map(\.errorCode), [-32700])
        XCTAssertTrue(messages.first?.errorMessage.contains("a line longer than 1000 bytes") == true, "\(messages)")

        // A line just under the limit is fine.
        let fits = try d.connect()
        let padded = #"{"jsonrpc":"2.0","id":4,"method":"server/status","params":{}}"#
        fits.sendRaw(Array((String(repeating: " ", count: 990 - padded.utf8.count) + padded + "\n").utf8))
        XCTAssertEqual(try fits.readReply()?["id"], 4)

        XCTAssertNotNil(try other.call("server/status").result, "the other connection is unaffected")
        XCTAssertNotNil(try d.connect().call("server/status").result, "new connections are served")
    }

    // MARK: - Exit codes and signals

    /// `exit` without `shutdown` ends the process with code 1 (LSP); after `shutdown`, with 0. Either way the
    /// socket file is removed, and `exit` sent as a request is answered first.
    func testExitCodeDependsOnShutdown() throws {
        let abrupt = try DaemonProcess()
        let a = try abrupt.connect()
        try a.notify("exit")
        waitForExit(abrupt)
        XCTAssertEqual(abrupt.process.terminationReason, .exit)
        XCTAssertEqual(abrupt.process.terminationStatus, 1, "exit without shutdown")
        XCTAssertFalse(FileManager.default.fileExists(atPath: abrupt.socketPath))

        let asRequest = try DaemonProcess()
        let c = try asRequest.connect()
        let reply = try c.call("exit")
        XCTAssertEqual(reply.result, .null, "exit as a request is answered before the process ends")
        waitForExit(asRequest)
        XCTAssertEqual(asRequest.process.terminationStatus, 1, "exit without shutdown, as a request")

        let orderly = try DaemonProcess()
        let o = try orderly.connect()
        XCTAssertEqual(try o.call("shutdown").result, .null)
        XCTAssertEqual(try o.call("exit").result, .null)
        waitForExit(orderly)
        XCTAssertEqual(orderly.process.terminationReason, .exit)
        XCTAssertEqual(orderly.process.terminationStatus, 0, "exit after shutdown")
        XCTAssertFalse(FileManager.default.fileExists(atPath: orderly.socketPath))
    }

    /// SIGTERM and SIGINT end lethed with code 0 (not death by the signal) and remove its socket file, even while
    /// a job is running.
    func testSignalsExitZeroAndRemoveTheSocket() throws {
        for sig in [SIGTERM, SIGINT] {
            let d = try DaemonProcess()
            let c = try d.connect()
            try setUpData(c, train: 600, side: 8)
            _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "d"]))
            try c.send("model/train", ["model": "m", "dataset": "d", "epochs": 100_000, "workDoneToken": "t"])
            while c.notifications.isEmpty { _ = try c.readOneMessage() }
            XCTAssertTrue(FileManager.default.fileExists(atPath: d.socketPath))
            kill(d.process.processIdentifier, sig)
            waitForExit(d)
            XCTAssertEqual(d.process.terminationReason, .exit, "signal \(sig) is handled, not fatal")
            XCTAssertEqual(d.process.terminationStatus, 0, "signal \(sig)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: d.socketPath), "signal \(sig): the socket file is removed")
        }
    }

    // MARK: - Batches

    /// An empty batch is not a request: -32600 "an empty batch" with id null, in both framings, and the
    /// connection goes on serving.
    func testEmptyBatchIsAnInvalidRequest() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        for framing in [Framing.lines, .contentLength] {
            let c = try d.connect(framing)
            c.setReceiveTimeout(10)
            for payload in ["[]", " [ ] "] {
                c.sendPayload(payload)
                let r = try XCTUnwrap(c.readReply())
                XCTAssertEqual(r.errorCode, -32600, "\(framing) \(payload): \(r)")
                XCTAssertEqual(r["id"], .null)
                XCTAssertEqual(r.errorMessage, "an empty batch")
            }
            XCTAssertEqual(try c.call("server/status").result?["version"], "0.1.0", "the connection still serves")
        }
    }

    // MARK: - The --threads budget

    /// With `--threads 1`, a second job waits for the first one's thread instead of running beside it: it is
    /// listed by server/status (as documented, a waiting job is listed) but sends no progress and no reply until
    /// the first job ends, and then it runs to the end.
    func testThreadBudgetMakesJobsWait() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "1"])
        defer { d.stop() }
        let setup = try d.connect()
        try setUpData(setup, train: 600, side: 8)
        for name in ["long", "short"] {
            _ = try ok(setup.call("model/create", ["name": .string(name), "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "d"]))
        }
        let first = try d.connect()
        let longID = try first.send("model/train", ["model": "long", "dataset": "d", "epochs": 100_000, "batchSize": 4, "threads": 1, "workDoneToken": "long"])
        while first.notifications.isEmpty { _ = try first.readOneMessage() }

        let second = try d.connect()
        // Alone, this takes a few milliseconds.
        let shortID = try second.send("model/train", ["model": "short", "dataset": "d", "epochs": 1, "threads": 1, "workDoneToken": "short"])
        var listed = false
        for _ in 0..<100 where !listed {
            listed = try ok(setup.call("server/status"))["jobs"]!.arrayValue.contains { $0["target"] == "short" }
            if !listed { usleep(10_000) }
        }
        XCTAssertTrue(listed, "the waiting job is listed")
        XCTAssertFalse(second.hasIncomingData(within: 2), "the second job must wait for the first one's thread")

        try first.notify("$/cancelRequest", ["id": longID])
        XCTAssertEqual(try first.reply(to: longID).errorCode, -32800)
        let short = try ok(second.reply(to: shortID))
        XCTAssertEqual(short["epochs"], 1)
        XCTAssertEqual(second.notifications.count, 1, "its progress came once it ran")
        XCTAssertEqual(try ok(setup.call("server/status"))["jobs"], [])
    }
}
