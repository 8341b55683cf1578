// Finite-difference checks: the analytic gradient of a scalar loss against central differences.
//
// The comparison is |analytic − numeric| ≤ absoluteTolerance + relativeTolerance · max(|analytic|, |numeric|),
// with 1e-3 absolute and 1e-2 relative. Central differences with ε = 1e-2 on float32 forwards, whose loss is
// summed in Double, are accurate to about 1e-4 on these small layers, so the bounds leave room for rounding but
// not for a real defect: a wrong-signed gradient of magnitude g is off by 2g and fails for any g above 5e-4, and
// a dropped label-smoothing term (ε/K per logit, divided by the batch) is off by about 1e-2. The previous bound
// (2e-2 absolute below 1) let both pass; `GradientCheckerTests` feeds this checker such wrong gradients and
// expects it to refuse them.
import NeuralNet
import Tensor
import XCTest

let gradientAbsoluteTolerance = 1e-3
let gradientRelativeTolerance = 1e-2

/// L(y) = Σ_i c_i · y_i with fixed random c, so ∂L/∂y = c. Evaluated in Double to keep the difference quotient
/// clean.
func probeLoss(_ y: Tensor, _ c: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y[i]) * Double(c[i]) }
    return s
}

/// Whether an analytic derivative agrees with its finite-difference estimate within the checker's bounds.
func gradientsAgree(_ analytic: Double, _ numeric: Double) -> Bool {
    guard analytic.isFinite, numeric.isFinite else { return false }
    return abs(analytic - numeric) <= gradientAbsoluteTolerance + gradientRelativeTolerance * max(abs(analytic), abs(numeric))
}

func assertClose(_ analytic: Double, _ numeric: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(gradientsAgree(analytic, numeric), "\(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
}

/// The coordinates of a layer's input and parameter gradients that disagree with central differences, as
/// messages; empty when the layer's backward is right. Every input coordinate of up to 64 is checked (a stride
/// over larger inputs), and for parameters a stride over the flat buffer plus every tensor's first and last
/// element, so no tensor goes unchecked.
func layerGradientMismatches(_ layer: Layer, inputShape: [Int], seed: UInt64 = 1, eps: Float = 1e-2) -> [String] {
    var rng = SeededGenerator(seed: seed)
    let parameterCount = layer.parameterCount
    let params = UnsafeMutablePointer<Float>.allocate(capacity: max(1, parameterCount))
    let grads = UnsafeMutablePointer<Float>.allocate(capacity: max(1, parameterCount))
    let bufs = UnsafeMutablePointer<Float>.allocate(capacity: max(1, layer.bufferCount))
    bufs.initialize(repeating: 0, count: max(1, layer.bufferCount))
    defer { params.deallocate(); grads.deallocate(); bufs.deallocate() }
    for i in 0..<parameterCount { params[i] = rng.uniform(-1, 1) }
    grads.initialize(repeating: 0, count: max(1, parameterCount))
    layer.bind(parameters: params, gradients: grads, buffers: bufs)

    let x = Tensor(shape: inputShape)
    // Keep inputs away from ReLU's kink so the difference quotient is well defined.
    for i in 0..<x.count { var v = rng.uniform(-1, 1); if abs(v) < 0.05 { v += 0.1 }; x[i] = v }
    let y = layer.forward(x, training: true)
    let c = (0..<y.count).map { _ in rng.uniform(-1, 1) }
    let dy = Tensor(shape: y.shape, values: c)
    guard let dx = layer.backward(dy, needsInputGradient: true) else { return ["no input gradient"] }
    guard dx.shape == x.shape else { return ["input gradient shape \(dx.shape), input \(x.shape)"] }
    let dxValues = dx.array
    let analyticParams = Array(UnsafeBufferPointer(start: grads, count: parameterCount))

    var failures: [String] = []
    func loss() -> Double { probeLoss(layer.forward(x, training: true), c) }
    for i in stride(from: 0, to: x.count, by: max(1, x.count / 64)) {
        let saved = x[i]
        x[i] = saved + eps; let up = loss()
        x[i] = saved - eps; let down = loss()
        x[i] = saved
        let numeric = (up - down) / Double(2 * eps)
        if !gradientsAgree(Double(dxValues[i]), numeric) { failures.append("∂L/∂x[\(i)]: analytic \(dxValues[i]) vs numeric \(numeric)") }
    }
    var coordinates = Set(stride(from: 0, to: parameterCount, by: max(1, parameterCount / 31)))
    var offset = 0
    for (_, shape) in layer.parameterShapes {
        let count = shape.reduce(1, *)
        if count > 0 { coordinates.formUnion([offset, offset + count - 1]) }
        offset += count
    }
    for i in coordinates.sorted() {
        let saved = params[i]
        params[i] = saved + eps; let up = loss()
        params[i] = saved - eps; let down = loss()
        params[i] = saved
        let numeric = (up - down) / Double(2 * eps)
        if !gradientsAgree(Double(analyticParams[i]), numeric) { failures.append("∂L/∂θ[\(i)]: analytic \(analyticParams[i]) vs numeric \(numeric)") }
    }
    return failures
}

/// Checks a layer's input gradient and its parameter gradients.
func checkLayer(_ layer: Layer, inputShape: [Int], seed: UInt64 = 1, eps: Float = 1e-2,
                file: StaticString = #filePath, line: UInt = #line) throws {
    let failures = layerGradientMismatches(layer, inputShape: inputShape, seed: seed, eps: eps)
    XCTAssertTrue(failures.isEmpty, "\(type(of: layer)) \(inputShape): \(failures.count) gradients disagree:\n"
                  + failures.prefix(8).joined(separator: "\n"), file: file, line: line)
}
