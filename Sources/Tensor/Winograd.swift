// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 and padding 1 (Lavin & Gray, 2016): each 2×2 block of
// outputs costs 16 multiplies per input channel instead of 36, as 16 matrix products U_ξ[out, in] · V_ξ[in, tiles]
// between transformed weights and transformed 4×4 input tiles:
//   U = G·g·Gᵀ,  V = Bᵀ·d·B,  Y = Aᵀ·(U ⊙ V)·A
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]

/// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 and padding 1: the transforms and the adjoints backward uses.
public enum Winograd {
    /// Output tiles of one image: ⌈H/2⌉·⌈W/2⌉.
    public static func tiles(height: Int, width: Int) -> Int { ((height + 1) / 2) * ((width + 1) / 2) }

    /// weights [out, in, 3, 3] → u [16, out, in]
    public static func transformWeights(_ g: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = outChannels * inChannels
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let k = g + (o * inChannels + c) * 9
                // t = G·g (4×3), row by row
                var t = SIMD16<Float>(repeating: 0)  // t[i*4 + j], j < 3
                for j in 0..<3 {
                    let a = k[j], b = k[3 + j], d = k[6 + j]
                    t[j] = a
                    t[4 + j] = 0.5 * (a + b + d)
                    t[8 + j] = 0.5 * (a - b + d)
                    t[12 + j] = d
                }
                // U = t·Gᵀ (4×4)
                let dst = u + o * inChannels + c
                for i in 0..<4 {
                    let a = t[i * 4], b = t[i * 4 + 1], d = t[i * 4 + 2]
                    dst[(i * 4 + 0) * plane] = a
                    dst[(i * 4 + 1) * plane] = 0.5 * (a + b + d)
                    dst[(i * 4 + 2) * plane] = 0.5 * (a - b + d)
                    dst[(i * 4 + 3) * plane] = d
                }
            }
        }
    }

    /// Images x [n, C, H, W] (padding 1 implied) → v [16, C, n·T], tiles numbered image by image, row by row.
    /// `planeStride` in every transform: floats from one ξ plane to the next (default: the plane's size). Callers
    /// pad it so the 16 planes do not sit a multiple of 4 KiB apart, where they would share one L1 set.
    public static func transformInput(_ x: UnsafePointer<Float>, images n: Int, channels: Int, height h: Int, width w: Int,
                                      into v: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2, perImage = tilesH * tilesW
        let columns = n * perImage
        // Each plane is first copied into a zero border (one pixel before, enough after to complete the last tile),
        // so the tile loop reads without bounds checks.
        let ph = 2 * tilesH + 2, pw = 2 * tilesW + 2
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw)
        defer { padded.deallocate() }
        padded.initialize(repeating: 0, count: ph * pw)
        for c in 0..<channels {
            let out = v + c * columns
            let stride = planeStride ?? channels * columns  // from one ξ to the next
            for image in 0..<n {
                let src = x + (image * channels + c) * h * w
                for r in 0..<h { (padded + (r + 1) * pw + 1).update(from: src + r * w, count: w) }
                for ty in 0..<tilesH {
                    let rows = padded + 2 * ty * pw
                    for tx in 0..<tilesW {
                        let p0 = rows + 2 * tx, p1 = p0 + pw, p2 = p1 + pw, p3 = p2 + pw
                        // t = Bᵀ·d, row by row (each row 4 wide)
                        let d0 = SIMD4<Float>(p0[0], p0[1], p0[2], p0[3]), d1 = SIMD4<Float>(p1[0], p1[1], p1[2], p1[3])
                        let d2 = SIMD4<Float>(p2[0], p2[1], p2[2], p2[3]), d3 = SIMD4<Float>(p3[0], p3[1], p3[2], p3[3])
                        let column = out + image * perImage + ty * tilesW + tx
                        // V = t·B, for the four rows of t
                        @inline(__always) func store(_ t: SIMD4<Float>, _ i: Int) {
                            column[(i * 4 + 0) * stride] = t[0] - t[2]
                            column[(i * 4 + 1) * stride] = t[1] + t[2]
                            column[(i * 4 + 2) * stride] = t[2] - t[1]
                            column[(i * 4 + 3) * stride] = t[1] - t[3]
                        }
                        store(d0 - d2, 0)
                        store(d1 + d2, 1)
                        store(d2 - d1, 2)
                        store(d1 - d3, 3)
                    }
                }
            }
        }
    }

    /// m [16, out, n·T] → y [n, out, H, W] (the images' NCHW block), adding the bias and applying ReLU if asked.
    /// Eight tiles at a time: their 16 values are contiguous in each ξ plane, so the transform is vector loads and
    /// arithmetic, and only the 2×2 results are stored one by one.
    /// With `affine` (BatchNorm in evaluation mode folded in, inference only), each value becomes
    /// γ·((v − mean)·invStd) + β after the bias, and ReLU is then applied as `Kernels.relu` does (v > 0 ? v : 0), so the
    /// result has the bits of the convolution, BatchNorm and ReLU run one after the other.
    public static func transformOutput(_ m: UnsafePointer<Float>, images n: Int, outChannels: Int, height h: Int, width w: Int,
                                       bias: UnsafePointer<Float>?, relu: Bool, affine: ChannelAffine? = nil,
                                       into y: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let layout = TileLayout(images: n, channels: outChannels, height: h, width: w)
        let columns = layout.columns, stride = planeStride ?? outChannels * columns, plane = h * w
        // lanes: the eight tiles' four results (Swift's per-lane SIMD access is slow; memory is not); tail: the
        // last partial group of tiles, copied so that it too can be read eight at a time.
        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 32), tail = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8)
        defer { lanes.deallocate(); tail.deallocate() }
        tail.initialize(repeating: 0, count: 16 * 8)
        for o in 0..<outChannels {
            let b = bias?[o] ?? 0, source = m + o * columns, target = y + o * plane
            let channelAffine = affine.map { (mean: $0.mean[o], invStd: $0.invStd[o], gamma: $0.gamma[o], beta: $0.beta[o]) }
            var j = 0
            while j < columns {
                let count = min(8, columns - j)
                if count == 8 {
                    outputTiles(source + j, stride: stride, bias: b, relu: relu, affine: channelAffine, into: lanes)
                } else {
                    copyRows(count, from: source + j, stride: stride, to: tail, stride: 8)
                    outputTiles(tail, stride: 8, bias: b, relu: relu, affine: channelAffine, into: lanes)
                }
                for lane in 0..<count {
                    let dst = target + layout.origin[j + lane], edges = layout.edges[j + lane]
                    dst[0] = lanes[lane]
                    if edges & TileLayout.right != 0 { dst[1] = lanes[8 + lane] }
                    if edges & TileLayout.below != 0 {
                        dst[w] = lanes[16 + lane]
                        if edges & TileLayout.right != 0 { dst[w + 1] = lanes[24 + lane] }
                    }
                }
                j += 8
            }
        }
    }

    /// Y = Aᵀ·q·A (+ bias, ReLU) for eight tiles: q [16][8] with `stride` between the ξ rows → out [4][8] (y00, y01,
    /// y10, y11).
    @inline(__always)
    private static func outputTiles(_ q: UnsafePointer<Float>, stride: Int, bias: Float, relu: Bool,
                                    affine: (mean: Float, invStd: Float, gamma: Float, beta: Float)?, into out: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(q + k * stride).loadUnaligned(as: SIMD8<Float>.self) }
        let q4 = row(4), q5 = row(5), q6 = row(6), q7 = row(7), q8 = row(8), q9 = row(9), q10 = row(10), q11 = row(11)
        // t = Aᵀ·q (2×4), then Y = t·A (2×2)
        let t00 = row(0) + q4 + q8, t01 = row(1) + q5 + q9, t02 = row(2) + q6 + q10, t03 = row(3) + q7 + q11
        let t10 = q4 - q8 - row(12), t11 = q5 - q9 - row(13), t12 = q6 - q10 - row(14), t13 = q7 - q11 - row(15)
        let b = SIMD8<Float>(repeating: bias)
        var y = (t00 + t01 + t02 + b, t01 - t02 - t03 + b, t10 + t11 + t12 + b, t11 - t12 - t13 + b)
        if let affine {
            let mean = SIMD8<Float>(repeating: affine.mean), invStd = SIMD8<Float>(repeating: affine.invStd)
            let gamma = SIMD8<Float>(repeating: affine.gamma), beta = SIMD8<Float>(repeating: affine.beta)
            y.0 = gamma * ((y.0 - mean) * invStd) + beta
            y.1 = gamma * ((y.1 - mean) * invStd) + beta
            y.2 = gamma * ((y.2 - mean) * invStd) + beta
            y.3 = gamma * ((y.3 - mean) * invStd) + beta
            if relu {  // as Kernels.relu: v > 0 ? v : 0 (−0 and NaN become +0)
                let zero = SIMD8<Float>(repeating: 0)
                y.0.replace(with: zero, where: .!(y.0 .> zero)); y.1.replace(with: zero, where: .!(y.1 .> zero))
                y.2.replace(with: zero, where: .!(y.2 .> zero)); y.3.replace(with: zero, where: .!(y.3 .> zero))
            }
        } else if relu {  // (pointwiseMax is a lane-by-lane loop)
            let zero = SIMD8<Float>(repeating: 0)
            y.0.replace(with: zero, where: y.0 .< zero); y.1.replace(with: zero, where: y.1 .< zero)
            y.2.replace(with: zero, where: y.2 .< zero); y.3.replace(with: zero, where: y.3 .< zero)
        }
        let raw = UnsafeMutableRawPointer(out)
        raw.storeBytes(of: y.0, as: SIMD8<Float>.self)
        raw.storeBytes(of: y.1, toByteOffset: 32, as: SIMD8<Float>.self)
        raw.storeBytes(of: y.2, toByteOffset: 64, as: SIMD8<Float>.self)
        raw.storeBytes(of: y.3, toByteOffset: 96, as: SIMD8<Float>.self)
    }

    // The weight gradient is the adjoint of the forward's maps: with Y = Aᵀ·(U ⊙ V)·A and U = G·g·Gᵀ,
    //   ∂L/∂M = A·δ·Aᵀ per tile,  ∂L/∂U_ξ = Σ_tiles ∂L/∂M_ξ · V_ξ,  ∂L/∂g = Gᵀ·(∂L/∂U)·G.

    /// Output gradients dy [n, out, H, W] → Δ = A·δ·Aᵀ per 2×2 tile: [16, out, n·T] (zero beyond the image), eight
    /// tiles at a time so each ξ plane is written with vector stores.
    public static func transformOutputGradient(_ dy: UnsafePointer<Float>, images n: Int, outChannels: Int, height h: Int, width w: Int,
                                               into delta: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let layout = TileLayout(images: n, channels: outChannels, height: h, width: w)
        let columns = layout.columns, stride = planeStride ?? outChannels * columns, plane = h * w
        // lanes: the eight tiles' δ, gathered lane by lane; tail: Δ of the last partial group before it is copied out.
        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 32), tail = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8)
        defer { lanes.deallocate(); tail.deallocate() }
        lanes.initialize(repeating: 0, count: 32)
        for o in 0..<outChannels {
            let source = dy + o * plane, target = delta + o * columns
            var j = 0
            while j < columns {
                let count = min(8, columns - j)
                for lane in 0..<count {
                    let src = source + layout.origin[j + lane], edges = layout.edges[j + lane]
                    let right = edges & TileLayout.right != 0, below = edges & TileLayout.below != 0
                    lanes[lane] = src[0]
                    lanes[8 + lane] = right ? src[1] : 0
                    lanes[16 + lane] = below ? src[w] : 0
                    lanes[24 + lane] = right && below ? src[w + 1] : 0
                }
                if count == 8 {
                    outputGradientTiles(lanes, into: target + j, stride: stride)
                } else {
                    outputGradientTiles(lanes, into: tail, stride: 8)
                    copyRows(count, from: tail, stride: 8, to: target + j, stride: stride)
                }
                j += 8
            }
        }
    }

    /// Δ = A·δ·Aᵀ for eight tiles: d [4][8] (δ00, δ01, δ10, δ11) → out [16][8] with `stride` between the ξ rows.
    @inline(__always)
    private static func outputGradientTiles(_ d: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, stride: Int) {
        let raw = UnsafeRawPointer(d)
        let d00 = raw.loadUnaligned(as: SIMD8<Float>.self), d01 = raw.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
        let d10 = raw.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self), d11 = raw.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
        // rows of A·δ: [δ0, δ0 + δ1, δ0 − δ1, −δ1], each then times Aᵀ: (a, b) → [a, a + b, a − b, −b]
        @inline(__always) func store(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ i: Int) {
            UnsafeMutableRawPointer(out + (i * 4 + 0) * stride).storeBytes(of: a, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + (i * 4 + 1) * stride).storeBytes(of: a + b, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + (i * 4 + 2) * stride).storeBytes(of: a - b, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(out + (i * 4 + 3) * stride).storeBytes(of: -b, as: SIMD8<Float>.self)
        }
        store(d00, d01, 0)
        store(d00 + d10, d01 + d11, 1)
        store(d00 - d10, d01 - d11, 2)
        store(-d10, -d11, 3)
    }

    /// ∂L/∂V [16, C, n·T] → dx [n, C, H, W]: B·(∂L/∂V)·Bᵀ per tile, summed where the 4×4 tiles overlap and dropped
    /// on the padding — the adjoint of transformInput. With ∂L/∂V_ξ = U_ξᵀ·Δ_ξ this is the input gradient, reusing
    /// the Δ the weight gradient needs. Eight tiles at a time, like the other transforms.
    public static func transformInputGradient(_ dv: UnsafePointer<Float>, images n: Int, channels: Int, height h: Int, width w: Int,
                                              into dx: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2, perImage = tilesH * tilesW
        let columns = n * perImage, stride = planeStride ?? channels * columns
        // Sums land in a bordered copy of each plane (as transformInput reads one), so no tile needs bounds checks.
        let ph = 2 * tilesH + 2, pw = 2 * tilesW + 2, paddedPlane = ph * pw
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: n * paddedPlane)
        let origin = UnsafeMutablePointer<Int>.allocate(capacity: max(1, columns))
        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8), tail = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8)
        defer { padded.deallocate(); origin.deallocate(); lanes.deallocate(); tail.deallocate() }
        tail.initialize(repeating: 0, count: 16 * 8)
        var j = 0
        for image in 0..<n {
            for ty in 0..<tilesH {
                for tx in 0..<tilesW { origin[j] = image * paddedPlane + 2 * ty * pw + 2 * tx; j += 1 }
            }
        }
        for c in 0..<channels {
            padded.update(repeating: 0, count: n * paddedPlane)
            let source = dv + c * columns
            var first = 0
            while first < columns {
                let count = min(8, columns - first)
                if count == 8 {
                    inputGradientTiles(source + first, stride: stride, into: lanes)
                } else {
                    copyRows(count, from: source + first, stride: stride, to: tail, stride: 8)
                    inputGradientTiles(tail, stride: 8, into: lanes)
                }
                for lane in 0..<count {
                    let corner = padded + origin[first + lane]
                    for i in 0..<4 {
                        let row = UnsafeMutableRawPointer(corner + i * pw), l = lanes + i * 32 + lane
                        let sum = row.loadUnaligned(as: SIMD4<Float>.self) + SIMD4(l[0], l[8], l[16], l[24])
                        row.storeBytes(of: sum, as: SIMD4<Float>.self)
                    }
                }
                first += 8
            }
            for image in 0..<n {
                let src = padded + image * paddedPlane + pw + 1, dst = dx + (image * channels + c) * h * w
                for r in 0..<h { (dst + r * w).update(from: src + r * pw, count: w) }
            }
        }
    }

    /// B·P·Bᵀ for eight tiles: P [16][8] with `stride` between the ξ rows → out [16][8], row-major per tile.
    /// B = [1 0 0 0; 0 1 −1 1; −1 1 1 0; 0 0 0 −1] (the transpose of transformInput's Bᵀ).
    @inline(__always)
    private static func inputGradientTiles(_ p: UnsafePointer<Float>, stride: Int, into out: UnsafeMutablePointer<Float>) {
        @inline(__always) func row(_ k: Int) -> SIMD8<Float> { UnsafeRawPointer(p + k * stride).loadUnaligned(as: SIMD8<Float>.self) }
        @inline(__always) func put(_ v: SIMD8<Float>, _ k: Int) { UnsafeMutableRawPointer(out + 8 * k).storeBytes(of: v, as: SIMD8<Float>.self) }
        for j in 0..<4 {
            // T = B·P, column j
            let p0 = row(j), p1 = row(4 + j), p2 = row(8 + j), p3 = row(12 + j)
            put(p0, j)
            put(p1 - p2 + p3, 4 + j)
            put(p1 + p2 - p0, 8 + j)
            put(-p3, 12 + j)
        }
        for i in 0..<4 {
            // out = T·Bᵀ, row i (T is in `out` already)
            let t0 = UnsafeRawPointer(out + 8 * (i * 4)).loadUnaligned(as: SIMD8<Float>.self)
            let t1 = UnsafeRawPointer(out + 8 * (i * 4 + 1)).loadUnaligned(as: SIMD8<Float>.self)
            let t2 = UnsafeRawPointer(out + 8 * (i * 4 + 2)).loadUnaligned(as: SIMD8<Float>.self)
            let t3 = UnsafeRawPointer(out + 8 * (i * 4 + 3)).loadUnaligned(as: SIMD8<Float>.self)
            put(t1 - t2 + t3, i * 4 + 1)
            put(t1 + t2 - t0, i * 4 + 2)
            put(-t3, i * 4 + 3)
        }
    }

    /// ∂L/∂U [16, out, in] → accumulates ∂L/∂g = Gᵀ·(∂L/∂U)·G into dg [out, in, 3, 3].
    public static func accumulateWeightGradient(_ du: UnsafePointer<Float>, outChannels: Int, inChannels: Int,
                                                into dg: UnsafeMutablePointer<Float>) {
        let plane = outChannels * inChannels
        for k in 0..<plane {
            var u = SIMD16<Float>(repeating: 0)
            for xi in 0..<16 { u[xi] = du[xi * plane + k] }
            // t = Gᵀ·dU (3×4), then t·G (3×3); Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1]
            var t = SIMD16<Float>(repeating: 0)  // t[i*4 + j], i < 3
            for j in 0..<4 {
                let u0 = u[j], u1 = u[4 + j], u2 = u[8 + j], u3 = u[12 + j]
                t[j] = u0 + 0.5 * (u1 + u2)
                t[4 + j] = 0.5 * (u1 - u2)
                t[8 + j] = 0.5 * (u1 + u2) + u3
            }
            let out = dg + k * 9
            for i in 0..<3 {
                let a = t[i * 4], b = t[i * 4 + 1], c = t[i * 4 + 2], d = t[i * 4 + 3]
                out[i * 3 + 0] += a + 0.5 * (b + c)
                out[i * 3 + 1] += 0.5 * (b - c)
                out[i * 3 + 2] += 0.5 * (b + c) + d
            }
        }
    }
}

