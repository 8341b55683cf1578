// The NeurIPS 2023 starting kit's membership-inference attack ("simple"): per-example cross-entropy is the one
// feature; forget examples are members (1) and test examples non-members (0); the forget set is shuffled and
// cut to the test set's size; a logistic regression is scored by its mean accuracy over
// StratifiedShuffleSplit(n_splits=10, test_size=0.1). About 0.5 means the attack cannot tell forget from
// test, as for a model that never saw the forget set.
import Tensor

public struct SimpleMIAResult: Sendable {
    /// Mean held-out accuracy over the folds.
    public let accuracy: Double
    public let foldAccuracies: [Double]
    public let members: Int
    public let nonMembers: Int
}

public enum SimpleMIA {
    public static func run(forgetLosses: [Float], testLosses: [Float], splits: Int = 10, testSize: Double = 0.1,
                           seed: UInt64 = 0) -> SimpleMIAResult {
        var rng = SeededGenerator(seed: seed)
        var forget = forgetLosses
        rng.shuffle(&forget)
        let members = Array(forget.prefix(testLosses.count))
        let x = (testLosses + members).map { [Double($0)] }
        let y = [Int](repeating: 0, count: testLosses.count) + [Int](repeating: 1, count: members.count)
        let folds = StratifiedShuffleSplit.folds(labels: y, splits: splits, testSize: testSize, rng: &rng)
        let accuracies = folds.map { fold -> Double in
            var model = LogisticRegression(features: 1)
            model.fit(fold.train.map { x[$0] }, fold.train.map { y[$0] })
            let correct = fold.test.filter { model.predict(x[$0]) == y[$0] }.count
            return Double(correct) / Double(fold.test.count)
        }
        return SimpleMIAResult(accuracy: accuracies.reduce(0, +) / Double(max(accuracies.count, 1)),
                               foldAccuracies: accuracies, members: members.count, nonMembers: testLosses.count)
    }
}

/// scikit-learn's StratifiedShuffleSplit: each fold holds out ⌈testSize·n⌉ examples, allotted to the classes in
/// proportion to their sizes (largest remainder), drawn at random within each class.
public enum StratifiedShuffleSplit {
    public struct Fold: Sendable {
        public let train: [Int]
        public let test: [Int]
    }

    public static func folds(labels: [Int], splits: Int, testSize: Double, rng: inout SeededGenerator) -> [Fold] {
        let n = labels.count
        let nTest = Int((testSize * Double(n)).rounded(.up))
        let classes = Set(labels).sorted()
        let byClass = classes.map { c in labels.indices.filter { labels[$0] == c } }
        // Largest-remainder allotment of the held-out examples to classes.
        let exact = byClass.map { Double($0.count) * Double(nTest) / Double(n) }
        var allotted = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(allotted[$0])) > (exact[$1] - Double(allotted[$1])) }
        for i in order.prefix(nTest - allotted.reduce(0, +)) { allotted[i] += 1 }
        return (0..<splits).map { _ in
            var train: [Int] = []
            var test: [Int] = []
            for (members, k) in zip(byClass, allotted) {
                var shuffled = members
                rng.shuffle(&shuffled)
                test += shuffled[..<k]
                train += shuffled[k...]
            }
            return Fold(train: train.sorted(), test: test.sorted())
        }
    }
}
