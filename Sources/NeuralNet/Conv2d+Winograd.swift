// Conv2d's Winograd F(2×2, 3×3) path (Tensor/Winograd.swift has the transforms): every product of a 3×3, stride-1,
// padding-1 layer — forward, input gradient and weight gradient — as 16 small GEMMs between transformed tiles.
import Tensor

extension Conv2d {

    /// out[b] = conv3×3(src[b]) for every image, through Winograd, with weights already transformed (u: [16, co, ci]).
    /// With `affine` and `residual` (inference only, Conv2d.infer), the output is relu?(bn(conv) + residual).
    func winogradConvolve(_ src: UnsafePointer<Float>, channels ci: Int, _ u: UnsafePointer<Float>, outChannels co: Int,
                          height h: Int, width w: Int, bias: UnsafePointer<Float>?, relu: Bool,
                          affine: ChannelAffine? = nil, residual: UnsafePointer<Float>? = nil,
                          into dst: UnsafeMutablePointer<Float>) {
        let plane = h * w, tiles = Winograd.tiles(height: h, width: w)
        let (group, scratch) = winogradBuffers(workers: Parallel.workers(for: batch), inChannels: ci, outChannels: co, tiles: tiles)
        Parallel.forEachWorker(batch) { worker, images in
            let v = scratch[worker].v.data, m = scratch[worker].m.data
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(group, images.upperBound - first), columns = n * tiles
                Winograd.transformInput(src + first * ci * plane, images: n, channels: ci, height: h, width: w, into: v)
                for xi in 0..<16 {
                    // M_ξ[co, n·T] = U_ξ[co, ci] · V_ξ[ci, n·T]
                    BLAS.gemm(m: co, n: columns, k: ci, a: u + xi * co * ci, lda: ci, b: v + xi * ci * columns, ldb: columns,
                              c: m + xi * co * columns, ldc: columns)
                }
                let out = dst + first * co * plane
                Winograd.transformOutput(m, images: n, outChannels: co, height: h, width: w, bias: bias,
                                         relu: relu && residual == nil, affine: affine, into: out)
                // The residual while the group's outputs are still in cache: s = y + r, then ReLU as Kernels.relu.
                if let residual { Conv2d.addResidual(out, residual + first * co * plane, n * co * plane, relu: relu) }
                first += n
            }
        }
    }

    /// y = relu?(y + r) in place, with ReLU as Kernels.relu (v > 0 ? v : 0): the bits of BasicBlock's sum and ReLU.
    static func addResidual(_ y: UnsafeMutablePointer<Float>, _ r: UnsafePointer<Float>, _ n: Int, relu: Bool) {
        if relu {
            for i in 0..<n {
                let v = y[i] + r[i]
                y[i] = v > 0 ? v : 0
            }
        } else {
            for i in 0..<n { y[i] = y[i] + r[i] }
        }
    }

    func winogradForward(_ x: Tensor, _ g: ConvGeometry) {
        winogradWeights.resize([16, outChannels, inChannels])
        Winograd.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, into: winogradWeights.data)
        winogradConvolve(x.data, channels: inChannels, winogradWeights.data, outChannels: outChannels, height: g.height,
                         width: g.width, bias: bias, relu: fusedReLU, into: output.data)
    }

    /// Images per group of tiles, and per-worker buffers for them. About 150 tile columns keeps V and M in the core's
    /// L2 (the cnn's second convolution: 98–147 columns ran 10–15% faster than 245 or 784).
    func winogradBuffers(workers: Int, inChannels ci: Int, outChannels co: Int, tiles: Int) -> (group: Int, scratch: [(v: Tensor, m: Tensor)]) {
        let group = max(1, min(16, 150 / tiles))
        while winogradScratch.count < workers { winogradScratch.append((Tensor(shape: [0]), Tensor(shape: [0]))) }
        for s in winogradScratch.prefix(workers) {
            if s.v.count < 16 * ci * group * tiles { s.v.resize([16, ci, group * tiles]) }
            if s.m.count < 16 * co * group * tiles { s.m.resize([16, co, group * tiles]) }
        }
        return (group, winogradScratch)
    }

    /// The backward pass of a Winograd layer: every product through the transforms, none through im2col.
    func winogradBackward(_ dy: Tensor, _ x: Tensor, _ g: ConvGeometry, needsInputGradient: Bool) -> Tensor? {
        let h = g.height, w = g.width, plane = h * w, tiles = Winograd.tiles(height: h, width: w)
        let d = dy.data, y = output.data, xin = x.data, outChannels = self.outChannels, inChannels = self.inChannels
        let batch = self.batch, relu = fusedReLU
        // The fused ReLU's mask, in place (dy is this layer's to consume), then the bias gradient per channel.
        if relu {
            Parallel.forEach(batch * outChannels) { i in _ = Kernels.maskedSum(d + i * plane, where: y + i * plane, plane) }
        }
        if let dBias = self.dBias {
            Parallel.forEach(outChannels) { o in
                var sum: Float = 0
                for b in 0..<batch { sum += Kernels.sum(d + (b * outChannels + o) * plane, plane) }
                dBias[o] += sum
            }
        }
        // ∂L/∂U_ξ[out, in] = Σ_tiles Δ_ξ[out, tiles] · V_ξ[in, tiles]ᵀ, per worker, then summed in worker order;
        // ∂L/∂V_ξ[in, tiles] = U_ξ[out, in]ᵀ · Δ_ξ[out, tiles] (U from the forward pass), then dx = its adjoint transform.
        if needsInputGradient { dInput.resize([batch, inChannels, h, w]) }
        let u = winogradWeights.data, dx = dInput.data
        let workers = Parallel.workers(for: batch)
        let (group, scratch) = winogradBuffers(workers: workers, inChannels: inChannels, outChannels: outChannels, tiles: tiles)
        while winogradWeightGradients.count < workers { winogradWeightGradients.append(Tensor(shape: [0])) }
        for t in winogradWeightGradients.prefix(workers) {
            t.resize([16, outChannels, inChannels])
            t.zero()
        }
        let partials = winogradWeightGradients
        Parallel.forEachWorker(batch) { worker, images in
            let v = scratch[worker].v.data, delta = scratch[worker].m.data, du = partials[worker].data
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(group, images.upperBound - first), columns = n * tiles
                Winograd.transformInput(xin + first * inChannels * plane, images: n, channels: inChannels, height: h, width: w, into: v)
                Winograd.transformOutputGradient(d + first * outChannels * plane, images: n, outChannels: outChannels, height: h,
                                                 width: w, into: delta)
                for xi in 0..<16 {
                    BLAS.gemm(transB: true, m: outChannels, n: inChannels, k: columns, a: delta + xi * outChannels * columns, lda: columns,
                              b: v + xi * inChannels * columns, ldb: columns, beta: 1, c: du + xi * outChannels * inChannels, ldc: inChannels)
                }
                if needsInputGradient {
                    // V has been used: its buffer takes ∂L/∂V.
                    for xi in 0..<16 {
                        BLAS.gemm(transA: true, m: inChannels, n: columns, k: outChannels, a: u + xi * outChannels * inChannels, lda: inChannels,
                                  b: delta + xi * outChannels * columns, ldb: columns, c: v + xi * inChannels * columns, ldc: columns)
                    }
                    Winograd.transformInputGradient(v, images: n, channels: inChannels, height: h, width: w, into: dx + first * inChannels * plane)
                }
                first += n
            }
        }
        let total = partials[0].data, count = 16 * outChannels * inChannels
        for t in partials.dropFirst().prefix(workers - 1) { for i in 0..<count { total[i] += t[i] } }
        Winograd.accumulateWeightGradient(total, outChannels: outChannels, inChannels: inChannels, into: dWeight)
        return needsInputGradient ? dInput : nil
    }
}
