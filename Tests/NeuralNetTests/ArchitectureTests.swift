import NeuralNet
import Tensor
import XCTest

final class ArchitectureTests: XCTestCase {
    /// The state_dict names and shapes PyTorch's nn.Sequential gives the zoo's cnn on Fashion-MNIST.
    func testCNNMatchesPyTorchStateDict() throws {
        let m = try Model(architecture: Architecture(kind: "cnn"), inputShape: [1, 28, 28], classCount: 10, seed: 0)
        XCTAssertEqual(m.entries.map(\.name), ["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"])
        XCTAssertEqual(m.entries.map(\.shape), [[32, 1, 3, 3], [32], [64, 32, 3, 3], [64], [128, 3136], [128], [10, 128], [10]])
    }

    /// torchvision resnet18(num_classes=10): 11,181,642 parameters; names follow its module tree.
    func testResNet18MatchesTorchvision() throws {
        let m = try Model(architecture: Architecture(kind: "resnet18"), inputShape: [3, 32, 32], classCount: 10)
        XCTAssertEqual(m.parameterCount, 11_181_642)
        let names = Set(m.entries.map(\.name))
        for name in ["conv1.weight", "bn1.weight", "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight",
                     "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean", "layer4.1.bn2.bias", "fc.weight", "fc.bias"] {
            XCTAssertTrue(names.contains(name), name)
        }
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"), "no downsample where the shape is kept")
        XCTAssertEqual(m.entry(named: "conv1.weight")?.shape, [64, 3, 7, 7])
        XCTAssertEqual(m.entry(named: "fc.weight")?.shape, [10, 512])
        XCTAssertEqual(m.entries.filter(\.isBuffer).count, 20 * 3, "20 BatchNorms, 3 buffers each")
        let cifar = try Model(architecture: Architecture(kind: "resnet18", cifarStem: true), inputShape: [3, 32, 32], classCount: 10)
        XCTAssertEqual(cifar.entry(named: "conv1.weight")?.shape, [64, 3, 3, 3])
    }

