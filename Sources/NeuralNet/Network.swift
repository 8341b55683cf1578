// An executable instance of a model: its layers bound to the model's parameter buffer, plus this network's own
// gradient buffer and activations. One network per job, so concurrent readers of a model never share buffers.
import Tensor

/// An executable instance of a model: its layers bound to the model's parameters, with its own gradients and activations.
public final class Network {
    /// The model whose parameters and buffers the layers read and (in training) write.
    public let model: Model
    /// The layers, in order, each bound to its slices of the buffers.
    public let layers: [Layer]
    /// ∂L/∂parameters, [model.parameterCount], in the parameters' layout; backward accumulates into it.
    public let gradients: UnsafeMutablePointer<Float>  // [model.parameterCount], same layout as the parameters
    /// Index of the first layer with parameters (layers.count when none has any).
    private let firstTrainable: Int
    /// The layer `forward` starts at and `backward` stops at: 0, or past a frozen prefix whose outputs the caller
    /// computed once and feeds in place of the inputs (FrozenPrefix, during `Trainer.train`).
    var firstLayer = 0

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
        let pool = WinogradPool()
        for conv in convolutions { conv.winogradPool = pool }
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
            } else if let bn = previous as? BatchNorm {
                bn.fusedReLU = true
                relu.fused = true
            }
        }
    }

    /// Seconds spent per layer ("3 Conv2d forward"), collected only when set to a dictionary (benchmarks).
    public var profile: [String: Double]?

    /// x: [B, inputShape…] → logits [B, classes] (x: the output of layer firstLayer − 1 while a frozen prefix
    /// is skipped)
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() where i >= firstLayer {
            let start = profile == nil ? 0 : monotonicSeconds()
            h = layer.forward(h, training: training)
            if profile != nil { profile!["\(i) \(type(of: layer)) forward", default: 0] += monotonicSeconds() - start }
        }
        return h
    }

    // Inference (Network.predict): a Conv2d followed by a BatchNorm (and a ReLU) runs as one convolution that
    // applies the BatchNorm's evaluation map and the ReLU while writing its output, and a BasicBlock as its two or
    // three convolutions (BasicBlock.infer). Each value goes through the same float operations in the same order
    // as in forward(training: false); the activations kept shrink to the convolutions' outputs (resnet18: from
    // about 7.7 MB to 1.9 MB per 28×28 example). The logits are those bits when the 3×3 convolutions run as in
    // training (Conv2d.inferenceUsesF4 = false, OneDNN.enabled = false). By default, runs of these steps (and of
    // plain convolutions and max-pools) go to oneDNN as one segment each (oneDNNPlan, OneDNNSegment.swift), within
    // 1e-5 of those logits.
    private enum Step {
        case layer(Layer)
        case convolution(Conv2d, BatchNorm, relu: Bool)
        case block(BasicBlock)
        /// A run of convolutions, blocks and max-pools executed by oneDNN, with the steps to fall back on.
        indirect case oneDNN(OneDNNSegment, steps: [Step])

        var name: String {
            switch self {
            case .layer(let layer): return "\(type(of: layer))"
            case .convolution(_, _, let relu): return relu ? "Conv2d+BatchNorm+ReLU" : "Conv2d+BatchNorm"
            case .block: return "BasicBlock"
            case .oneDNN(_, let steps): return "oneDNN[\(steps.map(\.name).joined(separator: ", "))]"
            }
        }
    }

    private lazy var plan: [(first: Int, step: Step)] = {
        var steps: [(Int, Step)] = []
        var i = 0
        while i < layers.count {
            if let conv = layers[i] as? Conv2d, !conv.fusedReLU, i + 1 < layers.count, let bn = layers[i + 1] as? BatchNorm,
               bn.spatialDims == 2 {
                let relu = i + 2 < layers.count && (layers[i + 2] as? Activation)?.kind == .relu
                steps.append((i, .convolution(conv, bn, relu: relu)))
                i += relu ? 3 : 2
            } else if let block = layers[i] as? BasicBlock {
                steps.append((i, .block(block)))
                i += 1
            } else {
                steps.append((i, .layer(layers[i])))
                i += 1
            }
        }
        return steps
    }()

    private lazy var convolutions: [Conv2d] = layers.flatMap { layer -> [Conv2d] in
        if let conv = layer as? Conv2d { return [conv] }
        if let block = layer as? BasicBlock { return block.convolutions }
        return []
    }

    /// Logits of `x` [B, inputShape…] in evaluation mode, through the inference plan above: `forward(x, training:
    /// false)` up to rounding (its bits without F(4×4)), with less memory and fewer passes. No `backward` may follow (nothing
    /// is saved for it). `weightsUnchanged` promises that the parameters are those of the previous call, so
    /// transformed weights are reused (Inference.predict passes it for every batch after the first).
    public func predict(_ x: Tensor, weightsUnchanged: Bool = false) -> Tensor {
        for conv in convolutions { conv.winogradWeightsCurrent = weightsUnchanged }
        defer { for conv in convolutions { conv.winogradWeightsCurrent = false } }
        var h = x
        for (first, step) in OneDNN.available ? oneDNNPlan : plan {
            let start = profile == nil ? 0 : monotonicSeconds()
            h = infer(step, h, weightsUnchanged: weightsUnchanged)
            if profile != nil { profile!["\(first) \(step.name) predict", default: 0] += monotonicSeconds() - start }
        }
        return h
    }

    private func infer(_ step: Step, _ x: Tensor, weightsUnchanged: Bool) -> Tensor {
        switch step {
        case .layer(let layer):
            return layer.forward(x, training: false)
        case .convolution(let conv, let bn, let relu):
            return conv.infer(x, affine: bn.evaluationAffine(), residual: nil, relu: relu)
        case .block(let block):
            return block.infer(x)
        case .oneDNN(let segment, let steps):
            if segment.failure == nil {
                do {
                    return try segment.run(x, weightsUnchanged: weightsUnchanged)
                } catch {
                    // oneDNN could not build or run this segment (an unsupported shape on this CPU): its steps run
                    // on the engine's own kernels from now on, with their own transformed weights.
                    segment.failure = "\(error)"
                    for conv in convolutions { conv.winogradWeightsCurrent = false }
                }
            }
            var h = x
            for step in steps { h = infer(step, h, weightsUnchanged: weightsUnchanged) }
            return h
        }
    }

    /// The inference plan with each run of convolutions, BasicBlocks and max-pools executed by oneDNN
    /// (OneDNNSegment). A run starts at a convolution or a block; ReLUs already folded into the convolution before
    /// them (Network.fuse) pass through; any other layer ends it.
    private lazy var oneDNNPlan: [(first: Int, step: Step)] = {
        var out: [(first: Int, step: Step)] = []
        var run: [(first: Int, step: Step)] = []
        var units: [SegmentUnit] = []
        func flush() {
            if !units.isEmpty { out.append((run[0].first, .oneDNN(OneDNNSegment(units), steps: run.map(\.step)))) }
            run = []
            units = []
        }
        for item in plan {
            switch item.step {
            case .convolution(let conv, let bn, let relu): units.append(.convolution(conv, bn, relu: relu))
            case .block(let block): units.append(.block(block))
            case .layer(let conv as Conv2d): units.append(.convolution(conv, nil, relu: conv.fusedReLU))
            case .layer(let relu as Activation) where relu.fused && !units.isEmpty: break
            case .layer(let pool as MaxPool2d) where !units.isEmpty: units.append(.maxPool(pool))
            default:
                flush()
                out.append(item)
                continue
            }
            run.append(item)
        }
        flush()
        return out
    }()

    /// Floats per example that `predict` keeps: the input, and each step's activations (Layer.inferenceActivations;
    /// a fused convolution keeps only its output).
    public var inferenceActivationsPerExample: Int {
        var shape = model.inputShape
        var total = shape.reduce(1, *)
        for (_, step) in plan {
            switch step {
            case .layer(let layer):
                total += layer.inferenceActivations(for: shape)
                shape = (try? layer.outputShape(for: shape)) ?? shape
            case .convolution(let conv, _, _):
                shape = (try? conv.outputShape(for: shape)) ?? shape
                total += shape.reduce(1, *)
            case .block(let block):
                total += block.inferenceActivations(for: shape)
                shape = (try? block.outputShape(for: shape)) ?? shape
            case .oneDNN: preconditionFailure("the plan has no oneDNN segments; oneDNNPlan does")
            }
        }
        return total
    }

    /// Accumulates parameter gradients from ∂L/∂logits; returns ∂L/∂x only when asked (for input attacks).
    @discardableResult
    public func backward(_ dLogits: Tensor, needsInputGradient: Bool = false) -> Tensor? {
        var g: Tensor? = dLogits
        for (i, layer) in layers.enumerated().reversed() where i >= firstLayer {
            guard let dy = g else { break }
            let start = profile == nil ? 0 : monotonicSeconds()
            // An input gradient is only worth computing when a layer before this one has parameters to train (the
            // mlp's first Linear follows a Flatten: its 784-wide input gradient would go nowhere).
            g = layer.backward(dy, needsInputGradient: i > max(firstTrainable, firstLayer) || needsInputGradient)
            if profile != nil { profile!["\(i) \(type(of: layer)) backward", default: 0] += monotonicSeconds() - start }
        }
        return g
    }

    /// Sets every gradient to 0, before a step's backward passes accumulate.
    public func zeroGradients() {
        let gradients = self.gradients
        Parallel.forEachChunk(model.parameterCount, minimumChunk: 1 << 16) { r in
            (gradients + r.lowerBound).update(repeating: 0, count: r.count)
        }
    }
}
