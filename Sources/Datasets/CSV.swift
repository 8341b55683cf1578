// CSV for tabular data: a header row, a label column named by the caller, every other column a numeric feature
// (a group-id column, when named, is kept apart as well). Fields may be double-quoted (RFC 4180). Every row must
// have the header's field count; every feature must be a finite number.

enum CSV {
    struct Table {
        let features: [Float]  // [rows × featureCount]
        let featureNames: [String]
        let labels: [Int]
        let groups: [Int]?
    }

    static func read(_ path: String, labelColumn: String, groupColumn: String?, expectedFeatures: [String]? = nil) throws -> Table {
        let bytes = try FileBytes.read(path)
        func bad(_ problem: String) -> DataError { .invalid(file: path, problem: problem) }
        var lines = try records(String(decoding: bytes, as: UTF8.self), path: path)
        guard !lines.isEmpty else { throw bad("empty file: a header row is needed") }
        let header = lines.removeFirst().fields.map { $0.trimmingCharacters }
        guard let labelIndex = header.firstIndex(of: labelColumn) else {
            throw bad("no label column '\(labelColumn)' in the header (columns: \(header.joined(separator: ", ")))")
        }
        var groupIndex: Int?
        if let groupColumn {
            guard let g = header.firstIndex(of: groupColumn) else { throw bad("no group column '\(groupColumn)' in the header") }
            groupIndex = g
        }
        let featureColumns = header.indices.filter { $0 != labelIndex && $0 != groupIndex }
        guard !featureColumns.isEmpty else { throw bad("no feature columns besides the label") }
        let names = featureColumns.map { header[$0] }
        if let expectedFeatures, expectedFeatures != names {
            throw bad("feature columns \(names) differ from the training file's \(expectedFeatures)")
        }
        var features: [Float] = []
        features.reserveCapacity(lines.count * featureColumns.count)
        var labels: [Int] = [], groups: [Int] = []
        for (line, fields) in lines {
            guard fields.count == header.count else {
                throw bad("line \(line) has \(fields.count) fields, the header has \(header.count)")
            }
            let labelText = fields[labelIndex].trimmingCharacters
            guard let label = Int(labelText) else { throw bad("line \(line): label '\(labelText)' is not an integer") }
            labels.append(label)
            if let groupIndex {
                let t = fields[groupIndex].trimmingCharacters
                guard let g = Int(t) else { throw bad("line \(line): group id '\(t)' is not an integer") }
                groups.append(g)
            }
            for c in featureColumns {
                let t = fields[c].trimmingCharacters
                guard let v = Float(t) else { throw bad("line \(line), column '\(header[c])': '\(t)' is not a number") }
                guard v.isFinite else { throw bad("line \(line), column '\(header[c])': non-finite value \(t)") }
                features.append(v)
            }
        }
        return Table(features: features, featureNames: names, labels: labels, groups: groupIndex == nil ? nil : groups)
    }

    /// Splits text into records of fields, with 1-based line numbers; blank lines are skipped.
    static func records(_ text: String, path: String) throws -> [(line: Int, fields: [String])] {
        var out: [(Int, [String])] = []
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var line = 1, recordLine = 1
        var chars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !wasQuoted) { out.append((recordLine, fields)) }
            fields = []; field = ""; wasQuoted = false
        }
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = n }
                    } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"": quoted = true; wasQuoted = true
            case ",": fields.append(field); field = ""
            case "\r": continue
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(c)
            }
        }
        if quoted { throw DataError.invalid(file: path, problem: "line \(recordLine): unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return out
    }
}

extension String {
    var trimmingCharacters: String { String(Substring(self).trimmingSpaces) }
}
