// BatchNorm over the channel axis of [B, C] (BatchNorm1d) or [B, C, H, W] (BatchNorm2d), PyTorch semantics:
// training normalises with the batch's biased variance and updates the running statistics with momentum 0.1 and
// the unbiased variance; evaluation uses the running statistics. weight/bias are trained; running_mean,
// running_var and num_batches_tracked are buffers.
import Tensor

/// BatchNorm over the channel axis of [B, C] or [B, C, H, W], PyTorch semantics (batch statistics in training, running ones after).
public final class BatchNorm: Layer {
    /// Channels C normalised (the length of weight, bias and the running statistics).
    public let features: Int
    /// 0 for BatchNorm1d on [B, C], 2 for BatchNorm2d on [B, C, H, W].
    public let spatialDims: Int  // 0 for BatchNorm1d on [B, C], 2 for BatchNorm2d
    /// ε added to the variance, as PyTorch's default.
    public let epsilon: Float = 1e-5
    /// Weight of the new batch in the running statistics' update, as PyTorch's default.
    public let momentum: Float = 0.1
    private var gamma: UnsafeMutablePointer<Float>!, beta: UnsafeMutablePointer<Float>!  // [C]
    private var dGamma: UnsafeMutablePointer<Float>!, dBeta: UnsafeMutablePointer<Float>!  // [C]
    private var runningMean: UnsafeMutablePointer<Float>!, runningVar: UnsafeMutablePointer<Float>!  // [C]
    private var batchesTracked: UnsafeMutablePointer<Float>!  // [] (int64 in PyTorch)
    private var normalized = Tensor(shape: [0])  // x̂, same shape as the input
    private var invStd = [Float]()  // [C] 1/√(var + ε) used in the forward pass
    private var wasTraining = false
    private let output = Tensor(shape: [0])
    private let dInput = Tensor(shape: [0])
    /// A ReLU right after this layer is folded in (Network.fuse, BasicBlock): forward writes relu(γ·x̂ + β), and
    /// backward masks dy where that was 0 — recomputing γ·x̂ + β from the saved x̂, the same float operations, so
    /// the mask and every gradient keep their bits — saving the ReLU's output tensor and its two passes over memory.
    public var fusedReLU = false

    public init(features: Int, spatialDims: Int) {
        self.features = features
        self.spatialDims = spatialDims
    }

    /// weight (γ) and bias (β), each [C].
    public var parameterShapes: [(name: String, shape: [Int])] { [("weight", [features]), ("bias", [features])] }
    /// running_mean and running_var [C], and num_batches_tracked (a scalar).
    public var bufferShapes: [(name: String, shape: [Int])] {
        [("running_mean", [features]), ("running_var", [features]), ("num_batches_tracked", [])]
    }

    /// The input shape, [C] or [C, H, W]; throws when the channels or rank differ.
    public func outputShape(for s: [Int]) throws -> [Int] {
        let name = spatialDims == 0 ? "BatchNorm1d(\(features))" : "BatchNorm2d(\(features))"
        guard s.count == 1 + spatialDims, s[0] == features else {
            throw ShapeError(layer: name, expected: spatialDims == 0 ? "[\(features)]" : "[\(features), H, W]", got: s)
        }
        return s
    }

    /// The output and x̂ (kept even in evaluation mode, for a backward pass that may follow).
    public func inferenceActivations(for s: [Int]) -> Int { 2 * s.reduce(1, *) }

