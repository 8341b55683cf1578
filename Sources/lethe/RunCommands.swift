// lethe runs list | show | export | delete: the run store.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "Recorded runs: every train, forget, evaluate, attack, compare and fleet.",
                                                    subcommands: [List.self, Show.self, Export.self, Delete.self], aliases: ["run"])

    struct Filters: ParsableArguments {
        @Option(help: "Only runs of this RPC method.") var kind: Choice<RunKinds>?
        @Option(help: "Only runs that named or wrote this model.") var model: String?
        @Option(help: "Only runs of this unlearning method or attack kind.") var method: String?
        @Option(help: "Only runs with this status.") var status: Choice<RunStatuses>?
        @Option(help: "Only runs started at or after this ISO 8601 time.") var since: String?
        @Option(help: "Only runs started before this ISO 8601 time.") var until: String?
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: RunList.summary)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var filters: Filters
        @Option(help: "Runs per page (default 50).") var limit: Int?
        @Option(help: "Runs to skip.") var offset: Int?
        func run() throws {
            let r = try options.client().call(RunList.self, .init(kind: filters.kind?.rawValue, model: filters.model, method: filters.method,
                                                                  status: filters.status?.rawValue, since: filters.since, until: filters.until,
                                                                  limit: limit, offset: offset))
            if options.json { return Output.json(r) }
            Output.table(["id", "kind", "method", "model", "split", "seed", "status", "started", "seconds"], r.runs.map {
                ["\($0.id)", $0.kind, $0.method ?? "", $0.model ?? "", $0.split ?? "", $0.seed.map(String.init) ?? "", $0.status,
                 $0.startedAt, $0.seconds.map { Output.number($0, 2) } ?? ""]
            })
            print("\(r.runs.count) of \(r.total) runs")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: RunShow.summary)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The run's id.") var id: Int
        func run() throws { Output.json(try options.client().call(RunShow.self, .init(id: id))) }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: RunExport.summary)
        @OptionGroup var options: GlobalOptions
        @OptionGroup var filters: Filters
        @Option(help: "The file to write.") var path: String
        @Option(help: "jsonl (default) or csv.") var format: String?
        func run() throws {
            var p = RunExport.Params(path: URL(fileURLWithPath: path).path, format: format)
            p.kind = filters.kind?.rawValue
            p.model = filters.model
            p.method = filters.method
            p.status = filters.status?.rawValue
            p.since = filters.since
            p.until = filters.until
            let r = try options.client().call(RunExport.self, p)
            if options.json { return Output.json(r) }
            Output.fields([("path", r.path), ("runs", "\(r.runs)"), ("bytes", "\(r.bytes)")])
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: RunDelete.summary)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Run ids.") var ids: [Int]
        func run() throws {
            let r = try options.client().call(RunDelete.self, .init(ids: ids))
            if options.json { return Output.json(r) }
            print("deleted \(r.deleted.map(String.init).joined(separator: ", "))")
        }
    }
}
