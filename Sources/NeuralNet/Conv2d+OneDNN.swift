// Training's 3×3 stride-1 convolutions on at least 64 channels through oneDNN's Winograd F(4×4, 3×3)
// (jit_wino_4x3: forward, backward data and backward weights), Docs/Architecture.md §2.3. The layer keeps PyTorch's
// NCHW tensors and its own parameter and gradient buffers; each pass reorders its operands into oneDNN's blocked
// layout (nChw16c) in buffers the network's convolutions share, runs the primitive, and reorders the result back.
// The fused ReLU's mask and the bias gradient are the engine's own (as in Conv2d+Winograd.swift).
import CDNNL
import Tensor

extension Conv2d {
    /// Whether training runs this layer through oneDNN: a Winograd layer on at least 64 channels each way, with
    /// OneDNN.trainingEnabled and an engine. (Measured: on the cnn's 32→64 layer oneDNN was 1.5× slower than the
    /// engine's F(2×2); resnet18's strided 3×3 and 1×1 layers on oneDNN's direct kernels, which OneDNNTrainingPlan
    /// can also build, were 2–5% faster on 3×32×32 and 3% slower on 1×28×28, so they stay on im2col.)
    var trainsOnOneDNN: Bool {
        usesWinograd && inChannels >= 64 && outChannels >= 64 && OneDNN.trainingEnabled && OneDNN.engine != nil
            && oneDNNTrainingFailure == nil
    }

    /// The forward pass through oneDNN into `output`; false (and nothing written) when oneDNN cannot build it, after
    /// which the layer trains on the engine's kernels (trainsOnOneDNN).
    func oneDNNForward(_ x: Tensor, _ g: ConvGeometry) -> Bool {
        do {
            let plan = try oneDNNPlan(g)
            let buffers = winogradPool.oneDNN
            try plan.reorder(plan.xIn, from: plan.xPlain, at: x.data, to: plan.xBlocked, in: buffers, 0)
            try plan.reorder(plan.wIn, from: plan.wPlain, at: weight, to: plan.wForward, in: buffers, 3)
            try plan.yBlocked.point(into: buffers, 1)
            var args = [(OneDNNArgument.src, plan.xBlocked), (OneDNNArgument.weights, plan.wForward),
                        (OneDNNArgument.dst, plan.yBlocked)]
            if let b = plan.bias {
                try b.point(at: UnsafeMutableRawPointer(bias!))
                args.append((OneDNNArgument.bias, b))
            }
            try plan.scratchpad.point(at: buffers.buffer(5, bytes: plan.scratchpadBytes))
            args.append((OneDNNArgument.scratchpad, plan.scratchpad))
            try plan.forward.execute(plan.stream, args)
            try plan.yPlain.point(at: UnsafeMutableRawPointer(output.data))
            try plan.yOut.execute(plan.stream, [(OneDNNArgument.from, plan.yBlocked), (OneDNNArgument.to, plan.yPlain)])
            return true
        } catch {
            oneDNNTraining = nil
            oneDNNTrainingFailure = "\(error)"
            return false
        }
    }

