import NeuralNet
import Tensor
import XCTest

/// Training's 3×3 stride-1 convolutions on at least 64 channels run through oneDNN's Winograd F(4×4) in all three
/// passes (Conv2d+OneDNN.swift, Docs/Architecture.md §2.3). Checked against central differences (an independent
/// computation), against the engine's own F(2×2), and for determinism.
final class OneDNNTrainingTests: XCTestCase {
    override func setUp() {
        XCTAssertTrue(OneDNN.trainingEnabled && OneDNN.available, "libdnnl is a dependency (make deps)")
    }

    /// The convolution is bilinear in x and W, so central differences are exact up to float rounding whatever
    /// the step: a step of 0.1 keeps the rounding of 576-term sums (outputs near 15) well under the checker's bound.
    /// (With the fused ReLU, steps that size cross kinks; the ReLU's mask is checked against the engine below.)
    func testGradientsMatchFiniteDifferences() throws {
        try checkLayer(Conv2d(inChannels: 64, outChannels: 64, kernel: 3, padding: 1), inputShape: [2, 64, 5, 4], eps: 0.1)
    }

    /// One layer, forward and backward, through oneDNN and through the engine's F(2×2): the same values to float
    /// rounding, not the same bits (so the oneDNN path did run).
    func testAgreesWithTheEnginesWinograd() {
        func pass(oneDNN: Bool) -> (y: [Float], dx: [Float], grads: [Float]) {
            OneDNN.trainingEnabled = oneDNN
            defer { OneDNN.trainingEnabled = true }
            let conv = Conv2d(inChannels: 64, outChannels: 80, kernel: 3, padding: 1)
            conv.fusedReLU = true
            var rng = SeededGenerator(seed: 21)
            let count = conv.parameterCount
            var params = (0..<count).map { _ in rng.uniform(-0.1, 0.1) }, grads = [Float](repeating: 0, count: count)
            let x = Tensor(shape: [3, 64, 9, 7], values: (0..<(3 * 64 * 63)).map { _ in rng.uniform(-1, 1) })
            let dy = Tensor(shape: [3, 80, 9, 7], values: (0..<(3 * 80 * 63)).map { _ in rng.uniform(-1, 1) })
            var y: [Float] = [], dx: [Float] = []
            params.withUnsafeMutableBufferPointer { pp in grads.withUnsafeMutableBufferPointer { gg in
                conv.bind(parameters: pp.baseAddress!, gradients: gg.baseAddress!, buffers: gg.baseAddress!)
                y = conv.forward(x, training: true).array
                dx = conv.backward(dy, needsInputGradient: true)!.array
            } }
            return (y, dx, grads)
        }
        let fast = pass(oneDNN: true), own = pass(oneDNN: false)
        for (name, a, b) in [("output", fast.y, own.y), ("input gradient", fast.dx, own.dx), ("parameter gradients", fast.grads, own.grads)] {
            let scale = max(1, b.map(abs).max()!)
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max()! / scale, 1e-5, name)
        }
        XCTAssertNotEqual(fast.grads.map(\.bitPattern), own.grads.map(\.bitPattern), "the oneDNN path did not run")
    }

    /// Same seed, same threads: the same trained bits (resnet18 at its real width on small images, so every
    /// block's convolutions take the oneDNN path).
    func testTrainingIsDeterministic() throws {
        let source = RandomImages(shape: [3, 8, 8], count: 24, seed: 4)
        func trained(oneDNN: Bool = true) throws -> String {
            OneDNN.trainingEnabled = oneDNN
            defer { OneDNN.trainingEnabled = true }
            let model = try Model(architecture: Architecture(kind: "resnet18", cifarStem: true), inputShape: [3, 8, 8],
                                  classCount: 10, seed: 3)
            var rng = SeededGenerator(seed: 5)
            _ = try Trainer.train(Network(model: model), on: source, indices: Array(0..<24),
                                  recipe: TrainingRecipe(epochs: 1, batchSize: 8, learningRate: 0.05), rng: &rng, control: JobControl())
            return model.fingerprint
        }
        let first = try trained()
        XCTAssertEqual(try trained(), first)
        XCTAssertNotEqual(try trained(oneDNN: false), first, "the oneDNN path did not run")
    }
}
