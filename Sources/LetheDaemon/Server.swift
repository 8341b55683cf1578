// The Unix-socket server, in the shape of SwiftNIO's async examples: a discarding task group over connections,
// one per connection over its requests, errors caught per connection, nothing printed on the protocol stream.
import Foundation
import JSONRPC
import Logging
import NIOCore
import NIOPosix

public struct ServerConfiguration: Sendable {
    public var socketPath: String
    /// Largest frame accepted; larger ones get an error and the connection closes (the stream cannot resync).
    public var maximumFrameSize: Int
    public init(socketPath: String, maximumFrameSize: Int = 16 << 20) {
        self.socketPath = socketPath
        self.maximumFrameSize = maximumFrameSize
    }
}

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
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        chmod(path, 0o600)
        logger.info("lethed listening on \(path)")
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let connection = Connection()
        do {
            try await channel.executeThenClose { inbound, outbound in
                try await withThrowingDiscardingTaskGroup { group in
                    // The single writer: replies and notifications leave in the order they were queued.
                    group.addTask {
                        for await bytes in connection.outbound { try await outbound.write(ByteBuffer(bytes: bytes)) }
                    }
                    try await withThrowingDiscardingTaskGroup { requests in
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
                                requests.addTask {
                                    if let reply = await daemon.handle(payload, connection: connection) { connection.send(reply) }
                                }
                            }
                        }
                        // Nobody is left to read replies to unfinished jobs.
                        connection.cancelAll()
                    }
                    connection.finish()
                }
            }
        } catch {
            connection.cancelAll()
            logger.debug("connection closed with error: \(error)")
        }
    }

    static func frameErrorReply(_ error: FrameError) -> [UInt8] {
        let reply = Response(id: .null, error: RPCError(code: .parseError, message: "unreadable frame: \(error.description); closing the connection").object)
        return (try? Array(JSONCoding.encoder.encode(reply))) ?? []
    }
}

/// The socket's directory and stale files.
enum SocketFile {
    /// Creates the socket's directory (mode 0700) when missing, and refuses to start over a live daemon.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
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

public struct ServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
