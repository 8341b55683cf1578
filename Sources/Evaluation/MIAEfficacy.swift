// SalUn's membership-inference "MIA-efficacy" (Fan et al., "SalUn: Empowering Machine Unlearning via Gradient-based
// Weight Saliency in Both Image Classification and Generation", ICLR 2024; the same code as Jia et al., "Model
// Sparsity Can Simplify Machine Unlearning", NeurIPS 2023). Reference: OPTML-Group/Unlearn-Saliency,
// Classification/evaluation/SVC_MIA.py (SVC_MIA, SVC_fit_predict, entropy, m_entropy), called by
// Classification/main_forget.py and main_random.py with shadow_train = the first |test| retain examples
// (`list(range(test_len))`), shadow_test = test, target_train = None, target_test = forget.
//
// Per example, five features of the softmax output p (float32, as torch computes it) and label y:
//   correctness  argmax p == y (the first maximum on ties, as torch.argmax), 0 or 1
//   confidence   p_y
//   entropy      −Σ_j p_j log p_j over p_j > 0
//   m_entropy    see below
//   prob         p itself
// For each feature one RBF SVC (C = 3, gamma "auto" = 1/features, sklearn's other defaults) is fitted on the
// shadow rows, members (1) then non-members (0), and applied to forget; the efficacy is 1 − mean(prediction), the
// fraction of forget predicted non-member: high means the model treats the forget set as unseen. The SVC is libsvm,
// the library scikit-learn's SVC wraps (SVM.swift).
//
// Where the code differs from its description, the code is followed:
// - m_entropy is not Song & Mittal's modified entropy (USENIX Security 2021),
//   Mentr = −(1 − p_y) log p_y − Σ_{j≠y} p_j log(1 − p_j). The reference's log_reverse_prob is log p (its
//   torch.where takes p.log(), not (1 − p).log()), and `modified_probs[:, labels] = reverse_prob[:, labels]`
//   indexes columns with the whole set's label vector, so for every row it replaces every column that is the label
//   of any example of the same set. With S = the set's distinct labels and ℓ_j = log p_j (log 1e-30 where p_j = 0),
//   each set's rows get −Σ_{j∈S} (1 − p_j) ℓ_j − Σ_{j∉S} p_j ℓ_j. Once a set covers every class (any realistic set)
//   that is −Σ_j (1 − p_j) log p_j, the same for every example whatever its label; S is taken per set (retain rows
//   used, test, forget) as the reference's three calls do.
// - The headline is the confidence feature. SVC_MIA returns all five features and chooses none; the tables'
//   "MIA-Efficacy" is described as the prediction-confidence-based predictor (Jia et al., appendix on MIA-Efficacy,
//   which SalUn adopts), and Unlearn-Sparse's export script (OPTML-Group/Unlearn-Sparse, export_evaluations.py)
//   prints `MIA_confidence` as its MIA figure, next to retain accuracy (with `MIA_entropy`); the other four are
//   kept in `perFeature`.
// - With fewer than |test| retain rows the reference fails (its Subset indexes past the retain set); here all of
//   them are used and the result says so (`retainShort`).
// Float32 evaluation here: softmax as Predictions.probabilities computes it (e / Σe), sums over classes left to
// right, logf; torch's vectorised kernels can round the last bit differently, enough at most to flip a point
// lying on an SVC's boundary.
import Dispatch
import NeuralNet

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One feature of SalUn's attack; the raw value is the reference's key in its result dictionary.
public enum MIAEfficacyFeature: String, CaseIterable, Sendable {
    /// Whether the prediction is right (0 or 1).
    case correctness
    /// The probability of the true label.
    case confidence
    /// The entropy of the output distribution.
    case entropy
    /// The reference's modified entropy (not Song & Mittal's; see MIAEfficacy.swift's header).
    case mEntropy = "m_entropy"
    /// The whole probability vector.
    case prob
}

/// Why the attack could not run.
public enum MIAEfficacyError: Error, CustomStringConvertible, Equatable {
    /// A set (named "retain", "test" or "forget") has no examples.
    case emptySet(String)
    /// The sets disagree on the number of classes.
    case classCountMismatch(retain: Int, test: Int, forget: Int)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .emptySet(let name): return "MIA-efficacy needs a non-empty \(name) set"
        case .classCountMismatch(let r, let t, let f):
            return "MIA-efficacy: retain has \(r) classes, test \(t), forget \(f)"
        }
    }
}

/// What SalUn's MIA-efficacy attack measured.
public struct MIAEfficacyResult: Sendable {
    /// The headline: the fraction of forget predicted non-member by the confidence feature's SVC (what SalUn's
    /// tables report as MIA-Efficacy). Higher means the forget set looks more unseen.
    public let efficacy: Double
    /// The feature behind `efficacy` (confidence).
    public let headline: MIAEfficacyFeature
    /// Each feature's efficacy, keyed by the reference's names: "correctness", "confidence", "entropy",
    /// "m_entropy", "prob".
    public let perFeature: [String: Double]
    /// Each feature's prediction for every forget example, in forget order (true = predicted member), keyed as
    /// `perFeature`.
    public let forgetPredictedMember: [String: [Bool]]
    /// Each feature's support-vector count, keyed as `perFeature`.
    public let supportVectors: [String: Int]
    /// Retain examples the SVCs were fitted on as members: the first |test| of them, or all when there are fewer.
    public let members: Int
    /// Test examples the SVCs were fitted on as non-members (all of them).
    public let nonMembers: Int
    /// Forget examples the SVCs classified (all of them).
    public let forget: Int
    /// True when retain had fewer than |test| examples and all were used (the reference would fail there).
    public let retainShort: Bool
    /// Wall-clock seconds for the features, the five fits and the predictions.
    public let seconds: Double
}

