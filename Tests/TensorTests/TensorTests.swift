import Tensor
import XCTest

final class RandomTests: XCTestCase {
    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }, sc = (0..<100).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
    }

    func testUniformAndNormalMoments() {
        var rng = SeededGenerator(seed: 1)
        let n = 200_000
        let u = (0..<n).map { _ in Double(rng.nextFloat()) }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / Double(n), 0.5, accuracy: 0.005)
        let z = (0..<n).map { _ in Double(rng.normal()) }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
    }

    func testNextIntCoversRangeEvenly() {
        var rng = SeededGenerator(seed: 7)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[rng.nextInt(below: 6)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 400) }
    }

    func testPermutationIsAPermutationAndSeeded() {
        var a = SeededGenerator(seed: 3), b = SeededGenerator(seed: 3)
        let p = a.permutation(1000)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertEqual(p, b.permutation(1000))
        XCTAssertNotEqual(p, Array(0..<1000))
    }
}

final class BLASTests: XCTestCase {
    /// Checks every transpose combination of gemm against a naive triple loop.
    func testGemmMatchesNaiveProduct() {
        var rng = SeededGenerator(seed: 9)
        let m = 5, n = 7, k = 4
        for transA in [false, true] {
            for transB in [false, true] {
                let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
                let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
                var c = (0..<(m * n)).map { _ in rng.uniform(-1, 1) }
                let c0 = c
                // A is stored m×k (or k×m when transposed), B k×n (or n×k).
                func A(_ i: Int, _ p: Int) -> Float { transA ? a[p * m + i] : a[i * k + p] }
                func B(_ p: Int, _ j: Int) -> Float { transB ? b[j * k + p] : b[p * n + j] }
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            BLAS.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2,
                                      a: pa.baseAddress!, lda: transA ? m : k, b: pb.baseAddress!, ldb: transB ? k : n,
                                      beta: 0.5, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var s: Float = 0
                        for p in 0..<k { s += A(i, p) * B(p, j) }
                        XCTAssertEqual(c[i * n + j], 2 * s + 0.5 * c0[i * n + j], accuracy: 1e-5, "transA \(transA) transB \(transB)")
                    }
                }
            }
        }
    }
}

final class TensorStorageTests: XCTestCase {
    func testResizeReusesCapacityAndCopyIsIndependent() {
        let t = Tensor(shape: [4, 3])
        let pointer = t.data
        t.resize([2, 3])
        XCTAssertEqual(t.data, pointer, "shrinking keeps the allocation")
        XCTAssertEqual(t.rows, 2)
        XCTAssertEqual(t.rowSize, 3)
        t.resize([10, 10])
        XCTAssertEqual(t.count, 100)
        t[5] = 3
        let c = t.copy()
        c[5] = 4
        XCTAssertEqual(t[5], 3)
    }

    func testLogSumExpIsStableAndArgmaxTakesFirstMaximum() {
        let x: [Float] = [1000, 1000, 999]
        let lse = x.withUnsafeBufferPointer { Kernels.logSumExp($0.baseAddress!, 3) }
        XCTAssertEqual(Double(lse), 1000 + log(2 + exp(-1.0)), accuracy: 1e-3)
        XCTAssertEqual(x.withUnsafeBufferPointer { Kernels.argmax($0.baseAddress!, 3) }, 0)
    }
}
