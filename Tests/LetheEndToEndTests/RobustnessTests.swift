// Inputs that once crashed the daemon or silently did the wrong thing: each gets a clear error now, and the
// daemon keeps serving.
import Foundation
import JSONRPC
import XCTest

final class RobustnessTests: XCTestCase {
    var daemon: DaemonProcess!
    var c: RawConnection!

    override func setUpWithError() throws {
        daemon = try DaemonProcess()
        c = try daemon.connect()
        let dir = try writeSyntheticIDX(train: 90, test: 30)
        XCTAssertNotNil(try c.call("dataset/load", ["name": "d", "path": .string(dir), "classes": 3]).result)
        XCTAssertNotNil(try c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 9]]).result)
        XCTAssertNotNil(try c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [8]], "dataset": "d"]).result)
    }

    override func tearDown() { daemon.stop() }

    private func assertError(_ method: String, _ params: JSONValue, code: Int, containing text: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try c.call(method, params)
        XCTAssertEqual(r.errorCode, code, "\(r)", file: file, line: line)
        XCTAssertTrue(r.errorMessage.contains(text), r.errorMessage, file: file, line: line)
    }

    func testHugeModelIsRefusedNotAllocated() throws {
        try assertError("model/create", ["name": "big", "architecture": ["kind": "mlp", "hidden": [1_000_000_000_000]], "dataset": "d"],
                        code: 4, containing: "the limit is")
        XCTAssertNotNil(try c.call("server/status").result)
    }

    func testUnknownFieldsInsideListItemsAreRejected() throws {
        let layers: JSONValue = [["type": "flatten"], ["type": "linear", "out": 3, "outt": 4]]
        let architecture: JSONValue = ["kind": "layers", "layers": layers]
        try assertError("model/create", ["name": "x", "architecture": architecture, "dataset": "d"], code: -32602,
                        containing: "'architecture.layers[1].outt'")
    }

    func testLinearWithoutBias() throws {
        let layers: JSONValue = [["type": "flatten"], ["type": "linear", "out": 3, "bias": false]]
        let architecture: JSONValue = ["kind": "layers", "layers": layers]
        let r = try c.call("model/create", ["name": "nobias", "architecture": architecture, "dataset": "d"])
        XCTAssertEqual(r.result?["parameterCount"], 192)
        let info = try c.call("model/info", ["model": "nobias"])
        guard case .array(let rows)? = info.result?["layers"] else { return XCTFail("\(info)") }
        XCTAssertEqual(rows[1]["parameters"], 192)
        XCTAssertEqual(rows[1]["flops"], 384)
    }

    func testOverflowingTrainingOptionsAreErrors() throws {
        try assertError("model/train", ["model": "m", "dataset": "d", "weightDecay": 1e300], code: -32602, containing: "weightDecay")
        try assertError("model/train", ["model": "m", "dataset": "d", "lr": 1e30], code: -32602, containing: "lr")
        try assertError("forget", ["model": "m", "split": "s", "method": "finetune", "hyperparameters": ["epochs": 1.4]],
                        code: -32602, containing: "whole number")
        try assertError("forget", ["model": "m", "split": "s", "method": "finetune", "hyperparameters": ["epochs": 1e8]],
                        code: -32602, containing: "epochs")
    }

    /// A split keeps the data it was drawn from: reloading its dataset smaller cannot make its indices dangle.
    func testReloadingADatasetSmallerKeepsOldSplitsValid() throws {
        let small = try writeSyntheticIDX(train: 12, test: 6)
        XCTAssertNotNil(try c.call("dataset/load", ["name": "d", "path": .string(small), "classes": 3]).result)
        let e = try c.call("evaluate", ["model": "m", "split": "s"])
        XCTAssertEqual(e.result?["forget"]?["count"], 9, "evaluated on the data the split was drawn from")
        try assertError("model/train", ["model": "m", "dataset": "d", "split": "s", "subset": "retain"], code: -32602,
                        containing: "earlier load")
    }

    /// A client that disconnects mid-job: the next progress notification cannot be written, the job is cancelled,
    /// and the model keeps its previous weights.
    func testDisconnectingCancelsTheJob() throws {
        let before = try c.call("model/info", ["model": "m"]).result?["fingerprint"]
        let leaving = try daemon.connect()
        try leaving.send("model/train", ["model": "m", "dataset": "d", "epochs": 100_000, "batchSize": 1, "workDoneToken": 1])
        // Wait for the first $/progress: the job is running.
        while leaving.notifications.isEmpty { _ = try leaving.readOneMessage() }
        leaving.disconnect()
        var running = true
        for _ in 0..<300 where running {
            usleep(20_000)
            guard case .array(let jobs)? = try c.call("server/status").result?["jobs"] else { return XCTFail() }
            running = !jobs.isEmpty
        }
        XCTAssertFalse(running, "the job stops once its client is gone")
        XCTAssertEqual(try c.call("model/info", ["model": "m"]).result?["fingerprint"], before)
    }
}

