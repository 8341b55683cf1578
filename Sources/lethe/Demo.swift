// `lethe demo`: the whole experiment on the embedded Fashion-MNIST default — train the original mlp, forget a
// random 10% with finetune and with retrain, evaluate all three and attack each with the simple MIA.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one whole unlearning experiment on Fashion-MNIST and print one table.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "Epochs for the original model (and so for retrain).") var epochs: Int = 10
    @Option(help: "Learning rate of the original recipe (SGD, momentum 0.9, weight decay 5e-4, batch 128).") var lr: Double = 0.05
    @Option(help: "Schedule of the original recipe: cosine lets the model converge, so it remembers its training data.")
    var schedule: String = "cosine"
    @Option(help: "Fraction of the training set to forget.") var fraction: Double = 0.1
    @Option var seed: UInt64 = 0

    struct Row: Codable {
        let model: String
        let retainAccuracy: Double
        let forgetAccuracy: Double
        let testAccuracy: Double
        let mia: Double
        let seconds: Double
    }

    struct Report: Codable { let rows: [Row] }

    func run() throws {
        let client = try options.client()
        let say: (String) -> Void = { if !options.json { Output.progress($0) } }
        // Unique names, so the demo can run again against the same daemon.
        let prefix = "demo\(getpid())"
        let dataset = "fashion-mnist"
        let split = "\(prefix)-split"

        say("loading Fashion-MNIST…")
        let data = try client.call(DatasetLoad.self, .init(name: dataset))
        say("  \(data.trainCount) train, \(data.testCount) test examples in \(Output.seconds(data.seconds))")
        let s = try client.call(SplitCreate.self, .init(name: split, dataset: dataset, forget: .init(fraction: fraction), seed: seed))
        say("split: retain \(s.retain), forget \(s.forget), validation \(s.validation), test \(s.test)")

        let original = "\(prefix)-original"
        _ = try client.call(ModelCreate.self, .init(name: original, architecture: .init(kind: "mlp"), dataset: dataset, seed: seed))
        say("training the original mlp for \(epochs) epochs…")
        let trained = try client.call(ModelTrain.self, .init(model: original, dataset: dataset, epochs: epochs, lr: lr, schedule: schedule, seed: seed,
                                                             workDoneToken: options.progressToken))
        var rows = [try row("original", original, split, seconds: trained.seconds, client)]
        for method in ["finetune", "retrain"] {
            say("forgetting with \(method)…")
            let output = "\(prefix)-\(method)"
            let f = try client.call(Forget.self, .init(model: original, split: split, method: method, output: output, seed: seed,
                                                       workDoneToken: options.progressToken))
            rows.append(try row(method, output, split, seconds: f.seconds, client))
        }
        if options.json { return Output.json(Report(rows: rows)) }
        print("")
        Output.table(["model", "retain acc", "forget acc", "test acc", "MIA (0.5 = chance)", "seconds"], rows.map {
            [$0.model, Output.percent($0.retainAccuracy), Output.percent($0.forgetAccuracy), Output.percent($0.testAccuracy),
             Output.number($0.mia, 3), Output.number($0.seconds, 2)]
        })
    }

    private func row(_ label: String, _ model: String, _ split: String, seconds: Double, _ client: LetheClient) throws -> Row {
        let e = try client.call(Evaluate.self, .init(model: model, split: split))
        let a = try client.call(Attack.self, .init(model: model, split: split, kind: "simple", balance: "both", seed: seed))
        return Row(model: label, retainAccuracy: e.retain.accuracy, forgetAccuracy: e.forget.accuracy,
                   testAccuracy: e.test.accuracy, mia: a.score, seconds: seconds)
    }
}
