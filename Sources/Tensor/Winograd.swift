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
        for c in 0..<channels {
            for image in 0..<n {
                let src = x + (image * channels + c) * h * w
                for ty in 0..<tilesH {
                    for tx in 0..<tilesW {
                        // d: the 4×4 patch whose top-left is (2ty − 1, 2tx − 1), zero outside the image.
                        var d = SIMD16<Float>(repeating: 0)
                        for i in 0..<4 {
                            let r = 2 * ty - 1 + i
                            if r < 0 || r >= h { continue }
                            for j in 0..<4 {
                                let col = 2 * tx - 1 + j
                                if col >= 0 && col < w { d[i * 4 + j] = src[r * w + col] }
                            }
                        }
                        // t = Bᵀ·d, then V = t·B
                        var t = SIMD16<Float>(repeating: 0)
                        for j in 0..<4 {
                            t[j] = d[j] - d[8 + j]
                            t[4 + j] = d[4 + j] + d[8 + j]
                            t[8 + j] = d[8 + j] - d[4 + j]
                            t[12 + j] = d[4 + j] - d[12 + j]
                        }
                        let column = image * perImage + ty * tilesW + tx
                        for i in 0..<4 {
                            let a = t[i * 4], b = t[i * 4 + 1], e = t[i * 4 + 2], f = t[i * 4 + 3]
                            v[((i * 4 + 0) * channels + c) * columns + column] = a - e
                            v[((i * 4 + 1) * channels + c) * columns + column] = b + e
                            v[((i * 4 + 2) * channels + c) * columns + column] = e - b
                            v[((i * 4 + 3) * channels + c) * columns + column] = b - f
                        }
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
}
