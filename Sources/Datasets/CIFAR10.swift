// CIFAR-10 binary batches (the "binary version" at cs.toronto.edu/~kriz/cifar.html): records of 1 label byte
// and 3072 pixel bytes (3×32×32, channel-major), 10000 records per batch. The training part is
// data_batch_1.bin … data_batch_k.bin (k ≤ 5, consecutive), the test part test_batch.bin.

enum CIFAR10 {
    static let recordSize = 1 + 3 * 32 * 32
    static let classes = 10

    static func load(directory: String, classCount: Int?) throws -> (train: LabeledExamples, test: LabeledExamples, origin: String) {
        var dir = directory
        // The archive unpacks into cifar-10-batches-bin/; accept either directory.
        if !FileBytes.exists("\(dir)/data_batch_1.bin"), FileBytes.exists("\(dir)/cifar-10-batches-bin/data_batch_1.bin") {
            dir += "/cifar-10-batches-bin"
        }
        guard FileBytes.isDirectory(dir) else { throw DataError.missing(file: directory) }
        var trainFiles: [String] = []
        for k in 1...5 where FileBytes.exists("\(dir)/data_batch_\(k).bin") {
            guard trainFiles.count == k - 1 else {
                throw DataError.invalid(file: "\(dir)/data_batch_\(k).bin", problem: "data_batch_\(trainFiles.count + 1).bin is missing: training batches must be consecutive from 1")
            }
            trainFiles.append("\(dir)/data_batch_\(k).bin")
        }
        guard !trainFiles.isEmpty else { throw DataError.missing(file: "\(dir)/data_batch_1.bin") }
        let classCount = classCount ?? classes
        let train = try records(trainFiles, classCount: classCount)
        let test = try records(["\(dir)/test_batch.bin"], classCount: classCount)
        return (train, test, dir)
    }

    static func records(_ files: [String], classCount: Int) throws -> LabeledExamples {
        var features: [Float] = []
        var labels: [Int] = []
        for file in files {
            let bytes = try FileBytes.read(file)
            guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
                throw DataError.invalid(file: file, problem: "truncated: \(bytes.count) bytes is not a whole number of \(recordSize)-byte records")
            }
            let n = bytes.count / recordSize
            let pixels = recordSize - 1
            var base = features.count
            features += [Float](repeating: 0, count: n * pixels)
            try bytes.withUnsafeBufferPointer { src in
                try features.withUnsafeMutableBufferPointer { dst in
                    for r in 0..<n {
                        let o = r * recordSize
                        let label = Int(src[o])
                        guard label < classCount else {
                            throw DataError.invalid(file: file, problem: "label \(label) of record \(r) outside 0..<\(classCount)")
                        }
                        labels.append(label)
                        for i in 0..<pixels { dst[base + i] = Float(src[o + 1 + i]) * (1 / 255) }
                        base += pixels
                    }
                }
            }
        }
        return try ArrayExamples.examples(shape: [3, 32, 32], features: features, labels: labels, classCount: classCount)
    }
}
