// torchvision's ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut is
// the identity, or downsample = conv1×1(stride) + BatchNorm when the shape changes.
import Tensor

/// torchvision's ResNet BasicBlock: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut identity or downsample.
public final class BasicBlock: Composite, Layer {
    /// Input channels, output channels, and the first convolution's (and downsample's) stride.
    public let inPlanes: Int, planes: Int, stride: Int
    private let conv1: Conv2d, bn1: BatchNorm  // bn1 applies the first ReLU (BatchNorm.fusedReLU)
    private let conv2: Conv2d, bn2: BatchNorm
    private let downsample: (conv: Conv2d, bn: BatchNorm)?
    private var out: Tensor?  // [B, planes, Ho, Wo]: relu(main path + shortcut), summed in place into bn2's output
    private let dInput = Tensor(shape: [0])  // [B, inPlanes, H, W]

    public init(inPlanes: Int, planes: Int, stride: Int) {
        self.inPlanes = inPlanes
        self.planes = planes
        self.stride = stride
        conv1 = Conv2d(inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1, bias: false,
                       initialization: .kaimingNormalFanOut)
        bn1 = BatchNorm(features: planes, spatialDims: 2)
        bn1.fusedReLU = true
        conv2 = Conv2d(inChannels: planes, outChannels: planes, kernel: 3, stride: 1, padding: 1, bias: false,
                       initialization: .kaimingNormalFanOut)
        bn2 = BatchNorm(features: planes, spatialDims: 2)
        if stride != 1 || inPlanes != planes {
            downsample = (Conv2d(inChannels: inPlanes, outChannels: planes, kernel: 1, stride: stride, bias: false,
                                 initialization: .kaimingNormalFanOut), BatchNorm(features: planes, spatialDims: 2))
        } else {
            downsample = nil
        }
        var children: [(name: String, layer: Layer)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let downsample { children += [("downsample.0", downsample.conv), ("downsample.1", downsample.bn)] }
        super.init(children: children)
    }

    /// [planes, Ho, Wo]: conv1's output shape (the stride applies there), checked through conv2.
    public func outputShape(for s: [Int]) throws -> [Int] {
        let out = try conv1.outputShape(for: s)
        _ = try conv2.outputShape(for: out)
        return out
    }

    /// Both 3×3 convolutions' multiply-adds plus the downsample's.
    public func multiplyAdds(for s: [Int]) -> Int {
        guard let out = try? conv1.outputShape(for: s) else { return 0 }
        return conv1.multiplyAdds(for: s) + conv2.multiplyAdds(for: out) + (downsample?.conv.multiplyAdds(for: s) ?? 0)
    }

    /// out = relu(main path + shortcut) of x [B, inPlanes, H, W] → [B, planes, Ho, Wo]; every sublayer caches what
    /// backward needs. Both ReLUs are folded: the first into bn1, the last into the sum (the same values as separate
    /// ReLU layers, two tensors and four passes over memory fewer).
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        var h = conv1.forward(x, training: training)
        h = bn1.forward(h, training: training)
        h = conv2.forward(h, training: training)
        h = bn2.forward(h, training: training)
        var shortcut = x
        if let downsample { shortcut = downsample.bn.forward(downsample.conv.forward(x, training: training), training: training) }
        // bn2's output is read by nothing after this (its backward needs x̂, not its output): the sum goes in place.
        let a = h.data, b = shortcut.data
        Parallel.forEachChunk(h.count, minimumChunk: 1 << 15) { r in
            Conv2d.addResidual(a + r.lowerBound, b + r.lowerBound, r.count, relu: true)
        }
        out = h
        return h
    }

    /// Inference only (Network.predict): each BatchNorm, the sum and both ReLUs folded into the convolutions'
    /// output passes — relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut) — with the bits of `forward(training: false)`
    /// and two or three activation tensors instead of nine to twelve. No backward pass may follow.
    func infer(_ x: Tensor) -> Tensor {
        let h = conv1.infer(x, affine: bn1.evaluationAffine(), residual: nil, relu: true)
        var shortcut = x
        if let downsample { shortcut = downsample.conv.infer(x, affine: downsample.bn.evaluationAffine(), residual: nil, relu: false) }
        return conv2.infer(h, affine: bn2.evaluationAffine(), residual: shortcut, relu: true)
    }

    /// Floats per example that `infer` keeps: both convolutions' outputs and the downsample's.
    public func inferenceActivations(for s: [Int]) -> Int {
        guard let out = try? outputShape(for: s) else { return 0 }
        return out.reduce(1, *) * (downsample == nil ? 2 : 3)
    }

    /// The block's layers, for inference plans that run them elsewhere (OneDNNSegment).
    var parts: (conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm, downsample: (conv: Conv2d, bn: BatchNorm)?) {
        (conv1, bn1, conv2, bn2, downsample)
    }

    var convolutions: [Conv2d] { [conv1, conv2] + (downsample.map { [$0.conv] } ?? []) }

    /// Back through the last ReLU (dy masked in place: it is this layer's to consume), then both paths; dx
    /// [B, inPlanes, H, W] is their sum (nil when not needed).
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard let out else { preconditionFailure("BasicBlock.backward before forward") }
        let d = dy.data, s = out.data
        Parallel.forEachChunk(dy.count, minimumChunk: 1 << 15) { r in Kernels.reluBackward(s + r.lowerBound, d + r.lowerBound, d + r.lowerBound, r.count) }
        let dSum = dy
        // Main path (bn1 masks by the first ReLU).
        var g = bn2.backward(dSum, needsInputGradient: true)!
        g = conv2.backward(g, needsInputGradient: true)!
        g = bn1.backward(g, needsInputGradient: true)!
        let dMain = conv1.backward(g, needsInputGradient: needsInputGradient)
        // Shortcut.
        var dShortcut: Tensor? = dSum
        if let downsample {
            let d = downsample.bn.backward(dSum, needsInputGradient: true)!
            dShortcut = downsample.conv.backward(d, needsInputGradient: needsInputGradient)
        }
        guard needsInputGradient, let dMain, let dShortcut else { return nil }
        dInput.resize(dMain.shape)
        let n = dMain.count, a = dMain.data, b = dShortcut.data, o = dInput.data
        Parallel.forEachChunk(n, minimumChunk: 1 << 15) { r in for i in r { o[i] = a[i] + b[i] } }
        return dInput
    }
}