    /// Points γ, β, their gradients and the running statistics at the layer's slices.
    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        gamma = parameters
        beta = parameters + features
        dGamma = gradients
        dBeta = gradients + features
        runningMean = buffers
        runningVar = buffers + features
        batchesTracked = buffers + 2 * features
    }

    /// PyTorch's initial values: γ 1, β 0, running mean 0, running variance 1, no batches tracked.
    public func initialize(using rng: inout SeededGenerator) {
        gamma.update(repeating: 1, count: features)
        beta.update(repeating: 0, count: features)
        runningMean.update(repeating: 0, count: features)
        runningVar.update(repeating: 1, count: features)
        batchesTracked[0] = 0
    }

    /// out = γ·x̂ + β, x̂ = (x − mean)/√(var + ε) per channel; training also updates the running statistics; caches x̂ and 1/σ.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let batch = x.rows, c = features
        let spatial = x.rowSize / c
        let n = batch * spatial
        output.resize(x.shape)
        normalized.resize(x.shape)
        if invStd.count != c { invStd = [Float](repeating: 0, count: c) }
        wasTraining = training
        let xin = x.data, y = output.data, xhat = normalized.data
        let gamma = self.gamma!, beta = self.beta!, runningMean = self.runningMean!, runningVar = self.runningVar!
        let eps = epsilon, m = momentum, relu = fusedReLU
        invStd.withUnsafeMutableBufferPointer { inv in
            let inv = inv.baseAddress!
            Parallel.forEach(c) { ch in
                var mean: Float, variance: Float
                if training {
                    // Two passes (mean, then squared deviations) for a stable variance; per-plane partial sums are
                    // vectorised and added in Double.
                    var s = 0.0
                    for b in 0..<batch { s += Double(Kernels.sum(xin + (b * c + ch) * spatial, spatial)) }
                    let mu = Float(s / Double(n))
                    var q = 0.0
                    for b in 0..<batch { q += Double(Kernels.sumOfSquaredDeviations(xin + (b * c + ch) * spatial, spatial, mean: mu)) }
                    mean = mu
                    variance = Float(q / Double(n))
                    runningMean[ch] = (1 - m) * runningMean[ch] + m * mean
                    runningVar[ch] = (1 - m) * runningVar[ch] + m * Float(q / Double(max(n - 1, 1)))
                } else {
                    mean = runningMean[ch]
                    variance = runningVar[ch]
                }
                let istd = 1 / (variance + eps).squareRoot()
                inv[ch] = istd
                let g = gamma[ch], bt = beta[ch]
                for b in 0..<batch {
                    let o = (b * c + ch) * spatial
                    for i in 0..<spatial {
                        let h = (xin[o + i] - mean) * istd
                        xhat[o + i] = h
                        let v = g * h + bt
                        y[o + i] = relu && !(v > 0) ? 0 : v  // the fused ReLU as Kernels.relu: v > 0 ? v : 0
                    }
                }
            }
        }
        if training { batchesTracked[0] += 1 }
        return output
    }

    /// Evaluation mode as a per-channel affine map over the running statistics, for a convolution to apply while
    /// it writes its output (inference only): invStd is computed exactly as `forward` computes it.
    func evaluationAffine() -> ChannelAffine {
        if evaluationInvStd.count < features { evaluationInvStd.resize([features]) }
        for ch in 0..<features { evaluationInvStd[ch] = 1 / (runningVar[ch] + epsilon).squareRoot() }
        return ChannelAffine(mean: runningMean, invStd: evaluationInvStd.data, gamma: gamma, beta: beta)
    }

    private let evaluationInvStd = Tensor(shape: [0])

    /// Accumulates dγ, dβ and returns dx (through the batch statistics in training, the running ones in evaluation), or nil.
    /// With the fused ReLU, dy is first masked in place (it is this layer's to consume), plane by plane while the
    /// plane is in cache.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        let batch = dy.rows, c = features
        let spatial = dy.rowSize / c
        let n = Float(batch * spatial)
        dInput.resize(dy.shape)
        let d = dy.data, xhat = normalized.data, dx = dInput.data
        let gamma = self.gamma!, beta = self.beta!, dGamma = self.dGamma!, dBeta = self.dBeta!, training = wasTraining
        let relu = fusedReLU
        invStd.withUnsafeBufferPointer { inv in
            Parallel.forEach(c) { ch in
                var sumDy: Float = 0, sumDyXhat: Float = 0
                let g = gamma[ch], bt = beta[ch]
                for b in 0..<batch {
                    let o = (b * c + ch) * spatial
                    if relu { for i in 0..<spatial where !(g * xhat[o + i] + bt > 0) { d[o + i] = 0 } }
                    sumDy += Kernels.sum(d + o, spatial)
                    sumDyXhat += Kernels.dot(d + o, xhat + o, spatial)
                }
                dGamma[ch] += sumDyXhat
                dBeta[ch] += sumDy
                guard needsInputGradient else { return }
                let k = gamma[ch] * inv[ch]
                for b in 0..<batch {
                    let o = (b * c + ch) * spatial
                    if training {
                        // dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy·x̂))
                        let meanDy = sumDy / n, meanDyXhat = sumDyXhat / n
                        for i in 0..<spatial { dx[o + i] = k * (d[o + i] - meanDy - xhat[o + i] * meanDyXhat) }
                    } else {
                        for i in 0..<spatial { dx[o + i] = k * d[o + i] }
                    }
                }
            }
        }
        return needsInputGradient ? dInput : nil
    }
}
