import NeuralNet
import Tensor
import XCTest

final class LayerGradientTests: XCTestCase {
    func testLinearGradients() throws { try checkLayer(Linear(inFeatures: 6, outFeatures: 4), inputShape: [3, 6]) }
    func testLinearReadsAnyPerExampleShapeAsRows() throws { try checkLayer(Linear(inFeatures: 12, outFeatures: 5), inputShape: [2, 3, 2, 2]) }
    func testReLUGradients() throws { try checkLayer(ReLU(), inputShape: [4, 7]) }
    func testFlattenGradients() throws { try checkLayer(Flatten(), inputShape: [2, 3, 2, 2]) }

    func testLinearAccumulatesParameterGradients() {
        let layer = Linear(inFeatures: 2, outFeatures: 1)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 3), g = UnsafeMutablePointer<Float>.allocate(capacity: 3)
        defer { p.deallocate(); g.deallocate() }
        p.update(from: [1, 2, 0.5], count: 3)  // W = [1, 2], b = 0.5
        g.update(from: [0, 0, 0], count: 3)
        layer.bind(parameters: p, gradients: g, buffers: g)
        let x = Tensor(shape: [1, 2], values: [3, 4])
        XCTAssertEqual(layer.forward(x, training: true).array, [1 * 3 + 2 * 4 + 0.5])
        let dy = Tensor(shape: [1, 1], values: [1])
        _ = layer.backward(dy, needsInputGradient: false)
        _ = layer.backward(dy, needsInputGradient: false)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: g, count: 3)), [6, 8, 2], "two backward passes add up")
    }
}

final class LossTests: XCTestCase {
    func testCrossEntropyValueAndGradient() {
        var rng = SeededGenerator(seed: 5)
        let batch = 4, classes = 5
        let logits = Tensor(shape: [batch, classes], values: (0..<(batch * classes)).map { _ in rng.uniform(-3, 3) })
        let labels: [Int32] = [0, 4, 2, 2]
        let d = Tensor(shape: [0])
        var per = [Float](repeating: 0, count: batch)
        let loss = labels.withUnsafeBufferPointer { l in per.withUnsafeMutableBufferPointer { p in
            CrossEntropy.forward(logits: logits, labels: l.baseAddress!, dLogits: d, perExample: p.baseAddress!) } }
        // Known value: −log softmax(z)_y, averaged.
        var expected = 0.0
        for b in 0..<batch {
            let row = (0..<classes).map { Double(logits[b * classes + $0]) }
            let lse = log(row.map { exp($0) }.reduce(0, +))
            XCTAssertEqual(Double(per[b]), lse - row[Int(labels[b])], accuracy: 1e-5)
            expected += lse - row[Int(labels[b])]
        }
        XCTAssertEqual(Double(loss), expected / Double(batch), accuracy: 1e-5)
        let eps: Float = 1e-2
        let grads = d.array
        for i in 0..<logits.count {
            let saved = logits[i]
            logits[i] = saved + eps
            let up = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: logits, labels: $0.baseAddress!) }
            logits[i] = saved - eps
            let down = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: logits, labels: $0.baseAddress!) }
            logits[i] = saved
            assertClose(Double(grads[i]), Double(up - down) / Double(2 * eps), "∂CE/∂z[\(i)]")
        }
    }
}

final class OptimizerTests: XCTestCase {
    private func run(_ opt: Optimizer, theta: Float, grads: [Float]) -> Float {
        var t: [Float] = [theta]
        for g in grads { t.withUnsafeMutableBufferPointer { opt.step(parameters: $0.baseAddress!, gradients: [g]) } }
        return t[0]
    }

