// Long work runs as a job on the compute pool, off the connection's event loop and off Swift's cooperative
// pool, so `server/status` and other clients are answered while a model trains.
import Dispatch
import Foundation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor

struct RunningJob: Sendable {
    let id: Int
    let method: String
    let target: String
    let started: Double
    /// Cancels the job (a daemon stopping on SIGTERM cancels them all).
    let control: JobControl
}

actor JobTable {
    private var next = 1
    private var running: [Int: RunningJob] = [:]

    func start(method: String, target: String, control: JobControl) -> Int {
        let id = next
        next += 1
        running[id] = RunningJob(id: id, method: method, target: target, started: monotonicSeconds(), control: control)
        return id
    }

    /// Asks every running job to stop at its next check.
    func cancelAll() { running.values.forEach { $0.control.cancel() } }

    func finish(_ id: Int) { running[id] = nil }

    var all: [RunningJob] { running.values.sorted { $0.id < $1.id } }
}

/// The compute queue and the cores. Each job's work runs with its own thread count for the engine's parallel loops
/// (thread-local), and OpenBLAS stays single-threaded (the engine splits matrix products over its workers). A job
/// starts only when its threads are free, so concurrent jobs never oversubscribe the cores — and a job never runs
/// with fewer threads than it asked for, which would change its bits.
enum ComputePool {
    private static let queue = DispatchQueue(label: "lethe.compute", qos: .userInitiated, attributes: .concurrent)
    private static let cores = NSCondition()
    nonisolated(unsafe) private static var free = ProcessInfo.processInfo.activeProcessorCount
    nonisolated(unsafe) private static var budget = ProcessInfo.processInfo.activeProcessorCount

    /// The threads all jobs together may use (the daemon's --threads).
    static func setBudget(_ threads: Int) {
        cores.lock()
        free += threads - budget
        budget = threads
        cores.unlock()
    }

    /// Runs blocking work on the compute queue with `threads` threads and resumes the caller with its result.
    /// With `threads` nil the work holds no cores: it only coordinates units that `submit` runs (compare).
    static func run<T: Sendable>(threads: Int?, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let threads else { return continuation.resume(with: Result { try work() }) }
                let wanted = acquire(threads)
                Parallel.threads = threads
                let result = Result { try work() }
                release(wanted)
                continuation.resume(with: result)
            }
        }
    }

    /// Runs `work` on the compute queue with `threads` threads once they are free; returns at once.
    static func submit(threads: Int, _ work: @escaping @Sendable () -> Void) {
        queue.async {
            let wanted = acquire(threads)
            Parallel.threads = threads
            work()
            release(wanted)
        }
    }

    private static func acquire(_ threads: Int) -> Int {
        cores.lock()
        let wanted = min(threads, budget)
        while free < wanted { cores.wait() }
        free -= wanted
        cores.unlock()
        return wanted
    }

    private static func release(_ wanted: Int) {
        cores.lock()
        free += wanted
        cores.broadcast()
        cores.unlock()
    }
}

extension Daemon {
    /// Runs `work` as a job: listed by `server/status`, cancellable with `$/cancelRequest`, reporting
    /// `$/progress` to `token` when the request carried one.
    func job<T: Sendable>(
        _ method: String, target: String, token: ProgressToken?, threads: Int? = nil, context: RequestContext,
        holdsThreads: Bool = true, _ work: @escaping @Sendable (JobControl) throws -> T
    ) async throws -> T {
        let connection = context.connection
        if let threads, !(1...256).contains(threads) {
            throw RPCError.invalidParams("parameter 'threads' must be between 1 and 256, got \(threads)")
        }
        let jobThreads = threads ?? self.threads
        if let token, token.stringValue == nil, token.doubleValue == nil {
            throw RPCError.invalidParams("parameter 'workDoneToken' must be a string or a number")
        }
        context.run?.setThreads(jobThreads)
        let control = JobControl(progress: Self.progressReporter(token, connection, run: context.run))
        let jobID = await jobs.start(method: method, target: target, control: control)
        if let id = context.id { connection.register(control, for: id) }
        let outcome: Result<T, Error>
        do { outcome = .success(try await ComputePool.run(threads: holdsThreads ? jobThreads : nil) { try work(control) }) } catch { outcome = .failure(error) }
        if let id = context.id { connection.unregister(id) }
        await jobs.finish(jobID)
        do {
            return try outcome.get()
        } catch is JobCancelled {
            throw RPCError(code: .requestCancelled, message: "\(method) was cancelled; nothing was changed")
        }
    }

    /// Sends the engine's progress reports as `$/progress` to `token` on `connection`, and records their epochs in
    /// `run`; nil with neither. `stagePrefix` names the unit within a larger job (compare's "<method>/<seed> ").
    static func progressReporter(_ token: ProgressToken?, _ connection: Connection, stagePrefix: String = "",
                                 run: RunRecorder? = nil) -> (@Sendable (JobControl.Progress) -> Void)? {
        guard token != nil || run != nil else { return nil }
        return { @Sendable progress in
            if let token {
                connection.notify("$/progress", ProgressParams(token: token, value: ProgressValue(
                    stage: stagePrefix + progress.stage, unit: progress.unit.rawValue, step: progress.step, steps: progress.steps,
                    epoch: progress.unit == .epoch ? progress.step : nil, epochs: progress.unit == .epoch ? progress.steps : nil,
                    loss: progress.loss, accuracy: progress.accuracy, examplesPerSecond: progress.examplesPerSecond)))
            }
            if let run {
                var named = progress
                named.stage = stagePrefix + progress.stage
                run.progress(named)
            }
        }
    }
}

extension ComputePool {
    /// Runs `work` as a unit on the pool with `threads` threads (the calling job's default when nil) and waits for
    /// it: for a job that holds no cores itself (it coordinates fleet units) and then computes.
    static func runHere<T>(threads: Int?, _ work: @escaping () throws -> T) throws -> T {
        let threads = threads ?? Parallel.defaultThreads
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, Error>!
        let box = UncheckedBox { result = Result { try work() } }
        submit(threads: threads) {
            box.value()
            done.signal()
        }
        done.wait()
        return try result.get()
    }
}

/// Carries a non-Sendable closure to a pool thread that runs it while the caller waits.
private struct UncheckedBox: @unchecked Sendable {
    let value: () -> Void
    init(_ value: @escaping () -> Void) { self.value = value }
}

/// Errors of concurrent units: the first real error wins over the cancellations it caused.
final class UnitFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []
    func record(_ error: Error) { lock.withLock { errors.append(error) } }
    func rethrow() throws {
        try lock.withLock {
            if let real = errors.first(where: { !($0 is JobCancelled) }) { throw real }
            if let cancelled = errors.first { throw cancelled }
        }
    }
}
