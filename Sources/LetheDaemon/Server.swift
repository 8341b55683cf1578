// The Unix-socket server, in the shape of SwiftNIO's async examples: a discarding task group over connections,
// one per connection over its requests, errors caught per connection, nothing printed on the protocol stream.
import Foundation
import JSONRPC
import LetheProtocol
import Logging
import NIOCore
import NIOPosix

/// How the socket server listens.
public struct ServerConfiguration: Sendable {
    /// The Unix socket's path.
    public var socketPath: String
    /// Largest frame accepted; larger ones get an error and the connection closes (the stream cannot resync).
    public var maximumFrameSize: Int
    /// Connections served at once; one more is answered an error (5, busy) in line framing and closed.
    public var maximumConnections: Int
    public init(socketPath: String, maximumFrameSize: Int = 16 << 20, maximumConnections: Int = 256) {
        self.socketPath = socketPath
        self.maximumFrameSize = maximumFrameSize
        self.maximumConnections = maximumConnections
    }
}

/// The Unix-socket server that feeds the daemon its requests.
public struct LetheServer: Sendable {
    let configuration: ServerConfiguration
    let daemon: Daemon
    let logger: Logger

    public init(configuration: ServerConfiguration, daemon: Daemon, logger: Logger) {
        self.configuration = configuration
        self.daemon = daemon
        self.logger = logger
    }

    /// Binds the socket and serves until the process exits.
    public func run() async throws {
        let path = configuration.socketPath
        try SocketFile.prepare(path)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            // `echo … | socat` closes its sending side first; the replies must still go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                // The peer's credentials (SO_PEERCRED), read before any byte is served.
                Self.peerUID(channel).flatMapThrowing { uid in
                    (try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), uid)
                }
            }
        chmod(path, 0o600)
        logger.info("lethed listening on \(path)")
        let open = OpenConnections()
        let limit = configuration.maximumConnections
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await (connection, uid) in connections {
                    // The socket is 0600 in a 0700 directory; the uid check also covers a socket path the user chose
                    // in a shared directory. Root may connect, as it could read the socket anyway.
                    if let uid, uid != getuid() && uid != 0 {
                        logger.warning("refused a connection from uid \(uid)")
                        try? await connection.channel.close()
                        continue
                    }
                    guard open.enter(limit: limit) else {
                        logger.warning("refused a connection: \(limit) are open")
                        group.addTask {
                            let reply = Response(id: .null, error: RPCError(code: .busy, message: "too many connections: this daemon serves at most \(limit) at once (lethed --max-connections); close one and retry").object)
                            let bytes = ((try? Array(JSONCoding.encoder.encode(reply))) ?? []) + [UInt8(ascii: "\n")]
                            try? await connection.executeThenClose { _, outbound in try await outbound.write(ByteBuffer(bytes: bytes)) }
                        }
                        continue
                    }
                    group.addTask {
                        await self.serve(connection)
                        open.leave()
                    }
                }
            }
        }
    }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let connection = Connection()
        // Requests on one connection run in the order they arrive, so a piped script (load, split, train, …)
        // behaves as written; status, cancellation and lifecycle messages are answered at once, even while a job
        // runs. Clients wanting parallel jobs open more connections.
        let (ordered, orderedInput) = AsyncStream.makeStream(of: JSONValue.self)
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    // The single writer: replies and notifications leave in the order they were queued.
                    group.addTask {
                        for await item in connection.outbound {
                            switch item {
                            case .bytes(let bytes):
                                do { try await outbound.write(ByteBuffer(bytes: bytes)) } catch {
                                    // The client is gone: stop its jobs now rather than when they finish.
                                    connection.close()
                                    throw error
                                }
                            case .afterFlush(let action):
                                // The writes above are handed to the channel; give the kernel a moment to deliver
                                // them before the action (exit) ends the process.
                                try? await Task.sleep(for: .milliseconds(50))
                                action()
                            }
                        }
                    }
                    try await withThrowingDiscardingTaskGroup { requests in
                        requests.addTask {
                            for await message in ordered where !connection.isClosed {
                                if let reply = await daemon.handle(message, connection: connection) { connection.send(reply) }
                            }
                        }
                        var parser = FrameParser(maximumFrameSize: configuration.maximumFrameSize)
                        reading: for try await buffer in inbound {
                            parser.append(buffer.readableBytesView)
                            while true {
                                let payload: [UInt8]?
                                do { payload = try parser.next() } catch let error as FrameError {
                                    // The framing was detected before the error: reply in it.
                                    if let framing = parser.framing { connection.setFraming(framing) }
                                    connection.send(Self.frameErrorReply(error))
                                    break reading
                                }
                                if let framing = parser.framing { connection.setFraming(framing) }
                                guard let payload else { break }
                                switch Daemon.decode(payload) {
                                case .failure(let failure): connection.send(failure.reply)
                                case .success(let message) where Daemon.isImmediate(message):
                                    requests.addTask {
                                        if let reply = await daemon.handle(message, connection: connection) { connection.send(reply) }
                                    }
                                case .success(let message): orderedInput.yield(message)
                                }
                            }
                        }
                        // End of input. The client may only have closed its sending side (`echo … | socat`) and
                        // still read replies, so queued requests run to the end; if the client is gone, the first
                        // failed write ends the connection and `close()` cancels its jobs.
                        orderedInput.finish()
                    }
                    connection.finish()
                }
            }
        } catch {
            connection.close()
            orderedInput.finish()
            logger.debug("connection closed with error: \(error)")
        }
    }

    /// The connecting process's uid, nil when the platform cannot tell.
    static func peerUID(_ channel: Channel) -> EventLoopFuture<uid_t?> {
        #if os(Linux)
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
            .map { (credentials: PeerCredentials) -> uid_t? in credentials.uid }
            .recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }

    static func frameErrorReply(_ error: FrameError) -> [UInt8] {
        let reply = Response(id: .null, error: RPCError(code: .parseError, message: "unreadable frame: \(error.description); closing the connection").object)
        return (try? Array(JSONCoding.encoder.encode(reply))) ?? []
    }
}

/// How many connections are being served.
final class OpenConnections: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    /// Counts one more unless `limit` are open.
    func enter(limit: Int) -> Bool { lock.withLock { guard count < limit else { return false }; count += 1; return true } }
    func leave() { lock.withLock { count -= 1 } }
}

/// Linux's `struct ucred`, which Swift's Glibc module does not export.
struct PeerCredentials: Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}

/// The socket's directory and stale files.
enum SocketFile {
    /// Creates the socket's directory (mode 0700) when missing, and refuses to start over a live daemon.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } else if path == SocketPath.default {
            // The default directory is ours alone: refuse one owned by another user, tighten a loose one.
            var info = stat()
            guard stat(directory, &info) == 0 else { throw ServerError("cannot inspect \(directory)") }
            guard info.st_uid == getuid() else { throw ServerError("\(directory) belongs to another user; refusing to listen there") }
            if info.st_mode & 0o077 != 0 { chmod(directory, 0o700) }
        }
        if FileManager.default.fileExists(atPath: path) && isLive(path) {
            throw ServerError("another lethed is already listening on \(path)")
        }
    }

    /// Whether something accepts connections on the socket at `path`.
    static func isLive(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}

/// Why the server could not start.
public struct ServerError: Error, CustomStringConvertible {
    /// The message, naming the socket path.
    public let description: String
    init(_ description: String) { self.description = description }
}
