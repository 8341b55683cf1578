// Training augmentation, as the NeurIPS 2023 starting kit trained its original model: a random crop of the
// image padded by `cropPadding` pixels on each side (torchvision RandomCrop(size, padding)) and a horizontal
// flip with probability ½ (RandomHorizontalFlip). It wraps a training part as another ExampleSource, so the
// Trainer needs no change: each gather draws from the wrapper's own seeded generator, and since the Trainer
// gathers batches in a fixed order, the same seed gives the same augmented bits.
import NeuralNet
import Tensor

/// Training augmentation as torchvision's: a random crop of the padded image and a random horizontal flip.
public struct Augmentation: Sendable, Equatable, Codable {
    /// Pixels of padding for the random crop; 0 disables cropping.
    public var cropPadding: Int
    /// Whether each example is mirrored left–right with probability ½.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// True when nothing is changed (no crop padding, no flip), so no wrapper is needed.
    public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }
}

/// A training part seen through `augmentation`: every gather draws fresh crops and flips from its own seeded generator.
public final class AugmentedSource: ExampleSource {
    /// The unaugmented examples it reads from.
    public let base: LabeledExamples
    /// The crop and flip it applies.
    public let augmentation: Augmentation
    /// Per channel: the value padding takes (0 in raw pixel space, mapped through the dataset's normalisation).
    let padValues: [Float]
    private var rng: SeededGenerator

    public init(_ base: LabeledExamples, augmentation: Augmentation, padValues: [Float]? = nil, seed: UInt64) {
        precondition(base.exampleShape.count == 3, "augmentation needs [C, H, W] examples")
        self.base = base
        self.augmentation = augmentation
        self.padValues = padValues ?? [Float](repeating: 0, count: base.exampleShape[0])
        self.rng = SeededGenerator(seed: seed)
    }

    /// The base's per-example shape, [C, H, W] (augmentation keeps it).
    public var exampleShape: [Int] { base.exampleShape }
    /// The base's number of classes.
    public var classCount: Int { base.classCount }
    /// The base's number of examples.
    public var count: Int { base.count }

    /// Copies the examples at `indices` into `x`, each randomly cropped and flipped, and their labels into `labels`.
    public func gather(_ indices: ArraySlice<Int>, into x: Tensor, labels: UnsafeMutablePointer<Int32>) {
        let (c, h, w) = (exampleShape[0], exampleShape[1], exampleShape[2])
        let pad = augmentation.cropPadding
        var row = 0
        for i in indices {
            // Offsets of the crop window in the padded image: 0…2·pad in each direction, then the flip.
            let dy = pad > 0 ? rng.nextInt(below: 2 * pad + 1) - pad : 0
            let dx = pad > 0 ? rng.nextInt(below: 2 * pad + 1) - pad : 0
            let flip = augmentation.horizontalFlip && rng.next() & 1 == 1
            let src = base.features + i * base.exampleSize
            let dst = x.data + row * base.exampleSize
            for ch in 0..<c {
                let plane = ch * h * w
                for y in 0..<h {
                    let sy = y + dy
                    for xo in 0..<w {
                        let sx = (flip ? w - 1 - xo : xo) + dx
                        dst[plane + y * w + xo] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? src[plane + sy * w + sx] : padValues[ch]
                    }
                }
            }
            labels[row] = base.labels[i]
            row += 1
        }
    }
}
