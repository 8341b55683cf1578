// Linear: y = x · Wᵀ + b, PyTorch layout. Inputs of any per-example shape are read as flat rows, so a
// preceding Flatten costs nothing.
import Tensor

public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    public let hasBias: Bool
    /// A following ReLU folded into this layer (Network.fuse).
    public var fusedReLU = false
    private var weight: UnsafeMutablePointer<Float>!  // [out, in]
    private var bias: UnsafeMutablePointer<Float>?  // [out]
    private var dWeight: UnsafeMutablePointer<Float>!  // [out, in]
    private var dBias: UnsafeMutablePointer<Float>?  // [out]
    private var input: Tensor?  // [B, in] saved for backward
    private let output = Tensor(shape: [0])  // [B, out]
    private let dInput = Tensor(shape: [0])  // [B, in...] same shape as the input

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.hasBias = bias
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outFeatures, inFeatures])] + (hasBias ? [("bias", [outFeatures])] : [])
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.reduce(1, *) == inFeatures else {
            throw ShapeError(layer: "Linear(\(inFeatures), \(outFeatures))", expected: "of \(inFeatures) features", got: inputShape)
        }
        return [outFeatures]
    }

    public func multiplyAdds(for inputShape: [Int]) -> Int { inFeatures * outFeatures }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        weight = parameters
        bias = hasBias ? parameters + outFeatures * inFeatures : nil
        dWeight = gradients
        dBias = hasBias ? gradients + outFeatures * inFeatures : nil
    }

    /// PyTorch's default: kaiming_uniform(a=√5) for the weight and U(±1/√in) for the bias, i.e. both U(±1/√in).
    public func initialize(using rng: inout SeededGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        for i in 0..<(outFeatures * inFeatures) { weight[i] = rng.uniform(-bound, bound) }
        if let bias { for i in 0..<outFeatures { bias[i] = rng.uniform(-bound, bound) } }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let batch = x.rows
        input = x
        output.resize([batch, outFeatures])
        // y[B, out] = x[B, in] · W[out, in]ᵀ, then + b
        BLAS.gemm(transB: true, m: batch, n: outFeatures, k: inFeatures,
                  a: x.data, lda: inFeatures, b: weight, ldb: inFeatures, c: output.data, ldc: outFeatures)
        if let bias { Kernels.addRowBias(output.data, rows: batch, cols: outFeatures, bias: bias) }
        if fusedReLU { Kernels.relu(output.data, output.data, output.count) }
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let batch = dy.rows
        // The fused ReLU's mask, applied in place: dy is this layer's to consume.
        if fusedReLU { Kernels.reluBackward(output.data, dy.data, dy.data, dy.count) }
        // dW[out, in] += dy[B, out]ᵀ · x[B, in]
        BLAS.gemm(transA: true, m: outFeatures, n: inFeatures, k: batch,
                  a: dy.data, lda: outFeatures, b: x.data, ldb: inFeatures, beta: 1, c: dWeight, ldc: inFeatures)
        // db[out] += Σ_B dy
        if let dBias { Kernels.accumulateColumnSums(dy.data, rows: batch, cols: outFeatures, into: dBias) }
        guard needsInputGradient else { return nil }
        // dx[B, in] = dy[B, out] · W[out, in]
        dInput.resize(x.shape)
        BLAS.gemm(m: batch, n: inFeatures, k: outFeatures,
                  a: dy.data, lda: outFeatures, b: weight, ldb: inFeatures, c: dInput.data, ldc: inFeatures)
        return dInput
    }
}
