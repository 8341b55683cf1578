import NeuralNet
import Tensor
import XCTest

final class LossOptionTests: XCTestCase {
    private func logits(_ seed: UInt64, _ b: Int, _ c: Int) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: [b, c], values: (0..<(b * c)).map { _ in rng.uniform(-2, 2) })
    }

    /// The weighted, label-smoothed value against PyTorch's definition written out in Double, and its gradient
    /// against finite differences.
    func testWeightedLabelSmoothedCrossEntropy() {
        let z = logits(1, 3, 4)
        let labels: [Int32] = [2, 0, 3]
        let options = CrossEntropyOptions(classWeights: [1, 2, 0.5, 3], labelSmoothing: 0.1)
        let d = Tensor(shape: [0])
        let loss = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: options, dLogits: d) }
        var num = 0.0, den = 0.0
        for b in 0..<3 {
            let row = (0..<4).map { Double(z[b * 4 + $0]) }
            let lse = log(row.map { exp($0) }.reduce(0, +))
            let y = Int(labels[b]), w = options.classWeights!.map(Double.init)
            num += 0.9 * w[y] * (lse - row[y]) + 0.1 / 4 * (0..<4).map { w[$0] * (lse - row[$0]) }.reduce(0, +)
            den += w[y]
        }
        XCTAssertEqual(Double(loss), num / den, accuracy: 1e-5)
        let g = d.array, eps: Float = 1e-2
        for i in 0..<z.count {
            let saved = z[i]
            z[i] = saved + eps
            let up = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: options) }
            z[i] = saved - eps
            let down = labels.withUnsafeBufferPointer { CrossEntropy.forward(logits: z, labels: $0.baseAddress!, options: options) }
            z[i] = saved
            assertClose(Double(g[i]), Double(up - down) / Double(2 * eps), "∂CE/∂z[\(i)]")
        }
    }

    func testKLDivergenceValueAndGradient() {
        let s = logits(2, 2, 3), t = logits(3, 2, 3)
        let d = Tensor(shape: [0])
        let temperature: Float = 4
        let loss = KLDivergence.forward(student: s, teacher: t, temperature: temperature, dStudent: d)
        var expected = 0.0
        for b in 0..<2 {
            let ps = (0..<3).map { Double(s[b * 3 + $0]) / 4 }, pt = (0..<3).map { Double(t[b * 3 + $0]) / 4 }
            let ls = log(ps.map(exp).reduce(0, +)), lt = log(pt.map(exp).reduce(0, +))
            for c in 0..<3 { expected += exp(pt[c] - lt) * ((pt[c] - lt) - (ps[c] - ls)) }
        }
        XCTAssertEqual(Double(loss), expected * 16 / 2, accuracy: 1e-5)
        XCTAssertEqual(KLDivergence.forward(student: t, teacher: t, temperature: 1), 0, accuracy: 1e-6, "KL(p‖p) = 0")
        let g = d.array, eps: Float = 1e-2
        for i in 0..<s.count {
            let saved = s[i]
            s[i] = saved + eps; let up = KLDivergence.forward(student: s, teacher: t, temperature: temperature)
            s[i] = saved - eps; let down = KLDivergence.forward(student: s, teacher: t, temperature: temperature)
            s[i] = saved
            assertClose(Double(g[i]), Double(up - down) / Double(2 * eps), "∂KL/∂s[\(i)]")
        }
    }

    func testMeanSquaredError() {
        let y = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let target: [Float] = [0, 2, 5, 4]
        let d = Tensor(shape: [0])
        var per: [Float] = [0, 0]
        let loss = per.withUnsafeMutableBufferPointer { MeanSquaredError.forward(y, target: target, dY: d, perExample: $0.baseAddress!) }
        XCTAssertEqual(loss, 5.0 / 4)
        XCTAssertEqual(per, [0.5, 2])
        XCTAssertEqual(d.array, [0.5, 0, -1, 0])
    }
}
