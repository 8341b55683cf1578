// initialize, shutdown, exit, server/status.
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Unlearning

extension Daemon {
    func initialize(_ params: Initialize.Params) -> Initialize.Result {
        if let client = params.clientInfo { logger.info("client \(client.name) \(client.version ?? "") initialised") }
        return .init(
            serverInfo: .init(name: "lethed", version: Self.version),
            capabilities: .init(methods: methodNames, unlearningMethods: UnlearningRegistry.names, attacks: AttackRegistry.names,
                                architectures: Architecture.kinds, framings: ["content-length", "lines"]))
    }

    func shutdown() -> NullResult {
        isShuttingDown = true
        logger.info("shutdown requested")
        return NullResult()
    }

    func status() async -> ServerStatus.Result {
        let names = await workspace.names
        let now = monotonicSeconds()
        let running = await jobs.all.map { ServerStatus.Job(id: $0.id, method: $0.method, target: $0.target, seconds: now - $0.started) }
        let cache = outputs.stats
        let resident = await residentObjects().filter { $0.kind != "outputs cache" }.map { ServerStatus.Resident(kind: $0.kind, name: $0.name, bytes: $0.bytes) }
        let fleetList = fleets.all
        return .init(version: Self.version, pid: Int(ProcessInfo.processInfo.processIdentifier), uptimeSeconds: now - started,
                     threads: threads, datasets: names.datasets, splits: names.splits, models: names.models, jobs: running,
                     fleets: fleetList.map(\.id), resident: resident,
                     outputsCache: .init(entries: cache.entries, bytes: cache.bytes, budgetBytes: outputs.budget, hits: cache.hits, misses: cache.misses))
    }

    /// SIGTERM and SIGINT: refuse new work, cancel every running job (their requests are answered -32800 and their
    /// runs recorded cancelled), wait for them to stop (at most 10 s), then close the run store. The caller removes
    /// the socket and exits.
    public func stopOnSignal() async {
        isShuttingDown = true
        await jobs.cancelAll()
        for _ in 0..<500 where !(await jobs.all.isEmpty) { try? await Task.sleep(nanoseconds: 20_000_000) }
        try? await Task.sleep(nanoseconds: 150_000_000)  // the cancelled requests' replies and run records go out
        do { try runs?.cancelRunning(); try runs?.close() } catch { logger.error("run store: \(error)") }
    }
}
