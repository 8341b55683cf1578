// Finite-difference checks: the analytic gradient of a scalar loss against central differences.
import NeuralNet
import Tensor
import XCTest

/// L(y) = Σ_i c_i · y_i with fixed random c, so ∂L/∂y = c. Evaluated in Double to keep the difference quotient
/// clean.
func probeLoss(_ y: Tensor, _ c: [Float]) -> Double {
    var s = 0.0
    for i in 0..<y.count { s += Double(y[i]) * Double(c[i]) }
    return s
}

func assertClose(_ analytic: Double, _ numeric: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    let scale = max(1, abs(analytic), abs(numeric))
    XCTAssertLessThan(abs(analytic - numeric) / scale, 2e-2, "\(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
}

/// Checks a layer's input gradient and its parameter gradients.
func checkLayer(_ layer: Layer, inputShape: [Int], seed: UInt64 = 1, eps: Float = 1e-2,
                file: StaticString = #filePath, line: UInt = #line) throws {
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
    let dx = try XCTUnwrap(layer.backward(dy, needsInputGradient: true), file: file, line: line)
    let dxValues = dx.array
    XCTAssertEqual(dx.shape, x.shape, "input gradient shape", file: file, line: line)
    let analyticParams = Array(UnsafeBufferPointer(start: grads, count: parameterCount))

    func loss() -> Double { probeLoss(layer.forward(x, training: true), c) }
    for i in stride(from: 0, to: x.count, by: max(1, x.count / 23)) {
        let saved = x[i]
        x[i] = saved + eps; let up = loss()
        x[i] = saved - eps; let down = loss()
        x[i] = saved
        assertClose(Double(dxValues[i]), (up - down) / Double(2 * eps), "∂L/∂x[\(i)]", file: file, line: line)
    }
    for i in stride(from: 0, to: parameterCount, by: max(1, parameterCount / 31)) {
        let saved = params[i]
        params[i] = saved + eps; let up = loss()
        params[i] = saved - eps; let down = loss()
        params[i] = saved
        assertClose(Double(analyticParams[i]), (up - down) / Double(2 * eps), "∂L/∂θ[\(i)]", file: file, line: line)
    }
}
