import NeuralNet
import Tensor
import XCTest

/// A source that promises fixed values, so a frozen prefix over it may be computed once.
final class Fixed: ExampleSource {
    let base: ExampleSource
    init(_ base: ExampleSource) { self.base = base }
    var exampleShape: [Int] { base.exampleShape }
    var classCount: Int { base.classCount }
    var count: Int { base.count }
    var gathersSameValues: Bool { true }
    func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels: UnsafeMutablePointer<Int32>) {
        base.gather(indices, into: x, labels: labels)
    }
}

/// Training with a frozen prefix computed once (FrozenPrefix) is the uncached loop, bit for bit, and happens only
/// where it is exact.
final class FrozenPrefixTests: XCTestCase {
    private struct Trained {
        let model: Model
        /// ∂L/∂θ of the last step, in the parameters' layout: 0 on a layer backward never reached.
        let gradients: [Float]
    }

    /// A clone of `original` trained 2 epochs on 4 of every 5 examples with `frozen` prefixes, cache on or off.
    private func train(_ original: Model, on source: ExampleSource, frozen: [String], cached: Bool,
                       clipNorm: Float? = nil) throws -> Trained {
        let saved = Trainer.cachesFrozenPrefix
        Trainer.cachesFrozenPrefix = cached
        defer { Trainer.cachesFrozenPrefix = saved }
        let model = original.clone()
        let network = Network(model: model)
        var recipe = TrainingRecipe(epochs: 2, batchSize: 16, learningRate: 0.05)
        recipe.frozen = frozen
        recipe.clipNorm = clipNorm
        var rng = SeededGenerator(seed: 5)
        _ = try Trainer.train(network, on: source, indices: (0..<source.count).filter { $0 % 5 != 0 }, recipe: recipe,
                              rng: &rng, control: JobControl())
        return Trained(model: model, gradients: Array(UnsafeBufferPointer(start: network.gradients, count: model.parameterCount)))
    }

    /// The gradients of the parameters named by `prefixes`.
    private func gradients(_ t: Trained, of prefixes: [String]) -> [Float] {
        t.model.entries.filter { e in !e.isBuffer && prefixes.contains { e.name.hasPrefix($0) } }
            .flatMap { t.gradients[$0.offset..<($0.offset + $0.count)] }
    }

    private func values(_ m: Model, of prefixes: [String]) -> [Float] {
        m.entries.filter { e in !e.isBuffer && prefixes.contains { e.name.hasPrefix($0) } }
            .flatMap { Array(UnsafeBufferPointer(start: m.parameters + $0.offset, count: $0.count)) }
    }

    /// eu-k's case on the cnn: both convolutions frozen. The cached run skips them (their gradients stay 0) and
    /// trains the Linear layers to the same bits as the uncached run, which back-propagates through them.
    func testAFrozenConvolutionalPrefixIsComputedOnceWithTheSameBits() throws {
        let original = try Model(architecture: Architecture(kind: "cnn", hidden: [16], channels: [4, 8]), inputShape: [1, 8, 8],
                                 classCount: 3, seed: 1)
        let data = Fixed(Images(count: 80)), frozen = ["0.", "3."]
        let cached = try train(original, on: data, frozen: frozen, cached: true)
        let uncached = try train(original, on: data, frozen: frozen, cached: false)
        XCTAssertTrue(gradients(cached, of: frozen).allSatisfy { $0 == 0 }, "the cached run back-propagated into the frozen prefix")
        XCTAssertTrue(gradients(uncached, of: frozen).contains { $0 != 0 })
        XCTAssertEqual(values(cached.model, of: frozen), values(original, of: frozen))
        XCTAssertNotEqual(cached.model.fingerprint, original.fingerprint, "nothing was trained")
        XCTAssertEqual(cached.model.fingerprint, uncached.model.fingerprint)
    }

