import NeuralNet
import Tensor
import XCTest

final class ConvolutionalLayerTests: XCTestCase {
    func testConv2dGradients() throws {
        try checkLayer(Conv2d(inChannels: 2, outChannels: 3, kernel: 3, padding: 1), inputShape: [2, 2, 5, 5])
    }

    func testConv2dStrideWithoutBiasGradients() throws {
        try checkLayer(Conv2d(inChannels: 3, outChannels: 2, kernel: 3, stride: 2, padding: 1, bias: false), inputShape: [2, 3, 7, 6])
    }

    func testConv2dOneByOneAndNoPaddingGradients() throws {
        try checkLayer(Conv2d(inChannels: 3, outChannels: 4, kernel: 1, stride: 2), inputShape: [2, 3, 5, 5])
        try checkLayer(Conv2d(inChannels: 1, outChannels: 2, kernel: 2), inputShape: [3, 1, 4, 3])
    }

    /// A direct (loop) convolution as the known value.
    func testConv2dMatchesDirectConvolution() {
        let conv = Conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 1)
        var rng = SeededGenerator(seed: 3)
        let p = (0..<(3 * 2 * 9 + 3)).map { _ in rng.uniform(-1, 1) }
        let g = [Float](repeating: 0, count: p.count)
        var params = p, grads = g
        let x = Tensor(shape: [2, 2, 5, 4], values: (0..<80).map { _ in rng.uniform(-1, 1) })
        params.withUnsafeMutableBufferPointer { pp in grads.withUnsafeMutableBufferPointer { gg in
            conv.bind(parameters: pp.baseAddress!, gradients: gg.baseAddress!, buffers: gg.baseAddress!)
            let y = conv.forward(x, training: false)
            XCTAssertEqual(y.shape, [2, 3, 3, 2])
            for b in 0..<2 { for o in 0..<3 { for oh in 0..<3 { for ow in 0..<2 {
                var s = p[3 * 18 + o]
                for c in 0..<2 { for ki in 0..<3 { for kj in 0..<3 {
                    let ih = oh * 2 - 1 + ki, iw = ow * 2 - 1 + kj
                    if ih >= 0 && ih < 5 && iw >= 0 && iw < 4 { s += p[((o * 2 + c) * 3 + ki) * 3 + kj] * x[((b * 2 + c) * 5 + ih) * 4 + iw] }
                } } }
                XCTAssertEqual(y[((b * 3 + o) * 3 + oh) * 2 + ow], s, accuracy: 1e-5)
            } } } }
        } }
    }

    /// 3×3, stride 1, padding 1 over ≥ 8 channels runs as Winograd F(2×2, 3×3): the direct sum is the known value,
    /// on odd sizes too (partial tiles), with the fused ReLU and bias.
    func testWinogradConvolutionMatchesDirectConvolution() {
        for (h, w, relu) in [(5, 7, false), (6, 6, true), (1, 3, false)] {
            let conv = Conv2d(inChannels: 8, outChannels: 5, kernel: 3, padding: 1)
            XCTAssertTrue(conv.usesWinograd)
            conv.fusedReLU = relu
            var rng = SeededGenerator(seed: UInt64(h * 10 + w))
            let count = 5 * 8 * 9 + 5
            var params = (0..<count).map { _ in rng.uniform(-1, 1) }, grads = [Float](repeating: 0, count: count)
            let x = Tensor(shape: [3, 8, h, w], values: (0..<(3 * 8 * h * w)).map { _ in rng.uniform(-1, 1) })
            params.withUnsafeMutableBufferPointer { pp in grads.withUnsafeMutableBufferPointer { gg in
                conv.bind(parameters: pp.baseAddress!, gradients: gg.baseAddress!, buffers: gg.baseAddress!)
                let y = conv.forward(x, training: false)
                for b in 0..<3 { for o in 0..<5 { for r in 0..<h { for c in 0..<w {
                    var s = pp[5 * 72 + o]
                    for ch in 0..<8 { for ki in 0..<3 { for kj in 0..<3 {
                        let ir = r - 1 + ki, ic = c - 1 + kj
                        if ir >= 0 && ir < h && ic >= 0 && ic < w { s += pp[((o * 8 + ch) * 3 + ki) * 3 + kj] * x[((b * 8 + ch) * h + ir) * w + ic] }
                    } } }
                    if relu { s = max(s, 0) }
                    XCTAssertEqual(y[((b * 5 + o) * h + r) * w + c], s, accuracy: 1e-4, "\(h)×\(w) at \(b),\(o),\(r),\(c)")
                } } } }
            } }
        }
    }

    /// Winograd in every pass (forward, weight gradient, and the input gradient as the adjoint of the input transform):
    /// finite differences of the forward agree with the backward, partial tiles included.
    func testWinogradConvolutionGradients() throws {
        try checkLayer(Conv2d(inChannels: 8, outChannels: 3, kernel: 3, padding: 1), inputShape: [2, 8, 5, 4])
    }

    func testPoolingGradients() throws {
        // Max is piecewise linear: a small step keeps every window's winner, so the quotient is exact.
        try checkLayer(MaxPool2d(kernel: 2), inputShape: [2, 3, 4, 4], eps: 1e-4)
        try checkLayer(MaxPool2d(kernel: 3, stride: 2, padding: 1), inputShape: [1, 2, 5, 5], eps: 1e-4)
        try checkLayer(AvgPool2d(kernel: 2), inputShape: [2, 2, 4, 5])
        try checkLayer(AvgPool2d(kernel: 3, stride: 2, padding: 1), inputShape: [1, 2, 5, 5])
        try checkLayer(GlobalAvgPool(), inputShape: [2, 3, 3, 2])
    }

    func testMaxPoolKnownValues() {
        let pool = MaxPool2d(kernel: 2)
        let x = Tensor(shape: [1, 1, 2, 4], values: [1, 5, 2, 0, 3, 4, 8, 7])
        XCTAssertEqual(pool.forward(x, training: false).array, [5, 8])
    }

    func testBatchNormGradientsInTrainingAndEvaluation() throws {
        try checkLayer(BatchNorm(features: 3, spatialDims: 2), inputShape: [4, 3, 2, 2])
        try checkLayer(BatchNorm(features: 5, spatialDims: 0), inputShape: [6, 5])
        let fused = BatchNorm(features: 3, spatialDims: 2)
        fused.fusedReLU = true
        try checkLayer(fused, inputShape: [4, 3, 2, 2], eps: 1e-3)  // a smaller step: one of 1e-2 moves outputs across the kink
    }

    /// A BatchNorm with the ReLU folded in (Network.fuse, BasicBlock's bn1) gives the bits of BatchNorm then ReLU:
    /// the output, the input gradient and γ's and β's gradients, in training and in evaluation.
    func testBatchNormWithFusedReLUHasTheBitsOfBatchNormThenReLU() {
        var rng = SeededGenerator(seed: 8)
        let shape = [5, 4, 3, 6]
        let x = Tensor(shape: shape, values: (0..<360).map { _ in rng.normal() })
        let dyValues = (0..<360).map { _ in rng.normal() }
        let params = (0..<8).map { _ in 1 + 0.5 * rng.normal() }, buffers: [Float] = [0.1, -0.2, 0.3, 0, 1, 2, 0.5, 1.5, 0]
        for training in [true, false] {
            var outputs: [[Float]] = [], inputGradients: [[Float]] = [], parameterGradients: [[Float]] = []
            for fused in [false, true] {
                var p = params, g = [Float](repeating: 0, count: 8), b = buffers
                let bn = BatchNorm(features: 4, spatialDims: 2), relu = Activation(.relu)
                bn.fusedReLU = fused
                p.withUnsafeMutableBufferPointer { pp in g.withUnsafeMutableBufferPointer { gg in b.withUnsafeMutableBufferPointer { bb in
                    bn.bind(parameters: pp.baseAddress!, gradients: gg.baseAddress!, buffers: bb.baseAddress!)
                    var y = bn.forward(x, training: training)
                    if !fused { y = relu.forward(y, training: training) }
                    outputs.append(y.array)
                    var dy = Tensor(shape: shape, values: dyValues)
                    if !fused { dy = relu.backward(dy, needsInputGradient: true)! }
                    inputGradients.append(bn.backward(dy, needsInputGradient: true)!.array)
                } } }
                parameterGradients.append(g)
            }
            XCTAssertTrue(outputs[0].contains(0) && outputs[0].contains { $0 > 0 }, "the ReLU must cut some values")
            XCTAssertEqual(outputs[1].map(\.bitPattern), outputs[0].map(\.bitPattern), "output, training \(training)")
            XCTAssertEqual(inputGradients[1].map(\.bitPattern), inputGradients[0].map(\.bitPattern), "dx, training \(training)")
            XCTAssertEqual(parameterGradients[1].map(\.bitPattern), parameterGradients[0].map(\.bitPattern), "dγ, dβ, training \(training)")
        }
    }

    /// PyTorch's semantics: batch statistics normalise; running stats move by momentum 0.1 with the unbiased variance.
    func testBatchNormStatistics() {
        let bn = BatchNorm(features: 1, spatialDims: 0)
        var params: [Float] = [2, 1], grads: [Float] = [0, 0], buffers: [Float] = [0, 0, 0]
        params.withUnsafeMutableBufferPointer { p in grads.withUnsafeMutableBufferPointer { g in buffers.withUnsafeMutableBufferPointer { b in
            bn.bind(parameters: p.baseAddress!, gradients: g.baseAddress!, buffers: b.baseAddress!)
            var rng = SeededGenerator(seed: 0)
            bn.initialize(using: &rng)
            p[0] = 2; p[1] = 1  // γ, β
            let y = bn.forward(Tensor(shape: [4, 1], values: [1, 2, 3, 4]), training: true)
            // mean 2.5, biased var 1.25
            let s = Float(1.25 + 1e-5).squareRoot()
            assertAllClose(y.array, [Float(1), 2, 3, 4].map { 2 * ($0 - 2.5) / s + 1 }, accuracy: 1e-5)
            XCTAssertEqual(b[0], 0.25, accuracy: 1e-6)  // 0.9·0 + 0.1·2.5
            XCTAssertEqual(b[1], Float(0.9 + 0.1 * 5.0 / 3.0), accuracy: 1e-6)  // unbiased var 5/3
            XCTAssertEqual(b[2], 1)
            let e = bn.forward(Tensor(shape: [1, 1], values: [1]), training: false)
            XCTAssertEqual(e[0], 2 * (1 - b[0]) / (b[1] + 1e-5).squareRoot() + 1, accuracy: 1e-5)
        } } }
    }

    func testActivationGradients() throws {
        for kind in [Activation.Kind.relu, .leakyReLU(slope: 0.1), .gelu, .tanh, .sigmoid] {
            try checkLayer(Activation(kind), inputShape: [3, 5])
        }
        let gelu = Activation(.gelu).forward(Tensor(shape: [1, 3], values: [-1, 0, 2]), training: false).array
        assertAllClose(gelu, [-0.15865526, 0, 1.9544997], accuracy: 1e-5)  // x·Φ(x)
    }

    func testDropoutMasksScalesAndIsIdentityInEvaluation() {
        let d = Dropout(p: 0.25)
        d.seed(1)
        let x = Tensor(shape: [1, 40_000], values: [Float](repeating: 1, count: 40_000))
        let y = d.forward(x, training: true).array
        let zeros = y.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 40_000, 0.25, accuracy: 0.01)
        XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3.0) < 1e-6 })
        let dy = Tensor(shape: [1, 40_000], values: [Float](repeating: 1, count: 40_000))
        XCTAssertEqual(d.backward(dy, needsInputGradient: true)!.array, y, "the gradient uses the same mask")
        XCTAssertEqual(d.forward(x, training: false).array, x.array)
    }

    func testBasicBlockGradients() throws {
        // The inner ReLU sees BatchNorm outputs near 0; a small step keeps them on their side of the kink.
        try checkLayer(BasicBlock(inPlanes: 2, planes: 2, stride: 1), inputShape: [2, 2, 4, 4], eps: 1e-3)
        try checkLayer(BasicBlock(inPlanes: 2, planes: 3, stride: 2), inputShape: [2, 2, 5, 5], eps: 1e-3)
    }
}

