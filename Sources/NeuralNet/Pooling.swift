// MaxPool2d, AvgPool2d (count_include_pad, as PyTorch's default) and AdaptiveAvgPool2d to 1×1. No parameters.
import Tensor

/// MaxPool2d, PyTorch semantics: the maximum of each window per channel (NaN propagates). No parameters.
public final class MaxPool2d: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    /// Window size (square), step between windows (default: the kernel), and padding (at most half the kernel).
    public let kernel: Int, stride: Int, padding: Int
    private var inputShape: [Int] = []
    private var argmax: [Int32] = []  // [B, C, Ho, Wo]: index of the winner within its input plane
    private let output = Tensor(shape: [0])  // [B, C, Ho, Wo]
    private let dInput = Tensor(shape: [0])  // [B, C, H, W]

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    /// [C, Ho, Wo] for a [C, H, W] input; throws for another rank, padding over half the kernel, or too small an image.
    public func outputShape(for s: [Int]) throws -> [Int] {
        let name = "MaxPool2d(kernel \(kernel), stride \(stride), padding \(padding))"
        guard padding * 2 <= kernel else { throw ShapeError(layer: name, expected: "padding at most half the kernel", got: s) }
        return try pooledShape(s, name: name, kernel: kernel, stride: stride, padding: padding)
    }

    /// The output and the winners' indices (Int32, one per output).
    public func inferenceActivations(for s: [Int]) -> Int { 2 * ((try? outputShape(for: s)) ?? s).reduce(1, *) }

    /// out [B, C, Ho, Wo] = the max of each window of x [B, C, H, W]; keeps each winner's index for backward.
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        output.resize([b, c, ho, wo])
        if argmax.count < b * c * ho * wo { argmax = [Int32](repeating: 0, count: b * c * ho * wo) }
        let xin = x.data, y = output.data, kernel = self.kernel, stride = self.stride, padding = self.padding
        argmax.withUnsafeMutableBufferPointer { idx in
            let idx = idx.baseAddress!
            if kernel == 2 && stride == 2 && padding == 0 {
                // The common 2×2 pooling, without bounds checks: every window lies inside the image.
                Parallel.forEach(b * c) { plane in
                    let src = xin + plane * h * w
                    for oh in 0..<ho {
                        let r0 = src + 2 * oh * w, r1 = r0 + w
                        let o = (plane * ho + oh) * wo
                        for ow in 0..<wo {
                            let j = 2 * ow
                            var best = r0[j], at = 2 * oh * w + j
                            if r0[j + 1] > best { best = r0[j + 1]; at += 1 }
                            if r1[j] > best { best = r1[j]; at = (2 * oh + 1) * w + j }
                            if r1[j + 1] > best { best = r1[j + 1]; at = (2 * oh + 1) * w + j + 1 }
                            y[o + ow] = best
                            idx[o + ow] = Int32(at)
                        }
                    }
                }
                return
            }
            Parallel.forEach(b * c) { plane in
                let src = xin + plane * h * w
                for oh in 0..<ho {
                    for ow in 0..<wo {
                        var best = -Float.infinity, bestIndex = -1
                        for ki in 0..<kernel {
                            let ih = oh * stride - padding + ki
                            if ih < 0 || ih >= h { continue }
                            for kj in 0..<kernel {
                                let iw = ow * stride - padding + kj
                                if iw < 0 || iw >= w { continue }
                                let v = src[ih * w + iw]
                                // NaN propagates, as in PyTorch.
                                if v > best || v.isNaN || bestIndex < 0 { best = v; bestIndex = ih * w + iw; if v.isNaN { break } }
                            }
                        }
                        let o = (plane * ho + oh) * wo + ow
                        y[o] = best
                        idx[o] = Int32(bestIndex)
                    }
                }
            }
        }
        return output
    }

    /// dx [B, C, H, W]: each dy routed to its window's winner (summed where windows share one); nil when not needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        dInput.resize(inputShape)
        let (h, w) = (inputShape[2], inputShape[3])
        let per = dy.shape[2] * dy.shape[3]
        let planes = dy.shape[0] * dy.shape[1]
        let dx = dInput.data, d = dy.data
        argmax.withUnsafeBufferPointer { idx in
            let idx = idx.baseAddress!
            Parallel.forEach(planes) { plane in
                // Each plane is cleared by the worker that fills it: split over the threads and still in cache.
                let dst = dx + plane * h * w
                dst.update(repeating: 0, count: h * w)
                for i in (plane * per)..<((plane + 1) * per) { dst[Int(idx[i])] += d[i] }
            }
        }
        return dInput
    }
}