    /// The zoo's cnn at full size (32 and 64 channels on 28×28: the Winograd and GEMM paths of the benchmarks).
    /// Its Winograd products group up to 16 images, so the cache's batches (index order, 256 at a time) round
    /// some products differently from training's shuffled batches of 16: equal to rounding, not to the bit.
    func testTheZooCNNTrainsOnItsFrozenPrefixAsTheUncachedLoop() throws {
        let original = try Model(architecture: Architecture(kind: "cnn"), inputShape: [1, 28, 28], classCount: 10, seed: 4)
        let data = Fixed(RandomImages(shape: [1, 28, 28], count: 100, seed: 6)), frozen = ["0.", "3."]
        let cached = try train(original, on: data, frozen: frozen, cached: true)
        let uncached = try train(original, on: data, frozen: frozen, cached: false)
        XCTAssertTrue(gradients(cached, of: frozen).allSatisfy { $0 == 0 })
        XCTAssertNotEqual(cached.model.fingerprint, original.fingerprint)
        var worst: Float = 0, moved: Float = 0
        for i in 0..<original.parameterCount {
            worst = max(worst, abs(cached.model.parameters[i] - uncached.model.parameters[i]))
            moved = max(moved, abs(cached.model.parameters[i] - original.parameters[i]))
        }
        XCTAssertGreaterThan(moved, 0.01)
        XCTAssertLessThan(worst, 1e-6, "largest difference cached vs uncached \(worst)")
    }

    /// The mlp with its first Linear frozen: the prefix is Flatten, Linear, ReLU; the same bits again, and with
    /// clipping, whose norm leaves frozen parameters out in both runs.
    func testAFrozenLinearPrefixGivesTheSameBitsWithAndWithoutClipping() throws {
        let original = try Model(architecture: Architecture(kind: "mlp", hidden: [12, 6]), inputShape: [2, 2, 2], classCount: 3, seed: 2)
        let data = Fixed(Blobs(count: 120, seed: 3))
        for clip in [nil, Float(0.05)] {
            let cached = try train(original, on: data, frozen: ["1."], cached: true, clipNorm: clip)
            let uncached = try train(original, on: data, frozen: ["1."], cached: false, clipNorm: clip)
            XCTAssertTrue(gradients(cached, of: ["1."]).allSatisfy { $0 == 0 })
            XCTAssertNotEqual(cached.model.fingerprint, original.fingerprint)
            XCTAssertEqual(cached.model.fingerprint, uncached.model.fingerprint, "clipNorm \(String(describing: clip))")
        }
    }

    /// Computed once only where it is exact: the prefix stops at a BatchNorm (batch statistics in training), which
    /// then runs every step as before (its frozen gradients are computed and thrown away) with the same bits; data
    /// that does not promise fixed values (augmentation) is never cached.
    func testThePrefixStopsAtBatchStatisticsAndVaryingDataIsNotCached() throws {
        let spec = [LayerSpec(type: "conv2d", out: 4, kernel: 3, padding: 1), LayerSpec(type: "batchnorm2d"), LayerSpec(type: "relu"),
                    LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 3)]
        let withNorm = try Model(architecture: Architecture(kind: "layers", layers: spec), inputShape: [1, 8, 8], classCount: 3, seed: 1)
        let normed = try train(withNorm, on: Fixed(Images(count: 40)), frozen: ["0.", "1."], cached: true)
        let normedUncached = try train(withNorm, on: Fixed(Images(count: 40)), frozen: ["0.", "1."], cached: false)
        XCTAssertTrue(gradients(normed, of: ["0."]).allSatisfy { $0 == 0 }, "the convolution before the BatchNorm runs once")
        XCTAssertTrue(gradients(normed, of: ["1."]).contains { $0 != 0 }, "the BatchNorm runs every step")
        XCTAssertEqual(normed.model.fingerprint, normedUncached.model.fingerprint)

        let cnn = try Model(architecture: Architecture(kind: "cnn", hidden: [16], channels: [4, 8]), inputShape: [1, 8, 8], classCount: 3, seed: 1)
        let varying = try train(cnn, on: Images(count: 40), frozen: ["0.", "3."], cached: true)
        XCTAssertTrue(gradients(varying, of: ["3."]).contains { $0 != 0 })
    }
}
