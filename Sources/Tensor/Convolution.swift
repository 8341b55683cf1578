// im2col / col2im for a whole batch, so one convolution is one large GEMM instead of B small ones.
//
// Layout of the column matrix: rows (c, ki, kj) — C·kh·kw of them; columns (b, oh, ow) — B·Ho·Wo of them.
// col[(c·kh + ki)·kw + kj, (b·Ho + oh)·Wo + ow] = x[b, c, oh·s − p + ki, ow·s − p + kj]  (0 outside the image)

/// A convolution's input and kernel geometry for one image: [C, H, W] input, kh×kw kernel, stride and zero padding.
public struct ConvGeometry: Sendable, Equatable {
    /// Input channels, height and width.
    public let channels: Int, height: Int, width: Int
    /// Kernel height and width.
    public let kernelH: Int, kernelW: Int
    /// Step between output positions, and zero padding on each side of the input.
    public let stride: Int, padding: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.kernelH = kernelH
        self.kernelW = kernelW
        self.stride = stride
        self.padding = padding
    }

    /// Output height Ho.
    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    /// Output width Wo.
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the column matrix: C·kh·kw.
    public var patchSize: Int { channels * kernelH * kernelW }
}

/// im2col and col2im for a whole batch, so one convolution is one large GEMM.
public enum Im2Col {
    /// x: [B, C, H, W] → col: [C·kh·kw, B·Ho·Wo]
    public static func forward(_ x: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, into col: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth
        let plane = ho * wo
        let columns = batch * plane
        let hw = g.height * g.width
        Parallel.forEach(g.patchSize, minimumChunk: 4) { row in
            let c = row / (g.kernelH * g.kernelW)
            let ki = (row / g.kernelW) % g.kernelH
            let kj = row % g.kernelW
            let out = col + row * columns
            for b in 0..<batch {
                let image = x + (b * g.channels + c) * hw
                let dst = out + b * plane
                for oh in 0..<ho {
                    let ih = oh * g.stride - g.padding + ki
                    let line = dst + oh * wo
                    if ih < 0 || ih >= g.height {
                        line.update(repeating: 0, count: wo)
                        continue
                    }
                    let src = image + ih * g.width
                    if g.stride == 1 {
                        // Contiguous run: zero the padded ends, copy the middle.
                        let shift = kj - g.padding
                        let first = min(wo, max(0, -shift))
                        let last = max(first, min(wo, g.width - shift))
                        if first > 0 { line.update(repeating: 0, count: first) }
                        if last > first { (line + first).update(from: src + first + shift, count: last - first) }
                        if last < wo { (line + last).update(repeating: 0, count: wo - last) }
                    } else {
                        for ow in 0..<wo {
                            let iw = ow * g.stride - g.padding + kj
                            line[ow] = (iw >= 0 && iw < g.width) ? src[iw] : 0
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `forward`: dx[B, C, H, W] = Σ over patches of dcol (dx is overwritten).
    public static func backward(_ dcol: UnsafePointer<Float>, batch: Int, _ g: ConvGeometry, into dx: UnsafeMutablePointer<Float>) {
        let ho = g.outHeight, wo = g.outWidth
        let plane = ho * wo
        let columns = batch * plane
        let hw = g.height * g.width
        // Parallel over channels: each channel's patches only touch that channel of dx.
        Parallel.forEach(g.channels) { c in
            for b in 0..<batch { (dx + (b * g.channels + c) * hw).update(repeating: 0, count: hw) }
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    let src = dcol + row * columns
                    for b in 0..<batch {
                        let image = dx + (b * g.channels + c) * hw
                        let from = src + b * plane
                        for oh in 0..<ho {
                            let ih = oh * g.stride - g.padding + ki
                            if ih < 0 || ih >= g.height { continue }
                            let dst = image + ih * g.width
                            let line = from + oh * wo
                            if g.stride == 1 {
                                // Contiguous run, as in the forward pass.
                                let shift = kj - g.padding
                                let first = min(wo, max(0, -shift))
                                let last = max(first, min(wo, g.width - shift))
                                let out = dst + shift
                                for ow in first..<last { out[ow] += line[ow] }
                            } else {
                                for ow in 0..<wo {
                                    let iw = ow * g.stride - g.padding + kj
                                    if iw >= 0 && iw < g.width { dst[iw] += line[ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
