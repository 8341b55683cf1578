// Dropout: in training, zero each element with probability p and scale the rest by 1/(1−p); identity in evaluation.
import Tensor

/// Dropout: in training, zero each element with probability p and scale the rest by 1/(1−p); identity in evaluation.
public final class Dropout: Layer {
    /// Probability of zeroing an element, in [0, 1).
    public let p: Float
    private var rng = SeededGenerator(seed: 0)
    private var mask = [Float]()  // [B, …]: 0 or 1/(1−p)
    private var active = false
    private let output = Tensor(shape: [0])
    private let dInput = Tensor(shape: [0])

    public init(p: Float) { self.p = p }

    /// The input shape; throws when p is outside [0, 1).
    public func outputShape(for s: [Int]) throws -> [Int] {
        guard p >= 0, p < 1 else { throw ShapeError(layer: "Dropout(p=\(p))", expected: "0 ≤ p < 1", got: s) }
        return s
    }

    /// Restarts the mask's generator from `seed`.
    public func seed(_ seed: UInt64) { rng = SeededGenerator(seed: seed) }

    /// In training, out = x · mask (0 or 1/(1−p)), keeping the mask for backward; otherwise x itself.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        active = training && p > 0
        guard active else { return x }
        output.resize(x.shape)
        if mask.count < x.count { mask = [Float](repeating: 0, count: x.count) }
        let keep = 1 / (1 - p)
        for i in 0..<x.count {
            let m: Float = rng.nextFloat() < p ? 0 : keep
            mask[i] = m
            output[i] = x[i] * m
        }
        return output
    }

    /// dx = dy · the forward's mask (dy itself when the forward was inactive); nil when not needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        guard active else { return dy }
        dInput.resize(dy.shape)
        for i in 0..<dy.count { dInput[i] = dy[i] * mask[i] }
        return dInput
    }
}