/// SalUn's MIA-efficacy: one SVC per output feature, fitted on retain (members) vs test (non-members), applied
/// to forget.
public enum MIAEfficacy {
    /// The SVC's penalty, as the reference's `SVC(C=3, gamma="auto", kernel="rbf")`.
    public static let c = 3.0
    /// The feature SalUn's tables report.
    public static let headline = MIAEfficacyFeature.confidence

    /// Runs the attack on a model's outputs for retain, test and forget. Retain is cut to its first |test| rows, as
    /// the reference does. `features` chooses the SVCs fitted (all five by default; it must include the headline);
    /// the fits are independent and run on up to `threads` threads, with the same results for any count.
    public static func run(retain: Predictions, test: Predictions, forget: Predictions,
                           features chosen: [MIAEfficacyFeature] = MIAEfficacyFeature.allCases,
                           threads: Int = 1) throws -> MIAEfficacyResult {
        precondition(chosen.contains(headline), "MIA-efficacy's features must include the headline (\(headline.rawValue))")
        let start = monotonicSeconds()
        for (name, set) in [("retain", retain), ("test", test), ("forget", forget)] where set.count == 0 {
            throw MIAEfficacyError.emptySet(name)
        }
        guard retain.classCount == test.classCount, test.classCount == forget.classCount else {
            throw MIAEfficacyError.classCountMismatch(retain: retain.classCount, test: test.classCount,
                                                      forget: forget.classCount)
        }
        let members = min(retain.count, test.count)
        let shadowIn = features(of: retain, rows: members)
        let shadowOut = features(of: test, rows: test.count)
        let target = features(of: forget, rows: forget.count)
        let labels = [Int](repeating: 1, count: members) + [Int](repeating: 0, count: test.count)
        var fits = [Result<(member: [Bool], supportVectors: Int), Error>?](repeating: nil, count: chosen.count)
        fits.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            DispatchQueue.concurrentPerform(iterations: max(1, min(threads, chosen.count))) { worker in
                for i in stride(from: worker, to: chosen.count, by: max(1, min(threads, chosen.count))) {
                    let feature = chosen[i]
                    (base + i).pointee = Result {
                        let svm = try RBFSupportVectorClassifier(rows: shadowIn[feature]! + shadowOut[feature]!, labels: labels, c: c)
                        return (svm.predict(target[feature]!).map { $0 == 1 }, svm.supportVectorCount)
                    }
                }
            }
        }
        var efficacies: [String: Double] = [:]
        var predictions: [String: [Bool]] = [:]
        var supportVectors: [String: Int] = [:]
        for (feature, fit) in zip(chosen, fits) {
            let (member, count) = try fit!.get()
            // As the reference rounds it: 1 − mean(prediction), not (non-members) / n.
            efficacies[feature.rawValue] = 1 - Double(member.lazy.filter { $0 }.count) / Double(member.count)
            predictions[feature.rawValue] = member
            supportVectors[feature.rawValue] = count
        }
        return MIAEfficacyResult(efficacy: efficacies[headline.rawValue]!, headline: headline, perFeature: efficacies,
                                 forgetPredictedMember: predictions, supportVectors: supportVectors, members: members,
                                 nonMembers: test.count, forget: forget.count, retainShort: retain.count < test.count,
                                 seconds: monotonicSeconds() - start)
    }

    /// The five feature rows of the first `rows` examples of `set`, computed in float32 as the reference's torch
    /// code does and widened to Double for the SVC. m_entropy's column set S is the labels of those rows.
    public static func features(of set: Predictions, rows: Int) -> [MIAEfficacyFeature: [[Double]]] {
        let classes = set.classCount
        var inS = [Bool](repeating: false, count: classes)
        for i in 0..<rows { inS[Int(set.labels[i])] = true }
        let logFloor = logf(1e-30)
        var out = [MIAEfficacyFeature: [[Double]]]()
        for feature in MIAEfficacyFeature.allCases { out[feature] = [] }
        for i in 0..<rows {
            let p = set.probabilities(i)
            let y = Int(set.labels[i])
            var top = 0
            for j in 1..<classes where p[j] > p[top] { top = j }
            var entropy: Float = 0
            var mEntropy: Float = 0
            for j in 0..<classes {
                let logP = p[j] > 0 ? logf(p[j]) : logFloor
                if p[j] > 0 { entropy += p[j] * logP }
                mEntropy += (inS[j] ? 1 - p[j] : p[j]) * logP
            }
            out[.correctness]!.append([top == y ? 1 : 0])
            out[.confidence]!.append([Double(p[y])])
            out[.entropy]!.append([Double(-entropy)])
            out[.mEntropy]!.append([Double(-mEntropy)])
            out[.prob]!.append(p.map(Double.init))
        }
        return out
    }

    private static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
