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
    /// Two steps of PyTorch's SGD(lr=0.1, momentum=0.9, weight_decay=0.01) on θ=1 with gradients 0.5 then 0.2:
    /// step 1: g=0.5+0.01 → v=0.51 → θ=0.949;  step 2: g=0.2+0.00949 → v=0.9·0.51+0.20949=0.66849 → θ=0.882151.
    func testSGDMatchesPyTorchSemantics() {
        let sgd = SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        var theta: [Float] = [1]
        theta.withUnsafeMutableBufferPointer { sgd.step(parameters: $0.baseAddress!, gradients: [0.5]) }
        XCTAssertEqual(theta[0], 0.949, accuracy: 1e-6)
        theta.withUnsafeMutableBufferPointer { sgd.step(parameters: $0.baseAddress!, gradients: [0.2]) }
        XCTAssertEqual(theta[0], 0.882151, accuracy: 1e-6)
    }

    func testCosineScheduleMatchesCosineAnnealingLR() {
        XCTAssertEqual(Schedule.cosine.learningRate(base: 0.1, epoch: 0, epochs: 4), 0.1, accuracy: 1e-7)
        XCTAssertEqual(Schedule.cosine.learningRate(base: 0.1, epoch: 2, epochs: 4), 0.05, accuracy: 1e-7)
        XCTAssertEqual(Schedule.cosine.learningRate(base: 0.1, epoch: 3, epochs: 4), Float(0.1 * (1 + cos(Double.pi * 0.75)) / 2), accuracy: 1e-7)
        XCTAssertEqual(Schedule.constant.learningRate(base: 0.1, epoch: 3, epochs: 4), 0.1)
    }
}
