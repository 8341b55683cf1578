// Element-wise and reduction kernels on raw buffers. Nothing here allocates.

/// Element-wise and reduction kernels on raw buffers; nothing allocates.
public enum Kernels {
    /// out[i] = max(x[i], 0)
    @inline(__always)
    public static func relu(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { out[i] = x[i] > 0 ? x[i] : 0 }
    }

    /// dx[i] = x[i] > 0 ? dy[i] : 0
    @inline(__always)
    public static func reluBackward(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        for i in 0..<n { dx[i] = x[i] > 0 ? dy[i] : 0 }
    }

    /// Adds `bias[c]` to every row of a [rows, cols] matrix.
    @inline(__always)
    public static func addRowBias(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int, bias: UnsafePointer<Float>) {
        for r in 0..<rows {
            let row = y + r * cols
            for c in 0..<cols { row[c] += bias[c] }
        }
    }

    /// db[c] += Σ_r dy[r, c]
    @inline(__always)
    public static func accumulateColumnSums(
        _ dy: UnsafePointer<Float>, rows: Int, cols: Int, into db: UnsafeMutablePointer<Float>
    ) {
        for r in 0..<rows {
            let row = dy + r * cols
            for c in 0..<cols { db[c] += row[c] }
        }
    }

    /// Σ x[i], with 16 partial sums so the loop vectorises (a single running sum is latency-bound).
    @inline(__always)
    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let vectors = n / 16
        let raw = UnsafeRawPointer(x)
        for v in 0..<vectors { acc += raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) }
        var s = acc.sum()
        for i in (vectors * 16)..<n { s += x[i] }
        return s
    }

    /// Σ (x[i] − mean)², vectorised like `sum`.
    @inline(__always)
    public static func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, _ n: Int, mean: Float) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let m = SIMD16<Float>(repeating: mean)
        let vectors = n / 16
        let raw = UnsafeRawPointer(x)
        for v in 0..<vectors {
            let d = raw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) - m
            acc += d * d
        }
        var s = acc.sum()
        for i in (vectors * 16)..<n { s += (x[i] - mean) * (x[i] - mean) }
        return s
    }

    /// Σ a[i]·b[i], vectorised like `sum`.
    @inline(__always)
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let vectors = n / 16
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        for v in 0..<vectors {
            acc += ra.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self) * rb.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self)
        }
        var s = acc.sum()
        for i in (vectors * 16)..<n { s += a[i] * b[i] }
        return s
    }

    /// Zeroes g[i] where mask[i] ≤ 0 (the ReLU backward, in place) and returns Σ g[i] afterwards.
    @inline(__always)
    public static func maskedSum(_ g: UnsafeMutablePointer<Float>, where mask: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD16<Float>(repeating: 0)
        let vectors = n / 16
        let graw = UnsafeMutableRawPointer(g), mraw = UnsafeRawPointer(mask)
        let zero = SIMD16<Float>(repeating: 0)
        for v in 0..<vectors {
            let m = mraw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self)
            let x = graw.loadUnaligned(fromByteOffset: v * 64, as: SIMD16<Float>.self).replacing(with: zero, where: m .<= zero)
            graw.storeBytes(of: x, toByteOffset: v * 64, as: SIMD16<Float>.self)
            acc += x
        }
        var s = acc.sum()
        for i in (vectors * 16)..<n {
            if mask[i] <= 0 { g[i] = 0 }
            s += g[i]
        }
        return s
    }

    /// Index of the largest element (first on ties), as argmax does in numpy and PyTorch.
    @inline(__always)
    public static func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        var value = x[0]
        for i in 1..<n where x[i] > value {
            value = x[i]
            best = i
        }
        return best
    }

    /// log Σ exp(x[i]), stable.
    @inline(__always)
    public static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = x[0]
        for i in 1..<n where x[i] > m { m = x[i] }
        var s: Float = 0
        for i in 0..<n { s += expf(x[i] - m) }
        return m + logf(s)
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
