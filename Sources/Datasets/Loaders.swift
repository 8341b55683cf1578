// Dataset loaders. Images are scaled to [0, 1] (x/255), as the PyTorch anchor and torchvision's ToTensor do.
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Loads datasets from disk into resident `Dataset`s (images scaled to [0, 1]).
public enum DatasetLoader {
    /// Debian's `dataset-fashion-mnist` package: the embedded default.
    public static let fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"

    /// Loads a directory holding the four MNIST-style IDX files (`train-images-idx3-ubyte[.gz]`,
    /// `train-labels-idx1-ubyte[.gz]`, `t10k-images-idx3-ubyte[.gz]`, `t10k-labels-idx1-ubyte[.gz]`).
    public static func loadIDXDirectory(_ directory: String, classCount: Int = 10) throws -> Dataset {
        var isDirectory = stat()
        guard stat(directory, &isDirectory) == 0 else { throw DataError.missing(file: directory) }
        guard (isDirectory.st_mode & S_IFMT) == S_IFDIR else {
            throw DataError.invalid(file: directory, problem: "not a directory of IDX files")
        }
        func find(_ stem: String) throws -> String {
            for candidate in ["\(directory)/\(stem)", "\(directory)/\(stem).gz"] where access(candidate, R_OK) == 0 {
                return candidate
            }
            throw DataError.missing(file: "\(directory)/\(stem)[.gz]")
        }
        let train = try loadIDXPair(images: find("train-images-idx3-ubyte"), labels: find("train-labels-idx1-ubyte"), classCount: classCount)
        let test = try loadIDXPair(images: find("t10k-images-idx3-ubyte"), labels: find("t10k-labels-idx1-ubyte"), classCount: classCount)
        return try Dataset(train: train, test: test, origin: directory)
    }

    /// One images file [N, H, W] (or [N, C, H, W]) and its labels file [N].
    public static func loadIDXPair(images: String, labels: String, classCount: Int) throws -> LabeledExamples {
        let x = try IDX.read(images)
        let y = try IDX.read(labels)
        guard x.dimensions.count == 3 || x.dimensions.count == 4 else {
            throw DataError.invalid(file: images, problem: "images must have 3 or 4 dimensions, found \(x.dimensions)")
        }
        guard y.dimensions.count == 1 else {
            throw DataError.invalid(file: labels, problem: "labels must have 1 dimension, found \(y.dimensions)")
        }
        guard x.dimensions[0] == y.dimensions[0] else {
            throw DataError.invalid(file: images, problem: "\(x.dimensions[0]) images but \(y.dimensions[0]) labels in \(labels)")
        }
        guard x.dimensions[0] > 0 else { throw DataError.invalid(file: images, problem: "no examples") }
        if let bad = y.bytes.first(where: { Int($0) >= classCount }) {
            throw DataError.invalid(file: labels, problem: "label \(bad) outside 0..<\(classCount)")
        }
        let exampleShape = x.dimensions.count == 3 ? [1, x.dimensions[1], x.dimensions[2]] : Array(x.dimensions.dropFirst())
        let features = UnsafeMutablePointer<Float>.allocate(capacity: max(1, x.bytes.count))
        x.bytes.withUnsafeBufferPointer { src in
            for i in 0..<src.count { features[i] = Float(src[i]) * (1 / 255) }
        }
        return LabeledExamples(exampleShape: exampleShape, classCount: classCount, features: features,
                               labels: y.bytes.map { Int32($0) })
    }
}
