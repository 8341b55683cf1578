// One OneDNNSegment's primitives for one batch shape and thread count: convolution and pooling descriptors in
// the blocked layout, the reorders at the segment's ends, and the buffer sizes the segment's shared buffers must
// have while it runs (Docs/Architecture.md §2.3).
import CDNNL
import Tensor

extension OneDNNSegment {
    /// The primitives and memory descriptors of one input shape and thread count (the buffers are the segment's).
    final class Plan {
        struct Operation {
            let primitive: OneDNNPrimitive
            let source: OneDNNMemory, destination: OneDNNMemory
            /// The buffers source (nil: the caller's input) and destination point at while the plan runs.
            let sourceBuffer: Int?, destinationBuffer: Int
            /// The layouts of a convolution's weights and bias (nil for a pooling).
            let weightsDescriptor: dnnl_memory_desc_t?, biasDescriptor: dnnl_memory_desc_t?
        }
        let operations: [Operation]
        let outputShape: [Int]
        private let stream: dnnl_stream_t
        private let input: OneDNNMemory  // the caller's x, [B, C, H, W]
        private let inputReorder: (OneDNNPrimitive, OneDNNMemory)?  // x into buffer 0's blocked layout
        private let outputReorder: (OneDNNPrimitive, OneDNNMemory, OneDNNMemory)  // last buffer → the caller's layout
        private let outputBuffer: Int
        private let bytes: [Int]  // each buffer's size for this plan
        private let scratchpad: OneDNNMemory?
        private let scratchpadBytes: Int

        /// Seconds the last run took (the padding's cost estimate for shorter batches).
        var lastSeconds = 0.0
        /// Seconds per weight that folding into a new Winograd layout costs (measured here: 2–3e-8).
        static let foldSecondsPerWeight = 3e-8