    /// The backward pass through oneDNN: accumulates dW and db (after the fused ReLU's mask, applied to dy in place)
    /// and returns dx when asked. Nothing is accumulated unless every oneDNN call succeeded, so a caller can fall
    /// back to the engine's own backward pass when this throws.
    func oneDNNBackward(_ dy: Tensor, _ x: Tensor, _ g: ConvGeometry, needsInputGradient: Bool) throws -> Tensor? {
        let plan = try oneDNNPlan(g)
        let buffers = winogradPool.oneDNN
        let plane = g.outHeight * g.outWidth, d = dy.data
        maskByFusedReLU(d, plane: plane)
        // dy and x into the blocked layout (x again: keeping every layer's blocked input would double training's
        // activation memory), then ∂L/∂W into a plain [out, in, k, k] buffer.
        try plan.reorder(plan.dyIn, from: plan.dyPlain, at: d, to: plan.dyBlocked, in: buffers, 1)
        try plan.reorder(plan.xInBackward, from: plan.xPlain, at: x.data, to: plan.xBlockedBackward, in: buffers, 0)
        try plan.dwBlocked.point(into: buffers, 4)
        try plan.scratchpad.point(at: buffers.buffer(5, bytes: plan.scratchpadBytes))
        try plan.backwardWeights.execute(plan.stream, [
            (OneDNNArgument.src, plan.xBlockedBackward), (OneDNNArgument.diffDst, plan.dyBlocked),
            (OneDNNArgument.diffWeights, plan.dwBlocked), (OneDNNArgument.scratchpad, plan.scratchpad)])
        let weightCount = outChannels * patchSize
        try plan.dwPlain.point(into: buffers, 6)
        try plan.dwOut.execute(plan.stream, [(OneDNNArgument.from, plan.dwBlocked), (OneDNNArgument.to, plan.dwPlain)])
        if needsInputGradient {
            try plan.reorder(plan.wInBackward, from: plan.wPlain, at: weight, to: plan.wBackward, in: buffers, 3)
            try plan.dxBlocked.point(into: buffers, 2)
            try plan.backwardData.execute(plan.stream, [
                (OneDNNArgument.diffDst, plan.dyBlocked), (OneDNNArgument.weights, plan.wBackward),
                (OneDNNArgument.diffSrc, plan.dxBlocked), (OneDNNArgument.scratchpad, plan.scratchpad)])
            dInput.resize([batch, inChannels, g.height, g.width])
            try plan.dxPlain.point(at: UnsafeMutableRawPointer(dInput.data))
            try plan.dxOut.execute(plan.stream, [(OneDNNArgument.from, plan.dxBlocked), (OneDNNArgument.to, plan.dxPlain)])
        }
        // Every call succeeded: accumulate.
        let dw = UnsafePointer(plan.dwPlain.data.assumingMemoryBound(to: Float.self)), dWeight = self.dWeight!
        Parallel.forEachChunk(weightCount, minimumChunk: 1 << 14) { r in for i in r { dWeight[i] += dw[i] } }
        accumulateBiasGradient(d, plane: plane)
        return needsInputGradient ? dInput : nil
    }

    /// This layer's primitives for the batch, image size and thread count (rebuilt when one changes).
    private func oneDNNPlan(_ g: ConvGeometry) throws -> OneDNNTrainingPlan {
        let threads = Parallel.threads
        OneDNN.useThreads(threads)
        if let plan = oneDNNTraining, plan.batch == batch, plan.height == g.height, plan.width == g.width, plan.threads == threads {
            return plan
        }
        let plan = try OneDNNTrainingPlan(self, batch: batch, height: g.height, width: g.width, threads: threads)
        oneDNNTraining = plan
        return plan
    }
}

/// Buffers a network's oneDNN training passes share (Conv2d.winogradPool): each grows to the largest layer's need,
/// and nothing in them outlives one pass but x's and y's blocked forms, which the next pass overwrites.
final class OneDNNBuffers {
    private var buffers: [(pointer: UnsafeMutableRawPointer, bytes: Int)] = []

    /// Buffer `index`, at least `bytes` long (64-byte aligned; its contents are not kept when it grows).
    func buffer(_ index: Int, bytes: Int) -> UnsafeMutableRawPointer {
        while buffers.count <= index { buffers.append((UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64), 64)) }
        if buffers[index].bytes < bytes {
            buffers[index].pointer.deallocate()
            buffers[index] = (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
        }
        return buffers[index].pointer
    }

    deinit { for b in buffers { b.pointer.deallocate() } }
}

