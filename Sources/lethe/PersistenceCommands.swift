// Bring your own data and models: dataset formats and forget-set options, split info, model save/load/predict.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

/// Comma-separated numbers, e.g. "0.49,0.48,0.45".
func numbers<T: LosslessStringConvertible>(_ text: String?, _ option: String) throws -> [T]? {
    try text.map { t in
        try t.split(separator: ",").map { part in
            guard let v = T(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(option) takes comma-separated numbers, got '\(t)'") }
            return v
        }
    }
}

struct DatasetFormatOptions: ParsableArguments {
    @Option(help: "idx (default), npy, npz, cifar10 or csv.") var format: String?
    @Option(name: .customLong("file"), help: "A file (npy, csv) or archive key (npz) for a role, as role=name; repeatable. Roles: trainImages, trainLabels, testImages, testLabels, trainGroups (npy/npz); train, test (csv).")
    var files: [String] = []
    @Option(help: "Axis order of 4-D image arrays: NCHW or NHWC (NHW and NF for 3-D and 2-D).") var layout: String?
    @Option(help: "csv: the label column (default: label).") var labelColumn: String?
    @Option(help: "csv: a column of group ids.") var groupColumn: String?
    @Option(help: "Per-channel means, comma-separated (with --std).") var mean: String?
    @Option(help: "Per-channel standard deviations, comma-separated (with --mean).") var std: String?
    @Flag(help: "Normalise with the training part's per-channel mean and std.") var normalize = false
    @Option(help: "Training augmentation: random crop with this padding.") var cropPadding: Int?
    @Flag(help: "Training augmentation: random horizontal flip.") var flip = false

    func apply(to base: DatasetLoad.Params) throws -> DatasetLoad.Params {
        var p = base
        p.format = format
        p.layout = layout
        p.labelColumn = labelColumn
        p.groupColumn = groupColumn
        if !files.isEmpty {
            var map: [String: String] = [:]
            for f in files {
                let parts = f.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--file takes role=name, got '\(f)'") }
                map[String(parts[0])] = String(parts[1])
            }
            p.files = map
        }
        if mean != nil || std != nil || normalize {
            p.normalize = NormalizeSpec(mean: try numbers(mean, "--mean"), std: try numbers(std, "--std"), compute: normalize ? true : nil)
        }
        if cropPadding != nil || flip { p.augment = AugmentSpec(cropPadding: cropPadding, horizontalFlip: flip ? true : nil) }
        return p
    }
}

struct ForgetSelectionOptions: ParsableArguments {
    @Option(help: "Forget every example of these classes, comma-separated.") var classes: String?
    @Option(help: "Forget these training indices, comma-separated.") var indices: String?
    @Option(help: "Forget the training indices in this 1-D integer .npy file (e.g. forget_idx.npy).") var indicesFile: String?
    @Option(help: "Forget every example of these group ids, comma-separated.") var groups: String?
    @Option(help: "Forget every example of this many random groups.") var randomGroups: Int?

    var isEmpty: Bool { classes == nil && indices == nil && indicesFile == nil && groups == nil && randomGroups == nil }

    func spec() throws -> SplitCreate.ForgetSpec {
        SplitCreate.ForgetSpec(classes: try numbers(classes, "--classes"), indices: try numbers(indices, "--indices"),
                               indicesFile: indicesFile.map { URL(fileURLWithPath: $0).path }, groups: try numbers(groups, "--groups"), randomGroups: randomGroups)
    }
}

struct SplitInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: SplitInfo.summary)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The split.") var name: String

    func run() throws {
        let r = try options.client().call(SplitInfo.self, .init(name: name))
        if options.json { return Output.json(r) }
        print("split \(r.name) of dataset \(r.dataset), seed \(r.seed)")
        let parts = [("retain", r.retain), ("forget", r.forget), ("validation", r.validation), ("test", r.test)]
        let classes = parts.map(\.1.classCounts.count).max() ?? 0
        Output.table(["part", "examples", "groups"] + (0..<classes).map { "class \($0)" },
                     parts.map { [$0.0, "\($0.1.count)", $0.1.groups.map(String.init) ?? "-"] + $0.1.classCounts.map(String.init) })
    }
}