        /// With a `refoldBudget`, throws NewWeightsLayout when the weights its convolutions want in layouts the
        /// segment has not folded yet would take longer than that to fold.
        init(_ segment: OneDNNSegment, inputShape: [Int], refoldBudget: Double? = nil) throws {
            let batch = inputShape[0]
            var stream: dnnl_stream_t?
            try OneDNN.check(dnnl_stream_create(&stream, OneDNN.engine, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
            self.stream = stream!
            let plainInput = try OneDNN.descriptor(inputShape, dnnl_nchw)
            input = try OneDNNMemory(plainInput, data: nil)

            // Descriptors first, buffers after: each buffer is as large as the largest layout it holds.
            var shapes: [Slot: [Int]] = [.input: Array(inputShape.dropFirst())]
            if segment.inputInBuffer { shapes[.buffer(0)] = shapes[.input] }
            var shape: [Int] = []
            var bytes = [0, 0, 0]
            var created: [(dnnl_primitive_desc_t, Slot, Int, dnnl_memory_desc_t, dnnl_memory_desc_t)] = []
            defer { for c in created { dnnl_primitive_desc_destroy(c.0) } }
            var inputLayout: dnnl_memory_desc_t?
            var newLayoutWeights = 0
            for (i, c) in segment.operations.enumerated() {
                let inShape = shapes[c.source]!
                let pd: dnnl_primitive_desc_t, outShape: [Int]
                switch c.kind {
                case .convolution(let conv, _, let relu, let addsDestination):
                    outShape = try conv.outputShape(for: inShape)
                    pd = try Self.convolution(conv, batch: batch, inShape: inShape, outShape: outShape,
                                              sourceTag: c.source == .input ? dnnl_nchw : dnnl_nChw16c, relu: relu,
                                              sum: addsDestination, weightsHint: segment.weights[i]?.last?.memory.descriptor)
                    let wanted = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee
                    if !(segment.weights[i] ?? []).contains(where: { OneDNN.equal($0.memory.descriptor, wanted) }) {
                        newLayoutWeights += conv.outChannels * conv.inChannels * conv.kernel * conv.kernel
                    }
                case .maxPool(let pool):
                    outShape = try pool.outputShape(for: inShape)
                    pd = try Self.maxPool(pool, batch: batch, inShape: inShape, outShape: outShape)
                }
                let src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)!.pointee
                let dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0)!.pointee
                created.append((pd, c.source, c.destination, src, dst))
                if case .buffer(let b) = c.source { bytes[b] = max(bytes[b], OneDNN.size(src)) }
                if i == 0 && segment.inputInBuffer { inputLayout = src }
                bytes[c.destination] = max(bytes[c.destination], OneDNN.size(dst))
                shapes[.buffer(c.destination)] = outShape
                shape = outShape
            }
            outputShape = [batch] + shape
            if let refoldBudget, Double(newLayoutWeights) * Self.foldSecondsPerWeight > refoldBudget { throw NewWeightsLayout() }
            self.bytes = bytes
            if let inputLayout {
                inputReorder = (try OneDNNPrimitive.reorder(from: plainInput, to: inputLayout), try OneDNNMemory(inputLayout, data: nil))
            } else {
                inputReorder = nil
            }
            var scratch: dnnl_memory_desc_t?  // the largest scratchpad any primitive asks for
            var operations: [Operation] = []
            for (pd, source, destination, src, dst) in created {
                let primitive = try OneDNNPrimitive(pd)
                if let md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)?.pointee,
                   OneDNN.size(md) > scratch.map(OneDNN.size) ?? 0 {
                    scratch = md
                }
                let srcMemory: OneDNNMemory
                switch source {
                case .input: srcMemory = input
                case .buffer: srcMemory = try OneDNNMemory(src, data: nil)
                }
                var sourceBuffer: Int?
                if case .buffer(let b) = source { sourceBuffer = b }
                let weights = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)?.pointee
                operations.append(Operation(
                    primitive: primitive, source: srcMemory, destination: try OneDNNMemory(dst, data: nil),
                    sourceBuffer: sourceBuffer, destinationBuffer: destination,
                    weightsDescriptor: weights.flatMap { OneDNN.size($0) > 0 ? $0 : nil },
                    biasDescriptor: dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1)?.pointee))
            }
            self.operations = operations
            scratchpad = try scratch.map { try OneDNNMemory($0, data: nil) }
            scratchpadBytes = scratch.map(OneDNN.size) ?? 0
            let last = operations.last!.destination.descriptor
            let plainOutput = try OneDNN.descriptor(outputShape, dnnl_nchw)
            outputReorder = (try OneDNNPrimitive.reorder(from: last, to: plainOutput),
                             try OneDNNMemory(last, data: nil), try OneDNNMemory(plainOutput, data: nil))
            outputBuffer = segment.outputBuffer
        }

        deinit { dnnl_stream_destroy(stream) }

        /// Runs the segment on x into `output` ([B, C, H, W], sized by the caller), in the segment's `buffers`
        /// (shared by its plans: one runs at a time).
        func execute(_ x: Tensor, weights: [(OneDNNMemory, OneDNNMemory)?], buffers: OneDNNBuffers, into output: Tensor) throws {
            let slots = bytes.indices.map { buffers.buffer($0, bytes: bytes[$0]) }
            for op in operations {
                if let b = op.sourceBuffer { try op.source.point(at: slots[b]) }
                try op.destination.point(at: slots[op.destinationBuffer])
            }
            if let scratchpad { try scratchpad.point(at: buffers.buffer(bytes.count, bytes: scratchpadBytes)) }
            try outputReorder.1.point(at: slots[outputBuffer])
            try input.point(at: UnsafeMutableRawPointer(x.data))
            if let (reorder, blocked) = inputReorder {
                try blocked.point(at: slots[0])
                try reorder.execute(stream, [(OneDNNArgument.from, input), (OneDNNArgument.to, blocked)])
            }
            for (op, weights) in zip(operations, weights) {
                var args = [(OneDNNArgument.src, op.source), (OneDNNArgument.dst, op.destination)]
                if let (w, b) = weights { args += [(OneDNNArgument.weights, w), (OneDNNArgument.bias, b)] }
                if let scratchpad { args.append((OneDNNArgument.scratchpad, scratchpad)) }
                try op.primitive.execute(stream, args)
            }
            let (reorder, last, plain) = outputReorder
            try plain.point(at: UnsafeMutableRawPointer(output.data))
            try reorder.execute(stream, [(OneDNNArgument.from, last), (OneDNNArgument.to, plain)])
        }

        /// Max pooling in the blocked layout, windows as PyTorch's (floor mode; padding never wins the max).
        static func maxPool(_ pool: MaxPool2d, batch: Int, inShape: [Int], outShape: [Int]) throws -> dnnl_primitive_desc_t {
            var src = try OneDNN.descriptor([batch] + inShape, dnnl_nChw16c)
            var dst = try OneDNN.descriptor([batch] + outShape, dnnl_nChw16c)
            // Padding on both sides as PyTorch's: oneDNN's output size is PyTorch's floor division too.
            let padding = [Int64(pool.padding), Int64(pool.padding)]
            var descriptor = dnnl_pooling_desc_t()
            try OneDNN.check(dnnl_pooling_forward_desc_init(
                &descriptor, dnnl_forward_inference, dnnl_pooling_max, &src, &dst, [Int64(pool.stride), Int64(pool.stride)],
                [Int64(pool.kernel), Int64(pool.kernel)], padding, padding), "dnnl_pooling_forward_desc_init")
            let attr = try OneDNNAttributes()
            var pd: dnnl_primitive_desc_t?
            try OneDNN.check(dnnl_primitive_desc_create(&pd, &descriptor, attr.handle, OneDNN.engine, nil), "dnnl_primitive_desc_create (max pooling)")
            return pd!
        }

        /// The convolution's primitive descriptor: Winograd F(4×4, 3×3) for a 3×3 stride-1 padding-1 layer on at
        /// least 16 channels when oneDNN has it for this CPU, its direct kernels otherwise; BatchNorm in the weights,
        /// then the sum (residual) and ReLU as post-ops. Scratch memory is the segment's (user scratchpad mode).
        static func convolution(_ conv: Conv2d, batch: Int, inShape: [Int], outShape: [Int], sourceTag: dnnl_format_tag_t,
                                relu: Bool, sum: Bool, weightsHint: dnnl_memory_desc_t?) throws -> dnnl_primitive_desc_t {
            var src = try OneDNN.descriptor([batch] + inShape, sourceTag)
            let any = try OneDNN.descriptor([conv.outChannels, conv.inChannels, conv.kernel, conv.kernel], dnnl_format_tag_any)
            var bia = try OneDNN.descriptor([conv.outChannels], dnnl_x)
            var dst = try OneDNN.descriptor([batch] + outShape, dnnl_nChw16c)
            let strides = [Int64(conv.stride), Int64(conv.stride)]
            let padLeft = [Int64(conv.padding), Int64(conv.padding)]
            // Padding on both sides as PyTorch's: oneDNN's output size is PyTorch's floor division too, so a stride
            // that leaves the last rows unused leaves them unused there.
            let attr = try OneDNNAttributes(sum: sum, relu: relu)
            let winograd = conv.kernel == 3 && conv.stride == 1 && conv.padding == 1 && conv.inChannels >= 16
            // The weights' layout of this layer's other plans first (oneDNN's Winograd layout can depend on the
            // batch; the same one lets every plan share one folded copy), then whatever the kernel prefers.
            let layouts = (weightsHint.map { [$0] } ?? []) + [any]
            for algorithm in winograd ? [dnnl_convolution_winograd, dnnl_convolution_direct] : [dnnl_convolution_direct] {
              for layout in layouts {
                var wei = layout
                var cd = dnnl_convolution_desc_t()
                try OneDNN.check(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, algorithm, &src, &wei, &bia, &dst,
                                                                    strides, padLeft, padLeft),
                                 "dnnl_convolution_forward_desc_init")
                var pd: dnnl_primitive_desc_t?
                if dnnl_primitive_desc_create(&pd, &cd, attr.handle, OneDNN.engine, nil) == dnnl_success { return pd! }
              }
            }
            throw OneDNNError(call: "dnnl_primitive_desc_create (convolution \(conv.inChannels)→\(conv.outChannels), \(conv.kernel)×\(conv.kernel))", status: 3)
        }
    }
}
