// What `dataset/load` reads, in every format, and the one function that turns it into a checked, resident
// Dataset. Everything is parsed and validated into fresh buffers before the Dataset exists, so a bad file
// leaves nothing half-loaded behind.

/// What `dataset/load` reads: the format, where the files are, and how to label, normalise and augment the examples.
public struct DatasetSource: Sendable {
    /// The file formats `dataset/load` reads.
    public enum Format: String, Sendable, CaseIterable {
        case idx, npy, npz, cifar10, csv
    }

    /// Which reader parses `path`.
    public var format: Format
    /// idx, npy, cifar10, csv: a directory; npz: the archive.
    public var path: String
    /// Overrides of the default file names (npy, csv, groups) or archive keys (npz), by role; see `defaultFiles`.
    public var files: [String: String]
    /// npy and npz: the image array's axis order; nil infers NF for 2-D and NHW for 3-D arrays (4-D ones must say).
    public var layout: ImageLayout?
    /// Nil: 10 for idx and cifar10, else one more than the largest label.
    public var classCount: Int?
    /// csv: the label column's name (default "label") and an optional group-id column.
    public var labelColumn: String?
    /// csv: the column holding each row's group id, kept out of the features (nil: no group column).
    public var groupColumn: String?
    /// Given statistics, or nil with `computeNormalization` to compute them on the training part.
    public var normalization: Normalization?
    /// Whether to compute per-channel mean and std on the training part when `normalization` is nil.
    public var computeNormalization: Bool
    /// Training augmentation to apply (nil or identity: none).
    public var augmentation: Augmentation?

    public init(format: Format, path: String, files: [String: String] = [:], layout: ImageLayout? = nil,
                classCount: Int? = nil, labelColumn: String? = nil, groupColumn: String? = nil,
                normalization: Normalization? = nil, computeNormalization: Bool = false, augmentation: Augmentation? = nil) {
        self.format = format
        self.path = path
        self.files = files
        self.layout = layout
        self.classCount = classCount
        self.labelColumn = labelColumn
        self.groupColumn = groupColumn
        self.normalization = normalization
        self.computeNormalization = computeNormalization
        self.augmentation = augmentation
    }

    /// Roles and default names: numpy/keras conventions (`mnist.npz` holds x_train, y_train, x_test, y_test).
    public static func defaultFiles(_ format: Format) -> [String: String] {
        switch format {
        case .npy: return ["trainImages": "x_train.npy", "trainLabels": "y_train.npy", "testImages": "x_test.npy",
                           "testLabels": "y_test.npy", "trainGroups": "groups_train.npy"]
        case .npz: return ["trainImages": "x_train", "trainLabels": "y_train", "testImages": "x_test",
                           "testLabels": "y_test", "trainGroups": "groups_train"]
        case .csv: return ["train": "train.csv", "test": "test.csv", "trainGroups": "groups_train.npy"]
        case .idx, .cifar10: return ["trainGroups": "groups_train.npy"]
        }
    }
}

