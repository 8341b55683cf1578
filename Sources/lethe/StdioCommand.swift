// `lethe stdio`: standard input and output bridged to lethed's socket, byte for byte, so anything that can spawn a
// language server (an editor's JSON-RPC client, a script) can drive Lethe. The daemon reads either framing
// (Content-Length headers, as LSP clients send, or one JSON value per line) and answers in the same one. End of input
// half-closes the socket: replies still in flight arrive, then the bridge exits.
import ArgumentParser
import Foundation

struct StdioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stdio",
        abstract: "Bridge standard input and output to lethed (started if needed), for editors and anything that speaks JSON-RPC over stdio.")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let socket = try Autostart.connect(socketPath: options.socket, allowed: options.autostart, quiet: false)
        signal(SIGPIPE, SIG_IGN)
        let upstream = Thread {
            Self.copy(from: 0, to: socket)
            shutdown(socket, Int32(SHUT_WR))  // the daemon keeps half-closed connections open until it has answered
        }
        upstream.start()
        Self.copy(from: socket, to: 1)
        Foundation.exit(0)
    }

    /// Copies until end of input or an error on either side.
    static func copy(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            var sent = 0
            while sent < n {
                let m = buffer[sent..<n].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                if m < 0 && errno == EINTR { continue }
                guard m > 0 else { return }
                sent += m
            }
        }
    }
}
