import NeuralNet
import Tensor
import XCTest

/// Seeded standard-normal images with labels, any shape.
final class RandomImages: ExampleSource {
    let exampleShape: [Int]
    let classCount = 10
    let count: Int
    let x: [Float]

    init(shape: [Int], count: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        exampleShape = shape
        self.count = count
        x = (0..<(count * shape.reduce(1, *))).map { _ in rng.normal() }
    }

    func gather(_ indices: ArraySlice<Int>, into t: Tensor, labels: UnsafeMutablePointer<Int32>) {
        let size = exampleShape.reduce(1, *)
        for (row, i) in indices.enumerated() {
            for d in 0..<size { t[row * size + d] = x[i * size + d] }
            labels[row] = Int32(i % classCount)
        }
    }
}

/// Models whose BatchNorms have non-trivial statistics and affine parameters: every parameter nudged, then
/// two training-mode passes to move the running mean and variance.
func trainedLookingModel(_ architecture: Architecture, _ shape: [Int], seed: UInt64 = 1) throws -> Model {
    let model = try Model(architecture: architecture, inputShape: shape, classCount: 10, seed: seed)
    var rng = SeededGenerator(seed: seed + 100)
    for i in 0..<model.parameterCount { model.parameters[i] += 0.05 * rng.normal() }
    let data = RandomImages(shape: shape, count: 8, seed: seed + 200)
    let network = Network(model: model)
    let x = Tensor(shape: [8] + shape)
    var labels = [Int32](repeating: 0, count: 8)
    labels.withUnsafeMutableBufferPointer { data.gather(Array(0..<8)[...], into: x, labels: $0.baseAddress!) }
    for _ in 0..<2 { _ = network.forward(x, training: true) }
    return model
}

final class InferenceTests: XCTestCase {
    let zoo: [(Architecture, [Int])] = [
        (Architecture(kind: "resnet18", width: 8, cifarStem: true), [3, 13, 11]),  // odd sizes: partial Winograd tiles
        (Architecture(kind: "resnet18", width: 8), [1, 32, 32]),  // the ImageNet stem: 7×7 stride 2 and max-pool
        (Architecture(kind: "cnn"), [1, 28, 28]),
        (Architecture(kind: "mlp", hidden: [64]), [1, 28, 28]),
    ]

    /// Network.predict folds BatchNorm, the residual sums and the ReLUs into the convolutions: with training's
    /// Winograd F(2×2), the logits must have the same bits as the layer-by-layer forward pass in evaluation mode.
    func testPredictHasTheBitsOfTheEvaluationForwardPass() throws {
        Conv2d.inferenceUsesF4 = false
        OneDNN.enabled = false  // oneDNN's kernels round differently (OneDNNInferenceTests)
        defer { Conv2d.inferenceUsesF4 = true; OneDNN.enabled = true }
        for (architecture, shape) in zoo {
            let model = try trainedLookingModel(architecture, shape)
            let data = RandomImages(shape: shape, count: 5, seed: 7)
            let x = Tensor(shape: [5] + shape)
            var labels = [Int32](repeating: 0, count: 5)
            labels.withUnsafeMutableBufferPointer { data.gather(Array(0..<5)[...], into: x, labels: $0.baseAddress!) }
            let reference = Network(model: model).forward(x, training: false).array
            let network = Network(model: model)
            for weightsUnchanged in [false, true] {
                let fast = network.predict(x, weightsUnchanged: weightsUnchanged).array
                XCTAssertEqual(fast.map(\.bitPattern), reference.map(\.bitPattern), "\(architecture.kind) \(shape)")
            }
            XCTAssertTrue(reference.contains { $0 != 0 } && reference.allSatisfy(\.isFinite))
        }
    }

    /// With F(4×4) (the default), the logits differ from the evaluation forward pass by float rounding only.
    func testPredictWithF4AgreesWithTheEvaluationForwardPass() throws {
        XCTAssertTrue(Conv2d.inferenceUsesF4)
        for (architecture, shape) in zoo {
            let model = try trainedLookingModel(architecture, shape)
            let data = RandomImages(shape: shape, count: 5, seed: 7)
            let x = Tensor(shape: [5] + shape)
            var labels = [Int32](repeating: 0, count: 5)
            labels.withUnsafeMutableBufferPointer { data.gather(Array(0..<5)[...], into: x, labels: $0.baseAddress!) }
            let reference = Network(model: model).forward(x, training: false).array
            let fast = Network(model: model).predict(x).array
            let scale = max(1, reference.map(abs).max()!)
            let worst = zip(fast, reference).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(architecture.kind) \(shape)")
            func classes(_ l: [Float]) -> [Int] { (0..<5).map { i in (0..<10).max { l[i * 10 + $0] < l[i * 10 + $1] }! } }
            XCTAssertEqual(classes(fast), classes(reference))
        }
    }

