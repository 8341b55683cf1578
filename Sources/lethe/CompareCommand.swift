// lethe compare: the methods side by side against retrain, as a table (or --json rows).
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

/// The value of a `--set name=value` as a JSON scalar: true/false are booleans, what Double reads is a number, the rest a string.
func scalar(_ text: String) -> JSONValue {
    if text == "true" || text == "false" { return .bool(text == "true") }
    if let number = Double(text) { return .number(number) }
    return .string(text)
}

/// `--set name=value` options as hyperparameters.
func parseSettings(_ settings: [String]) throws -> [String: JSONValue] {
    var hyperparameters: [String: JSONValue] = [:]
    for setting in settings {
        let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--set takes name=value, got '\(setting)'") }
        hyperparameters[parts[0]] = scalar(parts[1])
    }
    return hyperparameters
}

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: Compare.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Trained model to unlearn from (never modified).") var model: String
    @Option(help: "Split naming the forget set.") var split: String
    @Option(help: "Methods, comma-separated (default: every registered method).") var methods: ChoiceListArgument<UnlearningMethods>?
    @Option(name: .customLong("set"), help: "A method's hyperparameter as method.name=value; repeatable.") var settings: [String] = []
    @Option(help: "Seeds, comma-separated (default 0); rows give mean ± std over them.") var seeds: String?
    @Option(help: "Threads per method run (default 1).") var threadsPerMethod: Int?
    @Option(help: "Add the NeurIPS 2023 forget quality per method from this many unlearned and retrained models.") var epsilonModels: Int?

    func run() throws {
        var hyperparameters: [String: [String: JSONValue]] = [:]
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts.first?.split(separator: ".", maxSplits: 1).map(String.init) ?? []
            guard parts.count == 2, key.count == 2 else { throw ValidationError("--set takes method.name=value, got '\(setting)'") }
            hyperparameters[key[0], default: [:]][key[1]] = scalar(parts[1])
        }
        let seedList = try seeds.map { text in
            try text.split(separator: ",").map { s -> UInt64 in
                guard let v = UInt64(s.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--seeds takes whole numbers, got '\(s)'") }
                return v
            }
        }
        var params = Compare.Params(model: model, split: split, methods: methods?.values,
                                    hyperparameters: hyperparameters.isEmpty ? nil : hyperparameters, seeds: seedList,
                                    threadsPerMethod: threadsPerMethod, workDoneToken: options.progressToken)
        params.epsilonModels = epsilonModels
        let r = try options.client().call(Compare.self, params)
        if options.json { return Output.json(r) }
        let several = r.seeds.count > 1
        func pct(_ s: Compare.Stat) -> String { several ? "\(Output.percent(s.mean)) ± \(String(format: "%.2f", s.std * 100))" : Output.percent(s.mean) }
        func num(_ s: Compare.Stat, _ digits: Int) -> String {
            several ? "\(Output.number(s.mean, digits)) ± \(Output.number(s.std, digits))" : Output.number(s.mean, digits)
        }
        print("")
        let epsilon = r.rows.contains { $0.forgetQuality != nil }
        Output.table(["method", "retain acc", "forget acc", "test acc", "UA", "MIA", "MIA-eff.", "avg gap", "seconds", "× retrain"]
                     + (epsilon ? ["F", "score"] : []), r.rows.map {
            [$0.method, pct($0.retainAccuracy), pct($0.forgetAccuracy), pct($0.testAccuracy), pct($0.unlearningAccuracy),
             num($0.mia, 3), pct($0.miaEfficacy), num($0.averageGap, 2), num($0.seconds, 2), $0.method == "none" ? "" : Output.number($0.timeFraction, 2)]
                + (epsilon ? [$0.forgetQuality.map { Output.number($0, 3) } ?? "", $0.epsilonScore.map { Output.number($0, 3) } ?? ""] : [])
        })
        print("\(r.seeds.count) seed\(several ? "s" : ""): \(r.notes)")
    }
}
