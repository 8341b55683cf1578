import Tensor
import XCTest

final class Winograd4Tests: XCTestCase {
    /// F(4×4, 3×3) through its three transforms and 36 naive products against the direct sum, on sizes that leave
    /// partial tiles at the right and bottom, with padded ξ planes, a bias, BatchNorm's evaluation map and ReLU.
    func testF4MatchesTheDirectConvolution() {
        var rng = SeededGenerator(seed: 42)
        for (n, ci, co, h, w) in [(2, 3, 4, 7, 9), (1, 8, 5, 4, 4), (3, 2, 3, 13, 6), (1, 1, 1, 1, 1)] {
            let x = (0..<(n * ci * h * w)).map { _ in rng.normal() }
            let g = (0..<(co * ci * 9)).map { _ in rng.normal() * 0.3 }
            let bias = (0..<co).map { _ in rng.normal() }
            let mean = (0..<co).map { _ in rng.normal() }, invStd = (0..<co).map { _ in 0.5 + rng.uniform(0, 1) }
            let gamma = (0..<co).map { _ in rng.normal() }, beta = (0..<co).map { _ in rng.normal() }
            // Direct: y = relu(γ·((conv + b − mean)·invStd) + β), padding 1.
            var expected = [Float](repeating: 0, count: n * co * h * w)
            for b in 0..<n {
                for o in 0..<co {
                    for r in 0..<h {
                        for c in 0..<w {
                            var sum = 0.0
                            for k in 0..<ci {
                                for i in 0..<3 {
                                    for j in 0..<3 {
                                        let rr = r + i - 1, cc = c + j - 1
                                        guard rr >= 0, rr < h, cc >= 0, cc < w else { continue }
                                        sum += Double(x[((b * ci + k) * h + rr) * w + cc]) * Double(g[((o * ci + k) * 3 + i) * 3 + j])
                                    }
                                }
                            }
                            let v = Double(gamma[o]) * ((sum + Double(bias[o]) - Double(mean[o])) * Double(invStd[o])) + Double(beta[o])
                            expected[((b * co + o) * h + r) * w + c] = Float(max(v, 0))
                        }
                    }
                }
            }
            let tiles = Winograd4.tiles(height: h, width: w), columns = n * tiles
            let vStride = ci * columns + 16, mStride = co * columns + 16
            var u = [Float](repeating: 0, count: 36 * co * ci)
            var v = [Float](repeating: .nan, count: 36 * vStride), m = [Float](repeating: .nan, count: 36 * mStride)
            var y = [Float](repeating: .nan, count: n * co * h * w)
            Winograd4.transformWeights(g, outChannels: co, inChannels: ci, into: &u)
            Winograd4.transformInput(x, images: n, channels: ci, height: h, width: w, into: &v, planeStride: vStride)
            for xi in 0..<36 {
                for o in 0..<co {
                    for t in 0..<columns {
                        var s: Float = 0
                        for k in 0..<ci { s += u[(xi * co + o) * ci + k] * v[xi * vStride + k * columns + t] }
                        m[xi * mStride + o * columns + t] = s
                    }
                }
            }
            mean.withUnsafeBufferPointer { mean in invStd.withUnsafeBufferPointer { invStd in
                gamma.withUnsafeBufferPointer { gamma in beta.withUnsafeBufferPointer { beta in
                    let affine = ChannelAffine(mean: mean.baseAddress!, invStd: invStd.baseAddress!, gamma: gamma.baseAddress!,
                                               beta: beta.baseAddress!)
                    Winograd4.transformOutput(m, images: n, outChannels: co, height: h, width: w, bias: bias, relu: true, affine: affine,
                                              into: &y, planeStride: mStride)
                } }
            } }
            let worst = zip(y, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 1e-4, "n \(n) ci \(ci) co \(co) \(h)×\(w)")
            XCTAssertFalse(y.contains { $0.isNaN }, "every output written")
        }
    }
}
