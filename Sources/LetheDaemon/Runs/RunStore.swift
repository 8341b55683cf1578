// The run store: every job the daemon runs (train, forget, evaluate, attack, compare, fleet) is a row in SQLite
// through GRDB, written when it starts and when it ends, so a crash loses nothing recorded and a restart finds every
// run. Runs still marked running when a daemon opens the store were cut off by a crash or SIGKILL: they become
// "interrupted". The schema is migrated by version (GRDB's DatabaseMigrator), so a newer daemon opens an older store.
import Foundation
import GRDB
import LetheProtocol
import JSONRPC

/// Why the run store cannot open.
struct RunStoreError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One recorded run, as run/list and run/show return it.
struct RunRecord: Sendable {
    let id: Int64
    let kind: String
    let method: String?
    let model: String?
    let split: String?
    let dataset: String?
    let splitFingerprint: String?
    let datasetFingerprint: String?
    let seed: Int64?
    let threads: Int?
    let params: JSONValue
    let models: JSONValue
    let status: String
    let error: String?
    let result: JSONValue?
    let startedAt: Double
    let endedAt: Double?
}

/// What run/list and run/export select.
struct RunFilter: Sendable {
    var kind: String?
    var model: String?
    var method: String?
    var status: String?
    var since: Double?
    var until: Double?
    var limit: Int = 100
    var offset: Int = 0
}

final class RunStore: @unchecked Sendable {
    /// Run statuses (the protocol's list).
    static let statuses = RunList.statuses
    let path: String
    private let queue: DatabaseQueue
    /// The open lock file: one daemon per state directory, so no daemon marks another's running runs interrupted.
    private let lockDescriptor: Int32

