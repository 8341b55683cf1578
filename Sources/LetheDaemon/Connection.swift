// Per-connection state: the framing in use, the outbound queue (one writer drains it, so replies and
// `$/progress` notifications never interleave) and the jobs in flight, for `$/cancelRequest`.
import Foundation
import JSONRPC
import NeuralNet

final class Connection: @unchecked Sendable {
    let outbound: AsyncStream<[UInt8]>
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let lock = NSLock()
    private var framing: Framing = .lines
    private var inFlight: [RequestID: JobControl] = [:]

    init() {
        (outbound, continuation) = AsyncStream.makeStream(of: [UInt8].self)
    }

    func setFraming(_ f: Framing) { lock.withLock { framing = f } }

    /// Queues one JSON payload, framed as this connection frames.
    func send(_ payload: [UInt8]) {
        let f = lock.withLock { framing }
        continuation.yield(f.frame(payload))
    }

    func notify<P: Encodable>(_ method: String, _ params: P) {
        guard let value = try? JSONValue(encoding: params),
              let data = try? JSONCoding.encoder.encode(OutgoingMessage(id: nil, method: method, params: value))
        else { return }
        send(Array(data))
    }

    func finish() { continuation.finish() }

    func register(_ control: JobControl, for id: RequestID) { lock.withLock { inFlight[id] = control } }
    func unregister(_ id: RequestID) { _ = lock.withLock { inFlight.removeValue(forKey: id) } }

    /// Cancels the job serving request `id`, if it is still running. Returns whether one was found.
    @discardableResult
    func cancel(_ id: RequestID) -> Bool {
        guard let control = lock.withLock({ inFlight[id] }) else { return false }
        control.cancel()
        return true
    }

    /// The client went away: nobody can read the replies, so stop its jobs.
    func cancelAll() { lock.withLock { inFlight.values.forEach { $0.cancel() } } }
}

/// What a handler knows about the request it serves.
struct RequestContext: Sendable {
    let id: RequestID?
    let connection: Connection
}
