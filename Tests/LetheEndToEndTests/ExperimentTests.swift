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

    /// evaluate on every part of `split`, with each part's size, accuracy and UA checked against model/predict on
    /// the same part (a different request, handler and inference call); given the part's labels, also the accuracy
    /// and mean cross-entropy recomputed here from the logits predict returns.
    private func evaluation(_ c: RawConnection, model: String, split: String, counts: [String: Int], labels: [String: [Int]] = [:],
                            file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        let e = try ok(c.call("evaluate", ["model": .string(model), "split": .string(split)]))
        for (part, count) in counts {
            let p = try ok(c.call("model/predict", ["model": .string(model), "split": .string(split), "subset": .string(part)]))
            XCTAssertEqual(e[part]?["count"], .number(Double(count)), "\(model) \(part)", file: file, line: line)
            XCTAssertEqual(p["count"], .number(Double(count)), "\(model) \(part)", file: file, line: line)
            XCTAssertEqual(e[part]!["accuracy"]!.number, p["accuracy"]!.number, accuracy: 1e-12, "\(model) \(part)", file: file, line: line)
            if let labels = labels[part] {
                let m = Self.metrics(logits: p["values"]!, labels: labels)
                XCTAssertEqual(e[part]!["accuracy"]!.number, m.accuracy, accuracy: 1e-12, "\(model) \(part)", file: file, line: line)
                XCTAssertEqual(e[part]!["loss"]!.number, m.loss, accuracy: 1e-5, "\(model) \(part)", file: file, line: line)
            }
        }
        XCTAssertEqual(e["unlearningAccuracy"]!.number, 1 - e["forget"]!["accuracy"]!.number, accuracy: 1e-12, file: file, line: line)
        return e
    }

    /// Accuracy and mean cross-entropy of rows of logits against labels.
    private static func metrics(logits: JSONValue, labels: [Int]) -> (accuracy: Double, loss: Double) {
        let rows = logits.arrayValue.map { $0.arrayValue.map(\.number) }
        XCTAssertEqual(rows.count, labels.count)
        var correct = 0, loss = 0.0
        for (row, label) in zip(rows, labels) {
            if row.indices.max(by: { row[$0] < row[$1] }) == label { correct += 1 }
            let top = row.max()!
            loss += top + log(row.reduce(0) { $0 + exp($1 - top) }) - row[label]
        }
        return (Double(correct) / Double(labels.count), loss / Double(labels.count))
    }

    /// Accuracy and mean cross-entropy of `model` on rows of a part of the synthetic data (label = index mod 3),
    /// computed here from the logits model/predict returns.
    private func metrics(_ c: RawConnection, model: String, part: String, indices: [Int]) throws -> (accuracy: Double, loss: Double) {
        let p = try ok(c.call("model/predict", ["model": .string(model), "dataset": "syn", "part": .string(part),
                                                "indices": .array(indices.map { .number(Double($0)) })]))
        return Self.metrics(logits: p["values"]!, labels: indices.map { $0 % 3 })
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

        let counts = ["retain": 540, "forget": 60, "validation": 100, "test": 100]
        let before = try evaluation(c, model: "m", split: "s", counts: counts)
        // The trained model is right on every example of every part (so its predictions are the parts' labels, in
        // the order predict returns them); an untrained one has losses that tell the parts apart, so a metric
        // computed on the wrong rows shows.
        var labels: [String: [Int]] = [:]
        for part in counts.keys {
            let p = try ok(c.call("model/predict", ["model": "m", "split": "s", "subset": .string(part)]))
            XCTAssertEqual(p["accuracy"], 1, "the trained model is right on all of \(part)")
            labels[part] = p["predictions"]!.arrayValue.map { Int($0.number) }
        }
        _ = try ok(c.call("model/create", ["name": "u", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "syn", "seed": 5]))
        _ = try evaluation(c, model: "u", split: "s", counts: counts, labels: labels)
        for method in ["finetune", "retrain"] {
            let f = try ok(c.call("forget", ["model": "m", "split": "s", "method": .string(method), "hyperparameters": ["epochs": 2]]))
            XCTAssertEqual(f["model"], .string("m-\(method)"))
            XCTAssertEqual(f["hyperparameters"]?["epochs"], 2)
            XCTAssertNotEqual(f["fingerprint"], trained["fingerprint"], "\(method) made new weights")
            _ = try evaluation(c, model: "m-\(method)", split: "s", counts: counts, labels: labels)
            let a = try ok(c.call("attack", ["model": .string("m-\(method)"), "split": "s", "kind": "simple"]))
            XCTAssertEqual(a["members"], 60, "all 60 forget examples")
            XCTAssertEqual(a["nonMembers"], 60, "balanced by default: the 100 test examples sampled down to 60")
            let folds = a["folds"]!.arrayValue.map(\.number)
            XCTAssertEqual(folds.count, 10, "StratifiedShuffleSplit(n_splits=10)")
            XCTAssertEqual(a["score"]!.number, folds.reduce(0, +) / 10, accuracy: 1e-12, "the score is the folds' mean")
        }
        XCTAssertNotEqual(try ok(c.call("model/info", ["model": "m-finetune"]))["fingerprint"],
                          try ok(c.call("model/info", ["model": "m-retrain"]))["fingerprint"])

        // Forgetting a whole class tells the methods apart: the retrained model never saw class 2, so it cannot
        // name it; the original, and the briefly fine-tuned original, still can.
        _ = try ok(c.call("split/create", ["name": "cls", "dataset": "syn", "forget": ["classes": [2]], "seed": 1]))
        let classCounts = ["retain": 400, "forget": 200, "validation": 100, "test": 100]
        let original = try evaluation(c, model: "m", split: "cls", counts: classCounts)
        for method in ["finetune", "retrain"] {
            _ = try ok(c.call("forget", ["model": "m", "split": "cls", "method": .string(method), "output": .string("cls-\(method)"),
                                         "hyperparameters": ["epochs": 2]]))
        }
        let finetuned = try evaluation(c, model: "cls-finetune", split: "cls", counts: classCounts)
        let retrained = try evaluation(c, model: "cls-retrain", split: "cls", counts: classCounts)
        func acc(_ e: JSONValue, _ part: String) -> Double { e[part]!["accuracy"]!.number }
        print("class 2 forgotten: forget accuracy original \(acc(original, "forget")), finetune \(acc(finetuned, "forget")), "
              + "retrain \(acc(retrained, "forget")); retrain retain \(acc(retrained, "retain"))")
        XCTAssertGreaterThan(acc(original, "forget"), 0.8, "the original knows class 2")
        XCTAssertGreaterThan(acc(finetuned, "forget"), 0.5, "two epochs of fine-tuning at lr 0.01 do not erase class 2")
        XCTAssertLessThan(acc(retrained, "forget"), 0.05, "a model trained on the retain set alone never predicts class 2")
        XCTAssertGreaterThan(retrained["unlearningAccuracy"]!.number, 0.95)
        XCTAssertGreaterThan(acc(retrained, "retain"), 0.8, "…yet it learned the classes it saw")
        XCTAssertGreaterThan(retrained["forget"]!["loss"]!.number, original["forget"]!["loss"]!.number + 1)
        let classAttack = try ok(c.call("attack", ["model": "cls-retrain", "split": "cls"]))
        XCTAssertEqual(classAttack["members"], 100, "200 forget examples cut to the test set's 100")
        XCTAssertEqual(classAttack["nonMembers"], 100)

        // The metrics' definitions, recomputed here from raw logits: a split whose forget indices are known.
        let forgetIndices = Array(stride(from: 0, to: 600, by: 10))
        let retainIndices = (0..<600).filter { $0 % 10 != 0 }
        _ = try ok(c.call("split/create", ["name": "k", "dataset": "syn", "forget": ["indices": .array(forgetIndices.map { .number(Double($0)) })]]))
        for model in ["u", "cls-retrain"] {  // losses near 1 (untrained) and far above (class 2 never seen)
            let e = try ok(c.call("evaluate", ["model": .string(model), "split": "k"]))
            let forgetSet = try metrics(c, model: model, part: "train", indices: forgetIndices)
            XCTAssertEqual(e["forget"]!["accuracy"]!.number, forgetSet.accuracy, accuracy: 1e-12, model)
            XCTAssertEqual(e["forget"]!["loss"]!.number, forgetSet.loss, accuracy: 1e-5, model)
            XCTAssertEqual(e["unlearningAccuracy"]!.number, 1 - forgetSet.accuracy, accuracy: 1e-12)
            let retainSet = try metrics(c, model: model, part: "train", indices: retainIndices)
            XCTAssertEqual(e["retain"]!["accuracy"]!.number, retainSet.accuracy, accuracy: 1e-12, model)
            XCTAssertEqual(e["retain"]!["loss"]!.number, retainSet.loss, accuracy: 1e-5, model)
            // Validation and test are the test part's two halves.
            let testPart = try metrics(c, model: model, part: "test", indices: Array(0..<200))
            let v = e["validation"]!, t = e["test"]!
            XCTAssertEqual(v["count"]!.number + t["count"]!.number, 200)
            XCTAssertEqual((v["accuracy"]!.number * v["count"]!.number + t["accuracy"]!.number * t["count"]!.number) / 200,
                           testPart.accuracy, accuracy: 1e-12, model)
            XCTAssertEqual((v["loss"]!.number * v["count"]!.number + t["loss"]!.number * t["count"]!.number) / 200,
                           testPart.loss, accuracy: 1e-5, model)
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
        XCTAssertEqual(status["models"], ["cls-finetune", "cls-retrain", "m", "m-finetune", "m-retrain", "u"])
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