    /// The same examples give the same predictions whatever the batch they are predicted in. Not the same bits:
    /// OpenBLAS blocks a product by its size (a Linear's rows are the batch; a Winograd product's columns are the
    /// batch's tiles), and its edge kernels round the last bits differently. So the logits agree to float precision
    /// (relative 1e-5 of the largest) and every prediction is the same class.
    func testPredictionsDoNotDependOnTheBatch() throws {
        for (architecture, shape) in zoo {
            let model = try trainedLookingModel(architecture, shape)
            let data = RandomImages(shape: shape, count: 23, seed: 9)
            let indices = Array((0..<23).reversed())
            let reference = try Inference.predict(Network(model: model), on: data, indices: indices, batchSize: 23)
            let scale = reference.logits.map(abs).max()!
            for batch in [1, 4, 7, nil] {
                let p = try Inference.predict(Network(model: model), on: data, indices: indices, batchSize: batch)
                let worst = zip(p.logits, reference.logits).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-5 * scale, "\(architecture.kind), batch \(batch ?? -1)")
                XCTAssertEqual(p.correct, reference.correct)
                func classes(_ q: Predictions) -> [Int] {
                    (0..<23).map { i in (0..<10).max { q.logits[i * 10 + $0] < q.logits[i * 10 + $1] }! }
                }
                XCTAssertEqual(classes(p), classes(reference))
            }
        }
    }

    /// The rule: batch × activation bytes per example ≤ budget, at least 1, at most the cap.
    func testBatchRuleKeepsTheActivationsWithinTheBudget() throws {
        let resnet = Network(model: try Model(architecture: Architecture(kind: "resnet18", cifarStem: true), inputShape: [1, 28, 28],
                                              classCount: 10, seed: 0))
        let perExample = 4 * resnet.inferenceActivationsPerExample
        // conv1 and the eight blocks' convolutions, 64×28×28 … 512×4×4 floats, plus the input.
        XCTAssertGreaterThan(perExample, 1_800_000)
        XCTAssertLessThan(perExample, 2_000_000)
        let batch = Inference.batchSize(for: resnet)
        XCTAssertLessThanOrEqual(batch * perExample, Inference.activationBudget)
        XCTAssertGreaterThan((batch + 1) * perExample, Inference.activationBudget, "the largest batch that fits")
        for budget in [1, perExample - 1, perExample, 10 * perExample + 5] {
            let b = Inference.batchSize(for: resnet, budget: budget)
            XCTAssertEqual(b, max(1, budget / perExample))
        }
        let cnn = Network(model: try Model(architecture: Architecture(kind: "cnn"), inputShape: [1, 28, 28], classCount: 10, seed: 0))
        XCTAssertEqual(Inference.batchSize(for: cnn), Inference.maximumBatch)
    }

    /// The per-example figure the rule divides by bounds what prediction really allocates: on fresh networks,
    /// predicting in batches of 2b holds no more than b × that figure beyond batches of b (b = 128 already fills
    /// the fixed scratch: transformed weights, and Winograd groups of at most 16 images, 64 in F(4×4) inference, on
    /// each of at most two workers).
    func testPerExampleActivationsBoundTheMemoryPredictionHolds() throws {
        for (architecture, shape) in zoo {
            let model = try trainedLookingModel(architecture, shape)
            let data = RandomImages(shape: shape, count: 256, seed: 11)
            func held(batch: Int) throws -> (bytes: Int, perExample: Int) {
                let network = Network(model: model)
                let before = TensorMemory.liveBytes
                _ = try Inference.predict(network, on: data, indices: Array(0..<256), batchSize: batch)
                return (TensorMemory.liveBytes - before, 4 * network.inferenceActivationsPerExample)
            }
            let (small, perExample) = try held(batch: 128)
            let (large, _) = try held(batch: 256)
            XCTAssertLessThanOrEqual(large - small, 128 * perExample, "\(architecture.kind) \(shape)")
            XCTAssertGreaterThan(large - small, 0)
        }
    }
}
