// attack's kinds and the fleets they read, over the socket: fleet members are bit for bit the models `forget`
// makes with the same method and seed; a second request reuses what exists; LiRA ranks planted memorised members
// above non-members on the original and not on a retrained model; every kind returns the one result shape; bad
// requests are refused before anything trains; deletes free fleets.
import Foundation
import JSONRPC
import XCTest

final class AttackTests: XCTestCase {
    private func ok(_ r: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try XCTUnwrap(r.result, "\(r)", file: file, line: line)
    }

    private func errorCode(_ r: JSONValue) -> Int? { r["error"]?["code"]?.doubleValue.map { Int($0) } }

    private func setUp(_ c: RawConnection) throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 2, "batchSize": 16, "lr": 0.05]))
    }

    /// Retrained and unlearned members are the models forget makes with the same method and seed (by fingerprint);
    /// asking for more members trains only the missing ones.
    func testFleetMembersAreTheModelsForgetMakesAndAreReused() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        let retrained = try ok(c.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 2, "seed": 5, "keepWeights": true]))
        XCTAssertEqual(retrained["trained"], 2)
        XCTAssertEqual(retrained["fleet"]?["seeds"], [5, 6])
        let unlearned = try ok(c.call("fleet/train", ["kind": "unlearned", "model": "m", "split": "s", "count": 2, "seed": 5, "keepWeights": true,
                                                      "method": "finetune", "hyperparameters": ["epochs": 1]]))
        for (fleet, method, h) in [(retrained, "retrain", [:]), (unlearned, "finetune", ["epochs": 1])] as [(JSONValue, String, [String: JSONValue])] {
            guard case .array(let fingerprints)? = fleet["fleet"]?["fingerprints"] else { return XCTFail("\(fleet)") }
            for (i, seed) in [5, 6].enumerated() {
                let f = try ok(c.call("forget", ["model": "m", "split": "s", "method": .string(method), "seed": .number(Double(seed)), "threads": 1,
                                                 "output": .string("\(method)-\(seed)"), "hyperparameters": .object(h)]))
                XCTAssertEqual(f["fingerprint"], fingerprints[i], "\(method) seed \(seed)")
            }
        }
        let more = try ok(c.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 3, "seed": 5, "keepWeights": true]))
        XCTAssertEqual(more["trained"], 1)
        XCTAssertEqual(more["reused"], 2)
        XCTAssertEqual(more["fleet"]?["id"], retrained["fleet"]?["id"], "one fleet")
        // Different hyperparameters are a different fleet.
        let other = try ok(c.call("fleet/train", ["kind": "unlearned", "model": "m", "split": "s", "count": 2, "seed": 5,
                                                  "method": "finetune", "hyperparameters": ["epochs": 2]]))
        XCTAssertNotEqual(other["fleet"]?["id"], unlearned["fleet"]?["id"])
        XCTAssertEqual(other["trained"], 2)

        let status = try ok(c.call("server/status"))
        guard case .array(let resident)? = status["resident"] else { return XCTFail("\(status)") }
        let fleetBytes = resident.filter { $0["kind"]?.stringValue == "fleet" }.compactMap { $0["bytes"]?.number }
        XCTAssertEqual(fleetBytes.count, 3)
        XCTAssertTrue(fleetBytes.allSatisfy { $0 > 0 })
        // Deleting the model removes the fleets built from its weights.
        let deleted = try ok(c.call("model/delete", ["name": "m"]))
        guard case .array(let gone)? = deleted["fleets"] else { return XCTFail("\(deleted)") }
        XCTAssertEqual(gone.count, 3)
        XCTAssertEqual(try ok(c.call("fleet/list"))["fleets"], [])
        XCTAssertEqual(errorCode(try c.call("model/info", ["model": "m"])), 1)
    }

    /// A planted memorisation: the forget set is 30 training examples with wrong labels, which the original fits
    /// and a model that never saw them cannot. LiRA (online and offline) ranks them above the test examples on the
    /// original, and much less so on retrain; RMIA too. The second attack reuses the shadow fleet.
    func testLiRARanksPlantedMemorisedMembersAboveNonMembers() throws {
        let side = 6, classes = 3
        var state: UInt64 = 99
        func noise() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 59) }  // 0..<32
        func examples(_ n: Int) -> (pixels: [UInt8], labels: [UInt8]) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let label = i % classes
                labels.append(UInt8(label))
                for p in 0..<(side * side) { pixels.append(UInt8((p % classes == label ? 60 : 0) + noise() * 4)) }
            }
            return (pixels, labels)
        }
        var train = examples(300)
        let planted = Array(0..<30).map { $0 * 10 }
        for i in planted { train.labels[i] = (train.labels[i] + 1) % UInt8(classes) }
        let test = examples(300)
        let path = try writeIDX(trainPixels: train.pixels, trainLabels: train.labels, testPixels: test.pixels, testLabels: test.labels, side: side)
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        _ = try ok(c.call("dataset/load", ["name": "p", "path": .string(path), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "p", "forget": ["indices": .array(planted.map { .number(Double($0)) })], "seed": 1]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [64]], "dataset": "p", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "p", "epochs": 60, "batchSize": 16, "lr": 0.05, "weightDecay": 0]))
        _ = try ok(c.call("forget", ["model": "m", "split": "s", "method": "retrain", "output": "r"]))
        let e = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertGreaterThan(e["forget"]!["accuracy"]!.number, 0.9, "the original fits its wrong labels")

        var aucs: [String: Double] = [:]
        for (model, variant) in [("m", "online"), ("m", "offline"), ("r", "online")] {
            let a = try ok(c.call("attack", ["model": .string(model), "split": "s", "kind": "lira", "shadows": 8, "variant": .string(variant),
                                             "original": "m"]))
            XCTAssertEqual(a["scoreName"], "auc")
            XCTAssertEqual(a["score"], a["auc"])
            XCTAssertEqual(a["members"], 30)
            XCTAssertEqual(a["nonMembers"], 150)
            guard case .array(let fpr)? = a["roc"]?["fpr"], case .array(let tpr)? = a["roc"]?["tpr"] else { return XCTFail("\(a)") }
            XCTAssertEqual(fpr.count, tpr.count)
            XCTAssertEqual(fpr.first, 0)
            XCTAssertEqual(fpr.last, 1)
            guard case .array(let fleets)? = a["fleets"] else { return XCTFail("\(a)") }
            XCTAssertEqual(fleets.count, 1)
            XCTAssertEqual(fleets[0]["trained"], aucs.isEmpty ? 8 : 0, "the shadow fleet is trained once and reused")
            aucs["\(model) \(variant)"] = a["auc"]!.number
        }
        XCTAssertGreaterThan(aucs["m online"]!, 0.9, "\(aucs)")
        XCTAssertGreaterThan(aucs["m offline"]!, 0.8, "\(aucs)")
        XCTAssertLessThan(aucs["r online"]!, aucs["m online"]! - 0.2, "retrain is far less attackable: \(aucs)")
        let rmia = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "rmia", "shadows": 8]))
        XCTAssertGreaterThan(rmia["auc"]!.number, 0.85, "\(rmia)")
        guard case .array(let rmiaFleets)? = rmia["fleets"] else { return XCTFail("\(rmia)") }
        XCTAssertEqual(rmiaFleets.first?["reused"], 8)
    }

    /// Every kind answers with the one shape; epsilon and ulira read the same two fleets; outputs land as .npy.
    func testEveryKindAndItsOutputs() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        let outputs = NSTemporaryDirectory() + "lethe-attack-\(UUID().uuidString.prefix(8))/out"
        let efficacy = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "mia-efficacy"]))
        XCTAssertEqual(efficacy["scoreName"], "efficacy")
        guard case .object(let features)? = efficacy["features"] else { return XCTFail("\(efficacy)") }
        XCTAssertEqual(Set(features.keys), ["correctness", "confidence", "entropy", "m_entropy", "prob"])
        XCTAssertEqual(efficacy["score"], features["confidence"])

        let eps = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "epsilon", "models": 4, "method": "finetune",
                                           "hyperparameters": ["epochs": 1], "outputs": .string(outputs)]))
        XCTAssertEqual(eps["scoreName"], "forgetQuality")
        let f = eps["epsilon"]!["forgetQuality"]!.number
        XCTAssertTrue((0...1).contains(f), "\(eps)")
        XCTAssertEqual(eps["score"]?.number, f)
        guard case .array(let counts)? = eps["epsilon"]?["histogramCounts"] else { return XCTFail("\(eps)") }
        XCTAssertEqual(counts.compactMap(\.number).reduce(0, +), 24, "every forget example is in one bucket")
        let ratio = eps["epsilon"]!["retainRatio"]!.number * eps["epsilon"]!["testRatio"]!.number
        XCTAssertEqual(eps["epsilon"]!["score"]!.number, f * ratio, accuracy: 1e-12)
        for name in ["epsilons", "unlearned_confidences", "retrained_confidences"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(outputs)/\(name).npy"))
            XCTAssertEqual(Array(bytes.prefix(6)), [0x93] + Array("NUMPY".utf8), name)
            let header = String(decoding: bytes.prefix(128), as: UTF8.self)
            XCTAssertTrue(header.contains(name == "epsilons" ? "(24,)" : "(4, 24)"), header)
        }
        guard case .array(let fleets)? = eps["fleets"] else { return XCTFail("\(eps)") }
        XCTAssertEqual(fleets.compactMap { $0["trained"]?.number }, [4, 4])

        let ulira = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "ulira", "models": 4, "method": "finetune",
                                             "hyperparameters": ["epochs": 1]]))
        XCTAssertEqual(ulira["scoreName"], "auc")
        XCTAssertEqual(ulira["members"], 96)
        XCTAssertEqual(ulira["nonMembers"], 96)
        guard case .array(let reused)? = ulira["fleets"] else { return XCTFail("\(ulira)") }
        XCTAssertEqual(reused.compactMap { $0["reused"]?.number }, [4, 4], "ulira reads the fleets epsilon trained")
    }

    /// Bad requests are refused, naming the field, before anything trains.
    func testBadRequestsAreRefusedBeforeAnythingTrains() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        let file = NSTemporaryDirectory() + "lethe-not-a-dir-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: file, contents: Data())
        func refused(_ extra: [String: JSONValue], naming field: String, line: UInt = #line) throws {
            var p: [String: JSONValue] = ["model": "m", "split": "s"]
            for (k, v) in extra { p[k] = v }
            let r = try c.call("attack", .object(p))
            XCTAssertEqual(errorCode(r), -32602, "\(extra)", line: line)
            XCTAssertTrue(r["error"]?["message"]?.stringValue?.contains(field) ?? false, "\(r)", line: line)
        }
        try refused(["kind": "nope"], naming: "kind")
        try refused(["kind": "lira", "shadows": 3], naming: "shadows")
        try refused(["kind": "lira", "method": "finetune"], naming: "method")
        try refused(["kind": "simple", "models": 4], naming: "models")
        try refused(["kind": "epsilon", "method": "nope"], naming: "method")
        try refused(["kind": "epsilon", "hyperparameters": .object(["nope": 1])], naming: "nope")
        try refused(["kind": "lira", "variant": "sideways"], naming: "variant")
        try refused(["kind": "mia-efficacy", "outputs": .string(file)], naming: "outputs")
        try refused(["kind": "simple", "outputs": .string(NSTemporaryDirectory())], naming: "outputs")
        XCTAssertEqual(errorCode(try c.call("fleet/train", ["kind": "shadow", "model": "m", "split": "s", "count": 3])), -32602)
        XCTAssertEqual(errorCode(try c.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 2, "method": "finetune"])), -32602)
        XCTAssertEqual(errorCode(try c.call("fleet/delete", ["id": "fleet-99"])), 1)
        XCTAssertEqual(try ok(c.call("fleet/list"))["fleets"], [], "nothing trained")
        XCTAssertEqual(errorCode(try c.call("split/delete", ["name": "nope"])), 1)
        _ = try ok(c.call("split/delete", ["name": "s"]))
        _ = try ok(c.call("dataset/delete", ["name": "d"]))
        XCTAssertEqual(errorCode(try c.call("attack", ["model": "m", "split": "s"])), 1)
    }

    /// fleet/train reports each member's progress and is cancelled like any job: members finished before the cancel
    /// stay in the fleet, and the next request trains only the rest.
    func testCancellingAFleetKeepsTheMembersAlreadyTrained() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 400, "batchSize": 4]))
        // Two threads per member on a two-thread daemon: one member at a time.
        let id = try c.send("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 3, "threadsPerModel": 2,
                                            "workDoneToken": "f"])
        var first: Substring?
        while true {
            guard let message = try c.readOneMessage() else { return XCTFail("connection closed") }
            if message["id"] != nil { return XCTFail("fleet/train finished before the cancel: \(message)") }
            guard let stage = message["params"]?["value"]?["stage"]?.stringValue else { continue }
            let words = stage.split(separator: " ")  // "<fleet id> <kind> <seed> <stage>"
            XCTAssertEqual(Array(words.prefix(2)), ["fleet-1", "retrained"], stage)
            XCTAssertEqual(words.last, "retrain", stage)
            if first == nil { first = words[2] } else if words[2] != first { break }  // the second member started: the first is done
        }
        try c.notify("$/cancelRequest", ["id": id])
        var reply: JSONValue?
        while reply == nil { if let m = try c.readOneMessage(), m["id"] != nil { reply = m } }
        XCTAssertEqual(reply?["error"]?["code"], -32800, "\(String(describing: reply))")
        guard case .array(let fleets)? = try ok(c.call("fleet/list"))["fleets"] else { return XCTFail() }
        XCTAssertEqual(fleets.first?["seeds"], .array([.number(Double(first!)!)]), "the member finished before the cancel stays")
        let again = try ok(c.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 3]))
        XCTAssertEqual(again["reused"], 1)
        XCTAssertEqual(again["trained"], 2)
    }
}
