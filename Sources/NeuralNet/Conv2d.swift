// Conv2d, PyTorch layout: weight [out, in, kh, kw], bias [out]. The whole batch is lowered to one column matrix
// (Im2Col) so the product is a single large GEMM through OpenBLAS.
import Tensor

public final class Conv2d: Layer {
    public enum Initialization: Sendable {
        /// PyTorch's default: U(±1/√fan_in) for weight and bias.
        case pytorchDefault
        /// torchvision ResNet: kaiming_normal_(mode="fan_out", nonlinearity="relu").
        case kaimingNormalFanOut
    }

    public let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, hasBias: Bool
    let initialization: Initialization
    private var weight: UnsafeMutablePointer<Float>!  // [out, in, k, k]
    private var bias: UnsafeMutablePointer<Float>?  // [out]
    private var dWeight: UnsafeMutablePointer<Float>!
    private var dBias: UnsafeMutablePointer<Float>?
    private var geometry: ConvGeometry?
    private var batch = 0
    private let col = Tensor(shape: [0])  // [in·k·k, B·Ho·Wo]
    private let product = Tensor(shape: [0])  // [out, B·Ho·Wo]
    private let output = Tensor(shape: [0])  // [B, out, Ho, Wo]
    private let dInput = Tensor(shape: [0])  // [B, in, H, W]

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

    public var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outChannels, inChannels, kernel, kernel])] + (hasBias ? [("bias", [outChannels])] : [])
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        let name = "Conv2d(\(inChannels), \(outChannels), kernel \(kernel), stride \(stride), padding \(padding))"
        guard s.count == 3, s[0] == inChannels else { throw ShapeError(layer: name, expected: "[\(inChannels), H, W]", got: s) }
        let g = ConvGeometry(channels: s[0], height: s[1], width: s[2], kernelH: kernel, kernelW: kernel, stride: stride, padding: padding)
        guard g.outHeight >= 1, g.outWidth >= 1 else {
            throw ShapeError(layer: name, expected: "at least \(kernel - 2 * padding)×\(kernel - 2 * padding) pixels", got: s)
        }
        return [outChannels, g.outHeight, g.outWidth]
    }

    public func multiplyAdds(for s: [Int]) -> Int {
        guard let out = try? outputShape(for: s) else { return 0 }
        return out[1] * out[2] * outChannels * patchSize
    }

    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {
        let n = outChannels * patchSize
        weight = parameters
        dWeight = gradients
        bias = hasBias ? parameters + n : nil
        dBias = hasBias ? gradients + n : nil
    }

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

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let g = ConvGeometry(channels: inChannels, height: x.shape[2], width: x.shape[3], kernelH: kernel, kernelW: kernel,
                             stride: stride, padding: padding)
        geometry = g
        batch = x.rows
        let plane = g.outHeight * g.outWidth
        let columns = batch * plane
        col.resize([patchSize, columns])
        Im2Col.forward(x.data, batch: batch, g, into: col.data)
        product.resize([outChannels, columns])
        // product[out, B·P] = W[out, in·k·k] · col[in·k·k, B·P]
        BLAS.gemm(m: outChannels, n: columns, k: patchSize, a: weight, lda: patchSize, b: col.data, ldb: columns,
                  c: product.data, ldc: columns)
        output.resize([batch, outChannels, g.outHeight, g.outWidth])
        // Reorder [out, B, P] → [B, out, P] and add the bias.
        let y = output.data, p = product.data, bias = self.bias, outChannels = self.outChannels, batch = self.batch
        Parallel.forEach(outChannels) { o in
            let b0 = bias?[o] ?? 0
            for b in 0..<batch {
                let src = p + o * columns + b * plane
                let dst = y + (b * outChannels + o) * plane
                for i in 0..<plane { dst[i] = src[i] + b0 }
            }
        }
        return output
    }

    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let g = geometry else { preconditionFailure("Conv2d.backward before forward") }
        let plane = g.outHeight * g.outWidth
        let columns = batch * plane
        // dProduct[out, B·P] from dy[B, out, P]; reuse `product` as its storage.
        let dp = product.data, d = dy.data, outChannels = self.outChannels, batch = self.batch, dBias = self.dBias
        Parallel.forEach(outChannels) { o in
            var sum: Float = 0
            for b in 0..<batch {
                let src = d + (b * outChannels + o) * plane
                let dst = dp + o * columns + b * plane
                for i in 0..<plane {
                    dst[i] = src[i]
                    sum += src[i]
                }
            }
            if let dBias { dBias[o] += sum }
        }
        // dW[out, in·k·k] += dProduct[out, B·P] · col[in·k·k, B·P]ᵀ
        BLAS.gemm(transB: true, m: outChannels, n: patchSize, k: columns, a: dp, lda: columns, b: col.data, ldb: columns,
                  beta: 1, c: dWeight, ldc: patchSize)
        guard needsInputGradient else { return nil }
        // dcol[in·k·k, B·P] = Wᵀ · dProduct; `col` is no longer needed, so it holds dcol.
        BLAS.gemm(transA: true, m: patchSize, n: columns, k: outChannels, a: weight, lda: patchSize, b: dp, ldb: columns,
                  c: col.data, ldc: columns)
        dInput.resize([batch, inChannels, g.height, g.width])
        Im2Col.backward(col.data, batch: batch, g, into: dInput.data)
        return dInput
    }
}
