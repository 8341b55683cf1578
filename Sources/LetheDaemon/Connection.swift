// Per-connection state: the framing in use, the outbound queue (one writer drains it, so replies and
// `$/progress` notifications never interleave) and the jobs in flight, for `$/cancelRequest`.
import Foundation
import JSONRPC
import NeuralNet

final class Connection: @unchecked Sendable {
    enum Outbound: Sendable {
        case bytes([UInt8])
        /// Runs once everything queued before it has been written (`exit` replies, then exits).
        case afterFlush(@Sendable () -> Void)
    }

    let outbound: AsyncStream<Outbound>
    private let continuation: AsyncStream<Outbound>.Continuation
    private let lock = NSLock()
    private var framing: Framing = .lines
    private var inFlight: [RequestID: JobControl] = [:]
    private var closed = false

    init() {
        (outbound, continuation) = AsyncStream.makeStream(of: Outbound.self)
    }

    func setFraming(_ f: Framing) { lock.withLock { framing = f } }

    /// Queues one JSON payload, framed as this connection frames.
    func send(_ payload: [UInt8]) {
        let f = lock.withLock { framing }
        continuation.yield(.bytes(f.frame(payload)))
    }

    func afterFlush(_ action: @escaping @Sendable () -> Void) { continuation.yield(.afterFlush(action)) }

    func notify<P: Encodable>(_ method: String, _ params: P) {
        guard let value = try? JSONValue(encoding: params),
              let data = try? JSONCoding.encoder.encode(OutgoingMessage(id: nil, method: method, params: value))
        else { return }
        send(Array(data))
    }

    func finish() { continuation.finish() }

    /// Tracks a running job; a job registered after the client left is cancelled at once.
    func register(_ control: JobControl, for id: RequestID) {
        let isClosed = lock.withLock {
            inFlight[id] = control
            return closed
        }
        if isClosed { control.cancel() }
    }
    func unregister(_ id: RequestID) { _ = lock.withLock { inFlight.removeValue(forKey: id) } }

    /// Cancels the job serving request `id`, if it is still running. Returns whether one was found.
    @discardableResult
    func cancel(_ id: RequestID) -> Bool {
        guard let control = lock.withLock({ inFlight[id] }) else { return false }
        control.cancel()
        return true
    }

    /// The client went away: nobody can read the replies, so stop its jobs, and those it queued.
    func close() {
        lock.withLock {
            closed = true
            inFlight.values.forEach { $0.cancel() }
        }
    }

    var isClosed: Bool { lock.withLock { closed } }
}

/// What a handler knows about the request it serves.
struct RequestContext: Sendable {
    let id: RequestID?
    let connection: Connection
    /// The run this request is recorded as, when it is one (Runs/RunRecording.swift).
    var run: RunRecorder? = nil
}
