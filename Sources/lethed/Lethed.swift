// lethed: the Lethe daemon. Keeps datasets and models resident and serves JSON-RPC 2.0 on a Unix socket.
import ArgumentParser
import Foundation
import LetheDaemon
import LetheProtocol
import Logging

@main
struct Lethed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lethed",
        abstract: "The Lethe machine-unlearning daemon: JSON-RPC 2.0 over a Unix socket.")

    @Option(help: "Socket path (default: $XDG_RUNTIME_DIR/lethe/lethed.sock, else /tmp/lethe-<uid>/lethed.sock).")
    var socket: String = SocketPath.default

    @Option(help: "Threads for the compute engine (BLAS and kernels).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Largest accepted frame in bytes.")
    var maxFrameBytes: Int = 16 << 20

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        // Logs go to stderr only: the protocol stream stays clean.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "lethed")
        let path = socket
        // _exit, not exit: atexit handlers would wait on the event-loop threads. Nothing is buffered (logs go to
        // unbuffered stderr, saved files are fsynced), so nothing is lost.
        let stop: @Sendable (Int32) -> Void = { code in
            unlink(path)
            _exit(code)
        }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                logger.info("signal \(sig): stopping")
                stop(0)
            }
            source.resume()
            Lethed.signalSources.append(source)
        }
        // Everything the daemon creates (the socket first of all) is private to this user from the start.
        umask(0o077)
        let daemon = Daemon(threads: max(1, threads), logger: logger, onExit: stop)
        let server = LetheServer(configuration: ServerConfiguration(socketPath: path, maximumFrameSize: maxFrameBytes),
                                 daemon: daemon, logger: logger)
        do {
            try await server.run()
        } catch {
            logger.critical("cannot serve on \(path): \(error)")
            Foundation.exit(1)
        }
    }

    nonisolated(unsafe) static var signalSources: [DispatchSourceSignal] = []
}