/// AvgPool2d, PyTorch's default count_include_pad: the sum of each window's pixels inside the image over kernel². No parameters.
public final class AvgPool2d: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    /// Window size (square), step between windows (default: the kernel), and zero padding.
    public let kernel: Int, stride: Int, padding: Int
    private var inputShape: [Int] = []
    private let output = Tensor(shape: [0])  // [B, C, Ho, Wo]
    private let dInput = Tensor(shape: [0])  // [B, C, H, W]

    public init(kernel: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding
    }

    /// [C, Ho, Wo] for a [C, H, W] input; throws for another rank or an image smaller than the window.
    public func outputShape(for s: [Int]) throws -> [Int] {
        try pooledShape(s, name: "AvgPool2d(kernel \(kernel), stride \(stride), padding \(padding))", kernel: kernel,
                        stride: stride, padding: padding)
    }

    /// Calls body(outputIndex, inputIndex) for every window element inside the image.
    @inline(__always)
    private func windows(_ h: Int, _ w: Int, _ ho: Int, _ wo: Int, _ body: (Int, Int) -> Void) {
        for oh in 0..<ho {
            for ow in 0..<wo {
                for ki in 0..<kernel {
                    let ih = oh * stride - padding + ki
                    if ih < 0 || ih >= h { continue }
                    for kj in 0..<kernel {
                        let iw = ow * stride - padding + kj
                        if iw >= 0 && iw < w { body(oh * wo + ow, ih * w + iw) }
                    }
                }
            }
        }
    }

    /// out [B, C, Ho, Wo] = each window's sum over kernel² (padding counts as zeros).
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ho = (h + 2 * padding - kernel) / stride + 1, wo = (w + 2 * padding - kernel) / stride + 1
        output.resize([b, c, ho, wo])
        output.zero()
        let scale = 1 / Float(kernel * kernel)
        let xin = x.data, y = output.data
        Parallel.forEach(b * c) { plane in
            let src = xin + plane * h * w, dst = y + plane * ho * wo
            self.windows(h, w, ho, wo) { o, i in dst[o] += src[i] * scale }
        }
        return output
    }

    /// dx [B, C, H, W]: each dy spread over its window's pixels, / kernel²; nil when not needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        dInput.resize(inputShape)
        dInput.zero()
        let (h, w, ho, wo) = (inputShape[2], inputShape[3], dy.shape[2], dy.shape[3])
        let scale = 1 / Float(kernel * kernel)
        let dx = dInput.data, d = dy.data
        Parallel.forEach(dy.shape[0] * dy.shape[1]) { plane in
            let src = d + plane * ho * wo, dst = dx + plane * h * w
            self.windows(h, w, ho, wo) { o, i in dst[i] += src[o] * scale }
        }
        return dInput
    }
}

/// AdaptiveAvgPool2d(1): the mean of each channel's plane. [B, C, H, W] → [B, C, 1, 1]
public final class GlobalAvgPool: Layer {
    /// Yes: each example's output depends on that example alone, the same in training and evaluation.
    public var isPerExampleFunction: Bool { true }
    private var inputShape: [Int] = []
    private let output = Tensor(shape: [0])  // [B, C, 1, 1]
    private let dInput = Tensor(shape: [0])  // [B, C, H, W]

    public init() {}

    /// [C, 1, 1] for a [C, H, W] input; throws for another rank.
    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw ShapeError(layer: "AdaptiveAvgPool2d(1)", expected: "[C, H, W]", got: s) }
        return [s[0], 1, 1]
    }

    /// out [B, C, 1, 1] = the mean of each channel's plane of x [B, C, H, W].
    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        inputShape = x.shape
        let planes = x.shape[0] * x.shape[1], hw = x.shape[2] * x.shape[3]
        output.resize([x.shape[0], x.shape[1], 1, 1])
        for p in 0..<planes { output[p] = Kernels.sum(x.data + p * hw, hw) / Float(hw) }
        return output
    }

    /// dx [B, C, H, W] = dy / (H·W) over each plane; nil when not needed.
    public func backward(_ dy: Tensor, needsInputGradient: Bool) -> Tensor? {
        guard needsInputGradient else { return nil }
        dInput.resize(inputShape)
        let hw = inputShape[2] * inputShape[3]
        for p in 0..<dy.count {
            let g = dy[p] / Float(hw)
            (dInput.data + p * hw).update(repeating: g, count: hw)
        }
        return dInput
    }
}

/// [C, H, W] → [C, Ho, Wo] for a pooling window, or a ShapeError naming the layer.
private func pooledShape(_ s: [Int], name: String, kernel: Int, stride: Int, padding: Int) throws -> [Int] {
    guard s.count == 3 else { throw ShapeError(layer: name, expected: "[C, H, W]", got: s) }
    let ho = (s[1] + 2 * padding - kernel) / stride + 1, wo = (s[2] + 2 * padding - kernel) / stride + 1
    guard ho >= 1, wo >= 1 else { throw ShapeError(layer: name, expected: "at least \(kernel)×\(kernel) pixels", got: s) }
    return [s[0], ho, wo]
}