/// One layer's oneDNN primitives and memory descriptors for one batch, image size and thread count. Memories point
/// at the caller's tensors or the shared buffers only while a pass runs.
final class OneDNNTrainingPlan {
    let batch: Int, height: Int, width: Int, threads: Int
    let stream: dnnl_stream_t
    let forward: OneDNNPrimitive, backwardData: OneDNNPrimitive, backwardWeights: OneDNNPrimitive
    let xPlain: OneDNNMemory, yPlain: OneDNNMemory, dyPlain: OneDNNMemory, dxPlain: OneDNNMemory  // NCHW
    let wPlain: OneDNNMemory, dwPlain: OneDNNMemory  // [out, in, k, k]
    let bias: OneDNNMemory?
    let xBlocked: OneDNNMemory, yBlocked: OneDNNMemory, wForward: OneDNNMemory
    let dyBlocked: OneDNNMemory, xBlockedBackward: OneDNNMemory, dwBlocked: OneDNNMemory
    let wBackward: OneDNNMemory, dxBlocked: OneDNNMemory
    let scratchpad: OneDNNMemory
    let scratchpadBytes: Int
    let xIn: OneDNNPrimitive, wIn: OneDNNPrimitive, yOut: OneDNNPrimitive
    let dyIn: OneDNNPrimitive, xInBackward: OneDNNPrimitive, dwOut: OneDNNPrimitive, wInBackward: OneDNNPrimitive, dxOut: OneDNNPrimitive

