// fleet/export and fleet/import over the socket, between daemons that share nothing but the data files: shares of
// a fleet trained on a second daemon (fleet/train's `members`) and imported by a third are bit for bit the fleet one
// daemon trains whole, attacks on the importing daemon train nothing and give the same numbers, a retried import
// counts no member twice, and a bundle from other data, another split, other weights, another recipe, another
// version or other shadow halves is refused and leaves the importer as it was.
import Foundation
import JSONRPC
import LetheProtocol
import XCTest

final class FleetTransferTests: XCTestCase {
    private func ok(_ r: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try XCTUnwrap(r.result, "\(r)", file: file, line: line)
    }

    private func errorCode(_ r: JSONValue) -> Int? { r["error"]?["code"]?.doubleValue.map { Int($0) } }

    /// The same dataset files, split and model on every daemon (the model trained with the same seed is bit for bit
    /// the same); `splitSeed` and `modelSeed` make a foreign one.
    private func setUp(_ c: RawConnection, data: String, splitSeed: Double = 2, modelSeed: Double = 1) throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(data), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": .number(splitSeed)]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": .number(modelSeed)]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 2, "batchSize": 16, "lr": 0.05]))
    }

    private func members(_ bundle: JSONValue) -> [JSONValue] {
        guard case .array(let list)? = bundle["members"] else { return [] }
        return list
    }

    /// Shares trained on one daemon and imported by another equal, member by member and bit for bit, the fleets
    /// a third daemon trains whole; epsilon and LiRA on the importer train nothing and give the same numbers.
    func testSharesImportedFromAnotherDaemonAreTheFleetOneDaemonTrains() throws {
        let data = try writeSyntheticIDX(train: 240, test: 120)
        let whole = try DaemonProcess(extraArguments: ["--threads", "2"]), worker = try DaemonProcess(extraArguments: ["--threads", "2"])
        let coordinator = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { whole.stop(); worker.stop(); coordinator.stop() }
        let a = try whole.connect(), w = try worker.connect(), c = try coordinator.connect()
        for conn in [a, w, c] { try setUp(conn, data: data) }

        let unlearnedParams: [String: JSONValue] = ["method": "finetune", "hyperparameters": ["epochs": 1]]
        let epsilonParams: [String: JSONValue] = ["model": "m", "split": "s", "kind": "epsilon", "models": 4, "method": "finetune",
                                                  "hyperparameters": ["epochs": 1]]
        let liraParams: [String: JSONValue] = ["model": "m", "split": "s", "kind": "lira", "shadows": 4]
        let reference = try ok(a.call("attack", .object(epsilonParams)))
        let referenceLiRA = try ok(a.call("attack", .object(liraParams)))

        // The worker trains each fleet in two shares, as two Ray tasks would, and exports each share alone.
        for (kind, extra) in [("retrained", [:]), ("unlearned", unlearnedParams), ("shadow", [:])] as [(String, [String: JSONValue])] {
            var bundles: [JSONValue] = []
            for share in [[0, 1], [3, 2]] as [[Double]] {
                var p: [String: JSONValue] = ["kind": .string(kind), "model": "m", "split": "s", "count": 4, "members": .array(share.map { .number($0) })]
                for (k, v) in extra { p[k] = v }
                let trained = try ok(w.call("fleet/train", .object(p)))
                XCTAssertEqual(trained["trained"], 2, "\(kind): only the share trains")
                let id = try XCTUnwrap(trained["fleet"]?["id"])
                bundles.append(try ok(w.call("fleet/export", ["id": id, "members": .array(share.map { .number($0) })])))
            }
            XCTAssertEqual(members(bundles[1]).compactMap { $0["seed"]?.number }, [2, 3], "members in seed order")
            var fleetID: JSONValue?
            for bundle in bundles {
                let imported = try ok(c.call("fleet/import", ["model": "m", "split": "s", "bundle": bundle]))
                XCTAssertEqual(imported["imported"], 2)
                XCTAssertEqual(imported["duplicates"], 0)
                fleetID = imported["fleet"]?["id"]
            }
            // A retried task sends its share again: counted once.
            let again = try ok(c.call("fleet/import", ["model": "m", "split": "s", "bundle": bundles[0]]))
            XCTAssertEqual(again["imported"], 0)
            XCTAssertEqual(again["duplicates"], 2)
            XCTAssertEqual(again["fleet"]?["members"], 4)

            // Member by member, the importer holds the bits the whole-fleet daemon trained.
            let wholeFleet = try XCTUnwrap(try ok(a.call("fleet/list"))["fleets"].flatMap { list -> JSONValue? in
                guard case .array(let fleets) = list else { return nil }
                return fleets.first { $0["kind"]?.stringValue == kind }
            })
            let expected = try ok(a.call("fleet/export", ["id": wholeFleet["id"]!]))
            let got = try ok(c.call("fleet/export", ["id": fleetID!]))
            XCTAssertEqual(members(got).count, 4)
            for (g, e) in zip(members(got), members(expected)) {
                XCTAssertEqual(g["seed"], e["seed"])
                XCTAssertEqual(g["logits"], e["logits"], "\(kind) member \(e["seed"]!): logits bit for bit")
                XCTAssertEqual(g["inMask"], e["inMask"])
                XCTAssertEqual(g["retainAccuracy"], e["retainAccuracy"])
            }
            for field in ["kind", "recipe", "modelFingerprint", "dataFingerprint", "splitFingerprint", "shadowCount", "shadowSeed"] {
                XCTAssertEqual(got[field], expected[field], field)
            }
        }

        // The attacks read the imported fleets exactly as local ones: nothing trains, the numbers are the same.
        let epsilon = try ok(c.call("attack", .object(epsilonParams)))
        guard case .array(let uses)? = epsilon["fleets"] else { return XCTFail("\(epsilon)") }
        XCTAssertEqual(uses.compactMap { $0["trained"]?.number }, [0, 0])
        XCTAssertEqual(uses.compactMap { $0["reused"]?.number }, [4, 4])
        XCTAssertEqual(epsilon["epsilon"]?["forgetQuality"], reference["epsilon"]?["forgetQuality"])
        XCTAssertEqual(epsilon["epsilon"]?["epsilons"], reference["epsilon"]?["epsilons"])
        XCTAssertEqual(epsilon["score"], reference["score"])
        let lira = try ok(c.call("attack", .object(liraParams)))
        guard case .array(let liraUses)? = lira["fleets"] else { return XCTFail("\(lira)") }
        XCTAssertEqual(liraUses.compactMap { $0["trained"]?.number }, [0])
        XCTAssertEqual(lira["score"], referenceLiRA["score"])
        XCTAssertEqual(lira["roc"], referenceLiRA["roc"])
    }

    /// Weights travel too when asked: the importer's members have the fingerprints of the members trained elsewhere.
    func testWeightsTravelWithTheirFingerprints() throws {
        let data = try writeSyntheticIDX(train: 240, test: 120)
        let worker = try DaemonProcess(), coordinator = try DaemonProcess()
        defer { worker.stop(); coordinator.stop() }
        let w = try worker.connect(), c = try coordinator.connect()
        for conn in [w, c] { try setUp(conn, data: data) }
        let trained = try ok(w.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 2, "keepWeights": true]))
        let id = try XCTUnwrap(trained["fleet"]?["id"])
        let noWeights = try c.call("fleet/export", ["id": "fleet-1", "weights": true])
        XCTAssertEqual(errorCode(noWeights), 1, "the coordinator holds no fleet yet")
        let bundle = try ok(w.call("fleet/export", ["id": id, "weights": true]))
        let imported = try ok(c.call("fleet/import", ["model": "m", "split": "s", "bundle": bundle]))
        XCTAssertEqual(imported["fleet"]?["keepsWeights"], true)
        XCTAssertEqual(imported["fleet"]?["fingerprints"], trained["fleet"]?["fingerprints"])
        // The weights are the weights: a bundle whose parameters were altered is refused by fingerprint.
        var member = members(bundle)[0]
        let parameters = try XCTUnwrap(member["parameters"]?.stringValue)
        var bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: parameters)))
        bytes[0] ^= 1
        member = member.setting("parameters", .string(Data(bytes).base64EncodedString()))
        let fresh = try DaemonProcess()
        defer { fresh.stop() }
        let f = try fresh.connect()
        try setUp(f, data: data)
        let refused = try f.call("fleet/import", ["model": "m", "split": "s", "bundle": bundle.setting("members", [member])])
        XCTAssertEqual(errorCode(refused), -32602)
        XCTAssertTrue(refused["error"]?["message"]?.stringValue?.contains("fingerprint") ?? false, "\(refused)")
        XCTAssertEqual(try ok(f.call("fleet/list"))["fleets"], [], "a refused bundle leaves no fleet behind")
    }

    /// A member that does not belong is refused, naming what differs, and the importer is left as it was.
    func testForeignMembersAreRefusedAndAddNothing() throws {
        let data = try writeSyntheticIDX(train: 240, test: 120)
        let otherData = try writeSyntheticIDX(train: 240, test: 120, seed: 99)
        let worker = try DaemonProcess()
        defer { worker.stop() }
        let w = try worker.connect()
        try setUp(w, data: data)
        let retrained = try ok(w.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 2]))
        let bundle = try ok(w.call("fleet/export", ["id": retrained["fleet"]!["id"]!]))
        let unlearned = try ok(w.call("fleet/train", ["kind": "unlearned", "model": "m", "split": "s", "count": 2, "method": "finetune",
                                                      "hyperparameters": ["epochs": 1]]))
        let unlearnedBundle = try ok(w.call("fleet/export", ["id": unlearned["fleet"]!["id"]!]))
        let shadows = try ok(w.call("fleet/train", ["kind": "shadow", "model": "m", "split": "s", "count": 2, "members": [1]]))
        let shadowBundle = try ok(w.call("fleet/export", ["id": shadows["fleet"]!["id"]!]))

        func refused(_ conn: RawConnection, _ bundle: JSONValue, naming field: String, line: UInt = #line) throws {
            let before = try ok(conn.call("fleet/list"))
            let r = try conn.call("fleet/import", ["model": "m", "split": "s", "bundle": bundle])
            XCTAssertEqual(errorCode(r), -32602, "\(r)", line: line)
            XCTAssertTrue(r["error"]?["message"]?.stringValue?.contains(field) ?? false, "\(r)", line: line)
            XCTAssertEqual(try ok(conn.call("fleet/list")), before, "nothing added", line: line)
        }
        // Another split, other weights, other data: each on a daemon set up that way.
        for (label, dataPath, splitSeed, modelSeed, field) in [("split", data, 3.0, 1.0, "splitFingerprint"),
                                                               ("weights", data, 2.0, 7.0, "modelFingerprint"),
                                                               ("data", otherData, 2.0, 1.0, "dataFingerprint")] {
            let other = try DaemonProcess()
            defer { other.stop() }
            let o = try other.connect()
            try setUp(o, data: dataPath, splitSeed: splitSeed, modelSeed: modelSeed)
            if label == "data" {
                // The same weights on other data: save the worker's model and load it here, so only the data differs.
                let path = NSTemporaryDirectory() + "lethe-transfer-\(UUID().uuidString.prefix(8)).safetensors"
                _ = try ok(w.call("model/save", ["model": "m", "path": .string(path)]))
                _ = try ok(o.call("model/load", ["name": "m", "path": .string(path), "replace": true]))
            }
            try refused(o, bundle, naming: field)
        }
        let coordinator = try DaemonProcess()
        defer { coordinator.stop() }
        let c = try coordinator.connect()
        try setUp(c, data: data)
        try refused(c, bundle.setting("version", "0.0.0-elsewhere"), naming: "version")
        try refused(c, bundle.setting("format", "something-else"), naming: "format")
        try refused(c, bundle.setting("members", []), naming: "members")
        // Another recipe: the unlearned members claim other hyperparameters than they were trained with.
        try refused(c, unlearnedBundle.setting("hyperparameters", ["epochs": 2]), naming: "recipe")
        try refused(c, unlearnedBundle.setting("recipe", "finetune {}"), naming: "recipe")
        // Shadow halves that are not the ones this daemon draws for that shadow.
        var shadow = members(shadowBundle)[0]
        let mask = try XCTUnwrap(shadow["inMask"]?.stringValue)
        shadow = shadow.setting("inMask", .string(String(mask.map { $0 == "1" ? "0" : "1" })))
        try refused(c, shadowBundle.setting("members", [shadow]), naming: "inMask")
        // Outputs of the wrong size.
        let short = members(bundle)[0].setting("logits", .string(Data(repeating: 0, count: 12).base64EncodedString()))
        try refused(c, bundle.setting("members", [short]), naming: "logits")
        // A held member with other bits is refused; the same bits are a duplicate.
        _ = try ok(c.call("fleet/import", ["model": "m", "split": "s", "bundle": bundle]))
        let held = members(bundle)[0]
        var bytes = [UInt8](try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(held["logits"]?.stringValue))))
        bytes[3] ^= 0x40
        try refused(c, bundle.setting("members", [held.setting("logits", .string(Data(bytes).base64EncodedString()))]), naming: "differs")
        // The worker's own fleet refuses members it does not hold when exporting, and shares outside the fleet.
        XCTAssertEqual(errorCode(try w.call("fleet/export", ["id": retrained["fleet"]!["id"]!, "members": [9]])), -32602)
        XCTAssertEqual(errorCode(try w.call("fleet/export", ["id": retrained["fleet"]!["id"]!, "weights": true])), -32602)
        let outside = try w.call("fleet/train", ["kind": "retrained", "model": "m", "split": "s", "count": 2, "seed": 4, "members": [3]])
        XCTAssertEqual(errorCode(outside), -32602)
        XCTAssertTrue(outside["error"]?["message"]?.stringValue?.contains("4…5") ?? false, "\(outside)")
    }
}

extension JSONValue {
    /// A copy with an object's field replaced.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var fields) = self else { return self }
        fields[key] = value
        return .object(fields)
    }
}
