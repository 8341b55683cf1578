// From dataset/load and split/create params to the engine's DatasetSource and ForgetSelection, with -32602
// errors naming the field.
import Datasets
import JSONRPC
import LetheProtocol

extension Daemon {
    static func datasetSource(_ p: DatasetLoad.Params) throws -> DatasetSource {
        let formatName = p.format ?? "idx"
        guard let format = DatasetSource.Format(rawValue: formatName) else {
            throw RPCError.invalidParams("parameter 'format' must be one of \(DatasetSource.Format.allCases.map(\.rawValue).joined(separator: ", ")), got '\(formatName)'")
        }
        let path: String
        switch (p.path, format) {
        case (let given?, _): path = given
        case (nil, .idx): path = DatasetLoader.fashionMNISTDirectory
        case (nil, _): throw RPCError.invalidParams("parameter 'path' is required for format '\(formatName)'")
        }
        if let c = p.classes, c < 2 { throw RPCError.invalidParams("parameter 'classes' must be at least 2, got \(c)") }
        var layout: ImageLayout?
        if let l = p.layout {
            guard let parsed = ImageLayout(rawValue: l.uppercased()) else {
                throw RPCError.invalidParams("parameter 'layout' must be one of \(ImageLayout.allCases.map(\.rawValue).joined(separator: ", ")), got '\(l)'")
            }
            layout = parsed
        }
        if let files = p.files {
            let known = DatasetSource.defaultFiles(format)
            if let unknown = files.keys.sorted().first(where: { known[$0] == nil }) {
                throw RPCError.invalidParams("parameter 'files.\(unknown)': no such file role for format '\(formatName)'; known: \(known.keys.sorted().joined(separator: ", "))")
            }
        }
        if format != .csv, p.labelColumn != nil || p.groupColumn != nil {
            throw RPCError.invalidParams("parameters 'labelColumn' and 'groupColumn' apply to format 'csv' only")
        }
        var normalization: Normalization?
        var compute = false
        if let n = p.normalize {
            switch (n.mean, n.std, n.compute ?? false) {
            case (let m?, let s?, false):
                guard m.count == s.count, !m.isEmpty else { throw RPCError.invalidParams("parameters 'normalize.mean' and 'normalize.std' need one value per channel each") }
                guard s.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw RPCError.invalidParams("parameter 'normalize.std' must hold positive numbers") }
                normalization = Normalization(mean: m.map { Float($0) }, std: s.map { Float($0) })
            case (nil, nil, true): compute = true
            default: throw RPCError.invalidParams("parameter 'normalize' needs either 'mean' and 'std', or 'compute': true")
            }
        }
        var augmentation: Augmentation?
        if let a = p.augment {
            let padding = a.cropPadding ?? 0
            guard padding >= 0 else { throw RPCError.invalidParams("parameter 'augment.cropPadding' must be at least 0, got \(padding)") }
            augmentation = Augmentation(cropPadding: padding, horizontalFlip: a.horizontalFlip ?? false)
        }
        return DatasetSource(format: format, path: path, files: p.files ?? [:], layout: layout, classCount: p.classes,
                             labelColumn: p.labelColumn, groupColumn: p.groupColumn, normalization: normalization,
                             computeNormalization: compute, augmentation: augmentation)
    }

    /// Exactly one way of choosing the forget set. Reading an indices file is the only I/O.
    static func forgetSelection(_ f: SplitCreate.ForgetSpec) throws -> ForgetSelection {
        var chosen: [ForgetSelection] = []
        if let x = f.fraction { chosen.append(.fraction(x)) }
        if let x = f.count { chosen.append(.count(x)) }
        if let x = f.classes { chosen.append(.classes(x)) }
        if let x = f.indices { chosen.append(.indices(x)) }
        if let x = f.indicesFile { chosen.append(.indices(try ForgetIndexFile.read(x))) }
        if let x = f.groups { chosen.append(.groups(x)) }
        if let x = f.randomGroups { chosen.append(.randomGroups(x)) }
        guard chosen.count == 1 else {
            throw RPCError.invalidParams("parameter 'forget' needs exactly one of 'fraction', 'count', 'classes', 'indices', 'indicesFile', 'groups' or 'randomGroups'")
        }
        return chosen[0]
    }
}
