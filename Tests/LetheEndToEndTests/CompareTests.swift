// compare over the socket: its rows agree with the same runs made one by one (forget, evaluate, attack), the gap is
// SalUn's formula over the row's own numbers, bad requests are refused before anything runs, and cancelling stops
// every run.
import Foundation
import JSONRPC
import XCTest

final class CompareTests: XCTestCase {
    private func ok(_ r: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try XCTUnwrap(r.result, "\(r)", file: file, line: line)
    }

    private func errorCode(_ r: JSONValue) -> Int? { r["error"]?["code"]?.doubleValue.map { Int($0) } }

    private func setUp(_ c: RawConnection, epochs: Int = 4, lr: Double = 0.05) throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 300, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 40], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": .number(Double(epochs)), "batchSize": 16, "lr": .number(lr)]))
    }

    func testRowsAgreeWithTheSameRunsMadeOneByOne() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        // A barely trained original, so that every metric differs between models and every term of the gap counts.
        try setUp(c, epochs: 1, lr: 0.002)
        let r = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune", "cf-k"], "seeds": [5],
                                          "hyperparameters": ["finetune": ["epochs": 2], "cf-k": ["k": 1, "epochs": 1]]]))
        guard case .array(let rows)? = r["rows"] else { return XCTFail("\(r)") }
        XCTAssertEqual(rows.compactMap { $0["method"]?.stringValue }, ["none", "retrain", "finetune", "cf-k"])
        func row(_ name: String) -> JSONValue { rows.first { $0["method"]?.stringValue == name }! }
        XCTAssertEqual(row("finetune")["hyperparameters"]?["epochs"], 2)
        XCTAssertEqual(row("cf-k")["hyperparameters"]?["k"], 1)
        XCTAssertEqual(row("finetune")["hyperparameters"]?["lr"], 0.01, "defaults reported")

        // The same runs, one by one, at one thread as compare runs them.
        func measured(_ model: String) throws -> [String: Double] {
            let e = try ok(c.call("evaluate", ["model": .string(model), "split": "s", "threads": 1]))
            let a = try ok(c.call("attack", ["model": .string(model), "split": "s", "seed": 5, "threads": 1]))
            let svc = try ok(c.call("attack", ["model": .string(model), "split": "s", "kind": "mia-efficacy", "threads": 1]))
            return ["retainAccuracy": e["retain"]!["accuracy"]!.number, "forgetAccuracy": e["forget"]!["accuracy"]!.number,
                    "testAccuracy": e["test"]!["accuracy"]!.number, "mia": a["score"]!.number, "miaEfficacy": svc["score"]!.number]
        }
        var expected: [String: [String: Double]] = ["none": try measured("m")]
        for (method, h) in [("retrain", [:]), ("finetune", ["epochs": 2]), ("cf-k", ["k": 1, "epochs": 1])] as [(String, [String: JSONValue])] {
            _ = try ok(c.call("forget", ["model": "m", "split": "s", "method": .string(method), "seed": 5, "threads": 1,
                                         "hyperparameters": .object(h)]))
            expected[method] = try measured("m-\(method)")
        }
        for (method, values) in expected {
            for (key, value) in values {
                XCTAssertEqual(row(method)[key]?["mean"]?.number, value, "\(method) \(key)")
                XCTAssertEqual(row(method)[key]?["std"], 0, "one seed")
            }
            // SalUn's average gap, in points, from the one-by-one numbers: its MIA term is MIA-efficacy.
            let ref = expected["retrain"]!
            let gap = 100 * (abs((1 - values["forgetAccuracy"]!) - (1 - ref["forgetAccuracy"]!)) + abs(values["miaEfficacy"]! - ref["miaEfficacy"]!)
                             + abs(values["retainAccuracy"]! - ref["retainAccuracy"]!) + abs(values["testAccuracy"]! - ref["testAccuracy"]!)) / 4
            XCTAssertEqual(row(method)["averageGap"]?["mean"]?.number ?? .nan, gap, accuracy: 1e-9, method)
        }
        for key in ["miaEfficacy", "testAccuracy", "retainAccuracy", "forgetAccuracy"] {
            XCTAssertTrue(expected.values.contains { $0[key]! != expected["retrain"]![key]! }, "the \(key) term of some row's gap is not 0")
        }
        XCTAssertEqual(row("retrain")["averageGap"]?["mean"], 0)
        XCTAssertEqual(row("retrain")["timeFraction"], 1)
        XCTAssertEqual(row("none")["seconds"]?["mean"], 0)
    }

    /// Each row's loss histogram bins that model's per-example cross-entropy: for the original ("none"), the same
    /// histogram recomputed here from model/predict's logits (labels are i mod 3) on the row's edges.
    func testLossHistogramsBinEachModelsPerExampleLosses() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 300, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["indices": .array((0..<40).map { .number(Double($0)) })],
                                           "validationFraction": 0]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [32]], "dataset": "d", "seed": 1]))
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 3, "batchSize": 16]))
        let r = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune", "gradient-ascent"]]))
        guard case .array(let rows)? = r["rows"] else { return XCTFail("\(r)") }
        var edgesSeen: Set<[Double]> = []
        for row in rows {
            let h = try XCTUnwrap(row["lossHistogram"], "\(row["method"] ?? "?") has a histogram")
            guard case .array(let e)? = h["edges"], case .array(let f)? = h["forget"], case .array(let t)? = h["test"] else { return XCTFail("\(h)") }
            let edges = e.compactMap(\.doubleValue)
            edgesSeen.insert(edges)
            XCTAssertGreaterThan(edges.first ?? 0, 0)
            XCTAssertTrue(zip(edges, edges.dropFirst()).allSatisfy { $0 < $1 }, "increasing edges")
            let ratios = zip(edges, edges.dropFirst()).map { $1 / $0 }
            XCTAssertEqual(ratios.max()! / ratios.min()!, 1, accuracy: 1e-9, "geometric bins")
            XCTAssertEqual(f.count, edges.count - 1)
            XCTAssertEqual(f.compactMap(\.doubleValue).reduce(0, +), 40, "every forget example counted once")
            XCTAssertEqual(t.compactMap(\.doubleValue).reduce(0, +), 120, "every test example counted once")
        }
        XCTAssertEqual(edgesSeen.count, 1, "one set of bins for every row")
        // The original's, from its probabilities.
        let none = try XCTUnwrap(rows.first { $0["method"] == "none" }?["lossHistogram"])
        let edges = none["edges"]!.arrayValue.compactMap(\.doubleValue)
        func losses(_ params: JSONValue, labels: [Int]) throws -> [Double] {
            let p = try ok(c.call("model/predict", params))
            guard case .array(let rowsOfP)? = p["values"] else { throw HarnessError("no values") }
            // Cross-entropy from the logits, in double precision: log Σ exp(z) − z_label.
            return zip(rowsOfP, labels).map { row, label in
                let z = row.arrayValue.compactMap(\.doubleValue), top = z.max()!
                return top + Foundation.log(z.map { Foundation.exp($0 - top) }.reduce(0, +)) - z[label]
            }
        }
        let forgetLosses = try losses(["model": "m", "dataset": "d", "part": "train", "indices": .array((0..<40).map { .number(Double($0)) }),
                                       "output": "logits"], labels: (0..<40).map { $0 % 3 })
        let testLosses = try losses(["model": "m", "dataset": "d", "part": "test", "indices": .array((0..<120).map { .number(Double($0)) }),
                                     "output": "logits"], labels: (0..<120).map { $0 % 3 })  // validationFraction 0: all of test
        func histogram(_ values: [Double]) -> [Double] {
            var counts = [Double](repeating: 0, count: edges.count - 1)
            for v in values { counts[min(edges.count - 2, max(0, (edges.lastIndex { $0 <= v } ?? 0)))] += 1 }
            return counts
        }
        // The loss-threshold attack's AUC: the probability that a forget example's loss is below a test example's
        // (ties half), the Mann–Whitney statistic.
        var wins = 0.0
        for f in forgetLosses { for t in testLosses { wins += f < t ? 1 : f == t ? 0.5 : 0 } }
        let auc = try XCTUnwrap(rows.first { $0["method"] == "none" }?["lossAttack"]?["auc"]?.doubleValue)
        XCTAssertEqual(auc, wins / Double(forgetLosses.count * testLosses.count), accuracy: 2e-3, "AUC against Mann–Whitney")
        for (mine, theirs) in [(histogram(forgetLosses), none["forget"]!), (histogram(testLosses), none["test"]!)] {
            let diff = zip(mine, theirs.arrayValue.compactMap(\.doubleValue)).map { abs($0 - $1) }.reduce(0, +)
            // The daemon's losses are float32: near 0 they are quantized (steps of about 6e-8), which on log-scaled bins
            // can move the most confident examples by a bin; a mis-binned histogram moves most of them (38 and 94 here).
            XCTAssertLessThanOrEqual(diff, 0.1 * mine.reduce(0, +), "recomputed \(mine) against \(theirs)")
        }
    }

    /// With a whole class forgotten, rows add test accuracy on the other classes; for the original ("none") it
    /// equals what model/predict's classes give on the test examples of classes 0 and 1 (labels are i mod 3).
    /// With epsilonModels every method gets the challenge's F from fleets that an epsilon attack then reuses, giving
    /// the same F and score.
    func testEpsilonPerMethodIsTheEpsilonAttacksNumberOnTheSameFleets() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c, epochs: 2)
        let r = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune", "random-labels"], "epsilonModels": 3,
                                          "hyperparameters": ["finetune": ["epochs": 1], "random-labels": ["epochs": 1]]]))
        guard case .array(let rows)? = r["rows"] else { return XCTFail("\(r)") }
        func row(_ name: String) -> JSONValue { rows.first { $0["method"]?.stringValue == name }! }
        XCTAssertNil(row("none")["forgetQuality"])
        XCTAssertNil(row("retrain")["forgetQuality"])
        for (method, h) in [("finetune", ["epochs": 1]), ("random-labels", ["epochs": 1])] as [(String, [String: JSONValue])] {
            let a = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "epsilon", "models": 3, "method": .string(method),
                                             "hyperparameters": .object(h)]))
            guard case .array(let fleets)? = a["fleets"] else { return XCTFail("\(a)") }
            XCTAssertEqual(fleets.compactMap { $0["reused"]?.number }, [3, 3], "\(method): the attack reuses compare's fleets")
            XCTAssertEqual(row(method)["forgetQuality"], a["epsilon"]?["forgetQuality"], method)
            XCTAssertEqual(row(method)["epsilonScore"], a["epsilon"]?["score"], method)
        }
        XCTAssertEqual(errorCode(try c.call("compare", ["model": "m", "split": "s", "methods": ["finetune"], "epsilonModels": 1])), -32602)
    }

    func testClassForgettingReportsAccuracyOnTheRemainingClasses() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        _ = try ok(c.call("split/create", ["name": "c", "dataset": "d", "forget": ["classes": [2]], "validationFraction": 0]))
        // An untrained model, so that its accuracy differs from class to class.
        _ = try ok(c.call("model/create", ["name": "u", "architecture": ["kind": "mlp", "hidden": [4]], "dataset": "d", "seed": 7]))
        let r = try ok(c.call("compare", ["model": "u", "split": "c", "methods": ["finetune"], "hyperparameters": ["finetune": ["epochs": 1]]]))
        guard case .array(let rows)? = r["rows"] else { return XCTFail("\(r)") }
        let predicted = try ok(c.call("model/predict", ["model": "u", "dataset": "d", "part": "test"]))
        guard case .array(let classes)? = predicted["predictions"] else { return XCTFail("\(predicted)") }
        let kept = classes.indices.filter { $0 % 3 != 2 }
        let expected = Double(kept.filter { Int(classes[$0].number) == $0 % 3 }.count) / Double(kept.count)
        XCTAssertEqual(rows[0]["remainingTestAccuracy"]?["mean"]?.number ?? .nan, expected, accuracy: 1e-12)
        XCTAssertNotEqual(expected, rows[0]["testAccuracy"]?["mean"]?.number, "the forgotten class is left out")
        let random = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["finetune": ["epochs": 1]]]))
        guard case .array(let randomRows)? = random["rows"] else { return XCTFail() }
        XCTAssertNil(randomRows[0]["remainingTestAccuracy"], "a random forget set holds no whole class")
    }

    /// A method that diverges (SCRUB's max steps at lr 1e3 for 50 passes send every logit to NaN) is reported, not fatal: the
    /// comparison answers with every other row, names the method in `diverged` and says so in its notes.
    func testAMethodThatDivergesIsReportedAndTheOthersKeepTheirRows() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        let r = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["scrub", "finetune"], "seeds": [0, 1],
                                          "hyperparameters": ["scrub": ["lr": 1000, "msteps": 50, "epochs": 50, "forgetBatchSize": 1]]]))
        guard case .array(let rows)? = r["rows"] else { return XCTFail("\(r)") }
        XCTAssertEqual(rows.compactMap { $0["method"]?.stringValue }, ["none", "retrain", "finetune"])
        let why = try XCTUnwrap(r["diverged"]?["scrub"]?.stringValue, "\(r)")
        XCTAssertTrue(why.contains("seed 0") && why.contains("seed 1") && why.contains("logits on retain, forget and test are not finite"), why)
        XCTAssertTrue(r["notes"]?.stringValue?.contains("scrub diverged") ?? false, "\(r)")
        let plain = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune"], "seeds": [0]]))
        XCTAssertNil(plain["diverged"], "absent when no method diverged")
    }

    func testBadRequestsAreRefusedBeforeAnythingRuns() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c, epochs: 1)
        let cases: [(JSONValue, String)] = [
            (["model": "m", "split": "s", "methods": ["finetune", "forgetful"]], "unknown unlearning method 'forgetful'"),
            (["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["finetune": ["epoch": 1]]],
             "parameter 'hyperparameters.finetune': method 'finetune' has no hyperparameter 'epoch'"),
            (["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["finetune": ["epochs": "two"]]],
             "hyperparameter 'epochs' must be a whole number"),
            (["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["cf-k": ["k": 1]]], "'cf-k' is not among the methods compared"),
            (["model": "m", "split": "s", "seeds": [1, 1]], "a seed is listed twice"),
            (["model": "m", "split": "s", "threadsPerMethod": 0], "'threadsPerMethod'"),
        ]
        for (params, message) in cases {
            let r = try c.call("compare", params)
            XCTAssertEqual(r.errorCode, -32602, "\(params)")
            XCTAssertTrue(r.errorMessage.contains(message), "\(r.errorMessage) should say \(message)")
        }
        XCTAssertEqual(try c.call("compare", ["model": "nope", "split": "s"]).errorCode, 1)
    }

    /// Cancelling the request stops every run: the reply is -32800 soon after, and no job is left running.
    func testCancellingStopsEveryRun() throws {
        let d = try DaemonProcess(extraArguments: ["--threads", "2"])
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c, epochs: 1)
        let id = try c.send("compare", ["model": "m", "split": "s", "methods": ["finetune", "eu-k"], "seeds": [0, 1],
                                        "hyperparameters": ["finetune": ["epochs": 100000, "batchSize": 1], "eu-k": ["epochs": 100000, "batchSize": 1],
                                                            "retrain": ["epochs": 100000, "batchSize": 1]]])
        let watcher = try d.connect()
        var sawJob = false
        for _ in 0..<100 where !sawJob {
            usleep(20_000)
            if case .array(let jobs)? = try watcher.call("server/status").result?["jobs"] { sawJob = jobs.contains { $0["method"] == "compare" } }
        }
        XCTAssertTrue(sawJob, "compare is listed as a job")
        usleep(300_000)
        let start = Date()
        try c.notify("$/cancelRequest", ["id": id])
        let reply = try XCTUnwrap(try c.readReply())
        XCTAssertEqual(reply.errorCode, -32800, "\(reply)")
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "every run stops at its next batch")
        guard case .array(let jobs)? = try watcher.call("server/status").result?["jobs"] else { return XCTFail() }
        XCTAssertTrue(jobs.isEmpty, "no run is left: \(jobs)")
        // The daemon goes on: a short compare still works.
        XCTAssertNotNil(try c.call("compare", ["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["finetune": ["epochs": 1]],
                                               "threadsPerMethod": 2]).result)
    }
}
