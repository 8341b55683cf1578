// Learning-rate schedules with optional linear warm-up, stepped per epoch (PyTorch schedulers stepped once per
// epoch) or per optimizer step.

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A learning-rate schedule (constant, step or cosine) with optional linear warm-up, stepped per epoch or per optimizer step.
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    /// The schedule's shape after warm-up.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case constant
        /// StepLR: lr·γ^⌊t/stepSize⌋.
        case step
        /// CosineAnnealingLR(T_max = the schedule's length): lr·(1 + cos(π·t/T))/2.
        case cosine
    }

    /// Constant, StepLR or cosine annealing.
    public var kind: Kind
    /// Step the schedule after every optimizer step instead of every epoch.
    public var perStep: Bool
    /// Linear warm-up over this many units (epochs, or steps when perStep): lr·(t+1)/warmup.
    public var warmup: Int
    /// StepLR: units between decays.
    public var stepSize: Int
    /// StepLR: the factor applied at each decay.
    public var gamma: Float

    public init(kind: Kind = .constant, perStep: Bool = false, warmup: Int = 0, stepSize: Int = 30, gamma: Float = 0.1) {
        self.kind = kind
        self.perStep = perStep
        self.warmup = warmup
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// The base learning rate throughout.
    public static let constant = LearningRateSchedule()
    /// Cosine annealing over the whole run, stepped per epoch, without warm-up.
    public static let cosine = LearningRateSchedule(kind: .cosine)

    /// The learning rate at time t (0-based) of `total` units.
    public func learningRate(base: Float, at t: Int, of total: Int) -> Float {
        if t < warmup { return base * Float(t + 1) / Float(warmup) }
        let u = t - warmup, length = max(total - warmup, 1)
        switch kind {
        case .constant: return base
        case .step: return base * powf(gamma, Float(u / max(stepSize, 1)))
        case .cosine: return base * Float((1 + cos(Double.pi * Double(u) / Double(length))) / 2)
        }
    }
}
