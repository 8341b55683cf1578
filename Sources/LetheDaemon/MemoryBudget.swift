// The memory budget (`lethed --memory-limit`): a load or a job that would take the daemon's resident objects past
// it is refused with error 5 (busy), naming what is resident so the user can free it (model/delete, fleet/delete,
// dataset/delete, split/delete). Counted: datasets, splits, models, fleets and the outputs cache, as server/status
// reports them. A dataset's size is known only once it is read, so a load over the budget is refused after reading
// (its memory is returned at once); everything else is checked before any work starts.
import Foundation
import JSONRPC
import NeuralNet

extension Daemon {
    /// Everything resident, largest first, with its bytes (server/status's list).
    func residentObjects() async -> [(kind: String, name: String, bytes: Int)] {
        let names = await workspace.names
        var out: [(String, String, Int)] = []
        for name in names.datasets { if let d = try? await workspace.dataset(name) { out.append(("dataset", name, Self.bytes(d))) } }
        for name in names.splits { if let s = try? await workspace.split(name) { out.append(("split", name, Self.bytes(s.split))) } }
        for name in names.models { if let m = try? await workspace.model(name) { out.append(("model", name, Self.bytes(m.model))) } }
        for f in fleets.all { out.append(("fleet", f.id, f.residentBytes)) }
        let cache = outputs.stats.bytes
        if cache > 0 { out.append(("outputs cache", "", cache)) }
        return out.sorted { $0.2 != $1.2 ? $0.2 > $1.2 : ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// Throws error 5 when `bytes` more would exceed the memory limit; `what` names the request's need.
    func checkMemory(adding bytes: Int, for what: String, replacing freed: Int = 0) async throws {
        guard let limit = memoryLimit else { return }
        let resident = await residentObjects()
        let total = resident.reduce(0) { $0 + $1.bytes } - freed
        guard total + bytes > limit else { return }
        func mib(_ b: Int) -> String { String(format: "%.1f MiB", Double(b) / 1_048_576) }
        let largest = resident.prefix(5).map { "\($0.kind)\($0.name.isEmpty ? "" : " '\($0.name)'") \(mib($0.bytes))" }.joined(separator: ", ")
        throw RPCError(code: .busy, message: "\(what) needs about \(mib(bytes)) but \(mib(total)) of the \(mib(limit)) memory limit (lethed --memory-limit) is resident"
                       + (largest.isEmpty ? "" : ": \(largest)") + "; free some with model/delete, fleet/delete, split/delete or dataset/delete")
    }
}

/// Parses a byte count with an optional K, M, G or T suffix (powers of 1024), e.g. "8G" or "512M".
public func parseByteCount(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    let trimmed = text.uppercased().hasSuffix("B") ? String(text.dropLast()) : text
    if let last = trimmed.uppercased().last, let unit = units[last], let n = Double(trimmed.dropLast()), n > 0 { return Int(n * Double(unit)) }
    return Int(trimmed).flatMap { $0 > 0 ? $0 : nil }
}
