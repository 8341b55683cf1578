// Linear: y = x · Wᵀ + b, PyTorch layout. Inputs of any per-example shape are read as flat rows, so a
// preceding Flatten costs nothing.
import Tensor

/// Linear: y = x · Wᵀ + b, PyTorch layout (weight [out, in], bias [out]); any per-example input shape is read as flat rows.
public final class Linear: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    /// Input features per example (the product of the input's per-example shape).
    public let inFeatures: Int
    /// Output features per example.
    public let outFeatures: Int
    /// Whether the layer has a bias.
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

    /// weight [out, in], and bias [out] when the layer has one.
    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outFeatures, inFeatures])] + (hasBias ? [("bias", [outFeatures])] : [])
    }

    /// [outFeatures]; throws unless the input holds exactly `inFeatures` values per example.
    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.reduce(1, *) == inFeatures else {
            throw ShapeError(layer: "Linear(\(inFeatures), \(outFeatures))", expected: "of \(inFeatures) features", got: inputShape)
        }
        return [outFeatures]
    }

    /// in × out per example.
    public func multiplyAdds(for inputShape: [Int]) -> Int { inFeatures * outFeatures }

    /// Points the weight, the bias and their gradients at the layer's slices.
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

    // The engine, not OpenBLAS, splits the work over the job's threads (BLAS runs one thread per call): along the
    // batch or the features for y and dx, rows of W for dW, so no two workers write the same value and every value
    // is one GEMM's full sum — the same bits for any thread count.

    /// y [B, out] = x [B, in] · Wᵀ + b (then the fused ReLU); keeps x for backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let batch = x.rows
        input = x
        output.resize([batch, outFeatures])
        let xin = x.data, y = output.data, weight = self.weight!, bias = self.bias, relu = fusedReLU
        let inFeatures = self.inFeatures, outFeatures = self.outFeatures
        // Split along the longer side: each worker then packs only its share of the other operand.
        if outFeatures >= batch {
            Parallel.forEachWorker(outFeatures) { _, outs in
                // y[B, outs] = x[B, in] · W[outs, in]ᵀ, then + b and the fused ReLU
                BLAS.gemm(transB: true, m: batch, n: outs.count, k: inFeatures, a: xin, lda: inFeatures,
                          b: weight + outs.lowerBound * inFeatures, ldb: inFeatures, c: y + outs.lowerBound, ldc: outFeatures)
                for b in 0..<batch {
                    let row = y + b * outFeatures
                    if let bias { for o in outs { row[o] += bias[o] } }
                    if relu { for o in outs { row[o] = max(row[o], 0) } }
                }
            }
        } else {
            Parallel.forEachWorker(batch) { _, rows in
                // y[rows, out] = x[rows, in] · W[out, in]ᵀ, then + b and the fused ReLU
                let yr = y + rows.lowerBound * outFeatures
                BLAS.gemm(transB: true, m: rows.count, n: outFeatures, k: inFeatures,
                          a: xin + rows.lowerBound * inFeatures, lda: inFeatures, b: weight, ldb: inFeatures, c: yr, ldc: outFeatures)
                if let bias { Kernels.addRowBias(yr, rows: rows.count, cols: outFeatures, bias: bias) }
                if relu { Kernels.relu(yr, yr, rows.count * outFeatures) }
            }
        }
        return output
    }

    /// Accumulates dW += dyᵀ · x and db += Σ dy (after the fused ReLU's mask); returns dx = dy · W in x's shape, or nil.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let x = input else { preconditionFailure("Linear.backward before forward") }
        let batch = dy.rows
        let d = dy.data, xin = x.data, y = output.data, weight = self.weight!, dWeight = self.dWeight!, dBias = self.dBias
        let inFeatures = self.inFeatures, outFeatures = self.outFeatures
        // The fused ReLU's mask, applied in place: dy is this layer's to consume.
        if fusedReLU {
            Parallel.forEachWorker(batch) { _, rows in
                let o = rows.lowerBound * outFeatures
                Kernels.reluBackward(y + o, d + o, d + o, rows.count * outFeatures)
            }
        }
        Parallel.forEachWorker(outFeatures) { _, outs in
            // dW[outs, in] += dy[B, outs]ᵀ · x[B, in]
            BLAS.gemm(transA: true, m: outs.count, n: inFeatures, k: batch, a: d + outs.lowerBound, lda: outFeatures,
                      b: xin, ldb: inFeatures, beta: 1, c: dWeight + outs.lowerBound * inFeatures, ldc: inFeatures)
            // db[outs] += Σ_B dy[B, outs]
            if let dBias {
                for b in 0..<batch {
                    let row = d + b * outFeatures
                    for o in outs { dBias[o] += row[o] }
                }
            }
        }
        guard needsInputGradient else { return nil }
        dInput.resize(x.shape)
        let dx = dInput.data
        if inFeatures >= batch {
            Parallel.forEachWorker(inFeatures) { _, ins in
                // dx[B, ins] = dy[B, out] · W[out, ins]
                BLAS.gemm(m: batch, n: ins.count, k: outFeatures, a: d, lda: outFeatures, b: weight + ins.lowerBound, ldb: inFeatures,
                          c: dx + ins.lowerBound, ldc: inFeatures)
            }
        } else {
            Parallel.forEachWorker(batch) { _, rows in
                // dx[rows, in] = dy[rows, out] · W[out, in]
                BLAS.gemm(m: rows.count, n: inFeatures, k: outFeatures, a: d + rows.lowerBound * outFeatures, lda: outFeatures,
                          b: weight, ldb: inFeatures, c: dx + rows.lowerBound * inFeatures, ldc: inFeatures)
            }
        }
        return dInput
    }
}
