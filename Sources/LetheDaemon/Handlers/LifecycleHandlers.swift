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
            capabilities: .init(methods: methodNames, unlearningMethods: UnlearningRegistry.names, attacks: Attack.kinds,
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
        return .init(version: Self.version, pid: Int(ProcessInfo.processInfo.processIdentifier), uptimeSeconds: now - started,
                     threads: threads, datasets: names.datasets, splits: names.splits, models: names.models, jobs: running)
    }
}
