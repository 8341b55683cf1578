// compare: every (method, seed) run is its own unit of work on the compute pool at `threadsPerMethod` threads, so
// runs go side by side within the daemon's budget; one cancellation stops them all. Everything the request names
// is checked before any run starts.
import Datasets
import Dispatch
import Foundation
import Evaluation
import JSONRPC
import LetheProtocol
import NeuralNet
import Tensor
import Unlearning

extension Daemon {
    func compare(_ p: Compare.Params, _ context: RequestContext) async throws -> Compare.Result {
        let names = p.methods ?? UnlearningRegistry.names.filter { $0 != "retrain" }
        guard !names.isEmpty else { throw RPCError.invalidParams("parameter 'methods': give at least one method") }
        if let unknown = names.first(where: { UnlearningRegistry.method(named: $0) == nil }) {
            throw RPCError.invalidParams("parameter 'methods': unknown unlearning method '\(unknown)'; known: \(UnlearningRegistry.names.joined(separator: ", "))")
        }
        guard Set(names).count == names.count else { throw RPCError.invalidParams("parameter 'methods': a method is listed twice") }
        if let extra = p.hyperparameters?.keys.sorted().first(where: { !names.contains($0) && $0 != "retrain" }) {
            throw RPCError.invalidParams("parameter 'hyperparameters': '\(extra)' is not among the methods compared")
        }
        let seeds = p.seeds ?? [0]
        guard (1...100).contains(seeds.count) else { throw RPCError.invalidParams("parameter 'seeds': give 1 to 100 seeds") }
        guard Set(seeds).count == seeds.count else { throw RPCError.invalidParams("parameter 'seeds': a seed is listed twice") }
        let perRun = p.threadsPerMethod ?? 1
        guard (1...256).contains(perRun) else { throw RPCError.invalidParams("parameter 'threadsPerMethod' must be between 1 and 256, got \(perRun)") }
        let source = try await workspace.model(p.model)
        let splitEntry = try await workspace.split(p.split)
        let dataset = splitEntry.data
        try Self.checkFits(source.model, dataset, datasetName: splitEntry.dataset)
        let all = ["retrain"] + names.filter { $0 != "retrain" }
        var given: [String: Hyperparameters] = [:]
        for name in all {
            let method = UnlearningRegistry.method(named: name)!
            do {
                given[name] = try Self.hyperparameters(p.hyperparameters?[name] ?? [:])
                _ = try given[name]!.resolved(for: method)
            } catch let e as UnlearningError {
                throw RPCError.invalidParams("parameter 'hyperparameters.\(name)': \(e.description)")
            }
        }
        let hyperparameters = given
        // The challenge's metric per method: one retrained fleet, one unlearned fleet per method, seeds 0…N−1.
        var epsilonPlans: [String: FleetPlan] = [:]
        if let n = p.epsilonModels {
            guard (2...4096).contains(n) else { throw RPCError.invalidParams("parameter 'epsilonModels' must be between 2 and 4096, got \(n)") }
            epsilonPlans["retrain"] = try await planFleet(kind: .retrained, modelName: p.model, splitName: p.split, count: n, seed: 0, method: nil,
                                                          hyperparameters: nil, keepWeights: false, threadsPerModel: perRun, countField: "epsilonModels")
            for name in all where name != "retrain" {
                epsilonPlans[name] = try await planFleet(kind: .unlearned, modelName: p.model, splitName: p.split, count: n, seed: 0, method: name,
                                                         hyperparameters: p.hyperparameters?[name], keepWeights: false, threadsPerModel: perRun,
                                                         countField: "epsilonModels")
            }
        }
        let plans = epsilonPlans
        let cache = outputs
        let classes = source.model.classCount
        let runs = all.flatMap { name in seeds.map { (name, $0) } }
        let start = monotonicSeconds()
        let connection = context.connection
        let run = context.run
        // The whole comparison is one job for server/status and cancellation; its runs are units on the pool.
        let (outcomes, diverged, epsilons) = try await job(Compare.name, target: p.model, token: nil, threads: nil, context: context,
                                                           holdsThreads: false) { control in
            let (outcomes, diverged) = try Self.runUnits(runs, model: source, dataset: dataset, split: splitEntry.split, given: hyperparameters,
                                             threads: perRun, parent: control, token: p.workDoneToken, connection: connection, outputs: cache, run: run)
            var epsilons: [String: EpsilonMeasurement] = [:]
            if let retrained = plans["retrain"] {
                for name in ["retrain"] + all where plans[name] != nil { _ = try Self.train(plans[name]!, parent: control, token: p.workDoneToken, connection: connection, run: run) }
                for name in all where name != "retrain" {
                    epsilons[name] = try ComputePool.runHere(threads: nil) {
                        EpsilonMeasurement(examples: retrained.fleet.examples, classes: classes, unlearned: plans[name]!.members,
                                           retrained: retrained.members, threads: Parallel.threads)
                    }
                }
            }
            return (outcomes, diverged, epsilons)
        }
        var rows: [Compare.Row] = []
        func stat(_ values: [Double]) -> Compare.Stat { let m = MeanStd(values); return .init(mean: m.mean, std: m.std) }
        let reference = seeds.map { outcomes["retrain/\($0)"]! }
        let retrainSeconds = MeanStd(reference.map(\.seconds)).mean
        func row(_ name: String, _ results: [UnitOutcome]) -> Compare.Row {
            let m = results.map(\.measurement)
            let seconds = stat(results.map(\.seconds))
            return .init(method: name, retainAccuracy: stat(m.map(\.retainAccuracy)), forgetAccuracy: stat(m.map(\.forgetAccuracy)),
                         testAccuracy: stat(m.map(\.testAccuracy)), unlearningAccuracy: stat(m.map(\.unlearningAccuracy)),
                         remainingTestAccuracy: m.allSatisfy { $0.remainingTestAccuracy != nil } ? stat(m.map { $0.remainingTestAccuracy! }) : nil,
                         mia: stat(m.map(\.mia)), miaEfficacy: stat(m.map(\.miaEfficacy)),
                         averageGap: stat(zip(m, reference).map { $0.averageGap(to: $1.measurement) }), seconds: seconds,
                         timeFraction: retrainSeconds > 0 ? seconds.mean / retrainSeconds : 0,
                         hyperparameters: results.first?.hyperparameters.mapValues(Self.wire))
        }
        rows.append(row("none", seeds.map { outcomes["none/\($0)"]! }))
        for name in all where diverged[name] == nil {
            var r = row(name, seeds.map { outcomes["\(name)/\($0)"]! })
            r.forgetQuality = epsilons[name]?.result.forgetQuality
            r.epsilonScore = epsilons[name]?.score
            r.epsilonHistogram = epsilons[name].map { .init(edges: $0.result.bucketEdges, counts: $0.result.bucketCounts) }
            rows.append(r)
        }
        // Loss histograms of the first seed's models over shared bins, so they overlay.
        let firstSeed = seeds[0]
        let firstUnits = rows.compactMap { outcomes["\($0.method)/\(firstSeed)"]?.measurement }
        let edges = Evaluation.LossHistogram.edges(for: firstUnits.flatMap { $0.forgetLosses + $0.testLosses })
        for i in rows.indices {
            guard let m = outcomes["\(rows[i].method)/\(firstSeed)"]?.measurement else { continue }
            rows[i].lossHistogram = .init(edges: edges, forget: Evaluation.LossHistogram.counts(m.forgetLosses, edges: edges),
                                          test: Evaluation.LossHistogram.counts(m.testLosses, edges: edges))
            let roc = ROC.summary(scores: (m.forgetLosses + m.testLosses).map { -$0 },
                                  labels: m.forgetLosses.map { _ in true } + m.testLosses.map { _ in false })
            rows[i].lossAttack = .init(auc: roc.auc, tprAt0_1PercentFPR: roc.tprAt0_1PercentFPR, tprAt1PercentFPR: roc.tprAt1PercentFPR,
                                       roc: .init(fpr: roc.fpr, tpr: roc.tpr))
        }
        var notes = "mia is the balanced simple MIA; miaEfficacy is SalUn's MIA-efficacy (confidence feature); averageGap is SalUn's mean |Δ| "
            + "to retrain of the same seed over UA, MIA-efficacy, RA and TA, in points"
        if let n = p.epsilonModels {
            notes += "; forgetQuality and epsilonScore are the NeurIPS 2023 challenge's F and final score from \(n) unlearned models per method "
                + "(seeds 0…\(n - 1)) against \(n) retrained ones (\(plans["retrain"]!.fleet.id))"
        }
        for name in all where diverged[name] != nil {
            notes += "; \(name) diverged on this model (\(diverged[name]!)), so it has no row: lower its lr or epochs"
        }
        var result = Compare.Result(model: p.model, split: p.split, seeds: seeds, rows: rows, notes: notes,
                                    seconds: monotonicSeconds() - start)
        result.diverged = diverged.isEmpty ? nil : diverged
        return result
    }