func assertAllClose(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

final class ThreadedLayerTests: XCTestCase {
    override func setUp() { Parallel.threads = 2 }
    override func tearDown() { Parallel.threads = 1 }

    /// The per-worker paths (partial weight gradients summed in worker order) check like the serial ones.
    func testConv2dGradientsWithTwoWorkers() throws {
        try checkLayer(Conv2d(inChannels: 2, outChannels: 3, kernel: 3, padding: 1), inputShape: [5, 2, 4, 4])
        try checkLayer(BasicBlock(inPlanes: 2, planes: 3, stride: 2), inputShape: [3, 2, 5, 5], eps: 1e-3)
        try checkLayer(Linear(inFeatures: 7, outFeatures: 5), inputShape: [5, 7])
        // Winograd, with per-worker ∂L/∂U partials.
        try checkLayer(Conv2d(inChannels: 8, outChannels: 3, kernel: 3, padding: 1), inputShape: [5, 8, 4, 5])
    }

    /// Linear splits rows and output features over workers: every value is one full GEMM sum, so the bits do not
    /// depend on the thread count.
    func testLinearGivesTheSameBitsForAnyThreadCount() {
        var rng = SeededGenerator(seed: 4)
        let x = Tensor(shape: [9, 6], values: (0..<54).map { _ in rng.uniform(-1, 1) })
        let p = (0..<(6 * 4 + 4)).map { _ in rng.uniform(-1, 1) }
        func run(_ threads: Int) -> ([Float], [Float]) {
            Parallel.threads = threads
            let layer = Linear(inFeatures: 6, outFeatures: 4)
            var params = p, grads = [Float](repeating: 0, count: p.count)
            return params.withUnsafeMutableBufferPointer { pp in grads.withUnsafeMutableBufferPointer { gg in
                layer.bind(parameters: pp.baseAddress!, gradients: gg.baseAddress!, buffers: gg.baseAddress!)
                let y = layer.forward(x, training: true).array
                let dy = Tensor(shape: [9, 4], values: y.map { $0 * 0.5 })
                let dx = layer.backward(dy, needsInputGradient: true)!.array
                return (y + dx, Array(gg))
            } }
        }
        let one = run(1), two = run(2)
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
    }

    /// Two threads give the same bits run after run, and the same predictions as one thread.
    func testThreadedTrainingIsDeterministic() throws {
        func train(threads: Int) throws -> Model {
            Parallel.threads = threads
            let model = try Model(architecture: Architecture(kind: "cnn", hidden: [16], channels: [4, 8]), inputShape: [1, 8, 8], classCount: 3, seed: 1)
            let data = Images(count: 64)
            var rng = SeededGenerator(seed: 2)
            _ = try Trainer.train(Network(model: model), on: data, indices: Array(0..<64),
                                  recipe: TrainingRecipe(epochs: 2, batchSize: 16, learningRate: 0.05), rng: &rng, control: JobControl())
            return model
        }
        let a = try train(threads: 2), b = try train(threads: 2), serial = try train(threads: 1)
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        for i in stride(from: 0, to: a.parameterCount, by: 97) { XCTAssertEqual(a.parameters[i], serial.parameters[i], accuracy: 1e-4) }
    }
}

/// Class-dependent 8×8 images.
final class Images: ExampleSource {
    let exampleShape = [1, 8, 8], classCount = 3
    let count: Int
    init(count: Int) { self.count = count }
    func gather(_ indices: ArraySlice<Int>, into t: Tensor, labels: UnsafeMutablePointer<Int32>) {
        for (row, i) in indices.enumerated() {
            labels[row] = Int32(i % 3)
            for p in 0..<64 { t[row * 64 + p] = Float((p % 3 == i % 3 ? 1 : 0)) + Float((i * 31 + p * 7) % 13) / 26 }
        }
    }
}
