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
        let (group, scratch, vStride, mStride) = winogradBuffers(workers: Parallel.workers(for: batch), inChannels: ci, outChannels: co,
                                                                 tiles: tiles)
        Parallel.forEachWorker(batch) { worker, images in
            let v = scratch[worker].v.data, m = scratch[worker].m.data
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(group, images.upperBound - first), columns = n * tiles
                Winograd.transformInput(src + first * ci * plane, images: n, channels: ci, height: h, width: w, into: v, planeStride: vStride)
                for xi in 0..<16 {
                    // M_ξ[co, n·T] = U_ξ[co, ci] · V_ξ[ci, n·T]
                    BLAS.gemm(m: co, n: columns, k: ci, a: u + xi * co * ci, lda: ci, b: v + xi * vStride, ldb: columns,
                              c: m + xi * mStride, ldc: columns)
                }
                let out = dst + first * co * plane
                Winograd.transformOutput(m, images: n, outChannels: co, height: h, width: w, bias: bias,
                                         relu: relu && residual == nil, affine: affine, into: out, planeStride: mStride)
                // The residual while the group's outputs are still in cache: s = y + r, then ReLU as Kernels.relu.
                if let residual { Conv2d.addResidual(out, residual + first * co * plane, n * co * plane, relu: relu) }
                first += n
            }
        }
    }

    /// Inference (Conv2d.infer): every image through Winograd F(4×4, 3×3) with the transformed weights in
    /// `winograd4Weights`, writing relu?(bn(conv) + residual) into `output`.
    func winograd4Convolve(_ src: UnsafePointer<Float>, height h: Int, width w: Int, affine: ChannelAffine?,
                           residual: UnsafePointer<Float>?, relu: Bool) {
        let ci = inChannels, co = outChannels, plane = h * w, tiles = Winograd4.tiles(height: h, width: w)
        let u = winograd4Weights.data, dst = output.data, bias = self.bias
        let workers = Parallel.workers(for: batch)
        // About 128 tile columns per product, and at most 64 images: the small late planes (one tile per image)
        // still give the products enough columns to reuse each transformed weight.
        let group = max(1, min(64, Conv2d.winograd4Columns / tiles))
        // The ξ planes of V and M sit 64 bytes further apart than their size: planes a multiple of 4 KiB apart map to
        // one L1 set, and the transforms' 36 interleaved streams then evict each other (input transform 5.2 → 0.9 ms
        // for 8 images of 128×14×14).
        let vStride = ci * group * tiles + Conv2d.planePadding, mStride = co * group * tiles + Conv2d.planePadding
        while winogradScratch.count < workers { winogradScratch.append((Tensor(shape: [0]), Tensor(shape: [0]))) }
        for s in winogradScratch.prefix(workers) {
            if s.v.count < 36 * vStride { s.v.resize([36, vStride]) }
            if s.m.count < 36 * mStride { s.m.resize([36, mStride]) }
        }
        let scratch = winogradScratch
        Parallel.forEachWorker(batch) { worker, images in
            let v = scratch[worker].v.data, m = scratch[worker].m.data
            // Groups of equal size: a short last group would stream every transformed weight for a few columns.
            let groups = (images.count + group - 1) / group, size = (images.count + groups - 1) / groups
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(size, images.upperBound - first), columns = n * tiles
                Winograd4.transformInput(src + first * ci * plane, images: n, channels: ci, height: h, width: w, into: v, planeStride: vStride)
                for xi in 0..<36 {
                    BLAS.gemm(m: co, n: columns, k: ci, a: u + xi * co * ci, lda: ci, b: v + xi * vStride, ldb: columns,
                              c: m + xi * mStride, ldc: columns)
                }
                let out = dst + first * co * plane
                Winograd4.transformOutput(m, images: n, outChannels: co, height: h, width: w, bias: bias,
                                          relu: relu && residual == nil, affine: affine, into: out, planeStride: mStride)
                if let residual { Conv2d.addResidual(out, residual + first * co * plane, n * co * plane, relu: relu) }
                first += n
            }
        }
    }

    static let planePadding = 16

    static let winograd4Columns = 128

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

    /// Images per group of tiles, per-worker buffers for them, and the distance between their ξ planes. About 150
    /// tile columns keeps V and M in the core's L2 (the cnn's second convolution: 98–147 columns ran 10–15% faster
    /// than 245 or 784). The planes sit `planePadding` floats further apart than their size (see winograd4Convolve).
    func winogradBuffers(workers: Int, inChannels ci: Int, outChannels co: Int, tiles: Int)
        -> (group: Int, scratch: [(v: Tensor, m: Tensor)], vStride: Int, mStride: Int) {
        let group = max(1, min(16, 150 / tiles))
        let vStride = ci * group * tiles + Conv2d.planePadding, mStride = co * group * tiles + Conv2d.planePadding
        while winogradScratch.count < workers { winogradScratch.append((Tensor(shape: [0]), Tensor(shape: [0]))) }
        for s in winogradScratch.prefix(workers) {
            if s.v.count < 16 * vStride { s.v.resize([16, vStride]) }
            if s.m.count < 16 * mStride { s.m.resize([16, mStride]) }
        }
        return (group, winogradScratch, vStride, mStride)
    }

    /// Zeroes dy [B, out, P] where the fused ReLU cut the output (in place; masking twice changes nothing).
    func maskByFusedReLU(_ d: UnsafeMutablePointer<Float>, plane: Int) {
        guard fusedReLU else { return }
        let y = output.data
        Parallel.forEach(batch * outChannels) { i in _ = Kernels.maskedSum(d + i * plane, where: y + i * plane, plane) }
    }

    /// db[o] += Σ over the batch and the plane of dy [B, out, P] (a no-op without a bias).
    func accumulateBiasGradient(_ d: UnsafePointer<Float>, plane: Int) {
        guard let dBias = self.dBias else { return }
        let batch = self.batch, outChannels = self.outChannels
        Parallel.forEach(outChannels) { o in
            var sum: Float = 0
            for b in 0..<batch { sum += Kernels.sum(d + (b * outChannels + o) * plane, plane) }
            dBias[o] += sum
        }
    }

    /// The backward pass of a Winograd layer: every product through the transforms, none through im2col.
    func winogradBackward(_ dy: Tensor, _ x: Tensor, _ g: ConvGeometry, needsInputGradient: Bool) -> Tensor? {
        let h = g.height, w = g.width, plane = h * w, tiles = Winograd.tiles(height: h, width: w)
        let d = dy.data, xin = x.data, outChannels = self.outChannels, inChannels = self.inChannels
        let batch = self.batch
        // The fused ReLU's mask, in place (dy is this layer's to consume), then the bias gradient per channel.
        maskByFusedReLU(d, plane: plane)
        accumulateBiasGradient(d, plane: plane)
        // ∂L/∂U_ξ[out, in] = Σ_tiles Δ_ξ[out, tiles] · V_ξ[in, tiles]ᵀ, per worker, then summed in worker order;
        // ∂L/∂V_ξ[in, tiles] = U_ξ[out, in]ᵀ · Δ_ξ[out, tiles] (U from the forward pass), then dx = its adjoint transform.
        if needsInputGradient { dInput.resize([batch, inChannels, h, w]) }
        let u = winogradWeights.data, dx = dInput.data
        let workers = Parallel.workers(for: batch)
        let (group, scratch, vStride, mStride) = winogradBuffers(workers: workers, inChannels: inChannels, outChannels: outChannels,
                                                                 tiles: tiles)
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
                Winograd.transformInput(xin + first * inChannels * plane, images: n, channels: inChannels, height: h, width: w, into: v,
                                        planeStride: vStride)
                Winograd.transformOutputGradient(d + first * outChannels * plane, images: n, outChannels: outChannels, height: h,
                                                 width: w, into: delta, planeStride: mStride)
                for xi in 0..<16 {
                    BLAS.gemm(transB: true, m: outChannels, n: inChannels, k: columns, a: delta + xi * mStride, lda: columns,
                              b: v + xi * vStride, ldb: columns, beta: 1, c: du + xi * outChannels * inChannels, ldc: inChannels)
                }
                if needsInputGradient {
                    // V has been used: its buffer takes ∂L/∂V.
                    for xi in 0..<16 {
                        BLAS.gemm(transA: true, m: inChannels, n: columns, k: outChannels, a: u + xi * outChannels * inChannels, lda: inChannels,
                                  b: delta + xi * mStride, ldb: columns, c: v + xi * vStride, ldc: columns)
                    }
                    Winograd.transformInputGradient(v, images: n, channels: inChannels, height: h, width: w, into: dx + first * inChannels * plane,
                                                    planeStride: vStride)
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