/// BatchNorm in evaluation mode as per-channel pointers [C]: y = γ·((x − mean)·invStd) + β.
public struct ChannelAffine {
    /// Per-channel mean, 1/std, scale γ and shift β, each [C].
    public let mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>
    public init(mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>) {
        self.mean = mean
        self.invStd = invStd
        self.gamma = gamma
        self.beta = beta
    }

    /// Applies the affine map (and, when asked, ReLU as Kernels.relu does) to channel `c`'s `n` values in place.
    @inline(__always)
    public func apply(channel c: Int, _ x: UnsafeMutablePointer<Float>, _ n: Int, bias: Float, relu: Bool) {
        let m = mean[c], s = invStd[c], g = gamma[c], b = beta[c]
        if relu {
            for i in 0..<n {
                let v = g * ((x[i] + bias - m) * s) + b
                x[i] = v > 0 ? v : 0
            }
        } else {
            for i in 0..<n { x[i] = g * ((x[i] + bias - m) * s) + b }
        }
    }
}

/// The first `count` values of each of the 16 ξ rows, between a plane layout and the 8-wide scratch of a partial group.
@inline(__always)
private func copyRows(_ count: Int, from src: UnsafePointer<Float>, stride srcStride: Int,
                      to dst: UnsafeMutablePointer<Float>, stride dstStride: Int) {
    for k in 0..<16 { (dst + k * dstStride).update(from: src + k * srcStride, count: count) }
}

/// Where each tile of n images lands in one NCHW channel plane: `origin[j]` is the offset of tile j's top-left
/// output from its channel's plane in image 0 (image·channels·H·W + 2ty·W + 2tx), `edges[j]` which of its right
/// column and lower row lie inside the image (both, unless H or W is odd).
final class TileLayout {
    static let right: UInt8 = 1, below: UInt8 = 2
    let columns: Int
    let origin: UnsafeMutablePointer<Int>
    let edges: UnsafeMutablePointer<UInt8>

    init(images n: Int, channels: Int, height h: Int, width w: Int) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2
        columns = n * tilesH * tilesW
        origin = .allocate(capacity: max(1, columns))
        edges = .allocate(capacity: max(1, columns))
        var j = 0
        for image in 0..<n {
            for ty in 0..<tilesH {
                for tx in 0..<tilesW {
                    origin[j] = image * channels * h * w + 2 * ty * w + 2 * tx
                    edges[j] = (2 * tx + 1 < w ? Self.right : 0) | (2 * ty + 1 < h ? Self.below : 0)
                    j += 1
                }
            }
        }
    }

    deinit {
        origin.deallocate()
        edges.deallocate()
    }
}
