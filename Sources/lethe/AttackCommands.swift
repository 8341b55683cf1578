// lethe attack, lethe fleet (train, list, delete, export, import), and the deletes that free a daemon's memory.
import ArgumentParser
import Foundation
import JSONRPC
import LetheProtocol

struct AttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attack", abstract: Attack.summary)
    @OptionGroup var options: GlobalOptions
    @Option(help: "The model attacked (ulira, epsilon: the original the method starts from).") var model: String
    @Option(help: "Split: forget (members) against test (non-members).") var split: String
    @Option(help: "Attack kind (default simple; Docs/Attacks.md describes each).") var kind: Choice<AttackKinds>?
    @Option(help: "simple: how the two sides are sized: \(Attack.balances.joined(separator: ", ")) (both: the larger side is sampled down, so 0.5 is chance; kit: the starting kit's exact procedure).")
    var balance: String?
    @Option(help: "Seeds the simple attack's draws, the shadows' halves, or the first fleet member.") var seed: UInt64?
    @Option(help: "lira, rmia: number of shadow models (even; default 16).") var shadows: Int?
    @Option(help: "lira, rmia: \(Attack.variants.joined(separator: " or ")) (default online).") var variant: String?
    @Option(help: "lira, rmia: the model whose recipe the shadows repeat (default: --model).") var original: String?
    @Option(help: "ulira, epsilon: the unlearning method (default finetune).") var method: Choice<UnlearningMethods>?
    @Option(name: .customLong("set"), help: "ulira, epsilon: a hyperparameter of the method as name=value; repeatable.") var settings: [String] = []
    @Option(help: "ulira, epsilon: models per group (default 32).") var models: Int?
    @Option(help: "Threads per fleet member (default 1).") var threadsPerModel: Int?
    @Option(help: "Directory for per-example scores as .npy.") var outputs: String?
    @Option(help: "Threads for this job.") var threads: Int?

    func run() throws {
        var params = Attack.Params(model: model, split: split, kind: kind?.rawValue, balance: balance, seed: seed)
        params.shadows = shadows
        params.variant = variant
        params.original = original
        params.method = method?.rawValue
        params.hyperparameters = settings.isEmpty ? nil : try parseSettings(settings)
        params.models = models
        params.threadsPerModel = threadsPerModel
        params.outputs = outputs.map { URL(fileURLWithPath: $0).path }
        params.threads = threads
        params.workDoneToken = options.progressToken
        let r = try options.client().call(Attack.self, params)
        if options.json { return Output.json(r) }
        var fields: [(String, String)] = [("attack", r.kind + (r.balance.map { " (balance: \($0))" } ?? "") + (r.variant.map { " (\($0))" } ?? "")),
                                          ("model", r.model), ("\(r.scoreName)", Output.number(r.score))]
        if let chance = r.chanceLevel { fields.append(("chance level", Output.number(chance))) }
        if let auc = r.auc, r.scoreName != "auc" { fields.append(("AUC", Output.number(auc))) }
        if let t = r.tprAt0_1PercentFPR, let u = r.tprAt1PercentFPR { fields.append(("TPR at 0.1% / 1% FPR", "\(Output.number(t)) / \(Output.number(u))")) }
        if let features = r.features {
            fields.append(("per feature", features.sorted { $0.key < $1.key }.map { "\($0.key)=\(Output.number($0.value))" }.joined(separator: " ")))
        }
        if let e = r.epsilon {
            fields += [("forget quality F", Output.number(e.forgetQuality)), ("final score", Output.number(e.score)),
                       ("RA_U/RA_R, TA_U/TA_R", "\(Output.number(e.retainRatio)), \(Output.number(e.testRatio))"),
                       ("models", "\(e.unlearnedModels) unlearned + \(e.retrainedModels) retrained")]
        }
        fields.append(("members / non-members", "\(r.members) / \(r.nonMembers)"))
        for f in r.fleets ?? [] { fields.append(("fleet", "\(f.id) \(f.kind): \(f.members) members (\(f.trained) trained, \(f.reused) reused)")) }
        for (what, path) in (r.outputs ?? [:]).sorted(by: { $0.key < $1.key }) { fields.append((what, path)) }
        fields.append(("time", Output.seconds(r.seconds)))
        Output.fields(fields)
        if let note = r.note { print("note: \(note)") }
    }
}

