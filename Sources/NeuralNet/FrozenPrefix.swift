// A frozen prefix computed once. When a recipe freezes every parameter of the layers at the network's input
// (cf-k and eu-k, or `model/train` with `frozen`), those layers map each example on its own (Layer.
// isPerExampleFunction: no BatchNorm statistics, no Dropout) and the data gives the same values every time (no
// augmentation: ExampleSource.gathersSameValues), every step recomputes the same prefix outputs for the same
// examples and back-propagates through layers whose gradients the frozen mask then throws away. `Trainer.train`
// instead runs the prefix once over the examples it trains on, keeps its outputs in memory, and trains the rest of
// the network on them (Network.firstLayer): the same loss, the same shuffles from the same draws, the same updates.
// On the zoo's `cnn` with its two convolutions frozen (eu-k's k = 2) an epoch costs the two Linear layers alone.
//
// The outputs are those of `forward(training: true)`, as the uncached loop computes them, in batches of the
// examples in index order rather than the loop's shuffled batches. The layers compute each example's output from
// that example alone, but a Winograd convolution multiplies groups of up to 16 images in one product, whose
// rounding can depend on the group: the cnn's weights after training agree with the uncached loop's to about
// 3e-8 (FrozenPrefixTests; the small mlp and cnn of the tests agree to the bit). Same request, same seed, same
// threads: same bits, as everywhere. Not cached: a prefix with no parameters (nothing to save), one whose
// outputs would take more than `budget` bytes, augmented data, and loops other than `Trainer.train` (a method's
// own loss may need input gradients or a teacher's forward on raw inputs).
import Tensor

/// Plans and computes a frozen prefix's outputs (see the file header).
enum FrozenPrefix {
    /// Bytes the cached outputs may take (2 GiB); past it, training runs the whole network every step.
    static let budget = 2 << 30

    /// How many leading layers can run once: every parameter in them frozen (a 0 in `frozenMask`), each a
    /// per-example function, at least one with parameters, and at least one layer left to train. 0 when none.
    static func length(of network: Network, frozenMask: [Float], source: ExampleSource) -> Int {
        guard source.gathersSameValues else { return 0 }
        var offset = 0, length = 0
        for layer in network.layers.dropLast() {
            guard layer.isPerExampleFunction else { break }
            let count = layer.parameterCount
            if frozenMask[offset..<(offset + count)].contains(where: { $0 != 0 }) { break }
            offset += count
            length += 1
        }
        return offset > 0 ? length : 0
    }

    /// The outputs of the first `length` layers for `indices` of `source`, as an example source addressed by
    /// the same indices; nil when they would not fit `budget`.
    static func outputs(of network: Network, length: Int, source: ExampleSource, indices: [Int],
                        control: JobControl) throws -> PrefixOutputs? {
        var shape = source.exampleShape
        for layer in network.layers.prefix(length) { shape = try layer.outputShape(for: shape) }
        let unique = Array(Set(indices)).sorted()
        let size = shape.reduce(1, *)
        guard unique.count * size <= budget / 4 else { return nil }
        let outputs = PrefixOutputs(exampleShape: shape, classCount: source.classCount, sourceCount: source.count, rows: unique)
        let batchSize = max(1, min(256, Inference.batchSize(for: network)))
        let x = Tensor(shape: [batchSize] + source.exampleShape, zeroed: false)
        var labels = [Int32](repeating: 0, count: batchSize)
        for from in stride(from: 0, to: unique.count, by: batchSize) {
            try control.checkCancellation()
            let slice = unique[from..<min(from + batchSize, unique.count)]
            x.resize([slice.count] + source.exampleShape)
            labels.withUnsafeMutableBufferPointer { source.gather(slice, into: x, labels: $0.baseAddress!) }
            var h = x
            for layer in network.layers.prefix(length) { h = layer.forward(h, training: true) }
            precondition(h.count == slice.count * size, "a frozen prefix gave \(h.count) values for \(slice.count) examples of \(size)")
            (outputs.features + from * size).update(from: h.data, count: h.count)
            outputs.labels.replaceSubrange(from..<(from + slice.count), with: labels.prefix(slice.count))
        }
        return outputs
    }
}

/// A frozen prefix's outputs for some examples of a source, addressed by the source's indices.
final class PrefixOutputs: ExampleSource {
    /// The prefix's per-example output shape.
    let exampleShape: [Int]
    /// The source's class count.
    let classCount: Int
    /// The source's example count: indices range over the source.
    let count: Int
    /// Yes: computed once, fixed.
    var gathersSameValues: Bool { true }
    /// Row of each source index in `features`, -1 for examples not computed.
    private var rowOf: [Int32]
    /// Floats per example.
    private let size: Int
    /// [rows, size], in the order of the `rows` given at init.
    let features: UnsafeMutablePointer<Float>
    /// The label of each row.
    var labels: [Int32]

    init(exampleShape: [Int], classCount: Int, sourceCount: Int, rows: [Int]) {
        self.exampleShape = exampleShape
        self.classCount = classCount
        self.count = sourceCount
        size = exampleShape.reduce(1, *)
        rowOf = [Int32](repeating: -1, count: sourceCount)
        for (row, index) in rows.enumerated() { rowOf[index] = Int32(row) }
        features = .allocate(capacity: max(1, rows.count * size))
        labels = [Int32](repeating: 0, count: rows.count)
    }

    deinit { features.deallocate() }

    /// Copies the outputs of `indices` (each computed at init) into `x` and their labels into `labels`.
    func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels out: UnsafeMutablePointer<Int32>) {
        for (j, index) in indices.enumerated() {
            let row = Int(rowOf[index])
            precondition(row >= 0, "example \(index) is not among the frozen prefix's computed outputs")
            (x.data + j * size).update(from: features + row * size, count: size)
            out[j] = labels[row]
        }
    }
}
