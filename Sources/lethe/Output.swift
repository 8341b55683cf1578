// Human-readable tables by default, JSON for scripts.
import Foundation
import JSONRPC

enum Output {
    static func json(_ value: some Encodable) {
        if let text = prettyJSON(value) { print(text) }
    }

    /// Indented JSON text of `value` (the CLI's `--json`, MCP tool results).
    static func prettyJSON(_ value: some Encodable) -> String? {
        let encoder = JSONCoding.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        return (try? encoder.encode(value)).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// A left-aligned first column and right-aligned others.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        rows.forEach { print(line($0)) }
    }

    /// key: value lines for one object.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs { print(k + String(repeating: " ", count: width - k.count) + "  " + v) }
    }

    static func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
    static func number(_ x: Double, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
    /// A JSON scalar as a person writes it: 5, 0.01, true, fc.
    static func value(_ v: JSONValue) -> String {
        switch v {
        case .number(let x): return x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
        case .bool(let b): return "\(b)"
        case .string(let s): return s
        case .null: return "null"
        default: return "\(v)"
        }
    }
    static func seconds(_ x: Double) -> String { String(format: "%.2f s", x) }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
