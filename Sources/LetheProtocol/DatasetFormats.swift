// Options of dataset/load for brought data: normalisation and training augmentation.

/// Per-channel normalisation x ← (x − mean[c]) / std[c]: give `mean` and `std`, or `compute: true` to take them
/// from the training part.
public struct NormalizeSpec: Codable, Sendable, Equatable {
    /// Per-channel means to subtract, one per channel (with `std`).
    public var mean: [Double]?
    /// Per-channel standard deviations to divide by, one per channel, each positive (with `mean`).
    public var std: [Double]?
    /// True: take the training part's mean and population std instead (a constant channel gets std 1).
    public var compute: Bool?
    public init(mean: [Double]? = nil, std: [Double]? = nil, compute: Bool? = nil) {
        self.mean = mean
        self.std = std
        self.compute = compute
    }
}

/// Training augmentation (torchvision RandomCrop(size, padding) and RandomHorizontalFlip), applied by model/train.
public struct AugmentSpec: Codable, Sendable, Equatable {
    /// Pixels of padding on each side for a random crop back to the original size (RandomCrop(size, padding)); default 0.
    public var cropPadding: Int?
    /// Flip horizontally with probability ½ (RandomHorizontalFlip); default false.
    public var horizontalFlip: Bool?
    public init(cropPadding: Int? = nil, horizontalFlip: Bool? = nil) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }
}
