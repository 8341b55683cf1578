// The NeurIPS 2023 starting kit's membership-inference attack ("simple"): per-example cross-entropy is the one
// feature; forget examples are members (1) and test examples non-members (0); a logistic regression is scored by
// its mean accuracy over StratifiedShuffleSplit(n_splits=10, test_size=0.1).
//
// Reference: the starting kit's notebook (unlearning-CIFAR10.ipynb, `simple_mia` and the cell that calls it):
// it shuffles the forget losses and cuts them to the test set's size, and never cuts the test side. That assumes
// |forget| ≥ |test|; when the forget set is the smaller one (a 1% deletion request against 5,000 test examples)
// a classifier that always answers "non-member" scores |test| / (|forget| + |test|), e.g. 0.89, for a model that
// never saw the forget set. Lethe therefore balances both sides by default (`.both`: the larger side is sampled
// down, seeded, to the smaller one's size, so 0.5 is chance whatever the sizes) and keeps the kit's exact
// procedure as `.kit` for reproducing its published numbers. When |forget| ≥ |test| the two are the same
// computation with the same draws. Every result carries its chance level: the majority-class rate of the
// examples the attack scored (its held-out folds), which is the score of always guessing the larger side.
import Tensor

/// How the two sides of the simple attack are sized before it runs.
public enum MIABalance: String, Sendable, CaseIterable {
    /// The larger of forget and test is sampled down to the smaller's size: chance is 0.5.
    case both
    /// The starting kit's procedure: only the forget side is cut to the test set's size.
    case kit
}

/// What the simple attack measured.
public struct SimpleMIAResult: Sendable {
    /// Mean held-out accuracy over the folds.
    public let accuracy: Double
    /// Held-out accuracy of each fold.
    public let foldAccuracies: [Double]
    /// Forget examples the attack used (after balancing).
    public let members: Int
    /// Test examples the attack used (after balancing).
    public let nonMembers: Int
    /// Mean over the folds of the held-out examples' majority-class rate: what always guessing the larger side
    /// scores. 0.5 when the sides are balanced.
    public let chanceLevel: Double
}

/// The starting kit's logistic-regression attack on per-example losses.
public enum SimpleMIA {
    /// Runs the attack on per-example losses: forget members against test non-members, sized by `balance`, folds drawn from `seed`.
    public static func run(forgetLosses: [Float], testLosses: [Float], balance: MIABalance = .both, splits: Int = 10,
                           testSize: Double = 0.1, seed: UInt64 = 0) -> SimpleMIAResult {
        var rng = SeededGenerator(seed: seed)
        var members = forgetLosses
        var nonMembers = testLosses
        if balance == .kit || forgetLosses.count >= testLosses.count {
            // The kit's draws exactly: shuffle forget, keep the first |test|.
            rng.shuffle(&members)
            members = Array(members.prefix(testLosses.count))
        } else {
            rng.shuffle(&nonMembers)
            nonMembers = Array(nonMembers.prefix(forgetLosses.count))
        }
        let x = (nonMembers + members).map { [Double($0)] }
        let y = [Int](repeating: 0, count: nonMembers.count) + [Int](repeating: 1, count: members.count)
        let folds = StratifiedShuffleSplit.folds(labels: y, splits: splits, testSize: testSize, rng: &rng)
        let accuracies = folds.map { fold -> Double in
            var model = LogisticRegression(features: 1)
            model.fit(fold.train.map { x[$0] }, fold.train.map { y[$0] })
            let correct = fold.test.filter { model.predict(x[$0]) == y[$0] }.count
            return Double(correct) / Double(fold.test.count)
        }
        let chance = folds.map { fold -> Double in
            let positives = fold.test.filter { y[$0] == 1 }.count
            return Double(max(positives, fold.test.count - positives)) / Double(max(fold.test.count, 1))
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
        return SimpleMIAResult(accuracy: mean(accuracies), foldAccuracies: accuracies, members: members.count,
                               nonMembers: nonMembers.count, chanceLevel: mean(chance))
    }
}

/// scikit-learn's StratifiedShuffleSplit: each fold holds out ⌈testSize·n⌉ examples, allotted to the classes in
/// proportion to their sizes (largest remainder), drawn at random within each class.
public enum StratifiedShuffleSplit {
    /// One split of the examples into the part a model is fitted on and the part it is scored on.
    public struct Fold: Sendable {
        /// Indices fitted on, ascending.
        public let train: [Int]
        /// Indices held out, ascending.
        public let test: [Int]
    }

    /// `splits` stratified folds, each holding out ⌈testSize·n⌉ examples.
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
