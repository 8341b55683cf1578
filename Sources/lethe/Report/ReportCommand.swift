// `lethe report`: one recorded run (by id; the latest compare or attack by default) as a self-contained HTML file.
import ArgumentParser
import Foundation
import LetheProtocol

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report (tables and SVG charts, no script) of a recorded run.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The run's id (default: the latest compare, else the latest attack).") var id: Int?
    @Option(name: .shortAndLong, help: "The HTML file to write (default: lethe-run-<id>.html).") var output: String?

    func run() throws {
        let client = try options.client()
        let runID: Int
        if let id { runID = id } else {
            var found: Int?
            for kind in [Compare.name, Attack.name] where found == nil {
                found = try client.call(RunList.self, .init(kind: kind, limit: 1)).runs.first?.id
            }
            guard let found else { throw ClientError(description: "no compare or attack run is recorded yet; give a run id (lethe runs list)", status: .notFound) }
            runID = found
        }
        let run = try client.call(RunShow.self, .init(id: runID))
        let path = output ?? "lethe-run-\(runID).html"
        do { try Data(ReportPage.html(run).utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ClientError(description: "cannot write \(path): \(error.localizedDescription)", status: .failure)
        }
        if options.json { return Output.json(["path": path, "run": "\(runID)"]) }
        print("wrote \(path) (run \(runID), \(run.kind))")
    }
}
