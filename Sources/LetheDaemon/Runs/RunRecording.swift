// Which requests are runs, and how one is recorded: begun before the handler runs (with the params as sent and the
// split's fingerprint), ended with its status, error or result, the threads its job used and the fingerprints of the
// models it read and wrote. A failure to write the store is logged and never fails the request.
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet

/// A run being recorded; the job reports its threads and per-epoch progress to it.
final class RunRecorder: @unchecked Sendable {
    let id: Int64
    let store: RunStore
    private let lock = NSLock()
    private var jobThreads: Int?

    init(id: Int64, store: RunStore) {
        self.id = id
        self.store = store
    }

    var threads: Int? { lock.withLock { jobThreads } }
    func setThreads(_ n: Int) { lock.withLock { jobThreads = n } }

    /// Records epoch-level progress (batch-level reports of measurement passes are not kept).
    func progress(_ p: JobControl.Progress) {
        guard p.unit == .epoch else { return }
        store.progress(run: id, stage: p.stage, unit: p.unit.rawValue, step: p.step, steps: p.steps, loss: p.loss, accuracy: p.accuracy)
    }
}

extension Daemon {
    /// The methods whose requests are runs.
    static let recordedMethods = Set(RunList.kinds)

    /// Runs `handler` as a recorded run.
    func recorded(_ method: String, params: JSONValue?, context: RequestContext, store: RunStore,
                  _ handler: (RequestContext) async throws -> JSONValue) async throws -> JSONValue {
        let given = params ?? .object([:])
        let splitName = given["split"]?.stringValue
        var splitEntry: SplitEntry?
        if let splitName { splitEntry = await workspace.splits[splitName] }
        var datasetFingerprint = splitEntry?.data.fingerprint
        if datasetFingerprint == nil, let name = given["dataset"]?.stringValue { datasetFingerprint = await workspace.datasets[name]?.fingerprint }
        let recorder: RunRecorder?
        do {
            let id = try store.begin(kind: method, method: given["method"]?.stringValue ?? given["kind"]?.stringValue,
                                     model: given["model"]?.stringValue, split: splitName,
                                     dataset: splitEntry?.dataset ?? given["dataset"]?.stringValue,
                                     splitFingerprint: splitEntry.map { String(format: "%016llx", $0.split.fingerprint) },
                                     datasetFingerprint: datasetFingerprint,
                                     seed: given["seed"]?.doubleValue.map { Int64(exactly: $0.rounded()) ?? 0 }, params: given)
            recorder = RunRecorder(id: id, store: store)
        } catch {
            logger.error("run store: cannot record a \(method) run: \(error)")
            recorder = nil
        }
        var context = context
        context.run = recorder
        do {
            let result = try await handler(context)
            if let recorder { await finish(recorder, method: method, params: given, result: result, error: nil) }
            return result
        } catch {
            if let recorder { await finish(recorder, method: method, params: given, result: nil, error: error) }
            throw error
        }
    }

    private func finish(_ recorder: RunRecorder, method: String, params: JSONValue, result: JSONValue?, error: Error?) async {
        let status: String
        var message: String?
        if let error {
            let rpc = Self.rpcError(error)
            status = rpc.code == .requestCancelled ? "cancelled" : "failed"
            message = "\(rpc.message) (error \(rpc.code.rawValue))"
        } else {
            status = "succeeded"
        }
        // The models it named, with the fingerprints they have now; the one it wrote is marked.
        let written: String? = method == Forget.name ? result?["model"]?.stringValue : method == ModelTrain.name ? params["model"]?.stringValue : nil
        var names: [String] = []
        for key in ["model", "output", "reference", "original"] { if let n = params[key]?.stringValue, !names.contains(n) { names.append(n) } }
        if let written, !names.contains(written) { names.append(written) }
        let resident = await workspace.models
        let models: [JSONValue] = names.compactMap { name in
            guard let entry = resident[name] else { return nil }
            return .object(["name": .string(name), "fingerprint": .string(entry.model.fingerprint),
                            "role": .string(name == written && error == nil ? "written" : "read")])
        }
        do {
            try recorder.store.finish(run: recorder.id, status: status, error: message, result: result, threads: recorder.threads,
                                      models: .array(models))
        } catch {
            logger.error("run store: cannot finish run \(recorder.id): \(error)")
        }
    }
}
