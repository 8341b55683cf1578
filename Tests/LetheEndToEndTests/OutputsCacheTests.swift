// The outputs cache: a model's outputs on a dataset part are computed once and shared by evaluate, attack and
// model/predict; new weights or new data are never answered from it.
import Foundation
import JSONRPC
import XCTest

final class OutputsCacheTests: XCTestCase {
    private func ok(_ r: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try XCTUnwrap(r.result, "\(r)", file: file, line: line)
    }

    private func counts(_ c: RawConnection) throws -> (hits: Double, misses: Double) {
        let s = try ok(c.call("server/status"))
        return (s["outputsCache"]!["hits"]!.number, s["outputsCache"]!["misses"]!.number)
    }

    func testOutputsAreComputedOnceAndNeverStale() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16]))
        XCTAssertEqual(try counts(c).misses, 0)

        let first = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertEqual(try counts(c).misses, 4, "retain, forget, validation and test computed once each")
        let again = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertEqual(try counts(c).hits, 4)
        for part in ["retain", "forget", "validation", "test"] { XCTAssertEqual(again[part], first[part], part) }
        _ = try ok(c.call("attack", ["model": "m", "split": "s"]))
        _ = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "mia-efficacy"]))
        let forget = try ok(c.call("model/predict", ["model": "m", "split": "s", "subset": "forget"]))
        XCTAssertEqual(forget["accuracy"], first["forget"]?["accuracy"])
        XCTAssertEqual(try counts(c).hits, 4 + 2 + 3 + 1, "attack, mia-efficacy and predict read the cached outputs")
        XCTAssertEqual(try counts(c).misses, 4)

        // New weights: a new fingerprint, so everything is computed again and the numbers move.
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16]))
        let trained = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertEqual(try counts(c).misses, 8)
        XCTAssertNotEqual(trained["retain"]?["loss"], first["retain"]?["loss"])

        // New data under the same names: computed again, on the new examples.
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 300, test: 90)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 30], "seed": 2]))
        let reloaded = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        XCTAssertEqual(try counts(c).misses, 12)
        XCTAssertEqual(reloaded["retain"]?["count"], 270)
    }

    /// evaluate against a reference: zero distance to itself; against retrain, agreement equals the fraction of forget
    /// examples on which the two models' model/predict classes agree.
    func testEvaluateAgainstAReference() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16, "lr": 0.01]))
        _ = try ok(c.call("forget", ["model": "m", "split": "s", "method": "retrain", "output": "r", "hyperparameters": ["epochs": 1]]))
        let itself = try ok(c.call("evaluate", ["model": "m", "split": "s", "reference": "m"]))
        XCTAssertEqual(itself["reference"]?["jsDivergence"], 0)
        XCTAssertEqual(itself["reference"]?["l2Distance"], 0)
        XCTAssertEqual(itself["reference"]?["agreement"], 1)
        let e = try ok(c.call("evaluate", ["model": "m", "split": "s", "reference": "r"]))
        func classes(_ model: String) throws -> [Double] {
            guard case .array(let p)? = try ok(c.call("model/predict", ["model": .string(model), "split": "s"]))["predictions"] else { return [] }
            return p.map(\.number)
        }
        let a = try classes("m"), b = try classes("r")
        XCTAssertEqual(a.count, 24)
        XCTAssertEqual(e["reference"]?["agreement"]?.number, Double(zip(a, b).filter { $0 == $1 }.count) / 24)
        let js = e["reference"]!["jsDivergence"]!.number
        XCTAssertTrue(js > 0 && js <= log(2.0), "\(js)")
        XCTAssertEqual(try c.call("evaluate", ["model": "m", "split": "s", "reference": "nope"])["error"]?["code"], 1)
    }
}