extension DatasetLoader {
    /// Parses, checks, normalises and assembles the dataset described by `s`; nothing is kept if any file is bad.
    public static func load(_ s: DatasetSource) throws -> Dataset {
        let known = DatasetSource.defaultFiles(s.format)
        if let unknown = s.files.keys.sorted().first(where: { known[$0] == nil }) {
            throw DataError.invalid(file: s.path, problem: "unknown file role '\(unknown)' for format \(s.format.rawValue); known: \(known.keys.sorted().joined(separator: ", "))")
        }
        var names = known
        for (k, v) in s.files { names[k] = v }
        // A file inside the dataset directory unless given as an absolute path.
        func file(_ role: String) -> String {
            let n = names[role]!
            return n.hasPrefix("/") ? n : "\(s.path)/\(n)"
        }
        // Groups are optional: loaded when their file (or archive key) is there, or required when named.
        func groupsFile(count: Int) throws -> [Int]? {
            let path = file("trainGroups")
            guard s.files["trainGroups"] != nil || FileBytes.exists(path) else { return nil }
            return try groupIDs(NPY.read(path), count: count)
        }

        var train: LabeledExamples, test: LabeledExamples
        var origin = s.path
        var groups: [Int]? = nil
        switch s.format {
        case .idx:
            let d = try loadIDXDirectory(s.path, classCount: s.classCount ?? 10)
            (train, test) = (d.train, d.test)
            groups = try groupsFile(count: train.count)
        case .cifar10:
            let d = try CIFAR10.load(directory: s.path, classCount: s.classCount)
            (train, test, origin) = d
            groups = try groupsFile(count: train.count)
        case .npy, .npz:
            let arrays: (String) throws -> NPY.Array?
            if s.format == .npy {
                guard FileBytes.isDirectory(s.path) else { throw DataError.missing(file: s.path) }
                arrays = { role in
                    let path = file(role)
                    if role == "trainGroups", s.files[role] == nil, !FileBytes.exists(path) { return nil }
                    return try NPY.read(path)
                }
            } else {
                let archive = try NPZ.read(s.path)
                arrays = { role in
                    let key = names[role]!
                    if let a = archive[key] { return a }
                    if role == "trainGroups", s.files[role] == nil { return nil }
                    throw DataError.invalid(file: s.path, problem: "no array '\(key)' in the archive (it holds \(archive.keys.sorted().joined(separator: ", ")))")
                }
            }
            let tr = try ArrayExamples.make(images: arrays("trainImages")!, labels: arrays("trainLabels")!, layout: s.layout, classCount: s.classCount)
            let te = try ArrayExamples.make(images: arrays("testImages")!, labels: arrays("testLabels")!, layout: s.layout, classCount: s.classCount)
            let classes = ArrayExamples.classCount(given: s.classCount, [tr.labels, te.labels])
            train = try ArrayExamples.examples(shape: tr.shape, features: tr.features, labels: tr.labels, classCount: classes)
            test = try ArrayExamples.examples(shape: te.shape, features: te.features, labels: te.labels, classCount: classes)
            groups = try arrays("trainGroups").map { try groupIDs($0, count: train.count) }
        case .csv:
            let label = s.labelColumn ?? "label"
            let tr = try CSV.read(file("train"), labelColumn: label, groupColumn: s.groupColumn)
            let te = try CSV.read(file("test"), labelColumn: label, groupColumn: s.groupColumn, expectedFeatures: tr.featureNames)
            try ArrayExamples.checkLabels(tr.labels, classCount: s.classCount, source: file("train"))
            try ArrayExamples.checkLabels(te.labels, classCount: s.classCount, source: file("test"))
            let classes = ArrayExamples.classCount(given: s.classCount, [tr.labels, te.labels])
            train = try ArrayExamples.examples(shape: [tr.featureNames.count], features: tr.features, labels: tr.labels, classCount: classes)
            test = try ArrayExamples.examples(shape: [te.featureNames.count], features: te.features, labels: te.labels, classCount: classes)
            groups = try tr.groups ?? groupsFile(count: train.count)
        }

        var normalization = s.normalization
        if normalization == nil, s.computeNormalization { normalization = Normalization.computed(on: train) }
        if let normalization {
            try normalization.check(channels: train.exampleShape[0], source: origin)
            normalization.apply(to: train)
            normalization.apply(to: test)
        }
        if let a = s.augmentation, !a.isIdentity {
            guard train.exampleShape.count == 3 else {
                throw DataError.invalid(file: origin, problem: "augmentation needs image examples [C, H, W], not \(train.exampleShape)")
            }
            guard a.cropPadding >= 0, a.cropPadding < train.exampleShape[1], a.cropPadding < train.exampleShape[2] else {
                throw DataError.invalid(file: origin, problem: "crop padding \(a.cropPadding) must be in 0..<\(min(train.exampleShape[1], train.exampleShape[2]))")
            }
        }
        return try Dataset(train: train, test: test, origin: origin, trainGroups: groups, normalization: normalization,
                           augmentation: s.augmentation.flatMap { $0.isIdentity ? nil : $0 })
    }

    static func groupIDs(_ a: NPY.Array, count: Int) throws -> [Int] {
        guard a.shape.count == 1 else { throw DataError.invalid(file: a.source, problem: "group ids must be a 1-D array, found shape \(a.shape)") }
        let ids = try a.integers(what: "group ids")
        guard ids.count == count else {
            throw DataError.invalid(file: a.source, problem: "\(ids.count) group ids for \(count) training examples")
        }
        return ids
    }
}
