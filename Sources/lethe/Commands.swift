// One subcommand per RPC method. Each builds the method's params, calls the daemon and prints the result.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

/// The options every command takes, before or after the subcommand's name (main.swift moves them after it).
struct GlobalOptions: ParsableArguments {
    @Option(help: "The daemon's socket (default: $LETHE_SOCKET, else lethed's default path).")
    var socket: String = SocketPath.fromEnvironment

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Fail (exit 69) when no daemon answers instead of starting lethed (also LETHE_NO_AUTOSTART=1).")
    var noAutostart = false

    /// Whether a missing daemon may be started.
    var autostart: Bool { !noAutostart && ProcessInfo.processInfo.environment["LETHE_NO_AUTOSTART"].map { $0.isEmpty || $0 == "0" } ?? true }

    /// A connection to the daemon (started first when none answers), showing progress unless --json.
    func client() throws -> LetheClient {
        let client = LetheClient(connected: try Autostart.connect(socketPath: socket, allowed: autostart, quiet: false))
        client.onCancelling = { Output.progress("lethe: cancelling (Ctrl-C again to quit without waiting)…") }
        if !json {
            let display = ProgressDisplay()
            client.onProgress = { display.show($0.value) }
            client.onCallEnded = { display.finish() }
        }
        return client
    }

    /// Progress token for long requests when a human is watching.
    var progressToken: ProgressToken? { json ? nil : .string("cli") }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: ServerStatus.summary)
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = try options.client().call(ServerStatus.self, NoParams())
        if options.json { return Output.json(r) }
        Output.fields([("version", r.version), ("pid", "\(r.pid)"), ("uptime", Output.seconds(r.uptimeSeconds)),
                       ("threads", "\(r.threads)"), ("datasets", r.datasets.joined(separator: ", ")),
                       ("splits", r.splits.joined(separator: ", ")), ("models", r.models.joined(separator: ", ")),
                       ("jobs", r.jobs.map { "#\($0.id) \($0.method) \($0.target) (\(Output.seconds($0.seconds)))" }.joined(separator: "; "))])
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shutdown", abstract: "Shut the daemon down (shutdown, then exit).")
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let client = try options.client()
        _ = try client.call(Shutdown.self, NoParams())
        try client.notify(Exit.name)
        if !options.json { print("lethed is stopping") }
    }
}

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dataset", abstract: "Datasets.", subcommands: [Load.self, DatasetDeleteCommand.self])

    struct Load: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: DatasetLoad.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "Name in the workspace.") var name: String?
        @Option(help: "Directory of MNIST-style IDX files (default: Fashion-MNIST), or the data of --format.") var path: String?
        @Option(help: "Number of classes.") var classes: Int?
        @OptionGroup var formats: DatasetFormatOptions

        func run() throws {
            var params = try formats.apply(to: .init(name: name, path: path, classes: classes))
            params.path = path.map { URL(fileURLWithPath: $0).path }  // the daemon's working directory is not ours
            let r = try options.client().call(DatasetLoad.self, params)
            if options.json { return Output.json(r) }
            var fields = [("dataset", r.name), ("origin", r.origin), ("train", "\(r.trainCount)"), ("test", "\(r.testCount)"),
                          ("example shape", "\(r.exampleShape)"), ("classes", "\(r.classCount)")]
            if let g = r.groupCount { fields.append(("groups", "\(g)")) }
            if let n = r.normalization, let m = n.mean, let s = n.std {
                fields.append(("normalised", "mean \(m.map { Output.number($0) }) std \(s.map { Output.number($0) })"))
            }
            if let a = r.augmentation { fields.append(("augmentation", "crop padding \(a.cropPadding ?? 0), flip \(a.horizontalFlip ?? false)")) }
            fields.append(("loaded in", Output.seconds(r.seconds)))
            Output.fields(fields)
        }
    }
}

struct SplitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "split", abstract: "Splits.", subcommands: [Create.self, SplitInfoCommand.self, SplitDeleteCommand.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: SplitCreate.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "Dataset to split.") var dataset: String
        @Option(help: "Name in the workspace.") var name: String?
        @Option(help: "Random fraction of the training part to forget.") var fraction: Double?
        @Option(help: "Random number of training examples to forget.") var count: Int?
        @OptionGroup var selection: ForgetSelectionOptions
        @Option(help: "Fraction of the test part used for validation.") var validationFraction: Double?
        @Option(help: "Seed.") var seed: UInt64?

        func run() throws {
            var forget = try selection.spec()
            forget.count = count
            forget.fraction = fraction ?? (count == nil && selection.isEmpty ? 0.1 : nil)
            let r = try options.client().call(SplitCreate.self, .init(name: name, dataset: dataset, forget: forget,
                                                                      validationFraction: validationFraction, seed: seed))
            if options.json { return Output.json(r) }
            Output.fields([("split", r.name), ("dataset", r.dataset), ("retain", "\(r.retain)"), ("forget", "\(r.forget)"),
                           ("validation", "\(r.validation)"), ("test", "\(r.test)"), ("seed", "\(r.seed)")])
        }
    }
}

struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "model", abstract: "Models.",
                                                    subcommands: [Create.self, Train.self, Info.self, ModelSaveCommand.self, ModelLoadCommand.self, ModelDeleteCommand.self, ModelListCommand.self,
                                                                  ModelPredictCommand.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: ModelCreate.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "Name in the workspace.") var name: String
        @Option(help: "Architecture of the zoo: mlp, cnn, resnet18, or layers (with --layers).") var architecture: String = "mlp"
        @Option(help: "Hidden widths (mlp, cnn), comma-separated.") var hidden: String?
        @Option(help: "cnn: the two convolution widths, comma-separated.") var channels: String?
        @Option(help: "resnet18: width of the first stage.") var width: Int?
        @Flag(help: "resnet18: the CIFAR stem (3×3 stride-1 first convolution, no max-pool).") var cifarStem = false
        @Option(help: "layers: the layer list as JSON, e.g. '[{\"type\":\"flatten\"},{\"type\":\"linear\",\"out\":10}]'.") var layers: String?
        @Option(help: "Dataset the model is for.") var dataset: String
        @Option(help: "Initialisation seed.") var seed: UInt64?

        func run() throws {
            func integers(_ text: String?, _ flag: String) throws -> [Int]? {
                try text.map { t in
                    try t.split(separator: ",").map { part -> Int in
                        guard let w = Int(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(flag) takes integers like 512,256") }
                        return w
                    }
                }
            }
            let layerList = try layers.map { text -> [ArchitectureSpec.LayerSpec] in
                do { return try JSONDecoder().decode([ArchitectureSpec.LayerSpec].self, from: Data(text.utf8)) } catch {
                    throw ValidationError("--layers must be a JSON array of layers: \(error)")
                }
            }
            let spec = ArchitectureSpec(kind: architecture, hidden: try integers(hidden, "--hidden"), channels: try integers(channels, "--channels"),
                                        width: width, cifarStem: cifarStem ? true : nil, layers: layerList)
            let r = try options.client().call(ModelCreate.self, .init(name: name, architecture: spec, dataset: dataset, seed: seed))
            if options.json { return Output.json(r) }
            Output.fields([("model", r.name), ("architecture", r.architecture.kind), ("input shape", "\(r.inputShape)"),
                           ("classes", "\(r.classCount)"), ("parameters", "\(r.parameterCount)")])
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: ModelTrain.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "Model to train.") var model: String
        @Option(help: "Dataset to train on.") var dataset: String
        @Option(help: "Split, with --subset retain.") var split: String?
        @Option(help: "train (whole training part) or retain.") var subset: String?
        @Option(help: "Passes over the training examples (default 5).") var epochs: Int?
        @Option(help: "Examples per step (default 128).") var batchSize: Int?
        @Option(help: "Learning rate (default 0.05).") var lr: Double?
        @Option(help: "SGD momentum (default 0.9).") var momentum: Double?
        @Option(help: "L2 weight decay (default 5e-4; decoupled for adamw).") var weightDecay: Double?
        @Option(help: "Optimizer (default sgd).") var optimizer: Choice<Optimizers>?
        @Flag(help: "SGD with Nesterov momentum.") var nesterov = false
        @Option(help: "Learning-rate schedule (default constant).") var schedule: Choice<Schedules>?
        @Flag(help: "Step the schedule every batch instead of every epoch.") var schedulePerStep = false
        @Option(help: "Linear warm-up length (epochs, or steps with --schedule-per-step).") var warmup: Int?
        @Option(help: "step schedule: period.") var stepSize: Int?
        @Option(help: "step schedule: factor.") var gamma: Double?
        @Option(help: "Cross-entropy class weights, comma-separated.") var classWeights: String?
        @Option(help: "Cross-entropy label smoothing, 0…1 (default 0).") var labelSmoothing: Double?
        @Option(help: "Clip the global gradient norm.") var clipNorm: Double?
        @Option(help: "Parameter-name prefix to keep fixed; repeatable.") var freeze: [String] = []
        @Option(help: "Seed of the shuffling and any random draws (default 0).") var seed: UInt64?
        @Option(help: "Threads for this job.") var threads: Int?

        func run() throws {
            var params = ModelTrain.Params(
                model: model, dataset: dataset, split: split, subset: subset, epochs: epochs, batchSize: batchSize, lr: lr,
                momentum: momentum, weightDecay: weightDecay, schedule: schedule?.rawValue, seed: seed, workDoneToken: options.progressToken)
            params.optimizer = optimizer?.rawValue
            params.nesterov = nesterov ? true : nil
            params.schedulePerStep = schedulePerStep ? true : nil
            params.warmup = warmup
            params.stepSize = stepSize
            params.gamma = gamma
            params.classWeights = try classWeights.map { text in
                try text.split(separator: ",").map {
                    guard let w = Double($0.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--class-weights takes numbers") }
                    return w
                }
            }
            params.labelSmoothing = labelSmoothing
            params.clipNorm = clipNorm
            params.frozen = freeze.isEmpty ? nil : freeze
            params.threads = threads
            let r = try options.client().call(ModelTrain.self, params)
            if options.json { return Output.json(r) }
            Output.fields([("model", r.model), ("examples", "\(r.examples)"), ("epochs", "\(r.epochs)"), ("loss", Output.number(r.loss)),
                           ("accuracy", Output.percent(r.accuracy)), ("time", Output.seconds(r.seconds)), ("fingerprint", r.fingerprint)])
        }
    }
}

