// The run store: every job is a run, recorded when it starts and when it ends, found again after a restart;
// SIGKILL leaves runs that the next start marks interrupted, SIGTERM cancels running jobs and records them cancelled;
// export writes what list shows; delete removes finished runs only.
import Foundation
import JSONRPC
import XCTest

final class RunStoreTests: XCTestCase {
    private func ok(_ r: JSONValue, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
        try XCTUnwrap(r.result, "\(r)", file: file, line: line)
    }

    private func setUp(_ c: RawConnection) throws {
        _ = try ok(c.call("dataset/load", ["name": "d", "path": .string(try writeSyntheticIDX(train: 240, test: 120)), "classes": 3]))
        _ = try ok(c.call("split/create", ["name": "s", "dataset": "d", "forget": ["count": 24], "seed": 2]))
        _ = try ok(c.call("model/create", ["name": "m", "architecture": ["kind": "mlp", "hidden": [16]], "dataset": "d", "seed": 1]))
    }

    private func runs(_ c: RawConnection, _ filter: [String: JSONValue] = [:]) throws -> [JSONValue] {
        guard case .array(let runs)? = try ok(c.call("run/list", .object(filter)))["runs"] else { return [] }
        return runs
    }

    func testEveryJobIsARunAndSurvivesARestart() throws {
        let state = NSTemporaryDirectory() + "lethe-runs-\(UUID().uuidString.prefix(8))"
        var d = try DaemonProcess(extraArguments: ["--threads", "2"], stateDirectory: state)
        var c = try d.connect()
        try setUp(c)
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 2, "batchSize": 16]))
        let forgot = try ok(c.call("forget", ["model": "m", "split": "s", "method": "finetune", "seed": 3, "hyperparameters": ["epochs": 1]]))
        _ = try ok(c.call("evaluate", ["model": "m-finetune", "split": "s"]))
        _ = try ok(c.call("attack", ["model": "m-finetune", "split": "s"]))
        XCTAssertEqual(try c.call("forget", ["model": "m", "split": "s", "method": "finetune", "output": "x", "hyperparameters": ["epoch": 1]])["error"]?["code"], -32602)

        let all = try runs(c)
        XCTAssertEqual(all.compactMap { $0["kind"]?.stringValue }, ["forget", "attack", "evaluate", "forget", "model/train"], "newest first")
        XCTAssertEqual(all[0]["status"], "failed")
        XCTAssertTrue(all[0]["error"]?.stringValue?.contains("epoch") ?? false, "\(all[0])")
        let forget = all[3]
        XCTAssertEqual(forget["status"], "succeeded")
        XCTAssertEqual(forget["method"], "finetune")
        XCTAssertEqual(forget["seed"], 3)
        XCTAssertEqual(forget["split"], "s")
        XCTAssertEqual(forget["dataset"], "d")
        XCTAssertEqual(forget["params"]?["hyperparameters"]?["epochs"], 1, "the params as sent")
        XCTAssertEqual(forget["threads"]?.number, 2.0, "the job's threads (the daemon's --threads)")
        guard case .array(let models)? = forget["models"] else { return XCTFail("\(forget)") }
        let written = models.first { $0["role"] == "written" }
        XCTAssertEqual(written?["name"], "m-finetune")
        XCTAssertEqual(written?["fingerprint"], forgot["fingerprint"])
        XCTAssertEqual(models.first { $0["role"] == "read" }?["name"], "m")
        XCTAssertEqual(forget["datasetFingerprint"]?.stringValue?.count, 16)
        XCTAssertEqual(forget["datasetFingerprint"], all[4]["datasetFingerprint"], "train (by dataset) and forget (by split) saw the same data")

        let shown = try ok(c.call("run/show", ["id": forget["id"]!]))
        XCTAssertEqual(shown["result"]?["hyperparameters"]?["lr"], forgot["hyperparameters"]?["lr"], "the resolved hyperparameters")
        let train = try ok(c.call("run/show", ["id": all[4]["id"]!]))
        guard case .array(let progress)? = train["progress"] else { return XCTFail("\(train)") }
        XCTAssertEqual(progress.compactMap { $0["step"]?.number }, [1, 2], "one progress row per epoch")

        // A compare's units record their epochs too, named by method and seed.
        _ = try ok(c.call("compare", ["model": "m", "split": "s", "methods": ["finetune"], "hyperparameters": ["finetune": ["epochs": 1], "retrain": ["epochs": 1]]]))
        let compared = try ok(c.call("run/show", ["id": try runs(c, ["kind": "compare"]).first!["id"]!]))
        guard case .array(let unitProgress)? = compared["progress"] else { return XCTFail("\(compared)") }
        XCTAssertEqual(Set(unitProgress.compactMap { $0["stage"]?.stringValue }), ["retrain/0 retrain", "finetune/0 finetune"])
        XCTAssertEqual(try ok(c.call("run/delete", ["ids": [compared["id"]!]]))["deleted"], [compared["id"]!])

        XCTAssertEqual(try runs(c, ["kind": "forget"]).count, 2)
        XCTAssertEqual(try runs(c, ["status": "failed"]).count, 1)
        XCTAssertEqual(try runs(c, ["model": "m-finetune"]).count, 3, "forget wrote it, evaluate and attack read it")
        let page = try ok(c.call("run/list", ["limit": 2, "offset": 1]))
        XCTAssertEqual(page["total"], 5)
        guard case .array(let paged)? = page["runs"] else { return XCTFail() }
        XCTAssertEqual(paged.map { $0["id"] }, [all[1]["id"], all[2]["id"]])
        XCTAssertEqual(try c.call("run/list", ["status": "lost"])["error"]?["code"], -32602)

        d.stop()
        d = try DaemonProcess(stateDirectory: state)
        c = try d.connect()
        XCTAssertEqual(try runs(c).map { $0["id"] }, all.map { $0["id"] }, "every run is there after a restart")
        d.stop()
    }

    func testExportWritesWhatListShowsAndDeleteRemovesFinishedRuns() throws {
        let d = try DaemonProcess()
        defer { d.stop() }
        let c = try d.connect()
        try setUp(c)
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16]))
        _ = try ok(c.call("evaluate", ["model": "m", "split": "s"]))
        _ = try ok(c.call("attack", ["model": "m", "split": "s", "kind": "mia-efficacy"]))
        let dir = NSTemporaryDirectory() + "lethe-export-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let jsonl = try ok(c.call("run/export", ["path": .string(dir + "/runs.jsonl")]))
        XCTAssertEqual(jsonl["runs"], 3)
        let lines = try String(contentsOfFile: dir + "/runs.jsonl", encoding: .utf8).split(separator: "\n")
        let decoded = try lines.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
        XCTAssertEqual(decoded.compactMap { $0["kind"]?.stringValue }, ["model/train", "evaluate", "attack"], "oldest first")
        XCTAssertEqual(decoded[2]["result"]?["scoreName"], "efficacy", "with results")
        _ = try ok(c.call("run/export", ["path": .string(dir + "/attacks.csv"), "format": "csv", "kind": "attack"]))
        let csv = try String(contentsOfFile: dir + "/attacks.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.count, 2, "a header and one run")
        XCTAssertTrue(csv[0].hasPrefix("id,kind,method,model,split"))
        XCTAssertTrue(csv[1].contains(",attack,mia-efficacy,m,s,"), String(csv[1]))
        XCTAssertEqual(try c.call("run/export", ["path": .string(dir + "/x"), "format": "xml"])["error"]?["code"], -32602)

        let first = try runs(c).last!["id"]!
        XCTAssertEqual(try ok(c.call("run/delete", ["ids": [first]]))["deleted"], [first])
        XCTAssertEqual(try runs(c).count, 2)
        XCTAssertEqual(try c.call("run/show", ["id": first])["error"]?["code"], 1)
        XCTAssertEqual(try c.call("run/delete", ["ids": [first]])["error"]?["code"], 1)
    }

    /// SIGKILL mid-job: the next start marks the run interrupted. SIGTERM mid-job: the request is answered -32800,
    /// the run recorded cancelled, the socket removed and the daemon exits 0.
    func testKillLeavesInterruptedRunsAndSIGTERMCancels() throws {
        let state = NSTemporaryDirectory() + "lethe-runs-\(UUID().uuidString.prefix(8))"
        func startLongTraining(_ d: DaemonProcess) throws -> RawConnection {
            let c = try d.connect()
            try setUp(c)
            _ = try c.send("model/train", ["model": "m", "dataset": "d", "epochs": 100000, "batchSize": 1])
            let watcher = try d.connect()
            for _ in 0..<200 {
                if case .array(let jobs)? = try watcher.call("server/status").result?["jobs"], !jobs.isEmpty { break }
                usleep(20_000)
            }
            return c
        }
        var d = try DaemonProcess(stateDirectory: state)
        _ = try startLongTraining(d)
        kill(d.process.processIdentifier, SIGKILL)
        d.process.waitUntilExit()
        d = try DaemonProcess(stateDirectory: state)
        var c = try d.connect()
        XCTAssertEqual(try runs(c).first?["status"], "interrupted")

        let training = try startLongTraining(d)
        kill(d.process.processIdentifier, SIGTERM)
        let reply = try XCTUnwrap(try training.readReply())
        XCTAssertEqual(reply["error"]?["code"], -32800, "\(reply)")
        d.process.waitUntilExit()
        XCTAssertEqual(d.process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: d.socketPath), "the socket is removed")
        d = try DaemonProcess(stateDirectory: state)
        c = try d.connect()
        XCTAssertEqual(try runs(c).map { $0["status"] }, ["cancelled", "interrupted"])
        d.stop()
    }

    /// model/save without a path puts the model in the library, which a restart keeps: model/list shows it and
    /// model/load by name gives back the same weights.
    func testTheModelLibrarySurvivesARestart() throws {
        let state = NSTemporaryDirectory() + "lethe-library-\(UUID().uuidString.prefix(8))"
        var d = try DaemonProcess(stateDirectory: state)
        var c = try d.connect()
        try setUp(c)
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16]))
        let saved = try ok(c.call("model/save", ["model": "m"]))
        XCTAssertEqual(saved["path"]?.stringValue, state + "/models/m.safetensors")
        d.stop()
        d = try DaemonProcess(stateDirectory: state)
        c = try d.connect()
        XCTAssertEqual(try ok(c.call("model/list"))["models"], [["name": "m", "resident": false, "saved": true,
                                                                 "path": saved["path"]!, "bytes": saved["bytes"]!]])
        let loaded = try ok(c.call("model/load", ["name": "m"]))
        XCTAssertEqual(loaded["fingerprint"], saved["fingerprint"])
        guard case .array(let models)? = try ok(c.call("model/list"))["models"] else { return XCTFail() }
        XCTAssertEqual(models.first?["resident"], true)
        XCTAssertEqual(models.first?["fingerprint"], saved["fingerprint"])
        XCTAssertEqual(try c.call("model/load", ["name": "nope"])["error"]?["code"], 1)
        d.stop()
    }
    /// A store written by the first schema version (as Python's sqlite3 writes it here, with GRDB's migration table)
    /// opens in this daemon: its runs are kept and the new column is added.
    func testAStoreOfTheFirstSchemaVersionIsMigrated() throws {
        let state = NSTemporaryDirectory() + "lethe-v1-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let sql = [
            "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)",
            "INSERT INTO grdb_migrations VALUES ('v1: runs and their per-epoch progress')",
            "CREATE TABLE run (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, method TEXT, model TEXT, split TEXT, dataset TEXT, "
                + "splitFingerprint TEXT, seed INTEGER, threads INTEGER, params TEXT NOT NULL, models TEXT NOT NULL DEFAULT '[]', "
                + "status TEXT NOT NULL, error TEXT, result TEXT, startedAt DOUBLE NOT NULL, endedAt DOUBLE)",
            "CREATE TABLE progress (run INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE, stage TEXT NOT NULL, unit TEXT NOT NULL, "
                + "step INTEGER NOT NULL, steps INTEGER NOT NULL, loss DOUBLE, accuracy DOUBLE, at DOUBLE NOT NULL)",
            "INSERT INTO run (kind, method, params, status, startedAt, endedAt) VALUES ('forget', 'finetune', '{\"model\":\"old\"}', 'succeeded', 1e9, 1e9 + 5)",
        ].joined(separator: ";\n")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(sys.argv[2]); db.commit()",
                       state + "/runs.sqlite", sql]
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let d = try DaemonProcess(stateDirectory: state)
        defer { d.stop() }
        let c = try d.connect()
        guard case .array(let old)? = try ok(c.call("run/list"))["runs"] else { return XCTFail() }
        XCTAssertEqual(old.count, 1)
        XCTAssertEqual(old.first?["params"]?["model"], "old")
        XCTAssertNil(old.first?["datasetFingerprint"])
        try setUp(c)
        _ = try ok(c.call("model/train", ["model": "m", "dataset": "d", "epochs": 1, "batchSize": 16]))
        guard case .array(let runs)? = try ok(c.call("run/list"))["runs"] else { return XCTFail() }
        XCTAssertEqual(runs.count, 2)
        XCTAssertEqual(runs.first?["datasetFingerprint"]?.stringValue?.count, 16, "the new column is filled for new runs")
    }
}
