// The engine's breadth through the daemon: the zoo's architectures, training options, per-job threads, and
// several small models training at once.
import Foundation
import JSONRPC
import XCTest

final class EngineOverSocketTests: XCTestCase {
    var daemon: DaemonProcess!

    override func setUpWithError() throws { daemon = try DaemonProcess() }
    override func tearDown() { daemon.stop() }

    private func ok(_ reply: JSONValue) throws -> JSONValue {
        guard let r = reply.result else { throw HarnessError("expected a result, got \(reply)") }
        return r
    }

    func testZooArchitecturesTrainAndDescribeThemselves() throws {
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 120, test: 30, side: 16)), "classes": 3]))
        let layers: JSONValue = [["type": "conv2d", "out": 4, "kernel": 3, "padding": 1], ["type": "batchnorm2d"], ["type": "leakyrelu"],
                                 ["type": "maxpool2d", "kernel": 2], ["type": "flatten"], ["type": "dropout", "p": 0.2], ["type": "linear", "out": 3]]
        let specs: [(String, JSONValue)] = [
            ("cnn", ["kind": "cnn", "channels": [4, 8], "hidden": [16]]),
            ("resnet", ["kind": "resnet18", "width": 4, "cifarStem": true]),
            ("seq", ["kind": "layers", "layers": layers]),
        ]
        for (name, spec) in specs {
            _ = try ok(c.call("model/create", ["name": .string(name), "architecture": spec, "dataset": "d", "seed": 1]))
            let info = try ok(c.call("model/info", ["model": .string(name)]))
            guard case .array(let rows)? = info["layers"] else { return XCTFail("\(info)") }
            XCTAssertEqual(rows.last?["outputShape"], [3], name)
            XCTAssertGreaterThan(info["flopsPerExample"]!.number, 0)
            XCTAssertEqual(info["trained"], false)
            let trained = try ok(c.call("model/train", ["model": .string(name), "dataset": "d", "epochs": 6, "batchSize": 16,
                                                        "optimizer": "adamw", "lr": 0.01, "schedule": "cosine", "warmup": 1,
                                                        "clipNorm": 5, "labelSmoothing": 0.05, "threads": 2]))
            XCTAssertGreaterThan(trained["accuracy"]!.number, 0.6, "\(name) learns the synthetic classes: \(trained)")
            XCTAssertEqual(try ok(c.call("model/info", ["model": .string(name)]))["trained"], true)
        }
        let resnet = try ok(c.call("model/info", ["model": "resnet"]))
        XCTAssertGreaterThan(resnet["bufferCount"]!.number, 0, "BatchNorm running statistics")
    }

    func testFrozenLayersStayFixed() throws {
        let c = try daemon.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 60, test: 30)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 6]]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [8]], "dataset": "d"]))
        // Freezing everything: training runs but the weights (and so every prediction) stay as they were.
        let before = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "frozen": ["1.", "3."]]))
        XCTAssertEqual(try ok(c.call("evaluate", ["model": "m", "split": "s"]))["test"], before["test"])
        let bad = try c.call("model/train", ["model": "m", "dataset": "d", "frozen": ["layer9."]])
        XCTAssertEqual(bad.errorCode, -32602)
        XCTAssertTrue(bad.errorMessage.contains("layer9."), bad.errorMessage)
    }

    /// Shadow-model style: several small models train at once on separate connections, one thread each, and end
    /// with the same bits as when trained one after another.
    func testSmallModelsTrainConcurrentlyOneThreadEach() throws {
        let setup = try daemon.connect()
        _ = try ok(setup.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 3000, test: 30, side: 16)), "classes": 3]))
        let names = ["a", "b", "c"]
        for n in names + ["serial"] {
            _ = try ok(setup.call("model/create", ["name": .string(n), "architecture": ["kind": "mlp", "hidden": [256]], "dataset": "d", "seed": 3]))
        }
        let params: JSONValue = ["dataset": "d", "epochs": 3, "batchSize": 8, "seed": 5, "threads": 1]
        func withModel(_ name: String) -> JSONValue {
            guard case .object(var o) = params else { return params }
            o["model"] = .string(name)
            return .object(o)
        }
        let serial = try ok(setup.call("model/train", withModel("serial")))["fingerprint"]
        let connections = try names.map { _ in try daemon.connect() }
        let ids = try zip(connections, names).map { try $0.send("model/train", withModel($1)) }
        var sawTwoJobs = false
        for _ in 0..<100 where !sawTwoJobs {
            if case .array(let jobs)? = try ok(setup.call("server/status"))["jobs"], jobs.count >= 2 { sawTwoJobs = true }
            usleep(5_000)
        }
        for (c, id) in zip(connections, ids) {
            XCTAssertEqual(try ok(c.reply(to: id))["fingerprint"], serial)
        }
        XCTAssertTrue(sawTwoJobs, "the jobs ran at the same time")
    }
}
