// A model's outputs on a part of a dataset, computed once. `evaluate`, `attack`, `model/predict` and `compare` (for
// the original) ask the cache; it is keyed by the weights' fingerprint (a trained or reloaded model has a new one),
// the examples object (a reloaded dataset is a new object) and the indices, so a hit is always the same computation.
// Bounded by bytes; the least recently used entries go first.
import Datasets
import Foundation
import NeuralNet
import Tensor

final class OutputsCache: @unchecked Sendable {
    private struct Key: Hashable {
        let fingerprint: String
        let source: ObjectIdentifier
        let indicesHash: UInt64
        let count: Int
    }
    private struct Entry {
        /// Checked on every hit, so an address reused by a new examples object never matches.
        weak var source: LabeledExamples?
        let predictions: Predictions
        let bytes: Int
        var lastUse: UInt64
    }

    /// The memory the cache may hold.
    let budget: Int
    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private(set) var bytes = 0
    private(set) var hits = 0
    private(set) var misses = 0

    init(budget: Int = 256 << 20) { self.budget = budget }

    /// Entries, bytes, hits and misses, read together.
    var stats: (entries: Int, bytes: Int, hits: Int, misses: Int) { lock.withLock { (entries.count, bytes, hits, misses) } }

    /// The model's predictions on `indices` of `source`: from the cache, or computed (with `control`) and kept.
    func predictions(_ model: Model, on source: LabeledExamples, indices: [Int], control: JobControl?) throws -> Predictions {
        var h = FNV1a()
        for i in indices { h.mix(UInt64(bitPattern: Int64(i))) }
        let key = Key(fingerprint: model.fingerprint, source: ObjectIdentifier(source), indicesHash: h.value, count: indices.count)
        if let hit = lookup(key, source) { return hit }
        let computed = try Inference.predict(Network(model: model), on: source, indices: indices, control: control)
        store(key, source, computed)
        return computed
    }

    private func lookup(_ key: Key, _ source: LabeledExamples) -> Predictions? {
        lock.withLock {
            guard var entry = entries[key], entry.source === source else { misses += 1; return nil }
            clock += 1
            entry.lastUse = clock
            entries[key] = entry
            hits += 1
            return entry.predictions
        }
    }

    private func store(_ key: Key, _ source: LabeledExamples, _ p: Predictions) {
        let size = p.logits.count * 4 + p.count * 9 + 128
        guard size <= budget else { return }
        lock.withLock {
            clock += 1
            if let old = entries[key] { bytes -= old.bytes }
            entries[key] = Entry(source: source, predictions: p, bytes: size, lastUse: clock)
            bytes += size
            while bytes > budget, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                bytes -= oldest.value.bytes
                entries[oldest.key] = nil
            }
        }
    }
}
