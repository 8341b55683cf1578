// Winograd F(2×2, 3×3) for 3×3 convolutions with stride 1 and padding 1 (Lavin & Gray, 2016): each 2×2 block of
// outputs costs 16 multiplies per input channel instead of 36, as 16 matrix products U_ξ[out, in] · V_ξ[in, tiles]
// between transformed weights and transformed 4×4 input tiles:
//   U = G·g·Gᵀ,  V = Bᵀ·d·B,  Y = Aᵀ·(U ⊙ V)·A
//   G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],  Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  Aᵀ = [1 1 1 0; 0 1 −1 −1]

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
    public static func transformInput(_ x: UnsafePointer<Float>, images n: Int, channels: Int, height h: Int, width w: Int,
                                      into v: UnsafeMutablePointer<Float>) {
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
            let stride = channels * columns  // from one ξ to the next
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
    public static func transformOutput(_ m: UnsafePointer<Float>, images n: Int, outChannels: Int, height h: Int, width w: Int,
                                       bias: UnsafePointer<Float>?, relu: Bool, into y: UnsafeMutablePointer<Float>) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2, perImage = tilesH * tilesW
        let columns = n * perImage
        let stride = outChannels * columns
        for o in 0..<outChannels {
            let b0 = bias?[o] ?? 0
            for image in 0..<n {
                let dst = y + (image * outChannels + o) * h * w
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        let base = m + o * columns + image * perImage + ty * tilesW + tx
                        var q = SIMD16<Float>(repeating: 0)
                        for k in 0..<16 { q[k] = base[k * stride] }
                        // t = Aᵀ·q (2×4), then Y = t·A (2×2)
                        var t = SIMD8<Float>(repeating: 0)
                        for j in 0..<4 {
                            t[j] = q[j] + q[4 + j] + q[8 + j]
                            t[4 + j] = q[4 + j] - q[8 + j] - q[12 + j]
                        }
                        for i in 0..<2 {
                            let r = 2 * ty + i
                            if r >= h { continue }
                            let a = t[i * 4], b = t[i * 4 + 1], e = t[i * 4 + 2], f = t[i * 4 + 3]
                            var y0 = a + b + e + b0, y1 = b - e - f + b0
                            if relu { y0 = max(y0, 0); y1 = max(y1, 0) }
                            dst[r * w + 2 * tx] = y0
                            if 2 * tx + 1 < w { dst[r * w + 2 * tx + 1] = y1 }
                        }
                    }
                }
            }
        }
    }

    // The weight gradient is the adjoint of the forward's maps: with Y = Aᵀ·(U ⊙ V)·A and U = G·g·Gᵀ,
    //   ∂L/∂M = A·δ·Aᵀ per tile,  ∂L/∂U_ξ = Σ_tiles ∂L/∂M_ξ · V_ξ,  ∂L/∂g = Gᵀ·(∂L/∂U)·G.

    /// Output gradients dy [n, out, H, W] → Δ = A·δ·Aᵀ per 2×2 tile: [16, out, n·T] (zero beyond the image).
    public static func transformOutputGradient(_ dy: UnsafePointer<Float>, images n: Int, outChannels: Int, height h: Int, width w: Int,
                                               into delta: UnsafeMutablePointer<Float>) {
        let tilesH = (h + 1) / 2, tilesW = (w + 1) / 2, perImage = tilesH * tilesW
        let columns = n * perImage, stride = outChannels * columns
        for o in 0..<outChannels {
            for image in 0..<n {
                let src = dy + (image * outChannels + o) * h * w
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        let r = 2 * ty, c = 2 * tx
                        let d00 = src[r * w + c]
                        let d01: Float = c + 1 < w ? src[r * w + c + 1] : 0
                        let d10: Float = r + 1 < h ? src[(r + 1) * w + c] : 0
                        let d11: Float = (r + 1 < h && c + 1 < w) ? src[(r + 1) * w + c + 1] : 0
                        // rows of A·δ: [δ0, δ0 + δ1, δ0 − δ1, −δ1], each then times Aᵀ: (a, b) → [a, a + b, a − b, −b]
                        let column = delta + o * columns + image * perImage + ty * tilesW + tx
                        @inline(__always) func store(_ a: Float, _ b: Float, _ i: Int) {
                            column[(i * 4 + 0) * stride] = a
                            column[(i * 4 + 1) * stride] = a + b
                            column[(i * 4 + 2) * stride] = a - b
                            column[(i * 4 + 3) * stride] = -b
                        }
                        store(d00, d01, 0)
                        store(d00 + d10, d01 + d11, 1)
                        store(d00 - d10, d01 - d11, 2)
                        store(-d10, -d11, 3)
                    }
                }
            }
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
