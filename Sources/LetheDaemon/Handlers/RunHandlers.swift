// run/list, run/show, run/export and run/delete over the run store.
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet

extension Daemon {
    private func store() throws -> RunStore {
        guard let runs else { throw RPCError(code: .notFound, message: "this daemon records no runs (it was started without a state directory)") }
        return runs
    }

    func runList(_ p: RunSelection) throws -> RunList.Result {
        let filter = try Self.filter(p, defaultLimit: 50)
        let (runs, total) = try store().list(filter)
        return .init(runs: runs.map { Self.info($0, result: false, progress: nil) }, total: total)
    }

    func runShow(_ p: RunShow.Params) throws -> RunInfo {
        guard let (run, progress) = try store().show(Int64(p.id)) else { throw RPCError.notFound("run", String(p.id)) }
        return Self.info(run, result: true, progress: progress.map {
            RunProgress(stage: $0["stage"], unit: $0["unit"], step: $0["step"], steps: $0["steps"], loss: $0["loss"], accuracy: $0["accuracy"],
                        at: Self.iso($0["at"]))
        })
    }

    func runExport(_ p: RunExport.Params) throws -> RunExport.Result {
        let format = p.format ?? "jsonl"
        guard RunExport.formats.contains(format) else {
            throw RPCError.invalidParams("parameter 'format' must be one of \(RunExport.formats.joined(separator: ", ")), got '\(format)'")
        }
        guard !p.path.isEmpty else { throw RPCError.invalidParams("parameter 'path' must not be empty") }
        let selection = RunSelection(kind: p.kind, model: p.model, method: p.method, status: p.status, since: p.since, until: p.until)
        var filter = try Self.filter(selection, defaultLimit: Int.max)
        filter.limit = Int(Int32.max)
        let runs = try store().list(filter).runs.reversed().map { Self.info($0, result: true, progress: nil) }
        var text = ""
        if format == "jsonl" {
            for run in runs { text += String(decoding: try JSONCoding.encoder.encode(run), as: UTF8.self) + "\n" }
        } else {
            let header = ["id", "kind", "method", "model", "split", "dataset", "splitFingerprint", "datasetFingerprint", "seed", "threads", "status", "error",
                          "startedAt", "endedAt", "seconds", "params", "models", "result"]
            text = header.joined(separator: ",") + "\n"
            func json(_ v: JSONValue?) -> String { v.map { RunStore.text($0) } ?? "" }
            for r in runs {
                let cells: [String] = [String(r.id), r.kind, r.method ?? "", r.model ?? "", r.split ?? "", r.dataset ?? "", r.splitFingerprint ?? "", r.datasetFingerprint ?? "",
                                       r.seed.map(String.init) ?? "", r.threads.map(String.init) ?? "", r.status, r.error ?? "", r.startedAt,
                                       r.endedAt ?? "", r.seconds.map { String($0) } ?? "", json(r.params), json(r.models), json(r.result)]
                text += cells.map(Self.csvCell).joined(separator: ",") + "\n"
            }
        }
        let bytes = Array(text.utf8)
        do { try AtomicFile.write(bytes, to: p.path) } catch let e as ModelFileError {
            throw RPCError(code: .notFound, message: "parameter 'path': \(e)")
        }
        return .init(path: p.path, runs: runs.count, bytes: bytes.count)
    }

    func runDelete(_ p: RunDelete.Params) throws -> RunDelete.Result {
        guard !p.ids.isEmpty else { throw RPCError.invalidParams("parameter 'ids': give at least one run id") }
        let outcome = try store().delete(p.ids.map(Int64.init))
        if let missing = outcome.missing.first { throw RPCError.notFound("run", String(missing)) }
        if let running = outcome.running.first {
            throw RPCError(code: .busy, message: "run \(running) is still running; cancel its request or retry when it ends (runs deleted: \(outcome.deleted))")
        }
        return .init(deleted: outcome.deleted.map(Int.init))
    }

    static func filter(_ p: RunSelection, defaultLimit: Int) throws -> RunFilter {
        if let s = p.status, !RunStore.statuses.contains(s) {
            throw RPCError.invalidParams("parameter 'status' must be one of \(RunStore.statuses.joined(separator: ", ")), got '\(s)'")
        }
        func time(_ text: String?, _ field: String) throws -> Double? {
            guard let text else { return nil }
            guard let date = isoParser.date(from: text) else {
                throw RPCError.invalidParams("parameter '\(field)' must be an ISO 8601 time such as 2026-11-29T15:00:00Z, got '\(text)'")
            }
            return date.timeIntervalSince1970
        }
        let limit = p.limit ?? defaultLimit
        guard (1...1000).contains(limit) || defaultLimit == Int.max else { throw RPCError.invalidParams("parameter 'limit' must be between 1 and 1000, got \(limit)") }
        guard (p.offset ?? 0) >= 0 else { throw RPCError.invalidParams("parameter 'offset' must not be negative") }
        return RunFilter(kind: p.kind, model: p.model, method: p.method, status: p.status, since: try time(p.since, "since"),
                         until: try time(p.until, "until"), limit: min(limit, Int(Int32.max)), offset: p.offset ?? 0)
    }

    static func info(_ r: RunRecord, result: Bool, progress: [RunProgress]?) -> RunInfo {
        RunInfo(id: Int(r.id), kind: r.kind, method: r.method, model: r.model, split: r.split, dataset: r.dataset,
                splitFingerprint: r.splitFingerprint, datasetFingerprint: r.datasetFingerprint, seed: r.seed.map(Int.init), threads: r.threads, status: r.status, error: r.error,
                startedAt: iso(r.startedAt), endedAt: r.endedAt.map(iso), seconds: r.endedAt.map { $0 - r.startedAt },
                params: r.params, models: r.models, result: result ? r.result : nil, progress: progress)
    }

    static func iso(_ t: Double) -> String { isoFormatter.string(from: Date(timeIntervalSince1970: t)) }

    /// One formatter for every time written (with milliseconds) and one for every time read (handlers run on the
    /// daemon's actor, one at a time).
    nonisolated(unsafe) private static let isoFormatter: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
    nonisolated(unsafe) private static let isoParser = ISO8601DateFormatter()

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled.
    static func csvCell(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
