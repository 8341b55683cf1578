// lethe: the command-line client of lethed. It links the protocol types only, never the engine.
import ArgumentParser
import Foundation
import JSONRPC

struct Lethe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lethe",
        abstract: "Machine unlearning from the command line: talks to lethed over its Unix socket.",
        subcommands: [Status.self, DatasetCommand.self, SplitCommand.self, ModelCommand.self, ForgetCommand.self,
                      EvaluateCommand.self, AttackCommand.self, CompareCommand.self, FleetCommand.self, RunsCommand.self, Demo.self, Stop.self])
}

// Daemon errors print as one clear line with their code, and exit non-zero.
do {
    var command = try Lethe.parseAsRoot()
    try command.run()
} catch let error as RPCError {
    FileHandle.standardError.write(Data("lethe: \(error.message) (error \(error.code.rawValue))\n".utf8))
    exit(2)
} catch let error as ClientError {
    FileHandle.standardError.write(Data("lethe: \(error.description)\n".utf8))
    exit(2)
} catch {
    Lethe.exit(withError: error)
}
