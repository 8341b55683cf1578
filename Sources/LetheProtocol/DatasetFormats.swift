// Options of dataset/load for brought data: normalisation and training augmentation.

/// Per-channel normalisation x ← (x − mean[c]) / std[c]: give `mean` and `std`, or `compute: true` to take them
/// from the training part.
public struct NormalizeSpec: Codable, Sendable, Equatable {
    public var mean: [Double]?
    public var std: [Double]?
    public var compute: Bool?
    public init(mean: [Double]? = nil, std: [Double]? = nil, compute: Bool? = nil) {
        self.mean = mean
        self.std = std
        self.compute = compute
    }
}

/// Training augmentation (torchvision RandomCrop(size, padding) and RandomHorizontalFlip), applied by model/train.
public struct AugmentSpec: Codable, Sendable, Equatable {
    public var cropPadding: Int?
    public var horizontalFlip: Bool?
    public init(cropPadding: Int? = nil, horizontalFlip: Bool? = nil) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }
}