    /// Opens (creating and migrating) `<directory>/runs.sqlite`; marks runs left running by a previous process
    /// interrupted. `directory` is created with mode 0700 when missing.
    init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let lockPath = directory + "/lethed.lock"
        let fd = open(lockPath, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { throw RunStoreError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            Glibc.close(fd)
            throw RunStoreError("another lethed (pid \(holder)) records its runs in \(directory); stop it or start this one with another --state-dir")
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        lockDescriptor = fd
        path = directory + "/runs.sqlite"
        queue = try DatabaseQueue(path: path)
        try Self.migrator.migrate(queue)
        try queue.write { db in
            try db.execute(sql: "UPDATE run SET status = 'interrupted', endedAt = ? WHERE status = 'running'",
                           arguments: [Date().timeIntervalSince1970])
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: runs and their per-epoch progress") { db in
            try db.create(table: "run") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("kind", .text).notNull().indexed()
                t.column("method", .text).indexed()
                t.column("model", .text).indexed()
                t.column("split", .text)
                t.column("dataset", .text)
                t.column("splitFingerprint", .text)
                t.column("seed", .integer)
                t.column("threads", .integer)
                t.column("params", .text).notNull()
                t.column("models", .text).notNull().defaults(to: "[]")
                t.column("status", .text).notNull().indexed()
                t.column("error", .text)
                t.column("result", .text)
                t.column("startedAt", .double).notNull().indexed()
                t.column("endedAt", .double)
            }
            try db.create(table: "progress") { t in
                t.column("run", .integer).notNull().indexed().references("run", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("unit", .text).notNull()
                t.column("step", .integer).notNull()
                t.column("steps", .integer).notNull()
                t.column("loss", .double)
                t.column("accuracy", .double)
                t.column("at", .double).notNull()
            }
        }
        m.registerMigration("v2: the dataset's fingerprint") { db in
            try db.alter(table: "run") { t in t.add(column: "datasetFingerprint", .text) }
        }
        return m
    }

    /// Records a run that starts now; returns its id.
    func begin(kind: String, method: String?, model: String?, split: String?, dataset: String?, splitFingerprint: String?,
               datasetFingerprint: String?, seed: Int64?, params: JSONValue) throws -> Int64 {
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO run (kind, method, model, split, dataset, splitFingerprint, datasetFingerprint, seed, params, status, startedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)
                """, arguments: [kind, method, model, split, dataset, splitFingerprint, datasetFingerprint, seed, Self.text(params),
                                 Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    /// One epoch (or step) of a run's progress.
    func progress(run: Int64, stage: String, unit: String, step: Int, steps: Int, loss: Double, accuracy: Double) {
        try? queue.write { db in
            try db.execute(sql: "INSERT INTO progress (run, stage, unit, step, steps, loss, accuracy, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [run, stage, unit, step, steps, loss.isFinite ? loss : nil, accuracy.isFinite ? accuracy : nil,
                                       Date().timeIntervalSince1970])
        }
    }

    /// Ends a run: its status, error or result, the threads it ran with and the models it read and wrote.
    func finish(run: Int64, status: String, error: String?, result: JSONValue?, threads: Int?, models: JSONValue) throws {
        try queue.write { db in
            try db.execute(sql: """
                UPDATE run SET status = ?, error = ?, result = ?, threads = COALESCE(?, threads), models = ?, endedAt = ? WHERE id = ?
                """, arguments: [status, error, result.map(Self.text), threads, Self.text(models), Date().timeIntervalSince1970, run])
        }
    }

    func list(_ f: RunFilter) throws -> (runs: [RunRecord], total: Int) {
        try queue.read { db in
            let (whereSQL, arguments) = Self.whereClause(f)
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run" + whereSQL, arguments: arguments) ?? 0
            var page = arguments
            page += [f.limit, f.offset]
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM run" + whereSQL + " ORDER BY id DESC LIMIT ? OFFSET ?", arguments: page)
            return (rows.map(Self.record), total)
        }
    }

    func show(_ id: Int64) throws -> (RunRecord, [Row])? {
        try queue.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else { return nil }
            let progress = try Row.fetchAll(db, sql: "SELECT * FROM progress WHERE run = ? ORDER BY rowid", arguments: [id])
            return (Self.record(row), progress)
        }
    }

    /// Deletes finished runs by id; a running run is refused (returns it in `running`).
    func delete(_ ids: [Int64]) throws -> (deleted: [Int64], running: [Int64], missing: [Int64]) {
        try queue.write { db in
            var deleted: [Int64] = [], running: [Int64] = [], missing: [Int64] = []
            for id in ids {
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM run WHERE id = ?", arguments: [id]) else { missing.append(id); continue }
                if status == "running" { running.append(id); continue }
                try db.execute(sql: "DELETE FROM progress WHERE run = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
                deleted.append(id)
            }
            return (deleted, running, missing)
        }
    }

    /// Marks every run still running as cancelled (a daemon stopping on SIGTERM after its jobs were asked to stop).
    func cancelRunning() throws {
        try queue.write { db in
            try db.execute(sql: "UPDATE run SET status = 'cancelled', error = 'the daemon was stopped', endedAt = ? WHERE status = 'running'",
                           arguments: [Date().timeIntervalSince1970])
        }
    }

    /// Closes the database (after a graceful stop).
    func close() throws { try queue.close() }

    private static func whereClause(_ f: RunFilter) -> (String, StatementArguments) {
        var clauses: [String] = [], arguments: StatementArguments = []
        if let v = f.kind { clauses.append("kind = ?"); arguments += [v] }
        if let v = f.model { clauses.append("(model = ? OR models LIKE ?)"); arguments += [v, "%\"name\":\"\(v.replacingOccurrences(of: "%", with: ""))\"%"] }
        if let v = f.method { clauses.append("method = ?"); arguments += [v] }
        if let v = f.status { clauses.append("status = ?"); arguments += [v] }
        if let v = f.since { clauses.append("startedAt >= ?"); arguments += [v] }
        if let v = f.until { clauses.append("startedAt < ?"); arguments += [v] }
        return (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    private static func record(_ row: Row) -> RunRecord {
        RunRecord(id: row["id"], kind: row["kind"], method: row["method"], model: row["model"], split: row["split"], dataset: row["dataset"],
                  splitFingerprint: row["splitFingerprint"], datasetFingerprint: row["datasetFingerprint"], seed: row["seed"], threads: row["threads"],
                  params: json(row["params"]) ?? .object([:]), models: json(row["models"]) ?? .array([]), status: row["status"],
                  error: row["error"], result: json(row["result"]), startedAt: row["startedAt"], endedAt: row["endedAt"])
    }

    static func text(_ value: JSONValue) -> String {
        (try? JSONCoding.encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func json(_ text: String?) -> JSONValue? {
        text.flatMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }
}
