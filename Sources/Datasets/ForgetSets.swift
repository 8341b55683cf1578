// Forget sets as the field defines them: random (a fraction or a count), whole classes, explicit indices (the
// NeurIPS 2023 starting kit ships forget_idx.npy), or groups (the competition forgot every image of 15 people).
// Each returns sorted training indices; bad requests are SplitErrors naming the field and the problem.
import Tensor

extension ForgetSelection {
    func select(from dataset: Dataset, rng: inout SeededGenerator) throws -> [Int] {
        let n = dataset.train.count
        switch self {
        case .fraction(let f):
            guard f > 0, f < 1 else { throw SplitError("forget.fraction must be in (0, 1), got \(f)") }
            return Self.random(Int((f * Double(n)).rounded()), of: n, rng: &rng)
        case .count(let c):
            guard c > 0, c < n else { throw SplitError("forget.count must be in 1..<\(n) (the training part's size), got \(c)") }
            return Self.random(c, of: n, rng: &rng)
        case .classes(let classes):
            guard !classes.isEmpty else { throw SplitError("forget.classes is empty") }
            try Self.checkUnique(classes, field: "forget.classes")
            if let bad = classes.first(where: { $0 < 0 || $0 >= dataset.classCount }) {
                throw SplitError("forget.classes: class \(bad) outside 0..<\(dataset.classCount)")
            }
            let wanted = Set(classes.map { Int32($0) })
            let forget = (0..<n).filter { wanted.contains(dataset.train.labels[$0]) }
            guard !forget.isEmpty else { throw SplitError("forget.classes \(classes): the training part has no examples of these classes") }
            return forget
        case .indices(let indices):
            guard !indices.isEmpty else { throw SplitError("forget.indices is empty: the forget set would be empty") }
            if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
                throw SplitError("forget.indices: index \(bad) outside 0..<\(n) (the training part's size)")
            }
            try Self.checkUnique(indices, field: "forget.indices")
            return indices.sorted()
        case .groups(let groups):
            let ids = try Self.groupIDs(dataset)
            guard !groups.isEmpty else { throw SplitError("forget.groups is empty") }
            try Self.checkUnique(groups, field: "forget.groups")
            let known = Set(ids)
            if let bad = groups.first(where: { !known.contains($0) }) {
                throw SplitError("forget.groups: no training example has group id \(bad)")
            }
            let wanted = Set(groups)
            return (0..<n).filter { wanted.contains(ids[$0]) }
        case .randomGroups(let k):
            let ids = try Self.groupIDs(dataset)
            let distinct = Array(Set(ids)).sorted()  // sorted, so the draw depends on the seed only
            guard k > 0, k < distinct.count else {
                throw SplitError("forget.randomGroups must be in 1..<\(distinct.count) (the number of groups), got \(k)")
            }
            var order = distinct
            rng.shuffle(&order)
            let wanted = Set(order[..<k])
            return (0..<n).filter { wanted.contains(ids[$0]) }
        }
    }

    /// The first `k` of a random permutation, sorted: the walking skeleton's draw, kept bit for bit.
    static func random(_ k: Int, of n: Int, rng: inout SeededGenerator) -> [Int] {
        guard k > 0 else { return [] }
        return rng.permutation(n)[..<min(k, n)].sorted()
    }

    static func checkUnique(_ values: [Int], field: String) throws {
        var seen = Set<Int>()
        for v in values where !seen.insert(v).inserted { throw SplitError("\(field): \(v) is listed twice") }
    }

    static func groupIDs(_ dataset: Dataset) throws -> [Int] {
        guard let ids = dataset.trainGroups else {
            throw SplitError("dataset '\(dataset.origin)' has no group ids: load it with a trainGroups array to forget by group")
        }
        return ids
    }
}

/// Reads forget indices from a file.
public enum ForgetIndexFile {
    /// Reads a 1-D integer `.npy` of training indices (the starting kit's forget_idx.npy).
    public static func read(_ path: String) throws -> [Int] {
        let a = try NPY.read(path)
        guard a.shape.count == 1 else { throw DataError.invalid(file: path, problem: "forget indices must be a 1-D array, found shape \(a.shape)") }
        return try a.integers(what: "forget indices")
    }
}
