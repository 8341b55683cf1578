// SGD with momentum and weight decay, PyTorch semantics, as one flat loop over the parameter buffer:
//   g ← g + wd·θ;  v ← μ·v + g (v = g on the first step);  θ ← θ − lr·v

public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private let count: Int
    private let velocity: UnsafeMutablePointer<Float>
    private var started = false

    public init(parameterCount: Int, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.count = parameterCount
        velocity = .allocate(capacity: max(1, parameterCount))
        velocity.initialize(repeating: 0, count: max(1, parameterCount))
    }

    deinit { velocity.deallocate() }

    public func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>) {
        let lr = learningRate, mu = momentum, wd = weightDecay
        if mu == 0 {
            for i in 0..<count { parameters[i] -= lr * (gradients[i] + wd * parameters[i]) }
            return
        }
        if !started {
            for i in 0..<count { velocity[i] = gradients[i] + wd * parameters[i] }
            started = true
        } else {
            for i in 0..<count { velocity[i] = mu * velocity[i] + gradients[i] + wd * parameters[i] }
        }
        for i in 0..<count { parameters[i] -= lr * velocity[i] }
    }
}

/// Learning-rate schedules, evaluated per epoch as PyTorch's schedulers stepped once per epoch.
public enum Schedule: String, Codable, Sendable, CaseIterable {
    case constant
    /// CosineAnnealingLR(T_max = epochs): lr·(1 + cos(π·e/E))/2 for epoch e = 0…E−1.
    case cosine

    public func learningRate(base: Float, epoch: Int, epochs: Int) -> Float {
        switch self {
        case .constant: return base
        case .cosine: return base * Float((1 + _cosine(Double.pi * Double(epoch) / Double(max(epochs, 1)))) / 2)
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _cosine(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Darwin
private func _cosine(_ x: Double) -> Double { Darwin.cos(x) }
#endif
