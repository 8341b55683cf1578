// A run of inference steps executed by oneDNN (Docs/Architecture.md §2.3): convolutions with the BatchNorm that
// follows folded into their weights and bias, ReLU and the residual sum as the convolutions' post-ops, and the
// activations kept in oneDNN's blocked layout (nChw16c) from the segment's input to its output. 3×3 stride-1
// convolutions run as oneDNN's Winograd F(4×4, 3×3) (jit_wino_4x3), the others as its direct kernels.
import CDNNL
import Tensor
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// One unit of a oneDNN segment: a convolution (BatchNorm folded in, ReLU after) or a ResNet BasicBlock.
enum SegmentUnit {
    /// conv, then the BatchNorm's evaluation map when there is one, then ReLU when `relu`.
    case convolution(Conv2d, BatchNorm?, relu: Bool)
    /// relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut), the shortcut x or bn(conv1×1 x).
    case block(BasicBlock)
    /// Max pooling (never a segment's first unit).
    case maxPool(MaxPool2d)
}

/// A run of convolutions and BasicBlocks that oneDNN executes in its blocked layout; Network.predict's inference
/// plan runs one wherever OneDNN is available, and the units one by one where it is not (or creation fails).
final class OneDNNSegment {
    /// Where a convolution reads: the segment's input, or one of its three activation buffers.
    enum Slot: Hashable { case input, buffer(Int) }

    /// One operation: a convolution (with the BatchNorm folded into it, the ReLU after it, and whether it adds what
    /// its destination already holds — the residual — before the ReLU) or a max pooling; where it reads and writes.
    struct Operation {
        enum Kind {
            case convolution(Conv2d, BatchNorm?, relu: Bool, addsDestination: Bool)
            case maxPool(MaxPool2d)
        }
        let kind: Kind
        let source: Slot
        let destination: Int

        /// The convolution layer, or nil for a pooling.
        var conv: Conv2d? { if case .convolution(let conv, _, _, _) = kind { return conv } else { return nil } }
        /// The BatchNorm folded into the convolution.
        var bn: BatchNorm? { if case .convolution(_, let bn, _, _) = kind { return bn } else { return nil } }
    }

    let operations: [Operation]
    /// Whether the first convolution reads the input from buffer 0, reordered there (it reads the caller's
    /// [B, C, H, W] as it is when it has few channels and is not part of a block).
    let inputInBuffer: Bool
    /// Why oneDNN could not build or run the segment, once it could not: Network.predict then runs its steps itself.
    var failure: String?
    /// The buffer that holds the segment's output.
    let outputBuffer: Int
    private let output = Tensor(shape: [0])  // [B, C, H, W] (PyTorch's layout)
    private let padded = Tensor(shape: [0]), trimmed = Tensor(shape: [0])  // runPadded's input and output
    private var plans: [PlanKey: Plan] = [:]
    /// The activation buffers and scratchpad every plan runs in (one plan runs at a time).
    private let buffers = OneDNNBuffers()
    private var planOrder: [PlanKey] = []
    /// Each convolution's folded weights and bias in the layouts its plans' primitives want (oneDNN's Winograd
    /// layout can differ with the batch), shared by the plans that want the same one.
    var weights: [Int: [FoldedWeights]] = [:]  // read by Plan (OneDNNSegment+Plan.swift)

    /// A convolution's folded weights in one layout, and the parameter version they were made from.
    final class FoldedWeights {
        let memory: OneDNNMemory, bias: OneDNNMemory
        var version = -1
        init(_ descriptor: dnnl_memory_desc_t, bias: dnnl_memory_desc_t) throws {
            memory = try OneDNNMemory(descriptor)
            self.bias = try OneDNNMemory(bias)
        }
    }
    private var weightsVersion = 0
    private var parameterSnapshot: [Float] = []  // what parametersChanged compares against