final class CrashSafetyTests: XCTestCase {
    /// A daemon killed mid-save leaves a whole file: the path holds exactly the old model or exactly the new one,
    /// told apart by fingerprint (the two differ), never a torn mix. Most kills are aimed inside the write (once
    /// the temporary file exists), and the test asserts that some really landed there — a leftover temporary file
    /// proves it — so it cannot pass by killing only before or after the save.
    func testKillDuringSaveLeavesAWholeFile() throws {
        let dir = try writeSyntheticIDX(train: 30, test: 9, side: 32)
        let folder = NSTemporaryDirectory() + "lethe-crash-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.safetensors"
        func temporaries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") } }
        var keptOld = 0, keptNew = 0, killedMidWrite = 0
        for attempt in 0..<5 {
            let d = try DaemonProcess()
            let c = try d.connect()
            XCTAssertNotNil(try c.call("dataset/load", ["name": "d", "path": .string(dir), "classes": 3]).result)
            var fingerprints: [String: JSONValue] = [:]
            for (name, seed) in [("old", 1), ("new", 2)] {
                XCTAssertNotNil(try c.call("model/create", ["name": .string(name), "architecture": ["kind": "resnet18", "cifarStem": true],
                                                            "dataset": "d", "seed": .number(Double(seed))]).result)
                fingerprints[name] = try c.call("model/info", ["model": .string(name)]).result?["fingerprint"]
            }
            let oldPrint = try XCTUnwrap(fingerprints["old"]), newPrint = try XCTUnwrap(fingerprints["new"])
            XCTAssertNotEqual(oldPrint, newPrint, "two different models, so a torn file cannot pass for either")
            XCTAssertNotNil(try c.call("model/save", ["model": "old", "path": .string(path)]).result)
            let oldBytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try c.send("model/save", ["model": "new", "path": .string(path)])
            if attempt < 4 {
                // Wait for the temporary file to appear, then kill at a different point of the write each time.
                let deadline = Date().addingTimeInterval(20)
                while try temporaries().isEmpty && Date() < deadline { usleep(200) }
                usleep(UInt32(attempt * 4_000))
            } else {
                _ = try c.readReply()  // the save finished: the new file is whole
            }
            kill(d.process.processIdentifier, SIGKILL)
            d.process.waitUntilExit()
            let leftovers = try temporaries()
            if !leftovers.isEmpty { killedMidWrite += 1 }
            let check = try DaemonProcess()
            let checker = try check.connect()
            let loaded = try checker.call("model/load", ["name": "m", "path": .string(path)])
            XCTAssertNotNil(loaded.result, "attempt \(attempt): the file at the path loads: \(loaded)")
            let found = try checker.call("model/info", ["model": "m"]).result?["fingerprint"]
            check.stop()
            if found == oldPrint {
                keptOld += 1
                XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), oldBytes, "attempt \(attempt): the old file, byte for byte")
            } else {
                XCTAssertEqual(found, newPrint, "attempt \(attempt): the file is neither the old model nor the new one")
                keptNew += 1
            }
            for leftover in leftovers { try FileManager.default.removeItem(atPath: folder + "/" + leftover) }
        }
        print("kill during save: \(killedMidWrite) kills inside the write, old file kept \(keptOld), new file whole \(keptNew)")
        XCTAssertGreaterThan(killedMidWrite, 0, "no kill landed inside a write, so nothing was tested")
        XCTAssertGreaterThan(keptOld, 0)
        XCTAssertGreaterThan(keptNew, 0)
    }
}