    struct UnitOutcome: Sendable {
        let measurement: UnlearningMeasurement
        let seconds: Double
        let hyperparameters: [String: HyperparameterValue]
    }

    /// Runs every (method, seed) and measures the original once per seed (its MIA is seeded), `threads` threads
    /// per run, as many side by side as the compute pool's free threads allow. Keys are "method/seed". A method whose
    /// model diverges (non-finite outputs) is returned in `diverged` rather than failing the comparison.
    static func runUnits(_ runs: [(String, UInt64)], model source: ModelEntry, dataset: Dataset, split: Split,
                         given: [String: Hyperparameters], threads: Int, parent: JobControl, token: ProgressToken?,
                         connection: Connection, outputs: OutputsCache, run: RunRecorder?) throws -> ([String: UnitOutcome], diverged: [String: String]) {
        let seeds = Array(Set(runs.map(\.1))).sorted()
        let units: [(String, UInt64)] = seeds.map { ("none", $0) } + runs
        let results = UnitResults()
        let group = DispatchGroup()
        for (name, seed) in units {
            group.enter()
            ComputePool.submit(threads: threads) {
                defer { group.leave() }
                let control = JobControl(progress: progressReporter(token, connection, stagePrefix: "\(name)/\(seed) ", run: run), parent: parent)
                do {
                    try control.checkCancellation()
                    let start = monotonicSeconds()
                    var model = source.model
                    var used: [String: HyperparameterValue] = [:]
                    if name != "none" {
                        let method = UnlearningRegistry.method(named: name)!
                        let outcome = try method.unlearn(UnlearningContext(
                            original: source.model, originalRecipe: source.recipe, data: dataset.train,
                            trainingSource: dataset.trainingSource(seed: seed), split: split,
                            hyperparameters: given[name]!, seed: seed, control: control))
                        model = outcome.model
                        used = outcome.hyperparameters
                    }
                    let seconds = name == "none" ? 0 : monotonicSeconds() - start
                    // The original's outputs come from the daemon's cache: every seed's "none" row, and later requests, share them.
                    let measurement = try UnlearningMeasurement.measure(
                        model, dataset: dataset, split: split, seed: seed, control: control,
                        predict: name == "none" ? { try outputs.predictions(model, on: $0, indices: $1, control: control) } : nil)
                    results.set("\(name)/\(seed)", UnitOutcome(measurement: measurement, seconds: seconds, hyperparameters: used))
                } catch let error as MeasurementError where name != "none" && name != "retrain" {
                    // A method that diverges on this model is a finding, not a failure of the comparison.
                    results.setDiverged(name, seed: seed, "\(error)")
                } catch {
                    results.failures.record(error)
                    parent.cancel()  // one failed run ends the comparison; the others stop at their next batch
                }
            }
        }
        group.wait()
        return (try results.unwrap(), results.divergedMethods)
    }
}

extension UnitResults {
    /// Records that a method's model diverged for a seed (its outputs are not finite).
    func setDiverged(_ method: String, seed: UInt64, _ reason: String) {
        lock.withLock { diverged[method, default: []].append("seed \(seed): \(reason)") }
    }

    /// Methods whose model diverged for some seed, with what was found per seed.
    var divergedMethods: [String: String] {
        lock.withLock { diverged.mapValues { $0.sorted().joined(separator: "; ") } }
    }
}

/// Results of concurrent units: their outcomes by key, and their failures (UnitFailures: the first real error wins).
final class UnitResults: @unchecked Sendable {
    fileprivate let lock = NSLock()
    private var values: [String: Daemon.UnitOutcome] = [:]
    fileprivate var diverged: [String: [String]] = [:]
    let failures = UnitFailures()
    func set(_ key: String, _ value: Daemon.UnitOutcome) { lock.withLock { values[key] = value } }
    /// Every outcome, or the units' first real error.
    func unwrap() throws -> [String: Daemon.UnitOutcome] {
        try failures.rethrow()
        return lock.withLock { values }
    }
}
