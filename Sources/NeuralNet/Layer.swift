// The layer contract: a forward/backward pair over views into one contiguous parameter buffer (llm.c style).
import Tensor

public protocol Layer: AnyObject {
    /// Trainable tensors by local PyTorch name ("weight", "bias") with their shapes, in state_dict order.
    var parameterShapes: [(name: String, shape: [Int])] { get }

    /// Per-example output shape for a per-example input shape; throws `ShapeError` when the input does not fit.
    func outputShape(for inputShape: [Int]) throws -> [Int]

    /// Non-trained state by local PyTorch name (BatchNorm's "running_mean", "running_var", "num_batches_tracked"):
    /// saved in the state_dict, kept in the model's separate buffer array so optimizers never touch it.
    var bufferShapes: [(name: String, shape: [Int])] { get }

    /// Points the layer at its slices of the model's parameter buffer, of the network's gradient buffer and of the
    /// model's buffer array.
    func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>)

    /// Writes PyTorch's default initial values into the bound parameters.
    func initialize(using rng: inout SeededGenerator)

    /// Computes the output and saves what backward needs. `x` stays valid until the next forward.
    func forward(_ x: Tensor, training: Bool) -> Tensor

    /// Multiply-adds per example for this input shape (FLOPs ≈ 2×), for `model/info`.
    func multiplyAdds(for inputShape: [Int]) -> Int

    /// Floats per example this layer keeps while it runs in evaluation mode (its output, and what it saves beside
    /// it), an upper bound that the inference batch rule divides the memory budget by (Inference.batchSize).
    func inferenceActivations(for inputShape: [Int]) -> Int

    /// Seeds the layer's own random draws (Dropout); the network derives one seed per layer from the job's seed.
    func seed(_ seed: UInt64)

    /// Takes ∂L/∂output, **accumulates** ∂L/∂parameters and returns ∂L/∂input
    /// (nil when `needsInputGradient` is false, e.g. for the first layer).
    func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor?
}

extension Layer {
    public var parameterShapes: [(name: String, shape: [Int])] { [] }
    public var bufferShapes: [(name: String, shape: [Int])] { [] }
    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {}
    public func initialize(using rng: inout SeededGenerator) {}
    public func multiplyAdds(for inputShape: [Int]) -> Int { 0 }
    public func seed(_ seed: UInt64) {}
    public func inferenceActivations(for inputShape: [Int]) -> Int { ((try? outputShape(for: inputShape)) ?? inputShape).reduce(1, *) }
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
    public var bufferCount: Int { bufferShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}

/// An input shape that a layer cannot take, with the layer and both shapes named.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    public let layer: String
    public let expected: String
    public let got: [Int]
    public init(layer: String, expected: String, got: [Int]) {
        self.layer = layer
        self.expected = expected
        self.got = got
    }
    public var description: String { "layer \(layer) expects input \(expected) but gets \(got)" }
}