extension ModelCommand {
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: ModelInfo.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "The model to describe.") var model: String

        func run() throws {
            let r = try options.client().call(ModelInfo.self, .init(model: model))
            if options.json { return Output.json(r) }
            Output.fields([("model", r.name), ("architecture", r.architecture.kind), ("dataset", r.dataset ?? "(none)"), ("input shape", "\(r.inputShape)"),
                           ("classes", "\(r.classCount)"), ("parameters", "\(r.parameterCount)"), ("buffers", "\(r.bufferCount)"),
                           ("FLOPs per example", "\(r.flopsPerExample)"), ("trained", r.trained ? "yes" : "no"), ("fingerprint", r.fingerprint)])
            print("")
            Output.table(["layer", "type", "output", "parameters", "FLOPs"], r.layers.map {
                [$0.name.isEmpty ? "-" : $0.name, $0.type, "\($0.outputShape)", "\($0.parameters)", "\($0.flops)"]
            })
        }
    }
}

struct ForgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forget", abstract: Forget.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Trained model to unlearn from.") var model: String
    @Option(help: "Split naming the forget set.") var split: String
    @Option(help: "Unlearning method (Docs/Methods.md describes each).") var method: Choice<UnlearningMethods>
    @Option(help: "Name of the new model.") var output: String?
    @Option(name: .customLong("set"), help: "A hyperparameter as name=value; repeatable.") var settings: [String] = []
    @Option(help: "Seed of the method's random draws (default 0).") var seed: UInt64?
    @Option(help: "Threads for this job.") var threads: Int?

    func run() throws {
        let hyperparameters = try parseSettings(settings)
        var params = Forget.Params(model: model, split: split, method: method.rawValue, output: output, hyperparameters: hyperparameters,
                                   seed: seed, workDoneToken: options.progressToken)
        params.threads = threads
        let r = try options.client().call(Forget.self, params)
        if options.json { return Output.json(r) }
        Output.fields([("model", r.model), ("source", r.source), ("method", r.method),
                       ("hyperparameters", r.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(Output.value($0.value))" }.joined(separator: " ")),
                       ("time", Output.seconds(r.seconds)), ("fingerprint", r.fingerprint)])
    }
}

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: Evaluate.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "The model to evaluate.") var model: String
    @Option(help: "The split whose retain, forget, validation and test sets are evaluated.") var split: String
    @Option(help: "A model (usually the retrained one) to compare outputs with on the forget set.") var reference: String?

    func run() throws {
        let r = try options.client().call(Evaluate.self, .init(model: model, split: split, reference: reference))
        if options.json { return Output.json(r) }
        let rows = [("retain", r.retain), ("forget", r.forget), ("validation", r.validation), ("test", r.test)].map {
            [$0.0, "\($0.1.count)", Output.percent($0.1.accuracy), Output.number($0.1.loss)]
        }
        Output.table(["set", "examples", "accuracy", "loss"], rows)
        print("unlearning accuracy (1 - forget accuracy): \(Output.percent(r.unlearningAccuracy))")
        if let ref = r.reference {
            print("against \(ref.model) on forget: JS divergence \(Output.number(ref.jsDivergence, 4)), L2 distance \(Output.number(ref.l2Distance, 4)), "
                  + "agreement \(Output.percent(ref.agreement))")
        }
    }
}

