// The layer contract: a forward/backward pair over views into one contiguous parameter buffer (llm.c style).
import Tensor

/// A network layer: a forward/backward pair over views into the model's one contiguous parameter buffer.
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

    /// Whether `forward(x, training: true)` maps each example on its own, without randomness or batch statistics
    /// (Conv2d, Linear, activations, pooling; not BatchNorm or Dropout): a frozen run of such layers at the
    /// network's input gives every example the same output at every step, so training can compute it once
    /// (FrozenPrefix). New layers say false unless they declare otherwise.
    var isPerExampleFunction: Bool { get }
}

extension Layer {
    /// Default: no trainable tensors.
    public var parameterShapes: [(name: String, shape: [Int])] { [] }
    /// Default: no non-trained state.
    public var bufferShapes: [(name: String, shape: [Int])] { [] }
    /// Default: nothing to bind (no parameters or buffers).
    public func bind(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, buffers: UnsafeMutablePointer<Float>) {}
    /// Default: nothing to initialise.
    public func initialize(using rng: inout SeededGenerator) {}
    /// Default: not known to be a per-example function, so never skipped by a frozen-prefix cache.
    public var isPerExampleFunction: Bool { false }
    /// Default: no multiply-adds counted.
    public func multiplyAdds(for inputShape: [Int]) -> Int { 0 }
    /// Default: the layer draws nothing at random.
    public func seed(_ seed: UInt64) {}
    /// Default: the output's size per example (the input's when the shape does not fit).
    public func inferenceActivations(for inputShape: [Int]) -> Int { ((try? outputShape(for: inputShape)) ?? inputShape).reduce(1, *) }
    /// Number of trainable floats: the sum of `parameterShapes`' sizes.
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
    /// Number of non-trained floats: the sum of `bufferShapes`' sizes.
    public var bufferCount: Int { bufferShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}

/// An input shape that a layer cannot take, with the layer and both shapes named.
public struct ShapeError: Error, CustomStringConvertible, Sendable {
    /// The layer as text, e.g. "Linear(784, 256)".
    public let layer: String
    /// What it takes, as text (e.g. "[C, H, W]" or "of 784 features").
    public let expected: String
    /// The per-example input shape it was given.
    public let got: [Int]
    public init(layer: String, expected: String, got: [Int]) {
        self.layer = layer
        self.expected = expected
        self.got = got
    }
    /// "layer … expects input … but gets …".
    public var description: String { "layer \(layer) expects input \(expected) but gets \(got)" }
}
