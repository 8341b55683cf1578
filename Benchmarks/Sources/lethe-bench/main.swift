// lethe-bench: the engine's workloads of the PyTorch anchor (../shared/bench/torch_fmnist.py), timed the same
// way: Fashion-MNIST, batch 128, SGD(lr 0.05, momentum 0.9, weight decay 5e-4), a fixed thread count.
// Prints one JSON object like the anchor's, plus achieved GFLOP/s and peak memory.
//
//   lethe-bench mlp|cnn EPOCHS THREADS
//   lethe-bench gemm THREADS        (the practical matrix-product ceiling of this machine)
import Datasets
import Foundation
import NeuralNet
import Tensor

func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
}

func gemmCeiling(threads: Int) -> Double {
    BLAS.setThreads(threads)
    let n = 2048
    let a = Tensor(shape: [n, n]), b = Tensor(shape: [n, n]), c = Tensor(shape: [n, n])
    for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
    BLAS.gemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n)  // warm-up
    let reps = 5
    let start = monotonicSeconds()
    for _ in 0..<reps { BLAS.gemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n) }
    return 2 * Double(n * n * n) * Double(reps) / (monotonicSeconds() - start) / 1e9
}

let args = CommandLine.arguments
// LETHE_INFER_F2=1: inference through training's Winograd F(2×2) instead of F(4×4), for comparison.
if ProcessInfo.processInfo.environment["LETHE_INFER_F2"] != nil { Conv2d.inferenceUsesF4 = false }
guard args.count >= 2 else {
    FileHandle.standardError.write(Data("usage: lethe-bench mlp|cnn EPOCHS THREADS | lethe-bench gemm THREADS\n".utf8))
    exit(2)
}
if args[1] == "gemm" {
    let threads = args.count > 2 ? Int(args[2])! : 2
    print("{\"workload\":\"gemm2048\",\"threads\":\(threads),\"gflops\":\(String(format: "%.1f", gemmCeiling(threads: threads)))}")
    exit(0)
}
if args[1] == "infer" {
    // lethe-bench infer KIND THREADS [BATCH]: inference on the 10k test set, best of 3 (an untrained model computes
    // the same FLOPs as a trained one).
    let kind = args[2], threads = Int(args[3])!, batch = args.count > 4 ? Int(args[4])! : 1000
    BLAS.setThreads(1)
    Parallel.threads = threads
    let data = try DatasetLoader.loadIDXDirectory(DatasetLoader.fashionMNISTDirectory)
    let model = try Model(architecture: Architecture(kind: kind), inputShape: data.exampleShape, classCount: 10, seed: 0)
    let network = Network(model: model)
    if ProcessInfo.processInfo.environment["LETHE_PROFILE"] != nil { network.profile = [:] }
    var best = Double.infinity
    for _ in 0..<3 {
        let start = monotonicSeconds()
        _ = try Inference.predict(network, on: data.test, indices: Array(0..<data.test.count), batchSize: batch)
        best = min(best, monotonicSeconds() - start)
    }
    if let profile = network.profile {
        for (k, v) in profile.sorted(by: { $0.value > $1.value }).prefix(6) {
            FileHandle.standardError.write(Data("\(String(format: "%8.3f", v / 3)) s  \(k)\n".utf8))
        }
    }
    print("{\"workload\":\"\(kind)_infer10k\",\"threads\":\(threads),\"batch\":\(batch),\"seconds\":\(String(format: "%.4f", best))}")
    exit(0)
}
if args[1] == "resnet18" {
    // lethe-bench resnet18 train|infer fmnist|cifar THREADS COUNT [BATCH]: Benchmarks/torch_resnet.py's workloads.
    // resnet18 with the CIFAR stem; fmnist = the first Fashion-MNIST training examples (1×28×28), cifar = seeded
    // standard-normal 3×32×32 inputs with random labels. train: COUNT SGD batches of 128 after one untimed warm-up
    // batch; infer: Inference.predict over COUNT examples (its own batch rule, or BATCH) after an untimed warm-up
    // prediction of one such batch (each side warms up the batch shape it then times: PyTorch's 128, Lethe's rule's
    // 108 or 139; the last, shorter batch stays cold on both sides). Peak memory is the process's, so run one
    // workload per process.
    let mode = args[2], input = args[3], threads = Int(args[4])!, count = Int(args[5])!
    let forcedBatch = args.count > 6 ? Int(args[6])! : nil
    BLAS.setThreads(1)
    Parallel.defaultThreads = threads
    Parallel.threads = threads
    let examples = mode == "train" ? (count + 1) * 128 : count
    let source: LabeledExamples
    if input == "fmnist" {
        let train = try DatasetLoader.loadIDXDirectory(DatasetLoader.fashionMNISTDirectory).train
        let size = train.exampleSize
        source = try LabeledExamples(exampleShape: train.exampleShape, classCount: 10,
                                     features: Array(UnsafeBufferPointer(start: train.features, count: examples * size)),
                                     labels: Array(train.labels[0..<examples]))
    } else {
        var rng = SeededGenerator(seed: 0)
        source = try LabeledExamples(exampleShape: [3, 32, 32], classCount: 10,
                                     features: (0..<(examples * 3 * 32 * 32)).map { _ in rng.normal() },
                                     labels: (0..<examples).map { _ in Int32(rng.next() % 10) })
    }
    let model = try Model(architecture: Architecture(kind: "resnet18", cifarStem: true), inputShape: source.exampleShape,
                          classCount: 10, seed: 0)
    let network = Network(model: model)
    if ProcessInfo.processInfo.environment["LETHE_PROFILE"] != nil { network.profile = [:] }
    var line = ["\"workload\":\"resnet18_\(input)_\(mode)\"", "\"threads\":\(threads)"]
    let seconds: Double, perImage: Double
    if mode == "train" {
        let recipe = TrainingRecipe(epochs: 1, batchSize: 128, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        var rng = SeededGenerator(seed: 0)
        _ = try Trainer.train(network, on: source, indices: Array(0..<128), recipe: recipe, rng: &rng, control: JobControl())
        network.profile = network.profile == nil ? nil : [:]
        let start = monotonicSeconds()
        _ = try Trainer.train(network, on: source, indices: Array(128..<examples), recipe: recipe, rng: &rng, control: JobControl())
        seconds = monotonicSeconds() - start
        perImage = seconds / Double(count * 128)
        line += ["\"batches\":\(count)", "\"batch_s\":\(String(format: "%.4f", seconds / Double(count)))"]
    } else {
        let warmUp = forcedBatch ?? Inference.batchSize(for: network)
        _ = try Inference.predict(network, on: source, indices: Array(0..<min(warmUp, count)), batchSize: forcedBatch)
        network.profile = network.profile == nil ? nil : [:]
        let start = monotonicSeconds()
        _ = try Inference.predict(network, on: source, indices: Array(0..<count), batchSize: forcedBatch)
        seconds = monotonicSeconds() - start
        perImage = seconds / Double(count)
        let batch = forcedBatch ?? Inference.batchSize(for: network)
        line += ["\"examples\":\(count)", "\"batch\":\(batch)"]
    }
    if let profile = network.profile {
        for (k, v) in profile.sorted(by: { $0.value > $1.value }).prefix(24) {
            FileHandle.standardError.write(Data("\(String(format: "%8.3f", v)) s  \(k)\n".utf8))
        }
    }
    line += ["\"seconds\":\(String(format: "%.4f", seconds))", "\"ms_per_image\":\(String(format: "%.3f", 1000 * perImage))",
             "\"peak_rss_mib\":\(Int(peakResidentMiB().rounded()))"]
    print("{" + line.joined(separator: ",") + "}")
    exit(0)
}
let kind = args[1]
let epochs = args.count > 2 ? Int(args[2])! : 1
let threads = args.count > 3 ? Int(args[3])! : 2
BLAS.setThreads(1)  // as the daemon: the engine splits work over its own threads
Parallel.defaultThreads = threads
Parallel.threads = threads

let loadStart = monotonicSeconds()
let data = try DatasetLoader.loadIDXDirectory(DatasetLoader.fashionMNISTDirectory)
let loadSeconds = monotonicSeconds() - loadStart

let architecture = Architecture(kind: kind)
let model = try Model(architecture: architecture, inputShape: data.exampleShape, classCount: 10, seed: 0)
let macs = try architecture.describe(inputShape: data.exampleShape, classCount: 10).reduce(0) { $0 + $1.multiplyAdds }
let network = Network(model: model)
let profiling = ProcessInfo.processInfo.environment["LETHE_PROFILE"] != nil
if profiling { network.profile = [:] }
let recipe = TrainingRecipe(epochs: 1, batchSize: 128, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
var rng = SeededGenerator(seed: 0)
var epochSeconds: [Double] = []
let all = Array(0..<data.train.count)
// One optimizer state across epochs, as the anchor's single torch.optim.SGD.
var trainRecipe = recipe
trainRecipe.epochs = epochs
let control = JobControl(progress: { p in epochSeconds.append(Double(data.train.count) / p.examplesPerSecond) })
_ = try Trainer.train(network, on: data.train, indices: all, recipe: trainRecipe, rng: &rng, control: control)

let trainPeak = peakResidentMiB()
if profiling {
    for (k, v) in network.profile!.sorted(by: { $0.value > $1.value }) {
        FileHandle.standardError.write(Data("\(String(format: "%8.3f", v)) s  \(k)\n".utf8))
    }
}
let evalStart = monotonicSeconds()
let predictions = try Inference.predict(network, on: data.test, indices: Array(0..<data.test.count), batchSize: 1000)
let evalSeconds = monotonicSeconds() - evalStart

// Training ≈ 3 × the forward multiply-adds (forward, input gradient, weight gradient).
let trainGFLOPs = 2 * 3 * Double(macs) * Double(data.train.count) / 1e9
let meanEpoch = epochSeconds.reduce(0, +) / Double(max(epochSeconds.count, 1))
func rounded(_ x: Double, _ digits: Double) -> Double { (x * digits).rounded() / digits }
let trainRate = rounded(trainGFLOPs / meanEpoch, 10)
let evalRate = rounded(2 * Double(macs) * Double(data.test.count) / 1e9 / evalSeconds, 10)
var result: [String: Any] = ["kind": kind, "threads": threads]
result["load_s"] = rounded(loadSeconds, 1000)
result["epoch_s"] = epochSeconds.map { rounded($0, 1000) }
result["eval10k_s"] = rounded(evalSeconds, 10000)
result["test_acc"] = predictions.accuracy
result["train_gflops_per_s"] = trainRate
result["eval_gflops_per_s"] = evalRate
result["train_peak_rss_mib"] = trainPeak.rounded()
result["peak_rss_mib"] = peakResidentMiB().rounded()
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