    /// The segment of `units` in order (three buffers rotate: a block's input, its middle, and its shortcut).
    init(_ units: [SegmentUnit]) {
        var operations: [Operation] = []
        var current = Slot.input
        var inputInBuffer = false
        func free(_ excluding: [Slot]) -> Int { (0..<3).first { !excluding.contains(.buffer($0)) }! }
        func convolution(_ conv: Conv2d, _ bn: BatchNorm?, relu: Bool, from source: Slot, to destination: Int, adding: Bool = false) {
            operations.append(Operation(kind: .convolution(conv, bn, relu: relu, addsDestination: adding), source: source,
                                        destination: destination))
        }
        for unit in units {
            switch unit {
            case .convolution(let conv, let bn, let relu):
                // The first convolution reads the caller's input as it is when it has few channels (an image's 1
                // or 3); otherwise Plan reorders the input into buffer 0's blocked layout first.
                if current == .input && conv.inChannels % 16 == 0 { current = .buffer(0); inputInBuffer = true }
                let d = free([current])
                convolution(conv, bn, relu: relu, from: current, to: d)
                current = .buffer(d)
            case .block(let block):
                let parts = block.parts
                // An identity shortcut sums into the block's input buffer. The segment's input is the caller's and
                // stays untouched, so a segment that starts with a block reads it from buffer 0 (Plan copies it there).
                if current == .input { current = .buffer(0); inputInBuffer = true }
                let h = free([current])
                convolution(parts.conv1, parts.bn1, relu: true, from: current, to: h)
                if let downsample = parts.downsample {
                    let s = free([current, .buffer(h)])
                    convolution(downsample.conv, downsample.bn, relu: false, from: current, to: s)
                    convolution(parts.conv2, parts.bn2, relu: true, from: .buffer(h), to: s, adding: true)
                    current = .buffer(s)
                } else {
                    guard case .buffer(let c) = current else { preconditionFailure("the input was moved to buffer 0 above") }
                    convolution(parts.conv2, parts.bn2, relu: true, from: .buffer(h), to: c, adding: true)
                }
            case .maxPool(let pool):
                precondition(current != .input, "a segment starts with a convolution or a block")
                let d = free([current])
                operations.append(Operation(kind: .maxPool(pool), source: current, destination: d))
                current = .buffer(d)
            }
        }
        self.operations = operations
        self.inputInBuffer = inputInBuffer
        guard case .buffer(let last) = current else { preconditionFailure("a segment has at least one unit") }
        outputBuffer = last
    }

    /// Output of the segment for x [B, C, H, W]; `weightsUnchanged` as Network.predict's. Throws when oneDNN cannot
    /// build or run it (the caller then runs the units itself).
    func run(_ x: Tensor, weightsUnchanged: Bool) throws -> Tensor {
        if !weightsUnchanged && parametersChanged() { weightsVersion += 1 }
        let threads = Parallel.threads
        OneDNN.useThreads(threads)
        let key = PlanKey(shape: x.shape, threads: threads)
        let plan: Plan
        if let p = plans[key] {
            plan = p
        } else {
            // A batch with no plan yet (a predict call's last, shorter one). Its own plan is cheap unless oneDNN
            // wants weights layouts no plan has folded yet: refolding costs about 3e-8 s per weight here (0.25 s
            // for 10 of resnet18's layers). When that is dearer than the padding's share of a full batch's time,
            // the batch runs padded with zeros through the smallest larger plan instead.
            let larger = plans.filter { $0.key.threads == threads && Array($0.key.shape.dropFirst()) == Array(x.shape.dropFirst())
                && $0.key.shape[0] > x.rows }.min { $0.key.shape[0] < $1.key.shape[0] }
            let paddingSeconds = larger.map { Double($0.key.shape[0] - x.rows) / Double($0.key.shape[0]) * $0.value.lastSeconds }
            do {
                plan = try Plan(self, inputShape: x.shape, refoldBudget: paddingSeconds)
            } catch is NewWeightsLayout {
                return try runPadded(x, through: larger!.value)
            }
            plans[key] = plan
            planOrder.append(key)
            // Plans are primitives and descriptors only (the buffers are the segment's): the last four batch
            // shapes are kept, so a predict call's full and last batches, and another call's, reuse theirs.
            while planOrder.count > 4 { plans[planOrder.removeFirst()] = nil }
        }
        return try execute(plan, x)
    }

    /// x's rows, then zeros, through `plan` (made for more rows); the output's first rows are x's.
    private func runPadded(_ x: Tensor, through plan: Plan) throws -> Tensor {
        let rows = plan.outputShape[0], n = x.rows
        padded.resize([rows] + Array(x.shape.dropFirst()))
        padded.data.update(from: x.data, count: x.count)
        (padded.data + x.count).update(repeating: 0, count: padded.count - x.count)
        let out = try execute(plan, padded)
        let perRow = out.count / rows
        trimmed.resize([n] + Array(out.shape.dropFirst()))
        trimmed.data.update(from: out.data, count: n * perRow)
        return trimmed
    }

    /// Binds the current folded weights (folding them when the parameters changed) and runs `plan` on x.
    private func execute(_ plan: Plan, _ x: Tensor) throws -> Tensor {
        var bound: [(OneDNNMemory, OneDNNMemory)?] = []
        for (i, op) in plan.operations.enumerated() {
            guard let weightsDescriptor = op.weightsDescriptor, let biasDescriptor = op.biasDescriptor else {
                bound.append(nil)
                continue
            }
            var entry = weights[i, default: []].first { OneDNN.equal($0.memory.descriptor, weightsDescriptor) }
            if entry == nil {
                entry = try FoldedWeights(weightsDescriptor, bias: biasDescriptor)
                weights[i, default: []].append(entry!)
                if weights[i]!.count > 4 { weights[i]!.removeFirst() }  // at most one layout per plan
            }
            if entry!.version != weightsVersion { try fold(i, into: entry!) }
            bound.append((entry!.memory, entry!.bias))
        }
        output.resize(plan.outputShape)
        let start = monotonicSeconds()
        try plan.execute(x, weights: bound, buffers: buffers, into: output)
        plan.lastSeconds = monotonicSeconds() - start
        return output
    }

