// A small blocking JSON-RPC client over the daemon's Unix socket (line framing). The CLI needs nothing more,
// and staying off SwiftNIO keeps its start-up in milliseconds.
import Foundation
import JSONRPC
import LetheProtocol

struct ClientError: Error, CustomStringConvertible {
    let description: String
}

final class LetheClient {
    private let fd: Int32
    private var parser = FrameParser(framing: .lines)
    private var nextID = 1
    /// Called for `$/progress` notifications that arrive while waiting for a reply.
    var onProgress: ((ProgressParams) -> Void)?

    init(socketPath: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ClientError(description: "socket path too long: \(socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ClientError(description: "cannot reach lethed at \(socketPath) (\(reason)); start it with `lethed --socket \(socketPath)`")
        }
    }

    deinit { close(fd) }

    /// Sends a request and waits for its reply; returns the raw result.
    func call(_ method: String, _ params: JSONValue?) throws -> JSONValue {
        let id = nextID
        nextID += 1
        try write(OutgoingMessage(id: .number(Double(id)), method: method, params: params))
        while true {
            let message = try readMessage()
            if message["method"] == .string("$/progress"), let params = message["params"],
               let progress = try? params.decode(as: ProgressParams.self) {
                onProgress?(progress)
                continue
            }
            guard message["id"] == .number(Double(id)) else { continue }
            if let error = message["error"], let object = try? error.decode(as: ErrorObject.self) {
                throw RPCError(code: ErrorCode(rawValue: object.code), message: object.message, data: object.data)
            }
            return message["result"] ?? .null
        }
    }

    func call<M: LetheMethod>(_ method: M.Type, _ params: M.Params) throws -> M.Result {
        try call(M.name, try JSONValue(encoding: params)).decode(as: M.Result.self)
    }

    func notify(_ method: String) throws { try write(OutgoingMessage(id: nil, method: method, params: nil)) }

    private func write(_ message: OutgoingMessage) throws {
        let bytes = Framing.lines.frame(Array(try JSONCoding.encoder.encode(message)))
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ClientError(description: "lost the connection to lethed while sending") }
            sent += n
        }
    }

    private func readMessage() throws -> JSONValue {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let payload = try parser.next() { return try JSONDecoder().decode(JSONValue.self, from: Data(payload)) }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ClientError(description: "lethed closed the connection") }
            parser.append(chunk[0..<n])
        }
    }
}
