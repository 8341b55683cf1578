// Element-wise activations (ReLU, LeakyReLU, GELU, Tanh, Sigmoid) and Flatten. No parameters.
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// An element-wise activation (ReLU, LeakyReLU, GELU, Tanh, Sigmoid) without parameters: y = f(x), same shape.
public final class Activation: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    /// Which function the layer applies.
    public enum Kind: Sendable, Equatable {
        case relu
        case leakyReLU(slope: Float)
        /// The exact GELU, x·Φ(x), as PyTorch's default.
        case gelu
        case tanh
        case sigmoid
    }

    /// The function applied.
    public let kind: Kind
    /// Folded into the layer before it (Network.fuse): forward and backward pass values through.
    public var fused = false
    private var input: Tensor?
    private let output = Tensor(shape: [0])  // same shape as the input
    private let dInput = Tensor(shape: [0])

    public init(_ kind: Kind) { self.kind = kind }

    /// 0 when fused (it adds nothing), else the input's size per example.
    public func inferenceActivations(for s: [Int]) -> Int { fused ? 0 : s.reduce(1, *) }

    /// The input shape: activations are element-wise.
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    /// y = f(x) element-wise (x passed through when fused); keeps x and y for backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if fused { return x }
        input = x
        output.resize(x.shape)
        let n = x.count, src = x.data, y = output.data
        switch kind {
        case .relu: Parallel.forEachChunk(n, minimumChunk: 1 << 15) { r in Kernels.relu(src + r.lowerBound, y + r.lowerBound, r.count) }
        case .leakyReLU(let a): for i in 0..<n { y[i] = src[i] > 0 ? src[i] : a * src[i] }
        case .gelu: for i in 0..<n { y[i] = 0.5 * src[i] * (1 + erff(src[i] * 0.70710678)) }
        case .tanh: for i in 0..<n { y[i] = tanhf(src[i]) }
        case .sigmoid: for i in 0..<n { y[i] = 1 / (1 + expf(-src[i])) }
        }
        return output
    }

    /// dx = dy · f′(x) (dy passed through when fused); nil when no input gradient is needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        if fused { return dy }
        guard needsInputGradient, let x = input else { return nil }
        dInput.resize(dy.shape)
        let n = dy.count, d = dy.data, dx = dInput.data, y = output.data, src = x.data
        switch kind {
        case .relu:
            // y > 0 exactly where x > 0, so the saved output serves as the mask.
            Parallel.forEachChunk(n, minimumChunk: 1 << 15) { r in Kernels.reluBackward(y + r.lowerBound, d + r.lowerBound, dx + r.lowerBound, r.count) }
        case .leakyReLU(let a): for i in 0..<n { dx[i] = src[i] > 0 ? d[i] : a * d[i] }
        case .gelu:
            for i in 0..<n {
                let v = src[i]
                let cdf = 0.5 * (1 + erff(v * 0.70710678))
                let pdf = expf(-0.5 * v * v) * 0.39894228
                dx[i] = d[i] * (cdf + v * pdf)
            }
        case .tanh: for i in 0..<n { dx[i] = d[i] * (1 - y[i] * y[i]) }
        case .sigmoid: for i in 0..<n { dx[i] = d[i] * y[i] * (1 - y[i]) }
        }
        return dInput
    }
}

/// ReLU, the most common activation, by its own name.
public func ReLU() -> Activation { Activation(.relu) }

/// Flatten keeps the bytes where they are: row-major [B, C, H, W] already is [B, C·H·W]. It copies so the layers
/// around it see the shapes PyTorch would.
public final class Flatten: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    private var inputShape: [Int] = []
    private let output = Tensor(shape: [0])  // [B, C·H·W]
    private let dInput = Tensor(shape: [0])  // [B, C, H, W]
    /// Set when a Linear follows (Network.fuse): it reads any input as flat rows and gives back its input
    /// gradient in the input's own shape, so this layer passes tensors through instead of copying them.
    public var passThrough = false

    public init() {}

    /// [C·H·W]: the input flattened to one dimension.
    public func outputShape(for inputShape: [Int]) throws -> [Int] { [inputShape.reduce(1, *)] }

    /// 0 when passing through, else the input's size per example.
    public func inferenceActivations(for s: [Int]) -> Int { passThrough ? 0 : s.reduce(1, *) }

    /// [B, C, H, W] → [B, C·H·W], copied (or `x` itself when passing through).
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        if passThrough { return x }
        inputShape = x.shape
        output.resize([x.rows, x.rowSize])
        output.data.update(from: x.data, count: x.count)
        return output
    }

    /// dy reshaped back to the input's shape (or dy itself when passing through); nil when not needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        if passThrough { return dy }
        dInput.resize(inputShape)
        dInput.data.update(from: dy.data, count: dy.count)
        return dInput
    }
}
