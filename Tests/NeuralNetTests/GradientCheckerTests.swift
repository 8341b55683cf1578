// The gradient checker itself, fed deliberately wrong backward passes: it must refuse each of them. These are
// the defects a loose bound let through (a wrong-signed small gradient, a dropped label-smoothing term).
import NeuralNet
import Tensor
import XCTest

/// LeakyReLU whose backward gets the sign of the negative side's slope wrong: ∂y/∂x = −a for x < 0. The
/// gradients it breaks are small (|a · dy| ≤ 0.01), which is what makes the defect easy to miss.
final class WrongSignLeakyReLU: Layer {
    let slope: Float = 0.01
    private var input: Tensor?
    func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    func forward(_ x: Tensor, training: Bool) -> Tensor {
        input = x
        return Tensor(shape: x.shape, values: x.array.map { $0 > 0 ? $0 : slope * $0 })
    }
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let x = input!.array
        return Tensor(shape: dy.shape, values: (0..<dy.count).map { x[$0] > 0 ? dy[$0] : -slope * dy[$0] })
    }
}

/// Linear whose weight gradient misses a small term: 3% of it is dropped, as a forgotten scale factor would.
final class ShortWeightGradientLinear: Layer {
    let inner = Linear(inFeatures: 6, outFeatures: 4)
    private var gradients: UnsafeMutablePointer<Float>?
    var parameterShapes: [(name: String, shape: [Int])] { inner.parameterShapes }
    func outputShape(for inputShape: [Int]) throws -> [Int] { try inner.outputShape(for: inputShape) }
    func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        self.gradients = gradients
        inner.bind(parameters: parameters, gradients: gradients, buffers: buffers)
    }
    func forward(_ x: Tensor, training: Bool) -> Tensor { inner.forward(x, training: training) }
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let dx = inner.backward(dy, needsInputGradient: needsInputGradient)
        for i in 0..<24 { gradients![i] *= 0.97 }
        return dx
    }
}

final class GradientCheckerTests: XCTestCase {
    func testAWrongSignedSmallGradientIsRefused() {
        XCTAssertTrue(layerGradientMismatches(Activation(.leakyReLU(slope: 0.01)), inputShape: [3, 5]).isEmpty, "the right backward passes")
        let failures = layerGradientMismatches(WrongSignLeakyReLU(), inputShape: [4, 9])
        XCTAssertFalse(failures.isEmpty, "the negative inputs' gradients have the wrong sign")
    }

    func testAParameterGradientShortByThreePercentIsRefused() {
        XCTAssertTrue(layerGradientMismatches(Linear(inFeatures: 6, outFeatures: 4), inputShape: [3, 6]).isEmpty)
        let failures = layerGradientMismatches(ShortWeightGradientLinear(), inputShape: [3, 6])
        XCTAssertFalse(failures.isEmpty)
        XCTAssertTrue(failures.allSatisfy { $0.hasPrefix("∂L/∂θ") }, "only the weight gradient is wrong: \(failures)")
    }

    /// The analytic gradient of plain cross-entropy offered for the label-smoothed loss: every logit is off by
    /// ε·(onehot − 1/K)/B, which the checker must see.
    func testADroppedLabelSmoothingTermIsRefused() {
        var rng = SeededGenerator(seed: 4)
        let z = Tensor(shape: [3, 4], values: (0..<12).map { _ in rng.uniform(-2, 2) })
        let labels: [Int32] = [2, 0, 3]
        let smoothed = CrossEntropyOptions(labelSmoothing: 0.1)
        let right = Tensor(shape: [0]), wrong = Tensor(shape: [0])
        _ = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: smoothed, dLogits: right) }
        _ = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, dLogits: wrong) }
        var refused = 0
        let eps: Float = 1e-2
        for i in 0..<z.count {
            let saved = z[i]
            z[i] = saved + eps
            let up = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: smoothed) }
            z[i] = saved - eps
            let down = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: smoothed) }
            z[i] = saved
            let numeric = Double(up - down) / Double(2 * eps)
            XCTAssertTrue(gradientsAgree(Double(right[i]), numeric), "∂CE/∂z[\(i)] with smoothing: \(right[i]) vs \(numeric)")
            if !gradientsAgree(Double(wrong[i]), numeric) { refused += 1 }
        }
        XCTAssertEqual(refused, z.count, "every logit's gradient misses the smoothing term")
    }
}
