// An executable instance of a model: its layers bound to the model's parameter buffer, plus this network's own
// gradient buffer and activations. One network per job, so concurrent readers of a model never share buffers.
import Tensor

public final class Network {
    public let model: Model
    public let layers: [Layer]
    public let gradients: UnsafeMutablePointer<Float>  // [model.parameterCount], same layout as the parameters
    /// Index of the first layer with parameters (layers.count when none has any).
    private let firstTrainable: Int

    /// `seed` feeds the layers' own random draws (Dropout), one derived seed per layer.
    public init(model: Model, seed: UInt64 = 0) {
        self.model = model
        // The architecture was validated when the model was made.
        let named = try! model.architecture.makeLayers(inputShape: model.inputShape, classCount: model.classCount)
        layers = named.map(\.layer)
        firstTrainable = layers.firstIndex { $0.parameterCount > 0 } ?? layers.count
        gradients = .allocate(capacity: max(1, model.parameterCount))
        gradients.initialize(repeating: 0, count: max(1, model.parameterCount))
        var offset = 0, bufferOffset = 0
        for layer in layers {
            layer.bind(parameters: model.parameters + offset, gradients: gradients + offset, buffers: model.buffers + bufferOffset)
            offset += layer.parameterCount
            bufferOffset += layer.bufferCount
        }
        var rng = SeededGenerator(seed: seed)
        for layer in layers { layer.seed(rng.next()) }
        Self.fuse(layers)
    }

    deinit { gradients.deallocate() }

    /// Folds each ReLU into the Conv2d or Linear right before it, so the activation costs no extra pass over memory,
    /// and lets a Flatten before a Linear pass its tensors through uncopied. The result is bit-for-bit the same:
    /// max(x, 0) is applied to the same values, and the Linear reads the same rows.
    static func fuse(_ layers: [Layer]) {
        for (previous, next) in zip(layers, layers.dropFirst()) {
            if let flatten = previous as? Flatten, next is Linear { flatten.passThrough = true }
            guard let relu = next as? Activation, relu.kind == .relu else { continue }
            if let conv = previous as? Conv2d {
                conv.fusedReLU = true
                relu.fused = true
            } else if let linear = previous as? Linear {
                linear.fusedReLU = true
                relu.fused = true
            }
        }
    }

    /// Seconds spent per layer ("3 Conv2d forward"), collected only when set to a dictionary (benchmarks).
    public var profile: [String: Double]?

    /// x: [B, inputShape…] → logits [B, classes]
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            let start = profile == nil ? 0 : monotonicSeconds()
            h = layer.forward(h, training: training)
            if profile != nil { profile!["\(i) \(type(of: layer)) forward", default: 0] += monotonicSeconds() - start }
        }
        return h
    }

    /// Accumulates parameter gradients from ∂L/∂logits; returns ∂L/∂x only when asked (for input attacks).
    @discardableResult
    public func backward(_ dLogits: Tensor, needsInputGradient: Bool = false) -> Tensor? {
        var g: Tensor? = dLogits
        for (i, layer) in layers.enumerated().reversed() {
            guard let dy = g else { break }
            let start = profile == nil ? 0 : monotonicSeconds()
            // An input gradient is only worth computing when a layer before this one has parameters to train (the
            // mlp's first Linear follows a Flatten: its 784-wide input gradient would go nowhere).
            g = layer.backward(dy, needsInputGradient: i > firstTrainable || needsInputGradient)
            if profile != nil { profile!["\(i) \(type(of: layer)) backward", default: 0] += monotonicSeconds() - start }
        }
        return g
    }

    public func zeroGradients() {
        let gradients = self.gradients
        Parallel.forEachChunk(model.parameterCount, minimumChunk: 1 << 16) { r in
            (gradients + r.lowerBound).update(repeating: 0, count: r.count)
        }
    }
}
