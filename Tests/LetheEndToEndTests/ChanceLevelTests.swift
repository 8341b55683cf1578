// Issue 15 over the socket: a model trained on retain only never saw the forget set, so the balanced simple attack
// scores about 0.5 on it whatever the forget set's size, and the kit's procedure scores its chance level.
import Foundation
import JSONRPC
import XCTest

final class ChanceLevelTests: XCTestCase {
    func testAModelThatNeverSawTheForgetSetScoresChance() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        func ok(_ r: JSONValue) throws -> JSONValue { try XCTUnwrap(r.result, "\(r)") }
        _ = try ok(c.call("dataset/load", ["name": "fmnist"]))
        for (fraction, name) in [(0.01, "one"), (0.1, "ten")] {
            _ = try ok(c.call("split/create", ["name": .string(name), "dataset": "fmnist", "forget": ["fraction": .number(fraction)], "seed": 3]))
            _ = try ok(c.call("model/create", ["name": .string("m-\(name)"), "architecture": ["kind": "mlp", "hidden": [128]], "dataset": "fmnist", "seed": 1]))
            _ = try ok(c.call("model/train", ["model": .string("m-\(name)"), "dataset": "fmnist", "split": .string(name), "subset": "retain",
                                              "epochs": 1, "lr": 0.05, "momentum": 0.9]))
            let balanced = try ok(c.call("attack", ["model": .string("m-\(name)"), "split": .string(name)]))
            XCTAssertEqual(balanced["balance"], "both")
            XCTAssertEqual(balanced["chanceLevel"], 0.5)
            XCTAssertEqual(balanced["members"], balanced["nonMembers"])
            XCTAssertEqual(balanced["score"]!.number, 0.5, accuracy: 0.03, "\(name)% forget: \(balanced)")
            XCTAssertNil(balanced["note"])
            let kit = try ok(c.call("attack", ["model": .string("m-\(name)"), "split": .string(name), "balance": "kit"]))
            if name == "one" {
                XCTAssertEqual(kit["members"], 600)
                XCTAssertEqual(kit["nonMembers"], 5000)
                XCTAssertEqual(kit["chanceLevel"]!.number, 5000.0 / 5600.0, accuracy: 1e-12)
                XCTAssertEqual(kit["score"]!.number, kit["chanceLevel"]!.number, accuracy: 1e-12, "the kit's degenerate case: \(kit)")
                let note = try XCTUnwrap(kit["note"]?.stringValue)
                XCTAssertTrue(note.contains("differ in size") && note.contains("0.893"), note)
            } else {
                // 6,000 forget examples against 5,000 test: the two procedures are one computation.
                XCTAssertEqual(kit["score"], balanced["score"])
                XCTAssertEqual(kit["folds"], balanced["folds"])
            }
        }
        let bad = try c.call("attack", ["model": "m-one", "split": "one", "balance": "half"])
        XCTAssertEqual(bad.errorCode, -32602)
        XCTAssertTrue(bad.errorMessage.contains("parameter 'balance'"), "\(bad)")
    }
}