    /// Whether any convolution's weight or bias, or any folded BatchNorm's map, differs from the values its folded
    /// weights were last made from (and, if so, records the new ones). oneDNN's reorder into its Winograd layout
    /// is slow (about 0.3 s for resnet18's 11M weights, against 5 ms to compare them), so a predict call on
    /// parameters that did not change since the last one (an evaluation's several sets) reuses the weights.
    private func parametersChanged() -> Bool {
        var slices: [(UnsafePointer<Float>, Int)] = []
        for c in operations {
            guard let conv = c.conv else { continue }
            slices.append((UnsafePointer(conv.weight), conv.outChannels * conv.inChannels * conv.kernel * conv.kernel))
            if let bias = conv.bias { slices.append((UnsafePointer(bias), conv.outChannels)) }
            if let affine = c.bn?.evaluationAffine() {
                for p in [affine.mean, affine.invStd, affine.gamma, affine.beta] { slices.append((p, conv.outChannels)) }
            }
        }
        let total = slices.reduce(0) { $0 + $1.1 }
        var same = parameterSnapshot.count == total
        var offset = 0
        parameterSnapshot.withUnsafeMutableBufferPointer { snapshot in
            for (p, n) in slices where same {
                same = memcmp(snapshot.baseAddress! + offset, p, n * MemoryLayout<Float>.size) == 0
                offset += n
            }
        }
        if same { return false }
        if parameterSnapshot.count != total { parameterSnapshot = [Float](repeating: 0, count: total) }
        offset = 0
        parameterSnapshot.withUnsafeMutableBufferPointer { snapshot in
            for (p, n) in slices {
                (snapshot.baseAddress! + offset).update(from: p, count: n)
                offset += n
            }
        }
        return true
    }

    /// Convolution i's weights with its BatchNorm folded in — w·γ/σ and (b − μ)·γ/σ + β per output channel — in the
    /// primitive's layout (oneDNN's Winograd layout transforms them as it reorders).
    private func fold(_ i: Int, into entry: FoldedWeights) throws {
        let c = operations[i]
        let conv = c.conv!, k = conv.kernel, perOutput = conv.inChannels * k * k
        var folded = [Float](repeating: 0, count: conv.outChannels * perOutput)
        var bias = [Float](repeating: 0, count: conv.outChannels)
        let affine = c.bn?.evaluationAffine()
        for o in 0..<conv.outChannels {
            let b0 = conv.bias?[o] ?? 0
            var scale: Float = 1
            if let affine {
                scale = affine.gamma[o] * affine.invStd[o]
                bias[o] = affine.gamma[o] * ((b0 - affine.mean[o]) * affine.invStd[o]) + affine.beta[o]
            } else {
                bias[o] = b0
            }
            for j in 0..<perOutput { folded[o * perOutput + j] = conv.weight[o * perOutput + j] * scale }
        }
        let descriptor = entry.memory.descriptor
        let plain = try OneDNN.descriptor([conv.outChannels, conv.inChannels, k, k], dnnl_oihw)
        try folded.withUnsafeMutableBytes { raw in
            let user = try OneDNNMemory(plain, data: raw.baseAddress!)
            let reorder = try OneDNNPrimitive.reorder(from: plain, to: descriptor)
            guard let stream = weightStream else { throw OneDNNError(call: "dnnl_stream_create", status: 1) }
            try reorder.execute(stream, [(OneDNNArgument.from, user), (OneDNNArgument.to, entry.memory)])
        }
        entry.bias.data.bindMemory(to: Float.self, capacity: bias.count).update(from: bias, count: bias.count)
        entry.version = weightsVersion
    }

    /// The stream weights are reordered on: the segment's own, as streams are not for concurrent use and other
    /// jobs' networks predict on other threads.
    private lazy var weightStream: dnnl_stream_t? = {
        var s: dnnl_stream_t?
        return dnnl_stream_create(&s, OneDNN.engine, dnnl_stream_default_flags.rawValue) == dnnl_success ? s : nil
    }()

    deinit { if let weightStream { dnnl_stream_destroy(weightStream) } }

    /// A plan whose new weights layouts would take longer to fold than Plan's refoldBudget.
    struct NewWeightsLayout: Error {}

    struct PlanKey: Hashable {
        let shape: [Int]
        let threads: Int
    }
}
