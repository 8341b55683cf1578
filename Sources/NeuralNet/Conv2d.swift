// Conv2d, PyTorch layout: weight [out, in, kh, kw], bias [out]. The whole batch is lowered to one column matrix
// (Im2Col) so the product is a single large GEMM through OpenBLAS.
import Tensor

/// Conv2d, PyTorch layout: weight [out, in, kh, kw], bias [out]; im2col + GEMM, or Winograd for 3×3 stride-1 layers.
public final class Conv2d: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    /// How the weights are initialised.
    public enum Initialization: Sendable {
        /// PyTorch's default: U(±1/√fan_in) for weight and bias.
        case pytorchDefault
        /// torchvision ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu").
        case kaimingNormalFanOut
    }

    /// Channels in and out, square kernel size, stride, zero padding, and whether the layer has a bias.
    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, hasBias: Bool
    let initialization: Initialization
    /// A following ReLU folded into this layer (Network.fuse): applied while the output is written, and its mask
    /// applied to the incoming gradient, saving two passes over the activations.
    public var fusedReLU = false
    var weight: UnsafeMutablePointer<Float>!  // [out, in, k, k]
    var bias: UnsafeMutablePointer<Float>?  // [out]
    var dWeight: UnsafeMutablePointer<Float>!
    var dBias: UnsafeMutablePointer<Float>?
    var geometry: ConvGeometry?
    /// Whether the last forward pass ran through oneDNN (Conv2d+OneDNN.swift), so backward does too.
    var ranOnOneDNN = false
    /// oneDNN's primitives for training this layer at the last batch, image size and thread count.
    var oneDNNTraining: OneDNNTrainingPlan?
    /// Why oneDNN could not train this layer, once it could not: the layer then trains on the engine's kernels.
    var oneDNNTrainingFailure: String?
    var batch = 0
    let output = Tensor(shape: [0])  // [B, out, Ho, Wo]
    let dInput = Tensor(shape: [0])  // [B, in, H, W]

    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
                initialization: Initialization = .pytorchDefault) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.hasBias = bias
        self.initialization = initialization
    }

    var patchSize: Int { inChannels * kernel * kernel }

    /// weight [out, in, k, k], and bias [out] when the layer has one.
    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outChannels, inChannels, kernel, kernel])] + (hasBias ? [("bias", [outChannels])] : [])
    }

    /// [out, Ho, Wo] for an [in, H, W] input; throws when the channels differ or the image is smaller than the kernel.
    public func outputShape(for s: [Int]) throws -> [Int] {
        let name = "Conv2d(\(inChannels), \(outChannels), kernel \(kernel), stride \(stride), padding \(padding))"
        guard s.count == 3, s[0] == inChannels else { throw ShapeError(layer: name, expected: "[\(inChannels), H, W]", got: s) }
        let g = ConvGeometry(channels: s[0], height: s[1], width: s[2], kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
        guard g.outHeight >= 1, g.outWidth >= 1 else {
            throw ShapeError(layer: name, expected: "at least \(kernel - 2 * padding)×\(kernel - 2 * padding) pixels", got: s)
        }
        return [outChannels, g.outHeight, g.outWidth]
    }

    /// Ho·Wo·out·in·k·k per example.
    public func multiplyAdds(for s: [Int]) -> Int {
        guard let out = try? outputShape(for: s) else { return 0 }
        return out[1] * out[2] * outChannels * patchSize
    }

    /// Points the weight, the bias and their gradients at the layer's slices.
    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        let n = outChannels * patchSize
        weight = parameters
        dWeight = gradients
        bias = hasBias ? parameters + n : nil
        dBias = hasBias ? gradients + n : nil
    }

    /// Draws the weights (and bias) as `initialization` says.
    public func initialize(using rng: inout SeededGenerator) {
        let n = outChannels * patchSize
        switch initialization {
        case .pytorchDefault:
            let bound = 1 / Float(patchSize).squareRoot()
            for i in 0..<n { weight[i] = rng.uniform(-bound, bound) }
            if let bias { for i in 0..<outChannels { bias[i] = rng.uniform(-bound, bound) } }
        case .kaimingNormalFanOut:
            let std = (2 / Float(outChannels * kernel * kernel)).squareRoot()
            for i in 0..<n { weight[i] = rng.normal() * std }
            if let bias { for i in 0..<outChannels { bias[i] = 0 } }
        }
    }

    // The batch is split over the job's threads; each worker lowers one image at a time into its own column
    // matrix [in·k·k, Ho·Wo] — small enough to stay in cache — and multiplies it with single-threaded BLAS, writing
    // straight into the NCHW output. No batch-sized column matrix, no reordering pass.

    private var columns: [Tensor] = []  // per worker: [in·k·k, G·Ho·Wo]
    private var products: [Tensor] = []  // per worker, backward: dy of G images as [out, G·Ho·Wo]
    var weightGradients: [Tensor] = []  // per worker but the first: partial ∂L/∂W, ∂L/∂b
    private var input: Tensor?

    private func scratch(_ workers: Int, plane: Int) {
        while columns.count < workers { columns.append(Tensor(shape: [0])) }
        for c in columns where c.count < patchSize * plane { c.resize([patchSize, plane]) }
    }

    // Convolution is linear in x: the fused ReLU aside, dy·∂y/∂x is the same for every image, so grouping images
    // changes only how the sums are blocked, not what is summed.

    /// 3×3 convolutions with stride 1 and padding 1 over enough channels run as Winograd F(2×2, 3×3)
    /// (Conv2d+Winograd.swift): 2.25× fewer multiplies. With few input channels its products are too thin to pay
    /// off: the first layer stays on im2col.
    public var usesWinograd: Bool { kernel == 3 && stride == 1 && padding == 1 && inChannels >= 8 }
    let winogradWeights = Tensor(shape: [0])  // [16, out, in]
    var winogradWeightGradients: [Tensor] = []  // per worker: ∂L/∂U [16, out, in]
    /// Per-worker Winograd buffers V and M ([16 or 36, in or out, G·T], padded planes). Nothing in them outlives one
    /// forward or backward call, so Network gives every convolution of a network the same pool: the largest layer's
    /// need, not the sum of all layers' (resnet18's F(4×4) inference: about 40 MB instead of 230).
    var winogradPool = WinogradPool()
    var winogradScratch: [(v: Tensor, m: Tensor)] {
        get { winogradPool.buffers }
        set { winogradPool.buffers = newValue }
    }

    /// out [B, out, Ho, Wo] = conv(x [B, in, H, W]) + b (then the fused ReLU); keeps x for backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let g = ConvGeometry(channels: inChannels, height: x.shape[2], width: x.shape[3], kernelH: kernel, kernelW: kernel,
                             stride: stride, padding: padding)
        geometry = g
        batch = x.rows
        input = x
        let plane = g.outHeight * g.outWidth, imageSize = inChannels * g.height * g.width
        output.resize([batch, outChannels, g.outHeight, g.outWidth])
        ranOnOneDNN = training && trainsOnOneDNN && oneDNNForward(x, g)
        if ranOnOneDNN { return output }
        if usesWinograd {
            winogradForward(x, g)
            return output
        }
        let workers = Parallel.workers(for: batch)
        // One image per product: the GEMM writes straight into the NCHW output. (Grouping images, as the backward
        // pass does, measured no faster here and needs a copy back to NCHW.)
        scratch(workers, plane: plane)
        let y = output.data, xin = x.data, weight = self.weight!, bias = self.bias, relu = fusedReLU
        let outChannels = self.outChannels, patchSize = self.patchSize, columns = self.columns
        Parallel.forEachWorker(batch) { worker, images in
            let col = columns[worker].data
            for b in images {
                Im2Col.forward(xin + b * imageSize, batch: 1, g, into: col)
                // out[out, P] = W[out, in·k·k] · col[in·k·k, P], then the bias and the fused ReLU in place.
                let out = y + b * outChannels * plane
                BLAS.gemm(m: outChannels, n: plane, k: patchSize, a: weight, lda: patchSize, b: col, ldb: plane, c: out, ldc: plane)
                for o in 0..<outChannels {
                    let row = out + o * plane, b0 = bias?[o] ?? 0
                    if relu { for j in 0..<plane { row[j] = max(row[j] + b0, 0) } } else { for j in 0..<plane { row[j] += b0 } }
                }
            }
        }
        return output
    }

    /// Inference only (Network.predict): the convolution with a following BatchNorm in evaluation mode (`affine`),
    /// a residual added after it and a ReLU last, all while the output is written: relu?(bn(conv(x)) + residual).
    /// Each value goes through the same operations in the same order as the layers run one by one in evaluation
    /// mode, so the bits are the same; nothing is saved for a backward pass, which must not follow.
    func infer(_ x: Tensor, affine: ChannelAffine?, residual: Tensor?, relu: Bool) -> Tensor {
        let g = ConvGeometry(channels: inChannels, height: x.shape[2], width: x.shape[3], kernelH: kernel, kernelW: kernel,
                             stride: stride, padding: padding)
        geometry = g
        batch = x.rows
        input = nil
        let plane = g.outHeight * g.outWidth, imageSize = inChannels * g.height * g.width
        output.resize([batch, outChannels, g.outHeight, g.outWidth])
        if let residual { precondition(residual.count == output.count, "residual \(residual.shape) for output \(output.shape)") }
        if usesWinograd && !Conv2d.inferenceUsesF4 {
            if !winogradWeightsCurrent {
                winogradWeights.resize([16, outChannels, inChannels])
                Winograd.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, into: winogradWeights.data)
            }
            winogradConvolve(x.data, channels: inChannels, winogradWeights.data, outChannels: outChannels, height: g.height,
                             width: g.width, bias: bias, relu: relu, affine: affine, residual: residual.map { UnsafePointer($0.data) },
                             into: output.data)
            return output
        }
        if usesWinograd {
            if !winogradWeightsCurrent {
                winograd4Weights.resize([36, outChannels, inChannels])
                Winograd4.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, into: winograd4Weights.data)
            }
            winograd4Convolve(x.data, height: g.height, width: g.width, affine: affine, residual: residual.map { UnsafePointer($0.data) },
                              relu: relu)
            return output
        }
        let workers = Parallel.workers(for: batch)
        scratch(workers, plane: plane)
        let y = output.data, xin = x.data, weight = self.weight!, bias = self.bias
        let outChannels = self.outChannels, patchSize = self.patchSize, columns = self.columns
        let r = residual.map { UnsafePointer($0.data) }
        Parallel.forEachWorker(batch) { worker, images in
            let col = columns[worker].data
            for b in images {
                Im2Col.forward(xin + b * imageSize, batch: 1, g, into: col)
                let out = y + b * outChannels * plane
                BLAS.gemm(m: outChannels, n: plane, k: patchSize, a: weight, lda: patchSize, b: col, ldb: plane, c: out, ldc: plane)
                for o in 0..<outChannels {
                    let row = out + o * plane, b0 = bias?[o] ?? 0
                    if let affine {
                        affine.apply(channel: o, row, plane, bias: b0, relu: relu && r == nil)
                    } else if relu && r == nil {
                        for j in 0..<plane { row[j] = max(row[j] + b0, 0) }  // as forward's fused ReLU
                    } else {
                        for j in 0..<plane { row[j] += b0 }
                    }
                }
                if let r { Conv2d.addResidual(out, r + b * outChannels * plane, outChannels * plane, relu: relu) }
            }
        }
        return output
    }

    /// Set by Network.predict while one prediction runs: the weights cannot change, so the Winograd transform of
    /// the first batch serves the rest.
    var winogradWeightsCurrent = false

    /// Inference runs Winograd layers as F(4×4, 3×3) (Winograd4.swift): 36 products per 16 outputs instead of 64,
    /// at the price of a few more float ulps than F(2×2), so predict's logits are no longer the bits of
    /// forward(training: false). Off (and with OneDNN.enabled off, since oneDNN segments take these layers first),
    /// inference uses training's F(2×2) and matches those bits (tests, benchmarks).
    nonisolated(unsafe) public static var inferenceUsesF4 = true
    let winograd4Weights = Tensor(shape: [0])  // [36, out, in], inference only

    /// Accumulates dW and db (after the fused ReLU's mask) and returns dx [B, in, H, W], or nil.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let g = geometry, let x = input else { preconditionFailure("Conv2d.backward before forward") }
        if ranOnOneDNN {
            do {
                return try oneDNNBackward(dy, x, g, needsInputGradient: needsInputGradient)
            } catch {
                // oneDNN failed after its forward pass (nothing was accumulated): the engine's own backward, on
                // its own transformed weights, and from now on the engine's forward too.
                oneDNNTraining = nil
                oneDNNTrainingFailure = "\(error)"
            }
            if usesWinograd {
                winogradWeights.resize([16, outChannels, inChannels])
                Winograd.transformWeights(weight, outChannels: outChannels, inChannels: inChannels, into: winogradWeights.data)
            }
        }
        if usesWinograd { return winogradBackward(dy, x, g, needsInputGradient: needsInputGradient) }
        let plane = g.outHeight * g.outWidth, imageSize = inChannels * g.height * g.width
        let workers = Parallel.workers(for: batch)
        let group = max(1, min(8, 1024 / max(plane, 1)))
        scratch(workers, plane: plane * group)
        while products.count < workers { products.append(Tensor(shape: [0])) }
        for p in products where p.count < outChannels * plane * group { p.resize([outChannels, plane * group]) }
        let weightCount = outChannels * patchSize
        while weightGradients.count < workers - 1 { weightGradients.append(Tensor(shape: [0])) }
        for t in weightGradients.prefix(workers - 1) {
            t.resize([weightCount + outChannels])
            t.zero()
        }
        if needsInputGradient { dInput.resize([batch, inChannels, g.height, g.width]) }
        let d = dy.data, xin = x.data, y = output.data, dx = dInput.data, weight = self.weight!
        let relu = fusedReLU, outChannels = self.outChannels, patchSize = self.patchSize, columns = self.columns
        let hasBias = self.hasBias, dWeight = self.dWeight!, dBias = self.dBias, partials = self.weightGradients
        let products = self.products
        Parallel.forEachWorker(batch) { worker, images in
            let col = columns[worker].data, dyGroup = products[worker].data
            // Worker 0 accumulates straight into the gradient buffer; the others into partials added below.
            let dW = worker == 0 ? dWeight : partials[worker - 1].data
            let dB = worker == 0 ? dBias : (hasBias ? partials[worker - 1].data + weightCount : nil)
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(group, images.upperBound - first)
                let width = n * plane
                // dy of n images as [out, n·P], with the fused ReLU's mask applied and the bias gradient summed. One
                // image is already in that layout: it is masked in place (dy is this layer's to consume), not copied.
                let dyGroup = n == 1 ? d + first * outChannels * plane : dyGroup
                for o in 0..<outChannels {
                    var sum: Float = 0
                    for i in 0..<n {
                        let offset = ((first + i) * outChannels + o) * plane
                        let dst = dyGroup + o * width + i * plane
                        if n > 1 { dst.update(from: d + offset, count: plane) }
                        sum += relu ? Kernels.maskedSum(dst, where: y + offset, plane) : Kernels.sum(dst, plane)
                    }
                    dB?[o] += sum
                }
                Im2Col.forward(xin + first * imageSize, batch: n, g, into: col)
                // dW[out, in·k·k] += dy[out, n·P] · col[in·k·k, n·P]ᵀ
                BLAS.gemm(transB: true, m: outChannels, n: patchSize, k: width, a: dyGroup, lda: width, b: col, ldb: width,
                          beta: 1, c: dW, ldc: patchSize)
                if needsInputGradient {
                    // dcol[in·k·k, n·P] = Wᵀ · dy, then back to image layout.
                    BLAS.gemm(transA: true, m: patchSize, n: width, k: outChannels, a: weight, lda: patchSize, b: dyGroup, ldb: width,
                              c: col, ldc: width)
                    Im2Col.backward(col, batch: n, g, into: dx + first * imageSize)
                }
                first += n
            }
        }
        // Partials are added in worker order: the same bits for the same thread count.
        for t in partials.prefix(workers - 1) {
            for i in 0..<weightCount { dWeight[i] += t[i] }
            if let dBias { for o in 0..<outChannels { dBias[o] += t[weightCount + o] } }
        }
        return needsInputGradient ? dInput : nil
    }
}

/// Scratch shared by the convolutions of one network (Conv2d.winogradPool).
final class WinogradPool {
    var buffers: [(v: Tensor, m: Tensor)] = []
    /// The blocked operands of training's oneDNN passes (Conv2d+OneDNN.swift).
    let oneDNN = OneDNNBuffers()
}