    func testLayersSpecInfersSizesAndNamesByIndex() throws {
        let spec = [LayerSpec(type: "conv2d", out: 4, kernel: 3, padding: 1), LayerSpec(type: "batchnorm2d"), LayerSpec(type: "gelu"),
                    LayerSpec(type: "avgpool2d", kernel: 2), LayerSpec(type: "flatten"), LayerSpec(type: "dropout", p: 0.1),
                    LayerSpec(type: "linear", out: 3)]
        let m = try Model(architecture: Architecture(kind: "layers", layers: spec), inputShape: [2, 6, 6], classCount: 3, seed: 1)
        XCTAssertEqual(m.entries.map(\.name), ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                               "1.num_batches_tracked", "6.weight", "6.bias"])
        XCTAssertEqual(m.entry(named: "6.weight")?.shape, [3, 36])
    }

    func testShapeErrorsNameTheLayerAndBothShapes() {
        XCTAssertThrowsError(try Model(architecture: Architecture(kind: "layers", layers: [LayerSpec(type: "conv2d", out: 2, kernel: 5),
                                                                                          LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 2)]),
                                       inputShape: [1, 3, 3], classCount: 2)) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("layer 0") && text.contains("[1, 3, 3]"), text)
        }
        XCTAssertThrowsError(try Model(architecture: Architecture(kind: "layers", layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 4)]),
                                       inputShape: [5], classCount: 3)) {
            XCTAssertTrue("\($0)".contains("outputs [4] but the model needs [3]"), "\($0)")
        }
        XCTAssertThrowsError(try Model(architecture: Architecture(kind: "cnn"), inputShape: [784], classCount: 10)) {
            XCTAssertTrue("\($0)".contains("[784]"), "\($0)")
        }
        XCTAssertThrowsError(try Model(architecture: Architecture(kind: "layers", layers: [LayerSpec(type: "wormhole")]), inputShape: [3], classCount: 2))
    }

    func testDescribeCountsFLOPs() throws {
        let rows = try Architecture(kind: "cnn").describe(inputShape: [1, 28, 28], classCount: 10)
        XCTAssertEqual(rows[0].outputShape, [32, 28, 28])
        XCTAssertEqual(rows[0].multiplyAdds, 28 * 28 * 32 * 9)
        XCTAssertEqual(rows[3].multiplyAdds, 14 * 14 * 64 * 32 * 9)
        XCTAssertEqual(rows[7].multiplyAdds, 3136 * 128)
        XCTAssertEqual(rows.last?.outputShape, [10])
    }

    /// A small resnet18 trains a step, and its gradients match finite differences on a sample of parameters.
    func testSmallResNetTrainsAndItsGradientsCheck() throws {
        let arch = Architecture(kind: "resnet18", width: 4, cifarStem: true)
        let model = try Model(architecture: arch, inputShape: [3, 8, 8], classCount: 3, seed: 1)
        let network = Network(model: model)
        var rng = SeededGenerator(seed: 2)
        let x = Tensor(shape: [4, 3, 8, 8], values: (0..<(4 * 192)).map { _ in rng.uniform(-1, 1) })
        let labels: [Int32] = [0, 1, 2, 1]
        func loss() -> Double {
            Double(labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: network.forward(x, training: true), labels: $0.baseAddress!) })
        }
        let d = Tensor(shape: [0])
        let before = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: network.forward(x, training: true), labels: $0.baseAddress!, dLogits: d) }
        network.zeroGradients()
        network.backward(d)
        // ReLUs after training-mode BatchNorm put thousands of kinks near any point, so single-parameter
        // differences of early layers straddle some of them. Directional derivatives over all parameters average
        // the kinks out: along the gradient and along random directions, d/dt L(θ + t·v) must equal g·v.
        let n = model.parameterCount
        let g = Array(UnsafeBufferPointer(start: network.gradients, count: n))
        let saved = Array(UnsafeBufferPointer(start: model.parameters, count: n))
        var directions = [g.map { $0 / Float(g.map { Double($0 * $0) }.reduce(0, +).squareRoot()) }]
        for _ in 0..<3 {
            let v = (0..<n).map { _ in rng.normal() }
            let norm = Float(v.map { Double($0 * $0) }.reduce(0, +).squareRoot())
            directions.append(v.map { $0 / norm })
        }
        for (k, v) in directions.enumerated() {
            let eps: Float = 1e-3
            for i in 0..<n { model.parameters[i] = saved[i] + eps * v[i] }
            let up = loss()
            for i in 0..<n { model.parameters[i] = saved[i] - eps * v[i] }
            let down = loss()
            for i in 0..<n { model.parameters[i] = saved[i] }
            let numeric = (up - down) / Double(2 * eps)
            let analytic = zip(g, v).map { Double($0 * $1) }.reduce(0, +)
            XCTAssertLessThan(abs(analytic - numeric), 1e-3 + 2e-2 * abs(analytic), "direction \(k): \(analytic) vs \(numeric)")
        }
        // Directions over all 44k parameters weight each one at about 1/210, and the gradient's own direction is
        // blind to a zeroed component. So every trained tensor also gets its own checks: three random directions
        // over 12 sampled coordinates of that tensor alone, in which each sampled gradient carries real weight. The
        // kinks make single differences of early layers inexact by up to about 10% of the gradient's size (measured:
        // worst 0.08 here), so the bound is 20% of the norm of the sampled analytic gradient: a tensor whose
        // gradient is zeroed (bound 1e-4) or has the wrong sign fails, whatever the kinks do.
        var checkedTensors = 0, worst = 0.0
        for entry in model.entries where !entry.isBuffer {
            let count = entry.shape.reduce(1, *)
            // The tensor's largest gradient is always among them: with 8×8 inputs layer4 runs at 1×1, where 8 of
            // a 3×3 kernel's 9 taps see only padding and have exactly zero gradient.
            var picked: Set<Int> = [entry.offset + (0..<count).max { abs(g[entry.offset + $0]) < abs(g[entry.offset + $1]) }!]
            while picked.count < min(12, count) { picked.insert(entry.offset + Int(rng.next() % UInt64(count))) }
            let coordinates = picked.sorted()
            let sampledNorm = coordinates.map { Double(g[$0]) * Double(g[$0]) }.reduce(0, +).squareRoot()
            for _ in 0..<3 {
                var v = coordinates.map { _ in Double(rng.normal()) }
                let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
                v = v.map { $0 / norm }
                let eps = 1e-3
                for (k, i) in coordinates.enumerated() { model.parameters[i] = saved[i] + Float(eps * v[k]) }
                let up = loss()
                for (k, i) in coordinates.enumerated() { model.parameters[i] = saved[i] - Float(eps * v[k]) }
                let down = loss()
                for i in coordinates { model.parameters[i] = saved[i] }
                let numeric = (up - down) / (2 * eps)
                let analytic = zip(coordinates, v).map { Double(g[$0]) * $1 }.reduce(0, +)
                worst = max(worst, abs(analytic - numeric) / sampledNorm)
                XCTAssertLessThan(abs(analytic - numeric), 1e-4 + 0.2 * sampledNorm, "\(entry.name): \(analytic) vs \(numeric), sampled gradient norm \(sampledNorm)")
            }
            checkedTensors += 1
        }
        print("per-tensor directional checks: \(checkedTensors) tensors, worst error \(worst) of the sampled gradient norm")
        XCTAssertEqual(checkedTensors, model.entries.filter { !$0.isBuffer }.count)
        // The head has no ReLU after it: every fc value checks one by one.
        let fc = try XCTUnwrap(model.entry(named: "fc.weight"))
        for i in stride(from: 0, to: fc.count, by: 5) {
            let k = fc.offset + i, eps: Float = 1e-3
            model.parameters[k] = saved[k] + eps; let up = loss()
            model.parameters[k] = saved[k] - eps; let down = loss()
            model.parameters[k] = saved[k]
            XCTAssertEqual(Double(g[k]), (up - down) / Double(2 * eps), accuracy: 1e-3 + 2e-2 * abs(Double(g[k])), "fc.weight[\(i)]")
        }
        // One SGD step lowers the loss on this batch.
        let sgd = SGD(parameterCount: model.parameterCount, learningRate: 0.05)
        network.zeroGradients()
        _ = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: network.forward(x, training: true), labels: $0.baseAddress!, dLogits: d) }
        network.backward(d)
        sgd.step(parameters: model.parameters, gradients: network.gradients)
        XCTAssertLessThan(loss(), Double(before))
    }
}
