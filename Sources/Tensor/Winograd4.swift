// Winograd F(4×4, 3×3) (Lavin & Gray, 2016), inference only: each 4×4 block of outputs costs 36 multiplies per
// input channel instead of 144 (F(2×2): 64), as 36 products U_ξ[out, in] · V_ξ[in, tiles] between transformed
// weights and transformed 6×6 input tiles, with the interpolation points 0, ±1, ±2 and ∞:
//   U = G·g·Gᵀ,  V = Bᵀ·d·B,  Y = Aᵀ·(U ⊙ V)·A
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
// Its rounding differs from the direct sum by a few float ulps more than F(2×2)'s (the transforms' constants are
// larger), so training keeps F(2×2), whose adjoints the backward pass uses; Network.predict uses this one.

/// Winograd F(4×4, 3×3) for 3×3 convolutions with stride 1 and padding 1; inference only (`Conv2d.inferenceUsesF4`).
public enum Winograd4 {
    /// Output tiles of one image: ⌈H/4⌉·⌈W/4⌉.
    public static func tiles(height: Int, width: Int) -> Int { ((height + 3) / 4) * ((width + 3) / 4) }

    /// weights [out, in, 3, 3] → u [36, out, in], computed in Double and rounded once.
    public static func transformWeights(_ g: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into u: UnsafeMutablePointer<Float>) {
        let G: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                             [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]
        let plane = outChannels * inChannels
        var t = [Double](repeating: 0, count: 18)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                let k = g + (o * inChannels + c) * 9
                for i in 0..<6 {
                    for j in 0..<3 { t[i * 3 + j] = G[i][0] * Double(k[j]) + G[i][1] * Double(k[3 + j]) + G[i][2] * Double(k[6 + j]) }
                }
                let dst = u + o * inChannels + c
                for i in 0..<6 {
                    for j in 0..<6 {
                        dst[(i * 6 + j) * plane] = Float(t[i * 3] * G[j][0] + t[i * 3 + 1] * G[j][1] + t[i * 3 + 2] * G[j][2])
                    }
                }
            }
        }
    }

    /// Images x [n, C, H, W] (padding 1 implied) → v [36, C, n·T], tiles numbered image by image, row by row.
    /// Bᵀ runs down whole rows of a zero-bordered copy of each plane (vector arithmetic over the width), then B
    /// across each tile's six columns.
    /// `planeStride` (floats from one ξ plane to the next, at least C·n·T) lets the caller keep the 36 planes off
    /// one cache set: planes a multiple of 4 KiB apart alias in the L1 and every store would evict another.
    public static func transformInput(_ x: UnsafePointer<Float>, images n: Int, channels: Int, height h: Int, width w: Int,
                                      into v: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let tilesH = (h + 3) / 4, tilesW = (w + 3) / 4, perImage = tilesH * tilesW
        let columns = n * perImage
        let ph = 4 * tilesH + 2, pw = 4 * tilesW + 2
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: ph * pw)
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: 6 * pw)
        defer { padded.deallocate(); rows.deallocate() }
        padded.initialize(repeating: 0, count: ph * pw)
        rows.initialize(repeating: 0, count: 6 * pw)
        let stride = planeStride ?? channels * columns  // from one ξ to the next
        let t0 = rows, t1 = rows + pw, t2 = rows + 2 * pw, t3 = rows + 3 * pw, t4 = rows + 4 * pw, t5 = rows + 5 * pw
        for c in 0..<channels {
            let out = v + c * columns
            for image in 0..<n {
                let src = x + (image * channels + c) * h * w
                for r in 0..<h { (padded + (r + 1) * pw + 1).update(from: src + r * w, count: w) }
                for ty in 0..<tilesH {
                    let d0 = padded + 4 * ty * pw, d1 = d0 + pw, d2 = d1 + pw, d3 = d2 + pw, d4 = d3 + pw, d5 = d4 + pw
                    // t = Bᵀ·d over the six rows
                    for j in 0..<pw {
                        let a0 = d0[j], a1 = d1[j], a2 = d2[j], a3 = d3[j], a4 = d4[j], a5 = d5[j]
                        t0[j] = 4 * a0 - 5 * a2 + a4
                        t1[j] = a3 + a4 - 4 * (a1 + a2)
                        t2[j] = 4 * (a1 - a2) + a4 - a3
                        t3[j] = 2 * (a3 - a1) + a4 - a2
                        t4[j] = 2 * (a1 - a3) + a4 - a2
                        t5[j] = 4 * a1 - 5 * a3 + a5
                    }
                    let base = out + image * perImage + ty * tilesW
                    for tx in 0..<tilesW {
                        let column = base + tx
                        // V = t·B, row by row of t
                        for i in 0..<6 {
                            let e = rows + i * pw + 4 * tx
                            let e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3], e4 = e[4], e5 = e[5]
                            let row = column + i * 6 * stride
                            row[0] = 4 * e0 - 5 * e2 + e4
                            row[stride] = e3 + e4 - 4 * (e1 + e2)
                            row[2 * stride] = 4 * (e1 - e2) + e4 - e3
                            row[3 * stride] = 2 * (e3 - e1) + e4 - e2
                            row[4 * stride] = 2 * (e1 - e3) + e4 - e2
                            row[5 * stride] = 4 * e1 - 5 * e3 + e5
                        }
                    }
                }
            }
        }
    }

    /// m [36, out, n·T] → y [n, out, H, W], adding the bias, then BatchNorm's evaluation map (`affine`) and ReLU
    /// (as Kernels.relu, v > 0 ? v : 0, when `affine` is given; else as max(v, 0)) if asked. Eight tiles at a time:
    /// their values are contiguous in each ξ plane, so the transform is vector loads and arithmetic.
    public static func transformOutput(_ m: UnsafePointer<Float>, images n: Int, outChannels: Int, height h: Int, width w: Int,
                                       bias: UnsafePointer<Float>?, relu: Bool, affine: ChannelAffine?,
                                       into y: UnsafeMutablePointer<Float>, planeStride: Int? = nil) {
        let tilesH = (h + 3) / 4, tilesW = (w + 3) / 4, perImage = tilesH * tilesW
        let columns = n * perImage, stride = planeStride ?? outChannels * columns, plane = h * w
        // Each tile's top-left output offset within channel 0's planes, and how many of its rows and columns lie inside.
        let origin = UnsafeMutablePointer<Int>.allocate(capacity: max(1, columns))
        let extent = UnsafeMutablePointer<(rows: Int, cols: Int)>.allocate(capacity: max(1, columns))
        let lanes = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 8), tail = UnsafeMutablePointer<Float>.allocate(capacity: 36 * 8)
        defer { origin.deallocate(); extent.deallocate(); lanes.deallocate(); tail.deallocate() }
        tail.initialize(repeating: 0, count: 36 * 8)
        var j = 0
        for image in 0..<n {
            for ty in 0..<tilesH {
                for tx in 0..<tilesW {
                    origin[j] = image * outChannels * plane + 4 * ty * w + 4 * tx
                    extent[j] = (min(4, h - 4 * ty), min(4, w - 4 * tx))
                    j += 1
                }
            }
        }
        for o in 0..<outChannels {
            let b = bias?[o] ?? 0, source = m + o * columns, target = y + o * plane
            let channelAffine = affine.map { (mean: $0.mean[o], invStd: $0.invStd[o], gamma: $0.gamma[o], beta: $0.beta[o]) }
            var j = 0
            while j < columns {
                let count = min(8, columns - j)
                if count == 8 {
                    outputTiles(source + j, stride: stride, bias: b, relu: relu, affine: channelAffine, into: lanes)
                } else {
                    for k in 0..<36 { (tail + k * 8).update(from: source + j + k * stride, count: count) }
                    outputTiles(tail, stride: 8, bias: b, relu: relu, affine: channelAffine, into: lanes)
                }
                for lane in 0..<count {
                    let dst = target + origin[j + lane], (rowCount, colCount) = extent[j + lane]
                    if rowCount == 4 && colCount == 4 {
                        for r in 0..<4 {
                            let line = dst + r * w
                            line[0] = lanes[(r * 4) * 8 + lane]
                            line[1] = lanes[(r * 4 + 1) * 8 + lane]
                            line[2] = lanes[(r * 4 + 2) * 8 + lane]
                            line[3] = lanes[(r * 4 + 3) * 8 + lane]
                        }
                    } else {
                        for r in 0..<rowCount { for c in 0..<colCount { dst[r * w + c] = lanes[(r * 4 + c) * 8 + lane] } }
                    }
                }
                j += 8
            }
        }
    }

    /// Y = Aᵀ·q·A (+ bias, affine, ReLU) for eight tiles: q [36][8] with `stride` between the ξ rows → out [16][8]
    /// (y00, y01, …, y33).
    @inline(__always)
    private static func outputTiles(_ q: UnsafePointer<Float>, stride: Int, bias: Float, relu: Bool,
                                    affine: (mean: Float, invStd: Float, gamma: Float, beta: Float)?,
                                    into out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD8<Float>
        @inline(__always) func row(_ k: Int) -> V { UnsafeRawPointer(q + k * stride).loadUnaligned(as: V.self) }
        // s = Aᵀ·q (4×6), column by column of q
        withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { s in
            for c in 0..<6 {
                let m0 = row(c), m1 = row(6 + c), m2 = row(12 + c), m3 = row(18 + c), m4 = row(24 + c), m5 = row(30 + c)
                let p = m1 + m2, d = m1 - m2, r = m3 + m4, e = m3 - m4
                s[c] = m0 + p + r
                s[6 + c] = d + 2 * e
                s[12 + c] = p + 4 * r
                s[18 + c] = d + 8 * e + m5
            }
            let b = V(repeating: bias), zero = V(repeating: 0)
            let raw = UnsafeMutableRawPointer(out)
            for i in 0..<4 {
                let m0 = s[i * 6], m1 = s[i * 6 + 1], m2 = s[i * 6 + 2], m3 = s[i * 6 + 3], m4 = s[i * 6 + 4], m5 = s[i * 6 + 5]
                let p = m1 + m2, d = m1 - m2, r = m3 + m4, e = m3 - m4
                var y = (m0 + p + r + b, d + 2 * e + b, p + 4 * r + b, d + 8 * e + m5 + b)
                if let affine {
                    let mean = V(repeating: affine.mean), invStd = V(repeating: affine.invStd)
                    let gamma = V(repeating: affine.gamma), beta = V(repeating: affine.beta)
                    y.0 = gamma * ((y.0 - mean) * invStd) + beta
                    y.1 = gamma * ((y.1 - mean) * invStd) + beta
                    y.2 = gamma * ((y.2 - mean) * invStd) + beta
                    y.3 = gamma * ((y.3 - mean) * invStd) + beta
                    if relu {
                        y.0.replace(with: zero, where: .!(y.0 .> zero)); y.1.replace(with: zero, where: .!(y.1 .> zero))
                        y.2.replace(with: zero, where: .!(y.2 .> zero)); y.3.replace(with: zero, where: .!(y.3 .> zero))
                    }
                } else if relu {
                    y.0.replace(with: zero, where: y.0 .< zero); y.1.replace(with: zero, where: y.1 .< zero)
                    y.2.replace(with: zero, where: y.2 .< zero); y.3.replace(with: zero, where: y.3 .< zero)
                }
                raw.storeBytes(of: y.0, toByteOffset: (i * 4) * 32, as: V.self)
                raw.storeBytes(of: y.1, toByteOffset: (i * 4 + 1) * 32, as: V.self)
                raw.storeBytes(of: y.2, toByteOffset: (i * 4 + 2) * 32, as: V.self)
                raw.storeBytes(of: y.3, toByteOffset: (i * 4 + 3) * 32, as: V.self)
            }
        }
    }
}
