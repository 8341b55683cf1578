// Starts a real lethed on a temporary socket and talks to it over real Unix-socket connections.
import Foundation
import JSONRPC
import XCTest

final class DaemonProcess {
    let socketPath: String
    let process = Process()
    private let stderrPipe = Pipe()

    /// The lethed binary built beside this test bundle, or $LETHED.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["LETHED"] { return URL(fileURLWithPath: path) }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return dir.appendingPathComponent("lethed")
    }

    /// The daemon's run store directory: private to this daemon unless a test passes one (to restart on the same store).
    let stateDirectory: String

    init(extraArguments: [String] = [], stateDirectory: String? = nil) throws {
        let dir = NSTemporaryDirectory() + "lethe-e2e-\(UUID().uuidString.prefix(8))"
        socketPath = dir + "/lethed.sock"
        self.stateDirectory = stateDirectory ?? dir + "/state"
        process.executableURL = Self.binary
        process.arguments = ["--socket", socketPath, "--log-level", "warning", "--state-dir", self.stateDirectory] + extraArguments
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: socketPath) {
            guard process.isRunning, Date() < deadline else { throw HarnessError("lethed did not create \(socketPath)") }
            usleep(20_000)
        }
    }

    /// A connection to the daemon. The socket file appears at bind(), a moment before listen(): a connection
    /// refused in that window (seen under load) is retried for up to 5 s.
    func connect(_ framing: Framing = .lines) throws -> RawConnection {
        let deadline = Date().addingTimeInterval(5)
        while true {
            do {
                return try RawConnection(path: socketPath, framing: framing)
            } catch let error as HarnessError where error.description.contains("refused") && Date() < deadline && process.isRunning {
                usleep(20_000)
            }
        }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// One client connection: send requests in a framing, read replies and notifications.
final class RawConnection {
    private(set) var fd: Int32
    let framing: Framing
    private var parser: FrameParser
    private var nextID = 1
    /// Notifications read while waiting for replies.
    var notifications: [JSONValue] = []
    private var pending: [JSONValue] = []

    init(path: String, framing: Framing) throws {
        self.framing = framing
        parser = FrameParser(framing: framing)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw HarnessError("connect failed: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes the socket entirely (both directions), as a client that goes away.
    func disconnect() {
        close(fd)
        fd = -1
    }

    func sendRaw(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Sends one payload in this connection's framing.
    func sendPayload(_ text: String) { sendRaw(framing.frame(Array(text.utf8))) }

    /// Sends a request and returns its id.
    @discardableResult
    func send(_ method: String, _ params: JSONValue? = nil, id: JSONValue? = nil) throws -> JSONValue {
        let requestID = id ?? .number(Double(nextID))
        nextID += 1
        let data = try JSONCoding.encoder.encode(OutgoingMessage(id: requestID, method: method, params: params))
        sendRaw(framing.frame(Array(data)))
        return requestID
    }

    func notify(_ method: String, _ params: JSONValue? = nil) throws {
        let data = try JSONCoding.encoder.encode(OutgoingMessage(id: nil, method: method, params: params))
        sendRaw(framing.frame(Array(data)))
    }

    /// Reads one message of any kind, keeping notifications in `notifications`.
    func readOneMessage() throws -> JSONValue? {
        guard let m = try readMessage() else { return nil }
        if m["method"] != nil && m["id"] == nil { notifications.append(m) } else { pending.append(m) }
        return m
    }

    /// The next message that is not a notification; nil when the daemon closed the connection.
    func readReply() throws -> JSONValue? {
        while true {
            guard let m = try readMessage() else { return nil }
            if m["method"] != nil && m["id"] == nil { notifications.append(m); continue }
            return m
        }
    }

    /// Waits for the reply to `id` (replies to other ids are kept for later).
    func reply(to id: JSONValue) throws -> JSONValue {
        if let i = pending.firstIndex(where: { $0["id"] == id }) { return pending.remove(at: i) }
        while true {
            guard let m = try readReply() else { throw HarnessError("connection closed before the reply to \(id)") }
            if m["id"] == id { return m }
            pending.append(m)
        }
    }

    /// Sends a request and waits for its reply.
    func call(_ method: String, _ params: JSONValue? = nil) throws -> JSONValue {
        try reply(to: send(method, params))
    }

    private func readMessage() throws -> JSONValue? {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let payload = try parser.next() { return try JSONDecoder().decode(JSONValue.self, from: Data(payload)) }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return nil }
            if n < 0 { throw HarnessError("read failed: \(String(cString: strerror(errno)))") }
            parser.append(chunk[0..<n])
        }
    }
}

extension JSONValue {
    /// Builds params from a Swift literal-ish dictionary.
    static func obj(_ pairs: [String: JSONValue]) -> JSONValue { .object(pairs) }
    var errorCode: Int? { self["error"]?["code"]?.doubleValue.map { Int($0) } }
    var errorMessage: String { self["error"]?["message"]?.stringValue ?? "" }
    var result: JSONValue? { self["result"] }
    var number: Double { doubleValue ?? .nan }
}

/// A small MNIST-style IDX directory with learnable, class-dependent images.
func writeSyntheticIDX(train: Int, test: Int, side: Int = 8, classes: Int = 3, seed: UInt64 = 12345) throws -> String {
    let dir = NSTemporaryDirectory() + "lethe-e2e-data-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var state: UInt64 = seed
    func noise() -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int(state >> 58)  // 0..<64
    }
    func idx(_ dims: [Int], _ data: [UInt8]) -> Data {
        var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return Data(out + data)
    }
    for (stem, n) in [("train", train), ("t10k", test)] {
        var pixels: [UInt8] = []
        var labels: [UInt8] = []
        for i in 0..<n {
            let label = i % classes
            labels.append(UInt8(label))
            for p in 0..<(side * side) { pixels.append(UInt8(min(255, (p % classes == label ? 120 : 0) + noise() * 2))) }
        }
        try idx([n, side, side], pixels).write(to: URL(fileURLWithPath: "\(dir)/\(stem)-images-idx3-ubyte"))
        try idx([n], labels).write(to: URL(fileURLWithPath: "\(dir)/\(stem)-labels-idx1-ubyte"))
    }
    return dir
}
