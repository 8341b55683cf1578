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

    @Option(help: "Connections served at once; one more is answered error 5 and closed.")
    var maxConnections: Int = 256

    @Option(help: "Memory the resident datasets, splits, models, fleets and outputs cache may hold, e.g. 8G or 512M; a load or job that would exceed it is refused with error 5 (default: no limit).")
    var memoryLimit: String?

    @Option(help: "Where runs are recorded (created with mode 0700; default: $XDG_STATE_HOME/lethe, else ~/.local/state/lethe).")
    var stateDir: String = Lethed.defaultStateDirectory

    /// $XDG_STATE_HOME/lethe, else ~/.local/state/lethe (the XDG base-directory rule for state).
    static var defaultStateDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_STATE_HOME"], xdg.hasPrefix("/") { return xdg + "/lethe" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/state/lethe"
    }

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
        // Everything the daemon creates (the socket and the run store first of all) is private to this user from the start.
        umask(0o077)
        var limit: Int?
        if let memoryLimit {
            guard let bytes = parseByteCount(memoryLimit) else {
                logger.critical("--memory-limit takes a byte count such as 8G, 512M or 1000000, got '\(memoryLimit)'")
                Foundation.exit(1)
            }
            limit = bytes
        }
        let daemon: Daemon
        do {
            daemon = try Daemon(threads: max(1, threads), logger: logger, stateDirectory: stateDir, memoryLimit: limit, onExit: stop)
        } catch {
            logger.critical("cannot open the run store in \(stateDir): \(error)")
            Foundation.exit(1)
        }
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                logger.info("signal \(sig): cancelling running jobs and stopping")
                Task {
                    await daemon.stopOnSignal()
                    stop(0)
                }
            }
            source.resume()
            Lethed.signalSources.append(source)
        }
        let server = LetheServer(configuration: ServerConfiguration(socketPath: path, maximumFrameSize: maxFrameBytes,
                                                                     maximumConnections: max(1, maxConnections)),
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

