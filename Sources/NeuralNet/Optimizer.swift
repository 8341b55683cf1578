// Optimizers as single flat loops over the model's parameter buffer, with PyTorch's update rules.
//   SGD:   g ← g + wd·θ;  v ← μ·v + g (v = g on the first step);  step = nesterov ? g + μ·v : v;  θ ← θ − lr·step
//   Adam:  g ← g + wd·θ;  m ← β1·m + (1−β1)·g;  s ← β2·s + (1−β2)·g²;  θ ← θ − lr·m̂/(√ŝ + ε)
//   AdamW: θ ← θ·(1 − lr·wd), then Adam without the L2 term.
// A frozen mask (0 = frozen) leaves those parameters exactly as they are, weight decay included.

import Tensor

/// An optimizer: one flat update of the whole parameter buffer from its gradients, with PyTorch's rules.
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, frozen: UnsafePointer<Float>?)
}

extension Optimizer {
    /// One step with no parameter frozen.
    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>) {
        step(parameters: parameters, gradients: gradients, frozen: nil)
    }
}

/// SGD with PyTorch's rule: L2 weight decay, momentum (v = g on the first step), optionally Nesterov.
public final class SGD: Optimizer {
    /// Step size; the training loop sets it from the schedule before each step.
    public var learningRate: Float
    /// Momentum μ (0: plain SGD), L2 weight decay added to the gradient, and whether the step is Nesterov's g + μ·v.
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    private let count: Int
    private let velocity: UnsafeMutablePointer<Float>
    private var started = false

    public init(parameterCount: Int, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.count = parameterCount
        velocity = .allocate(capacity: max(1, parameterCount))
        velocity.initialize(repeating: 0, count: max(1, parameterCount))
    }

    deinit { velocity.deallocate() }

    /// θ ← θ − lr·step (see the file header); a 0 in `frozen` leaves that parameter, and its decay, untouched.
    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, frozen: UnsafePointer<Float>?) {
        let lr = learningRate, mu = momentum, wd = weightDecay, first = !started, nesterov = self.nesterov, v = velocity
        started = true
        // Branch-free loop bodies, one per case, so each vectorises; a frozen mask scales the whole update
        // (0 leaves the parameter exactly as it was).
        Parallel.forEachChunk(count, minimumChunk: 1 << 16) { r in
            switch (mu == 0, frozen) {
            case (true, nil):
                for i in r { p[i] -= lr * (g[i] + wd * p[i]) }
            case (true, let f?):
                for i in r { p[i] -= f[i] * lr * (g[i] + wd * p[i]) }
            case (false, let f):
                let keep: Float = first ? 0 : mu  // v = g on the first step
                // update = v (classical) or g + μ·v (Nesterov), as a·v + b·g
                let a: Float = nesterov ? mu : 1, b: Float = nesterov ? 1 : 0
                if let f {
                    for i in r {
                        let grad = g[i] + wd * p[i]
                        let vi = keep * v[i] + grad
                        v[i] = vi
                        p[i] -= f[i] * lr * (a * vi + b * grad)
                    }
                } else {
                    for i in r {
                        let grad = g[i] + wd * p[i]
                        let vi = keep * v[i] + grad
                        v[i] = vi
                        p[i] -= lr * (a * vi + b * grad)
                    }
                }
            }
        }
    }
}

/// Adam (or AdamW, when `decoupled`) with PyTorch's rule and bias correction.
public final class Adam: Optimizer {
    /// Step size; the training loop sets it from the schedule before each step.
    public var learningRate: Float
    /// Moment decay rates β1 and β2, ε in the denominator, and the weight decay (L2, or decoupled for AdamW).
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    /// AdamW: decoupled weight decay instead of the L2 term.
    public let decoupled: Bool
    private let count: Int
    private let m: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>
    private var t = 0

    public init(parameterCount: Int, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        count = parameterCount
        m = .allocate(capacity: max(1, parameterCount))
        s = .allocate(capacity: max(1, parameterCount))
        m.initialize(repeating: 0, count: max(1, parameterCount))
        s.initialize(repeating: 0, count: max(1, parameterCount))
    }

    deinit {
        m.deallocate()
        s.deallocate()
    }

    /// θ ← θ − lr·m̂/(√ŝ + ε) (AdamW: after θ·(1 − lr·wd)); a 0 in `frozen` leaves that parameter as it is.
    public func step(parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, frozen: UnsafePointer<Float>?) {
        t += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = epsilon, wd = weightDecay, decoupled = self.decoupled
        let c1 = 1 - powf(b1, Float(t)), c2 = 1 - powf(b2, Float(t))
        let m = self.m, s = self.s
        // Decoupled decay shrinks θ by (1 − lr·wd); L2 decay adds wd·θ to the gradient. Branch-free bodies vectorise.
        let shrink: Float = decoupled ? 1 - lr * wd : 1, l2: Float = decoupled ? 0 : wd
        Parallel.forEachChunk(count, minimumChunk: 1 << 16) { r in
            for i in r {
                let f: Float = frozen?[i] ?? 1
                let theta = p[i]
                let grad = g[i] + l2 * theta
                let mi = b1 * m[i] + (1 - b1) * grad
                let si = b2 * s[i] + (1 - b2) * grad * grad
                m[i] = mi
                s[i] = si
                let updated = theta * shrink - lr * (mi / c1) / ((si / c2).squareRoot() + eps)
                p[i] = f == 0 ? theta : updated
            }
        }
    }
}

/// Operations on a gradient buffer between backward and the optimizer step: norm clipping and masking.
public enum GradientTools {
    /// Scales gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_);
    /// returns the norm before clipping.
    @discardableResult
    public static func clipNorm(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Float) -> Float {
        var sum = 0.0
        for i in 0..<count { sum += Double(g[i]) * Double(g[i]) }
        let norm = Float(sum.squareRoot())
        let scale = maxNorm / (norm + 1e-6)
        if scale < 1 { for i in 0..<count { g[i] *= scale } }
        return norm
    }

    /// g ← g ⊙ mask (SalUn's saliency mask multiplies the gradients before the optimizer step).
    public static func applyMask(_ g: UnsafeMutablePointer<Float>, _ mask: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { g[i] *= mask[i] }
    }
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