struct ModelSaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: ModelSave.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Model to save.") var model: String
    @Option(help: "The .safetensors file to write (default: the daemon's model library, by name).") var path: String?

    func run() throws {
        let absolute = path.map { URL(fileURLWithPath: $0).path }  // the daemon's working directory is not ours
        let r = try options.client().call(ModelSave.self, .init(model: model, path: absolute))
        if options.json { return Output.json(r) }
        Output.fields([("model", r.model), ("file", r.path), ("tensors", "\(r.tensors)"), ("bytes", "\(r.bytes)"), ("fingerprint", r.fingerprint)])
    }
}

struct ModelLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: ModelLoad.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Name in the workspace.") var name: String
    @Option(help: "The .safetensors file (default: the model saved under --name in the daemon's library).") var path: String?
    @Option(help: "Architecture of the zoo, for files without Lethe's metadata (PyTorch exports).") var architecture: String?
    @Option(help: "Hidden widths of an mlp, comma-separated.") var hidden: String?
    @Option(help: "Dataset whose example shape and classes the model takes.") var dataset: String?
    @Option(help: "Per-example input shape, comma-separated (instead of --dataset).") var inputShape: String?
    @Option(help: "Number of classes (instead of --dataset).") var classes: Int?
    @Flag(help: "Replace an existing model of that name.") var replace = false

    func run() throws {
        let spec = try architecture.map { ArchitectureSpec(kind: $0, hidden: try numbers(hidden, "--hidden")) }
        let r = try options.client().call(ModelLoad.self, .init(
            name: name, path: path.map { URL(fileURLWithPath: $0).path }, architecture: spec, dataset: dataset,
            inputShape: try numbers(inputShape, "--input-shape"), classes: classes, replace: replace ? true : nil))
        if options.json { return Output.json(r) }
        Output.fields([("model", r.name), ("file", r.path), ("architecture", r.architecture.kind), ("input shape", "\(r.inputShape)"),
                       ("classes", "\(r.classCount)"), ("parameters", "\(r.parameterCount)"), ("fingerprint", r.fingerprint)])
    }
}

struct ModelPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: ModelPredict.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "Model.") var model: String
    @Option(help: "Dataset whose examples to predict (with --part, --indices).") var dataset: String?
    @Option(help: "train or test (default test).") var part: String?
    @Option(help: "Indices into the part, comma-separated (default: all).") var indices: String?
    @Option(help: "Split whose part to predict (with --subset).") var split: String?
    @Option(help: "retain, forget (default), validation or test.") var subset: String?
    @Flag(help: "Probabilities instead of logits.") var probabilities = false
    @Option(help: "Write the values to this .npy file.") var output: String?

    func run() throws {
        let r = try options.client().call(ModelPredict.self, .init(
            model: model, dataset: dataset, part: part, indices: try numbers(indices, "--indices"), split: split, subset: subset,
            output: probabilities ? "probabilities" : nil, path: output.map { URL(fileURLWithPath: $0).path }))
        if options.json { return Output.json(r) }
        var fields = [("model", r.model), ("examples", "\(r.count)"), ("values", r.output)]
        if let a = r.accuracy { fields.append(("accuracy", Output.percent(a))) }
        if let p = r.path { fields.append(("written to", p)) }
        Output.fields(fields)
        if let values = r.values, r.path == nil {
            Output.table(["#", "class"] + (0..<r.classCount).map { "\($0)" },
                         values.enumerated().prefix(20).map { i, row in ["\(i)", "\(r.predictions[i])"] + row.map { Output.number($0) } })
        }
    }
}

struct ModelListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: ModelList.summary)
    @OptionGroup var options: GlobalOptions

    func run() throws {
        let r = try options.client().call(ModelList.self, .init())
        if options.json { return Output.json(r) }
        Output.table(["model", "resident", "saved", "fingerprint", "file"], r.models.map {
            [$0.name, $0.resident ? "yes" : "", $0.saved ? "yes" : "", $0.fingerprint ?? "", $0.path ?? ""]
        })
    }
}