    /// Two steps of PyTorch's SGD(lr=0.1, momentum=0.9, weight_decay=0.01) on θ=1 with gradients 0.5 then 0.2:
    /// step 1: g=0.5+0.01 → v=0.51 → θ=0.949;  step 2: g=0.2+0.00949 → v=0.9·0.51+0.20949=0.66849 → θ=0.882151.
    func testSGDMatchesPyTorchSemantics() {
        XCTAssertEqual(run(SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01), theta: 1, grads: [0.5]), 0.949, accuracy: 1e-6)
        XCTAssertEqual(run(SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01), theta: 1, grads: [0.5, 0.2]), 0.882151, accuracy: 1e-6)
    }

    /// Nesterov: step = g + μ·v. Step 1: v=0.5, step=0.5+0.45=0.95 → θ=0.905; step 2: v=0.45+0.2=0.65,
    /// step=0.2+0.585=0.785 → θ=0.8265.
    func testNesterov() {
        XCTAssertEqual(run(SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, nesterov: true), theta: 1, grads: [0.5, 0.2]), 0.8265, accuracy: 1e-6)
    }

    /// Adam's first step moves every parameter by lr·sign(g) (bias correction makes m̂/√ŝ = ±1); the second step
    /// follows from the moment updates.
    func testAdamAndAdamW() {
        XCTAssertEqual(run(Adam(parameterCount: 1, learningRate: 0.01), theta: 1, grads: [0.3]), 0.99, accuracy: 1e-6)
        // Step 2 with g=0.1: m=0.9·0.03+0.01=0.037, s=0.999·0.00009+0.00001=0.00009991
        // m̂=0.037/0.19=0.194737, ŝ=0.00009991/0.001999=0.0499800, θ=0.99−0.01·0.194737/0.223562=0.981289
        XCTAssertEqual(run(Adam(parameterCount: 1, learningRate: 0.01), theta: 1, grads: [0.3, 0.1]), 0.981289, accuracy: 2e-6)
        // AdamW decays θ first: 1·(1−0.01·0.5) = 0.995, then −0.01.
        XCTAssertEqual(run(Adam(parameterCount: 1, learningRate: 0.01, weightDecay: 0.5, decoupled: true), theta: 1, grads: [0.3]), 0.985, accuracy: 1e-6)
        // Adam's L2 weight decay enters the gradient, so a first step is still ±lr.
        XCTAssertEqual(run(Adam(parameterCount: 1, learningRate: 0.01, weightDecay: 0.5), theta: 1, grads: [-0.3]), 0.99, accuracy: 1e-6)
    }

    func testFrozenParametersDoNotMoveAtAll() {
        let sgd = SGD(parameterCount: 2, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
        var theta: [Float] = [1, 1]
        let frozen: [Float] = [0, 1]
        theta.withUnsafeMutableBufferPointer { sgd.step(parameters: $0.baseAddress!, gradients: [0.5, 0.5], frozen: frozen) }
        XCTAssertEqual(theta[0], 1, "frozen, weight decay included")
        XCTAssertNotEqual(theta[1], 1)
    }

    func testClipNormAndMask() {
        var g: [Float] = [3, 4]
        let norm = g.withUnsafeMutableBufferPointer { GradientTools.clipNorm($0.baseAddress!, count: 2, maxNorm: 1) }
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(g[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(g[1], 0.8, accuracy: 1e-5)
        var h: [Float] = [0.1, 0.2]
        _ = h.withUnsafeMutableBufferPointer { GradientTools.clipNorm($0.baseAddress!, count: 2, maxNorm: 1) }
        XCTAssertEqual(h, [0.1, 0.2], "under the limit: untouched")
        h.withUnsafeMutableBufferPointer { GradientTools.applyMask($0.baseAddress!, [0, 1], count: 2) }
        XCTAssertEqual(h, [0, 0.2])
    }

    func testSchedules() {
        let cosine = LearningRateSchedule.cosine
        XCTAssertEqual(cosine.learningRate(base: 0.1, at: 0, of: 4), 0.1, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(base: 0.1, at: 2, of: 4), 0.05, accuracy: 1e-7)
        XCTAssertEqual(cosine.learningRate(base: 0.1, at: 3, of: 4), Float(0.1 * (1 + cos(Double.pi * 0.75)) / 2), accuracy: 1e-7)
        XCTAssertEqual(LearningRateSchedule.constant.learningRate(base: 0.1, at: 3, of: 4), 0.1)
        let step = LearningRateSchedule(kind: .step, stepSize: 2, gamma: 0.5)
        XCTAssertEqual((0..<5).map { step.learningRate(base: 1, at: $0, of: 5) }, [1, 1, 0.5, 0.5, 0.25])
        let warm = LearningRateSchedule(kind: .cosine, warmup: 2)
        XCTAssertEqual(warm.learningRate(base: 1, at: 0, of: 6), 0.5)
        XCTAssertEqual(warm.learningRate(base: 1, at: 1, of: 6), 1)
        XCTAssertEqual(warm.learningRate(base: 1, at: 2, of: 6), 1, "cosine starts after the warm-up")
        XCTAssertEqual(warm.learningRate(base: 1, at: 4, of: 6), 0.5, accuracy: 1e-6)
    }
}
