// lethe: the command-line client of lethed. It links the protocol types only, never the engine.
import ArgumentParser
import Foundation
import JSONRPC

struct Lethe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lethe",
        abstract: "Machine unlearning from the command line: talks to lethed over its Unix socket.",
        discussion: """
        Global options (--socket, --json, --no-autostart) go before or after the subcommand. When no daemon answers, \
        lethe starts the lethed beside it (or on PATH) in the background; --no-autostart turns that off. Ctrl-C \
        cancels the running request on the daemon and waits for it to stop; a second Ctrl-C quits at once.

        Exit statuses: \(ExitStatus.allCases.map { "\($0.rawValue) \($0)" }.joined(separator: ", ")) \
        (README.md, "Exit statuses").

        Shell completions: lethe --generate-completion-script bash|zsh|fish.
        """,
        subcommands: [Status.self, DatasetCommand.self, SplitCommand.self, ModelCommand.self, ForgetCommand.self,
                      EvaluateCommand.self, AttackCommand.self, CompareCommand.self, FleetCommand.self, RunsCommand.self, Demo.self,
                      ReportCommand.self, StdioCommand.self, MCPCommand.self, Stop.self])

    /// The global options, as they may appear before the subcommand: name → takes a value.
    static let globalOptions = ["--socket": true, "--json": false, "--no-autostart": false]

    /// `lethe --socket S demo` → `lethe demo --socket S`: ArgumentParser reads a subcommand's options after its name,
    /// so leading global options move to the end (before a `--`, if any).
    static func reordered(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < arguments.count {
            let name = String(arguments[i].split(separator: "=", maxSplits: 1).first ?? "")
            guard let takesValue = globalOptions[name] else { break }
            let inline = arguments[i].contains("=")
            leading.append(arguments[i])
            if takesValue && !inline && i + 1 < arguments.count { leading.append(arguments[i + 1]); i += 1 }
            i += 1
        }
        guard !leading.isEmpty, i < arguments.count else { return arguments }
        var rest = Array(arguments[i...])
        let end = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: leading, at: end)
        return rest
    }
}

/// Writes `lethe: <message>` to standard error and exits with `status`.
func fail(_ message: String, _ status: ExitStatus) -> Never {
    FileHandle.standardError.write(Data("lethe: \(message)\n".utf8))
    exit(status.rawValue)
}

CancelSignal.installInterrupt()
do {
    var command = try Lethe.parseAsRoot(Lethe.reordered(Array(CommandLine.arguments.dropFirst())))
    try command.run()
} catch let error as RPCError {
    fail("\(error.message) (error \(error.code.rawValue))", ExitStatus(code: error.code))
} catch let error as ClientError {
    fail(error.description, error.status)
} catch let error as CancelledByUser {
    fail("cancelled: \(error.message)", .cancelled)
} catch {
    Lethe.exit(withError: error)
}
