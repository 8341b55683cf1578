// Splits: named index sets over a dataset. retain and forget partition the training part; validation and test
// partition the test part, which the NeurIPS 2023 starting kit halves at random.
import Tensor

/// The named index sets of one split: retain and forget partition the training part, validation and test the test part.
public struct Split: Sendable {
    /// Training examples to keep: every one not in `forget` (indices into dataset.train).
    public let retain: [Int]  // indices into dataset.train
    /// Training examples to unlearn (indices into dataset.train).
    public let forget: [Int]  // indices into dataset.train
    /// The validation part of the test part (`validationFraction` of it, half by default; indices into dataset.test).
    public let validation: [Int]  // indices into dataset.test
    /// The rest of the test part (indices into dataset.test).
    public let test: [Int]  // indices into dataset.test

    public init(retain: [Int], forget: [Int], validation: [Int], test: [Int]) {
        self.retain = retain
        self.forget = forget
        self.validation = validation
        self.test = test
    }
}

/// How the forget set is chosen (ForgetSets.swift draws it).
public enum ForgetSelection: Sendable {
    /// A uniformly random fraction of the training part, rounded to the nearest count.
    case fraction(Double)
    /// A uniformly random number of training examples.
    case count(Int)
    /// Every training example of these classes.
    case classes([Int])
    /// Exactly these training indices (inline, or from an `.npy` file such as the starting kit's forget_idx.npy).
    case indices([Int])
    /// Every training example whose group id is listed.
    case groups([Int])
    /// Every training example of this many groups drawn at random.
    case randomGroups(Int)
}

/// Builds splits: draws the forget set and halves the test part, from a seed.
public enum SplitBuilder {
    /// Draws the forget set and the validation/test halves from `seed`.
    /// `validationFraction` of the test part goes to validation (0.5: the starting kit's halving).
    public static func make(
        dataset: Dataset, forget selection: ForgetSelection, validationFraction: Double = 0.5, seed: UInt64
    ) throws -> Split {
        let n = dataset.train.count
        var rng = SeededGenerator(seed: seed)
        var forgetRNG = rng.fork()
        var testRNG = rng.fork()
        let forget = try selection.select(from: dataset, rng: &forgetRNG)
        guard !forget.isEmpty else { throw SplitError("the forget set would be empty") }
        guard forget.count < n else { throw SplitError("the retain set would be empty: the forget set holds all \(n) training examples") }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw SplitError("validationFraction must be in [0, 1), got \(validationFraction)")
        }
        var inForget = [Bool](repeating: false, count: n)
        for i in forget { inForget[i] = true }
        let retain = (0..<n).filter { !inForget[$0] }
        let testOrder = testRNG.permutation(dataset.test.count)
        let validationCount = Int((validationFraction * Double(dataset.test.count)).rounded())
        return Split(retain: retain, forget: forget, validation: testOrder[..<validationCount].sorted(),
                     test: testOrder[validationCount...].sorted())
    }
}

/// A split that cannot be built (an empty forget or retain set, a bad index or fraction), with the reason.
public struct SplitError: Error, CustomStringConvertible, Sendable {
    /// The reason, as one line.
    public let description: String
    public init(_ description: String) { self.description = description }
}
