// `lethe demo`: the whole experiment on the embedded Fashion-MNIST default — train the original mlp, then one
// `compare` of finetune and the strongest methods against retrain on a random 10% forget set, every model
// evaluated and attacked with the balanced simple MIA.
//
// Scenarios. "memorise" (the default) trains the original 25 epochs without weight decay, so it memorises its
// training set as the literature's ResNet-18 on CIFAR-10 does: its forget accuracy sits about 5 points above
// retrain's (measured: 96.1% against 91.1%), and methods differ in how far they move it. "standard" is the
// regularised recipe (10 epochs, weight decay 5e-4), whose original barely remembers the forget set (forget
// 91.9% against retrain's 90.1%), so every method looks alike there.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run one whole unlearning experiment on Fashion-MNIST and print one table.")
    @OptionGroup var options: GlobalOptions
    @Option(help: "memorise (25 epochs, no weight decay: the original remembers its training set) or standard (10 epochs, weight decay 5e-4).")
    var scenario: String = "memorise"
    @Option(help: "Epochs for the original model (and so for retrain); default: the scenario's.") var epochs: Int?
    @Option(help: "Learning rate of the original recipe (SGD, momentum 0.9, batch 128).") var lr: Double = 0.05
    @Option(help: "Schedule of the original recipe: cosine lets the model converge, so it remembers its training data.")
    var schedule: String = "cosine"
    @Option(help: "Methods compared besides finetune and retrain, comma-separated.") var methods: String = Demo.strongest.joined(separator: ",")
    @Option(help: "Fraction of the training set to forget.") var fraction: Double = 0.1
    @Option(help: "Seed of the split, the training and the methods.") var seed: UInt64 = 0

    /// The methods the demo shows by default: the three closest to retrain (smallest average gap) in
    /// Benchmarks/UNLEARNING.md's mlp table.
    static let strongest = ["l1-sparse", "eu-k", "reset-finetune"]

    struct Row: Codable {
        let model: String
        let retainAccuracy: Double
        let forgetAccuracy: Double
        let testAccuracy: Double
        let mia: Double
        let miaEfficacy: Double
        let seconds: Double
    }

    struct Report: Codable { let rows: [Row] }

    func run() throws {
        let (defaultEpochs, weightDecay): (Int, Double)
        switch scenario {
        case "memorise": (defaultEpochs, weightDecay) = (25, 0)
        case "standard": (defaultEpochs, weightDecay) = (10, 5e-4)
        default: throw ValidationError("--scenario is memorise or standard, got '\(scenario)'")
        }
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
        let epochs = self.epochs ?? defaultEpochs
        _ = try client.call(ModelCreate.self, .init(name: original, architecture: .init(kind: "mlp"), dataset: dataset, seed: seed))
        say("training the original mlp for \(epochs) epochs (\(scenario) scenario, weight decay \(weightDecay))…")
        var train = ModelTrain.Params(model: original, dataset: dataset, epochs: epochs, lr: lr, schedule: schedule, seed: seed,
                                      workDoneToken: options.progressToken)
        train.weightDecay = weightDecay
        let trained = try client.call(ModelTrain.self, train)
        let compared = ["finetune"] + methods.split(separator: ",").map(String.init).filter { $0 != "finetune" && $0 != "retrain" }
        say("comparing \(compared.joined(separator: ", ")) with retrain, two runs at a time…")
        let r = try client.call(Compare.self, .init(model: original, split: split, methods: compared, seeds: [seed],
                                                    workDoneToken: options.progressToken))
        let rows = r.rows.map { row in
            Row(model: row.method == "none" ? "original" : row.method, retainAccuracy: row.retainAccuracy.mean,
                forgetAccuracy: row.forgetAccuracy.mean, testAccuracy: row.testAccuracy.mean, mia: row.mia.mean,
                miaEfficacy: row.miaEfficacy.mean, seconds: row.method == "none" ? trained.seconds : row.seconds.mean)
        }
        if options.json { return Output.json(Report(rows: rows)) }
        print("")
        Output.table(["model", "retain acc", "forget acc", "test acc", "MIA (0.5 = chance)", "MIA-efficacy", "avg gap", "seconds"], zip(rows, r.rows).map {
            [$0.model, Output.percent($0.retainAccuracy), Output.percent($0.forgetAccuracy), Output.percent($0.testAccuracy),
             Output.number($0.mia, 3), Output.percent($0.miaEfficacy), Output.number($1.averageGap.mean, 2), Output.number($0.seconds, 2)]
        })
        print("MIA-efficacy: SalUn's fraction of forget an SVC calls non-member (read it against retrain's); avg gap: SalUn's mean |Δ| "
              + "to retrain over UA, MIA-efficacy, RA and TA, in points; seconds of runs sharing the cores")
    }
}