    init(_ conv: Conv2d, batch: Int, height: Int, width: Int, threads: Int) throws {
        (self.batch, self.height, self.width, self.threads) = (batch, height, width, threads)
        var s: dnnl_stream_t?
        try OneDNN.check(dnnl_stream_create(&s, OneDNN.engine, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        stream = s!
        let g = ConvGeometry(channels: conv.inChannels, height: height, width: width, kernelH: conv.kernel, kernelW: conv.kernel,
                             stride: conv.stride, padding: conv.padding)
        let xDims = [batch, conv.inChannels, height, width], yDims = [batch, conv.outChannels, g.outHeight, g.outWidth]
        let wDims = [conv.outChannels, conv.inChannels, conv.kernel, conv.kernel]
        let algorithm = conv.usesWinograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        var src = try OneDNN.descriptor(xDims, dnnl_nChw16c), dst = try OneDNN.descriptor(yDims, dnnl_nChw16c)
        var wei = try OneDNN.descriptor(wDims, dnnl_format_tag_any)
        var biasDescriptor = try OneDNN.descriptor([conv.outChannels], dnnl_x)
        let strides = [Int64(conv.stride), Int64(conv.stride)], padding = [Int64(conv.padding), Int64(conv.padding)]
        let attr = try OneDNNAttributes(relu: conv.fusedReLU), plainAttr = try OneDNNAttributes()

        var fd = dnnl_convolution_desc_t()
        try withUnsafeMutablePointer(to: &biasDescriptor) { b in
            try OneDNN.check(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, algorithm, &src, &wei,
                                                                conv.hasBias ? b : nil, &dst, strides, padding, padding),
                             "dnnl_convolution_forward_desc_init")
        }
        var fpd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_primitive_desc_create(&fpd, &fd, attr.handle, OneDNN.engine, nil), "dnnl_primitive_desc_create (training forward)")
        defer { dnnl_primitive_desc_destroy(fpd) }
        var bd = dnnl_convolution_desc_t()
        try OneDNN.check(dnnl_convolution_backward_data_desc_init(&bd, algorithm, &src, &wei, &dst, strides, padding, padding),
                         "dnnl_convolution_backward_data_desc_init")
        var bdpd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_primitive_desc_create(&bdpd, &bd, plainAttr.handle, OneDNN.engine, fpd), "dnnl_primitive_desc_create (backward data)")
        defer { dnnl_primitive_desc_destroy(bdpd) }
        var wd = dnnl_convolution_desc_t()
        try OneDNN.check(dnnl_convolution_backward_weights_desc_init(&wd, algorithm, &src, &wei, nil, &dst, strides, padding, padding),
                         "dnnl_convolution_backward_weights_desc_init")
        var bwpd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_primitive_desc_create(&bwpd, &wd, plainAttr.handle, OneDNN.engine, fpd), "dnnl_primitive_desc_create (backward weights)")
        defer { dnnl_primitive_desc_destroy(bwpd) }

        func md(_ pd: dnnl_primitive_desc_t?, _ what: dnnl_query_t) -> dnnl_memory_desc_t { dnnl_primitive_desc_query_md(pd, what, 0)!.pointee }
        forward = try OneDNNPrimitive(fpd!)
        backwardData = try OneDNNPrimitive(bdpd!)
        backwardWeights = try OneDNNPrimitive(bwpd!)
        scratchpadBytes = max(64, forward.scratchpadBytes, backwardData.scratchpadBytes, backwardWeights.scratchpadBytes)
        let scratch = [fpd, bdpd, bwpd].map { md($0, dnnl_query_scratchpad_md) }.max { OneDNN.size($0) < OneDNN.size($1) }!
        scratchpad = try OneDNNMemory(OneDNN.size(scratch) > 0 ? scratch : try OneDNN.descriptor([64], dnnl_x), data: nil)

        let xPlainD = try OneDNN.descriptor(xDims, dnnl_nchw), yPlainD = try OneDNN.descriptor(yDims, dnnl_nchw)
        let wPlainD = try OneDNN.descriptor(wDims, dnnl_oihw)
        xPlain = try OneDNNMemory(xPlainD, data: nil)
        yPlain = try OneDNNMemory(yPlainD, data: nil)
        dyPlain = try OneDNNMemory(yPlainD, data: nil)
        dxPlain = try OneDNNMemory(xPlainD, data: nil)
        wPlain = try OneDNNMemory(wPlainD, data: nil)
        dwPlain = try OneDNNMemory(wPlainD, data: nil)
        bias = conv.hasBias ? try OneDNNMemory(biasDescriptor, data: nil) : nil
        xBlocked = try OneDNNMemory(md(fpd, dnnl_query_src_md), data: nil)
        wForward = try OneDNNMemory(md(fpd, dnnl_query_weights_md), data: nil)
        yBlocked = try OneDNNMemory(md(fpd, dnnl_query_dst_md), data: nil)
        dyBlocked = try OneDNNMemory(md(bwpd, dnnl_query_diff_dst_md), data: nil)
        xBlockedBackward = try OneDNNMemory(md(bwpd, dnnl_query_src_md), data: nil)
        dwBlocked = try OneDNNMemory(md(bwpd, dnnl_query_diff_weights_md), data: nil)
        wBackward = try OneDNNMemory(md(bdpd, dnnl_query_weights_md), data: nil)
        dxBlocked = try OneDNNMemory(md(bdpd, dnnl_query_diff_src_md), data: nil)
        // Backward data reads dy in backward weights' layout (both nChw16c here); checked rather than assumed.
        guard OneDNN.equal(md(bdpd, dnnl_query_diff_dst_md), dyBlocked.descriptor) else {
            throw OneDNNError(call: "backward data and backward weights want dy in different layouts", status: 3)
        }
        xIn = try .reorder(from: xPlainD, to: xBlocked.descriptor)
        wIn = try .reorder(from: wPlainD, to: wForward.descriptor)
        yOut = try .reorder(from: yBlocked.descriptor, to: yPlainD)
        dyIn = try .reorder(from: yPlainD, to: dyBlocked.descriptor)
        xInBackward = try .reorder(from: xPlainD, to: xBlockedBackward.descriptor)
        dwOut = try .reorder(from: dwBlocked.descriptor, to: wPlainD)
        wInBackward = try .reorder(from: wPlainD, to: wBackward.descriptor)
        dxOut = try .reorder(from: dxBlocked.descriptor, to: xPlainD)
    }

    /// Points `plain` at the caller's `data` and `blocked` at shared buffer `index`, and runs `reorder` from one to
    /// the other.
    func reorder(_ reorder: OneDNNPrimitive, from plain: OneDNNMemory, at data: UnsafeMutablePointer<Float>,
                 to blocked: OneDNNMemory, in buffers: OneDNNBuffers, _ index: Int) throws {
        try plain.point(at: UnsafeMutableRawPointer(data))
        try blocked.point(into: buffers, index)
        try reorder.execute(stream, [(OneDNNArgument.from, plain), (OneDNNArgument.to, blocked)])
    }

    deinit { dnnl_stream_destroy(stream) }
}