struct FleetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fleet", abstract: "Model fleets (shadow, retrained, unlearned).",
                                                    subcommands: [Train.self, List.self, Delete.self, Export.self, Import.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: FleetTrain.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "Fleet kind.") var kind: Choice<FleetKinds>
        @Option(help: "The original model.") var model: String
        @Option(help: "Split naming the forget set (unlearned and retrained fleets).") var split: String
        @Option(help: "Number of members.") var count: Int
        @Option(help: "Seed of the first member; members take seed, seed+1, … (default 0).") var seed: UInt64?
        @Option(help: "unlearned: the method (default finetune).") var method: Choice<UnlearningMethods>?
        @Option(name: .customLong("set"), help: "unlearned: a hyperparameter as name=value; repeatable.") var settings: [String] = []
        @Flag(help: "Keep each member's weights too.") var keepWeights = false
        @Option(help: "Threads per member (default 1).") var threadsPerModel: Int?
        @Option(help: "Train only these members (seeds, or shadow indices), comma-separated: this machine's share (Docs/ScaleOut.md).")
        var members: String?

        func run() throws {
            let params = FleetTrain.Params(kind: kind.rawValue, model: model, split: split, count: count, seed: seed, method: method?.rawValue,
                                           hyperparameters: settings.isEmpty ? nil : try parseSettings(settings),
                                           keepWeights: keepWeights ? true : nil, threadsPerModel: threadsPerModel,
                                           members: try members.map(parseMembers), workDoneToken: options.progressToken)
            let r = try options.client().call(FleetTrain.self, params)
            if options.json { return Output.json(r) }
            Output.fields([("fleet", r.fleet.id), ("kind", r.fleet.kind), ("members", "\(r.fleet.members)"),
                           ("trained / reused", "\(r.trained) / \(r.reused)"), ("time", Output.seconds(r.seconds))])
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: FleetList.summary)
        @OptionGroup var options: GlobalOptions
        func run() throws {
            let r = try options.client().call(FleetList.self, .init())
            if options.json { return Output.json(r) }
            Output.table(["fleet", "kind", "model", "split", "method", "members", "MiB"], r.fleets.map {
                [$0.id, $0.kind, $0.model, $0.split, $0.method ?? "", "\($0.members)", Output.number(Double($0.residentBytes) / 1_048_576)]
            })
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: FleetExport.summary)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The fleet's id.") var id: String
        @Option(help: "Export only these members (seeds, or shadow indices), comma-separated.") var members: String?
        @Flag(help: "Include each member's weights (the fleet must keep them).") var weights = false
        @Option(name: .shortAndLong, help: "Write the bundle to this file (default: standard output).") var output: String?

        func run() throws {
            let bundle = try options.client().call(FleetExport.self, .init(id: id, members: try members.map(parseMembers),
                                                                           weights: weights ? true : nil))
            let data = try JSONEncoder().encode(bundle)
            guard let output else { return FileHandle.standardOutput.write(data + Data("\n".utf8)) }
            do { try data.write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw ClientError(description: "cannot write \(output): \(error.localizedDescription)", status: .failure)
            }
            if !options.json { Output.fields([("fleet", id), ("members", "\(bundle.members.count)"), ("written", output)]) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: FleetImport.summary)
        @OptionGroup var options: GlobalOptions
        @Option(help: "The model the fleet is built from here.") var model: String
        @Option(help: "The split here.") var split: String
        @Argument(help: "A bundle written by `lethe fleet export` (- for standard input).") var file: String

        func run() throws {
            let data: Data
            if file == "-" { data = FileHandle.standardInput.readDataToEndOfFile() } else {
                guard let read = FileManager.default.contents(atPath: file) else {
                    throw ClientError(description: "cannot read \(file): no such file or not readable", status: .notFound)
                }
                data = read
            }
            let bundle: FleetBundle
            do { bundle = try JSONDecoder().decode(FleetBundle.self, from: data) } catch {
                throw ClientError(description: "\(file) is not a fleet bundle written by lethe fleet export (\(error))", status: .invalidData)
            }
            let r = try options.client().call(FleetImport.self, .init(model: model, split: split, bundle: bundle))
            if options.json { return Output.json(r) }
            Output.fields([("fleet", r.fleet.id), ("kind", r.fleet.kind), ("members", "\(r.fleet.members)"),
                           ("imported / already held", "\(r.imported) / \(r.duplicates)")])
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: FleetDelete.summary)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The fleet's id.") var id: String
        func run() throws { try printDeleted(options.client().call(FleetDelete.self, .init(id: id)), json: options.json) }
    }
}

struct ModelDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: ModelDelete.summary)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The model to remove from memory.") var name: String
    func run() throws { try printDeleted(options.client().call(ModelDelete.self, .init(name: name)), json: options.json) }
}

struct DatasetDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: DatasetDelete.summary)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The dataset to remove from memory.") var name: String
    func run() throws { try printDeleted(options.client().call(DatasetDelete.self, .init(name: name)), json: options.json) }
}

struct SplitDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: SplitDelete.summary)
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The split to remove.") var name: String
    func run() throws { try printDeleted(options.client().call(SplitDelete.self, .init(name: name)), json: options.json) }
}

/// `--members 0,1,2`: member seeds (or shadow indices).
private func parseMembers(_ list: String) throws -> [UInt64] {
    try list.split(separator: ",").map { part -> UInt64 in
        guard let seed = UInt64(part.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--members: '\(part)' is not a member seed; give seeds as 0,1,2")
        }
        return seed
    }
}

private func printDeleted(_ r: DeleteResult, json: Bool) {
    if json { return Output.json(r) }
    Output.fields([("deleted", r.deleted), ("freed", Output.number(Double(r.freedBytes) / 1_048_576) + " MiB")]
                  + (r.fleets.isEmpty ? [] : [("fleets removed", r.fleets.joined(separator: ", "))]))
}
