import NeuralNet
import Tensor
import XCTest

/// Network.predict runs runs of convolutions and BasicBlocks through oneDNN (OneDNNSegment, Docs/Architecture.md
/// §2.3): BatchNorm folded into the weights, the residual sum and ReLU as post-ops, Winograd F(4×4) for 3×3 layers.
/// The expected logits come from the layer-by-layer forward pass in evaluation mode, which never touches oneDNN.
final class OneDNNInferenceTests: XCTestCase {
    /// resnet18 at full width on CIFAR's shape (Winograd on 64…512 channels, the downsampling blocks); narrow ones
    /// on odd sizes (partial tiles, channels that are not a multiple of oneDNN's 16-channel block) and with the
    /// ImageNet stem (7×7 stride 2, then a max-pool that splits the plan into two segments); and a `layers` model
    /// whose convolutions have biases folded with their BatchNorm, a stride 2 on an odd size, and no ReLU at the end.
    let models: [(Architecture, [Int])] = [
        (Architecture(kind: "resnet18", cifarStem: true), [3, 32, 32]),
        (Architecture(kind: "resnet18", width: 8, cifarStem: true), [3, 13, 11]),
        (Architecture(kind: "resnet18", width: 16), [1, 32, 32]),
        (Architecture(kind: "layers", layers: [
            LayerSpec(type: "conv2d", out: 16, kernel: 3, padding: 1), LayerSpec(type: "batchnorm2d"), LayerSpec(type: "relu"),
            LayerSpec(type: "conv2d", out: 32, kernel: 3, padding: 1), LayerSpec(type: "batchnorm2d"), LayerSpec(type: "relu"),
            LayerSpec(type: "conv2d", out: 20, kernel: 3, stride: 2, padding: 1), LayerSpec(type: "batchnorm2d"),
            LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 10),
        ]), [3, 9, 11]),
    ]

    func images(_ shape: [Int], count: Int, seed: UInt64) -> Tensor {
        let data = RandomImages(shape: shape, count: count, seed: seed)
        let x = Tensor(shape: [count] + shape)
        var labels = [Int32](repeating: 0, count: count)
        labels.withUnsafeMutableBufferPointer { data.gather(Array(0..<count)[...], into: x, labels: $0.baseAddress!) }
        return x
    }

    /// Largest |a − b| over the largest |b| (at least 1).
    func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / max(1, b.map(abs).max()!)
    }

    /// The steps Network.predict ran, from its profile.
    func steps(_ network: Network, _ x: Tensor) -> [String] {
        network.profile = [:]
        defer { network.profile = nil }
        _ = network.predict(x)
        return network.profile!.keys.sorted()
    }

    func testOneDNNRunsTheConvolutionsAndAgreesWithTheEvaluationForwardPass() throws {
        XCTAssertTrue(OneDNN.available, "libdnnl is a dependency (make deps); inference should use it")
        for (architecture, shape) in models {
            let model = try trainedLookingModel(architecture, shape)
            let x = images(shape, count: 6, seed: 3)
            let reference = Network(model: model).forward(x, training: false).array
            let network = Network(model: model)
            XCTAssertTrue(steps(network, x).contains { $0.contains("oneDNN[") }, "\(architecture.kind) \(shape): no oneDNN segment ran")
            let fast = network.predict(x).array
            XCTAssertTrue(reference.allSatisfy(\.isFinite) && reference.contains { $0 != 0 })
            XCTAssertLessThanOrEqual(relativeError(fast, reference), 1e-5, "\(architecture.kind) \(shape)")
            func classes(_ l: [Float]) -> [Int] { (0..<6).map { i in (0..<10).max { l[i * 10 + $0] < l[i * 10 + $1] }! } }
            XCTAssertEqual(classes(fast), classes(reference), "\(architecture.kind) \(shape)")
            // Same request, same threads: same bits, from this network again and from a fresh one.
            XCTAssertEqual(network.predict(x).array.map(\.bitPattern), fast.map(\.bitPattern))
            XCTAssertEqual(Network(model: model).predict(x).array.map(\.bitPattern), fast.map(\.bitPattern))
        }
    }

    /// Batches of 7 over 23 examples run two plans (7 and 2), whose Winograd weight layouts can differ: each
    /// must get weights in its own layout.
    func testPlansOfDifferentBatchesAgree() throws {
        let (architecture, shape) = models[1]
        let model = try trainedLookingModel(architecture, shape)
        let data = RandomImages(shape: shape, count: 23, seed: 17)
        let x = images(shape, count: 23, seed: 17)
        let reference = Network(model: model).forward(x, training: false).array
        let network = Network(model: model)
        for batch in [7, 23, 7] {
            let p = try Inference.predict(network, on: data, indices: Array(0..<23), batchSize: batch)
            XCTAssertLessThanOrEqual(relativeError(p.logits, reference), 1e-5, "batch \(batch)")
        }
    }

    /// resnet18 at full width: a last batch whose plan would need Winograd weights in a layout not folded yet runs
    /// padded through the full batch's plan (OneDNNSegment.runPadded); its rows must be its own examples'.
    func testALastBatchRunPaddedKeepsItsRows() throws {
        let shape = [3, 16, 16]
        let model = try trainedLookingModel(Architecture(kind: "resnet18", cifarStem: true), shape)
        let data = RandomImages(shape: shape, count: 45, seed: 19)
        let x = images(shape, count: 45, seed: 19)
        let reference = Network(model: model).forward(x, training: false).array
        let network = Network(model: model)
        for (count, batch) in [(45, 40), (45, 40), (43, 40)] {  // last batches of 5, then 3
            let p = try Inference.predict(network, on: data, indices: Array(0..<count), batchSize: batch)
            XCTAssertLessThanOrEqual(relativeError(p.logits, Array(reference.prefix(count * 10))), 1e-5, "\(count) in batches of \(batch)")
        }
    }

    /// Off, predict runs the engine's own kernels (and no oneDNN segment), as when libdnnl cannot build one.
    func testDisabledRunsTheEnginesOwnKernels() throws {
        let (architecture, shape) = models[1]
        let model = try trainedLookingModel(architecture, shape)
        let x = images(shape, count: 4, seed: 5)
        OneDNN.enabled = false
        defer { OneDNN.enabled = true }
        let network = Network(model: model)
        XCTAssertFalse(steps(network, x).contains { $0.contains("oneDNN[") })
        let own = network.predict(x).array
        OneDNN.enabled = true
        XCTAssertLessThanOrEqual(relativeError(network.predict(x).array, own), 1e-5)
    }

    /// Folded weights are remade when any parameter or BatchNorm statistic changed since the last predict call,
    /// and reused (not reordered again) when none did.
    func testChangedParametersAreFoldedAgain() throws {
        let (architecture, shape) = models[3]
        let model = try trainedLookingModel(architecture, shape)
        let x = images(shape, count: 5, seed: 11)
        let network = Network(model: model)
        let before = network.predict(x).array
        XCTAssertEqual(network.predict(x).array.map(\.bitPattern), before.map(\.bitPattern))
        // A convolution weight (the second conv2d's first), then a BatchNorm's running mean (a buffer, not a parameter).
        let secondConv = 16 * 3 * 9 + 16 + 2 * 16  // conv 1 weight and bias, BatchNorm 1's γ and β
        for change in [{ model.parameters[secondConv] += 0.5 }, { model.buffers[0] += 0.5 }] {
            change()
            let after = network.predict(x).array
            let reference = Network(model: model).forward(x, training: false).array
            XCTAssertGreaterThan(relativeError(after, before), 1e-4, "the change must move the logits")
            XCTAssertLessThanOrEqual(relativeError(after, reference), 1e-5)
        }
    }

    /// The thread count changes how oneDNN splits the work, not the predictions.
    func testThreadCountsAgree() throws {
        let (architecture, shape) = models[0]
        let model = try trainedLookingModel(architecture, shape)
        let x = images(shape, count: 3, seed: 13)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 1
        let one = Network(model: model).predict(x).array
        Parallel.threads = 2
        let two = Network(model: model).predict(x).array
        XCTAssertLessThanOrEqual(relativeError(two, one), 1e-5)
    }
}
