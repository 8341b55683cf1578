// A small blocking JSON-RPC client over the daemon's Unix socket (line framing). The CLI needs nothing more, and
// staying off SwiftNIO keeps its start-up in milliseconds. While a call waits, Ctrl-C sends `$/cancelRequest` for it
// and the call goes on waiting for the daemon's reply (Interrupt.swift); a second Ctrl-C quits at once.
import Foundation
import JSONRPC
import LetheProtocol

/// A failure on the client's side of the socket; `status` is the exit status it maps to.
struct ClientError: Error, CustomStringConvertible {
    /// What went wrong, as one line a person can act on.
    let description: String
    /// The exit status (ExitStatus.swift).
    var status: ExitStatus = .unavailable
}

/// The request was cancelled at the user's request (Ctrl-C) and the daemon confirmed it with -32800.
struct CancelledByUser: Error {
    /// The daemon's message.
    let message: String
}

/// One connection to lethed.
final class LetheClient {
    private let fd: Int32
    private var parser = FrameParser(framing: .lines)
    private var nextID = 1
    /// Called for `$/progress` notifications that arrive while waiting for a reply.
    var onProgress: ((ProgressParams) -> Void)?
    /// Called once when Ctrl-C asked the daemon to cancel the call in flight.
    var onCancelling: (() -> Void)?
    /// Called when a call ends, however it ends (the progress display closes its live line).
    var onCallEnded: (() -> Void)?
    /// What cancels a call in flight: Ctrl-C by default; `lethe mcp` gives each call its own (an MCP cancellation).
    var cancelSignal: CancelSignal = .interrupt

    /// Connects to a daemon listening at `socketPath`; throws `ClientError` with the reason when none answers.
    init(socketPath: String) throws {
        fd = try Self.connect(socketPath)
    }

    /// Wraps an already connected socket.
    init(connected fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// The connected socket (for `lethe stdio`, which copies bytes both ways).
    var descriptor: Int32 { fd }

    /// Opens a stream socket to `path`, or throws `ClientError` carrying errno's reason.
    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ClientError(description: "socket path too long: \(path)", status: .usage)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ClientError(description: "cannot reach lethed at \(path) (\(reason)); start it with `lethed --socket \(path)`, or drop --no-autostart")
        }
        return fd
    }

    /// Sends a request and waits for its reply; returns the raw result. Ctrl-C while waiting cancels the request
    /// on the daemon and throws `CancelledByUser` once the daemon confirms.
    func call(_ method: String, _ params: JSONValue?) throws -> JSONValue {
        let id = nextID
        nextID += 1
        try write(OutgoingMessage(id: .number(Double(id)), method: method, params: params))
        cancelSignal.begin()
        defer { cancelSignal.end(); onCallEnded?() }
        var cancelling = false
        while true {
            guard let message = try readMessage(interruptible: !cancelling) else {
                // Ctrl-C: ask the daemon to stop this request, then keep reading until it answers.
                cancelling = true
                onCancelling?()
                try write(OutgoingMessage(id: nil, method: "$/cancelRequest", params: .object(["id": .number(Double(id))])))
                continue
            }
            if message["method"] == .string("$/progress"), let params = message["params"],
               let progress = try? params.decode(as: ProgressParams.self) {
                onProgress?(progress)
                continue
            }
            guard message["id"] == .number(Double(id)) else { continue }
            if let error = message["error"], let object = try? error.decode(as: ErrorObject.self) {
                if cancelling && object.code == ErrorCode.requestCancelled.rawValue { throw CancelledByUser(message: object.message) }
                throw RPCError(code: ErrorCode(rawValue: object.code), message: object.message, data: object.data)
            }
            return message["result"] ?? .null
        }
    }

    /// Calls a typed method of the protocol.
    func call<M: LetheMethod>(_ method: M.Type, _ params: M.Params) throws -> M.Result {
        try call(M.name, try JSONValue(encoding: params)).decode(as: M.Result.self)
    }

    /// Sends a notification (no reply).
    func notify(_ method: String) throws { try write(OutgoingMessage(id: nil, method: method, params: nil)) }

    private func write(_ message: OutgoingMessage) throws {
        let bytes = Framing.lines.frame(Array(try JSONCoding.encoder.encode(message)))
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(description: "lost the connection to lethed while sending", status: .connectionLost) }
            sent += n
        }
    }

    /// The next message, or nil when the cancel signal fired (only when `interruptible`).
    private func readMessage(interruptible: Bool) throws -> JSONValue? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let payload = try parser.next() { return try JSONDecoder().decode(JSONValue.self, from: Data(payload)) }
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: cancelSignal.readDescriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            if fds[1].revents != 0 && cancelSignal.consume() && interruptible { return nil }
            guard fds[0].revents != 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ClientError(description: "lethed closed the connection before replying", status: .connectionLost) }
            parser.append(chunk[0..<n])
        }
    }
}
