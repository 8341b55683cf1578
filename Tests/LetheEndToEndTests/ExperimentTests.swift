// A whole experiment over a real socket, and the daemon staying responsive while jobs run.
import Foundation
import JSONRPC
import XCTest

final class ExperimentTests: XCTestCase {
    var daemon: DaemonProcess!

    override func setUpWithError() throws { daemon = try DaemonProcess() }
    override func tearDown() { daemon.stop() }

    private func ok(_ reply: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        guard let r = reply.result else { throw HarnessError("expected a result, got \(reply)") }
        return r
    }

    /// Loads a synthetic dataset, trains, forgets with both methods, evaluates and attacks.
    func testWholeExperimentOnSyntheticData() throws {
        let dir = try writeSyntheticIDX(train: 600, test: 200)
        let c = try daemon.connect(.contentLength)
        let loaded = try ok(c.call("dataset/load", ["name": "syn", "path": .string(dir), "classes": 3]))
        XCTAssertEqual(loaded["trainCount"], 600)
        XCTAssertEqual(loaded["exampleShape"], [1, 8, 8])
        let split = try ok(c.call("split/create", ["name": "s", "dataset": "syn", "forget": ["fraction": 0.1], "seed": 1]))
        XCTAssertEqual(split["forget"], 60)
        XCTAssertEqual(split["validation"], 100)
        let created = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "syn"]))
        XCTAssertEqual(created["parameterCount"], .number(Double(64 * 32 + 32 + 32 * 3 + 3)))
        let trained = try ok(c.call("model/train", ["model": "m", "dataset": "syn", "epochs": 3, "batchSize": 32, "workDoneToken": "tok"]))
        XCTAssertEqual(trained["epochs"], 3)
        XCTAssertGreaterThan(trained["accuracy"]!.number, 0.8)
        let progress = c.notifications.filter { $0["method"] == "$/progress" }
        XCTAssertEqual(progress.count, 3, "one $/progress per epoch")
        XCTAssertEqual(progress.last?["params"]?["token"], "tok")
        XCTAssertEqual(progress.last?["params"]?["value"]?["epoch"], 3)

        let before = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        for method in ["finetune", "retrain"] {
            let f = try ok(c.call("forget", ["model": "m", "split": "s", "method": .string(method), "hyperparameters": ["epochs": 2]]))
            XCTAssertEqual(f["model"], .string("m-\(method)"))
            XCTAssertEqual(f["hyperparameters"]?["epochs"], 2)
            let e = try ok(c.call("evaluate", ["model": .string("m-\(method)"), "split": "s"]))
            for part in ["retain", "forget", "validation", "test"] {
                let acc = e[part]!["accuracy"]!.number
                XCTAssertTrue(acc >= 0 && acc <= 1, "\(method) \(part) accuracy \(acc)")
            }
            XCTAssertEqual(e["unlearningAccuracy"]!.number, 1 - e["forget"]!["accuracy"]!.number, accuracy: 1e-12)
            let a = try ok(c.call("attack", ["model": .string("m-\(method)"), "split": "s", "kind": "simple"]))
            XCTAssertEqual(a["members"], 60, "forget cut to the test size (100) keeps all 60")
            XCTAssertEqual(a["nonMembers"], 100)
            XCTAssertTrue((0...1).contains(a["score"]!.number))
        }
        // forget never touches its source.
        XCTAssertEqual(try ok(c.call("evaluate", ["model": "m", "split": "s"]))["forget"], before["forget"])
        // An existing output name is refused.
        let again = try c.call("forget", ["model": "m", "split": "s", "method": "finetune"])
        XCTAssertEqual(again.errorCode, 2)
        let unknownHyper = try c.call("forget", ["model": "m", "split": "s", "method": "finetune", "output": "x", "hyperparameters": ["epoch": 1]])
        XCTAssertEqual(unknownHyper.errorCode, -32602)
        XCTAssertTrue(unknownHyper.errorMessage.contains("'epoch'"))
        let status = try ok(c.call("server/status"))
        XCTAssertEqual(status["models"], ["m", "m-finetune", "m-retrain"])
    }

    /// While one client trains a model, other clients and the same connection get answers, and a cancelled
    /// training job replies -32800 and leaves the model as it was.
    func testStatusAnswersWhileTrainingAndCancellationLeavesTheModelUntouched() throws {
        let dir = try writeSyntheticIDX(train: 3000, test: 100, side: 16)
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "big", "path": .string(dir), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "big", "forget": ["count": 100]]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [512, 512]], "dataset": "big"]))
        let before = try ok(c.call("evaluate", ["model": "m", "split": "s"]))

        let trainID = try c.send("model/train", ["model": "m", "dataset": "big", "epochs": 10000, "batchSize": 8])
        // The job shows up in server/status, asked on another connection and on this one.
        let other = try daemon.connect(.contentLength)
        var listed = false
        for _ in 0..<200 {
            let status = try ok(other.call("server/status"))
            if case .array(let jobs)? = status["jobs"], jobs.contains(where: { $0["method"] == "model/train" }) { listed = true; break }
            usleep(20_000)
        }
        XCTAssertTrue(listed, "the running job is listed")
        let sameConnection = try c.call("server/status")
        XCTAssertNotNil(sameConnection.result, "the training connection itself still answers")
        // A second writer of the same model is told it is busy.
        let busy = try other.call("model/train", ["model": "m", "dataset": "big", "epochs": 1])
        XCTAssertEqual(busy.errorCode, 5)

        try c.notify("$/cancelRequest", ["id": trainID])
        let cancelled = try c.reply(to: trainID)
        XCTAssertEqual(cancelled.errorCode, -32800)
        let after = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertEqual(after["forget"], before["forget"], "a cancelled job changes nothing")
        XCTAssertEqual(after["test"], before["test"])
        let status = try ok(c.call("server/status"))
        XCTAssertEqual(status["jobs"], [])
    }

    /// The same request with the same seed gives the same bits.
    func testTrainingIsDeterministicAcrossModels() throws {
        let dir = try writeSyntheticIDX(train: 300, test: 60)
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(dir), "classes": 3]))
        var fingerprints: [JSONValue] = []
        for name in ["a", "b"] {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 4]))
            fingerprints.append(try ok(c.call("model/train", ["model": .string(name), "dataset": "d", "epochs": 2, "seed": 9]))["fingerprint"]!)
        }
        XCTAssertEqual(fingerprints[0], fingerprints[1])
    }

    func testModelThatDoesNotFitTheDatasetIsAShapeMismatch() throws {
        let small = try writeSyntheticIDX(train: 30, test: 9, side: 4)
        let large = try writeSyntheticIDX(train: 30, test: 9, side: 6)
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "small", "path": .string(small), "classes": 3]))
        _ = try ok(c.call("dataset/load", ["name": "large", "path": .string(large), "classes": 3]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp"], "dataset": "small"]))
        let r = try c.call("model/train", ["model": "m", "dataset": "large"])
        XCTAssertEqual(r.errorCode, 4)
        XCTAssertTrue(r.errorMessage.contains("[1, 4, 4]") && r.errorMessage.contains("[1, 6, 6]"), r.errorMessage)
    }

    func testFashionMNISTDefaultLoadsWithNoParams() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist"), "dataset-fashion-mnist not installed")
        let r = try ok(daemon.connect().call("dataset/load"))
        XCTAssertEqual(r["name"], "fashion-mnist")
        XCTAssertEqual(r["trainCount"], 60000)
        XCTAssertEqual(r["testCount"], 10000)
        XCTAssertEqual(r["classCount"], 10)
    }
}
