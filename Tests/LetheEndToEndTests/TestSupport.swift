// Helpers the end-to-end tests share beyond the harness: reading the safetensors the daemon writes, writing exact
// IDX data, and waiting on a connection without blocking on it.
import Foundation
import JSONRPC
import XCTest

/// The float32 tensors of a safetensors file, by name (other dtypes, such as BatchNorm's int64 counters, are left out).
func readSafetensors(_ path: String) throws -> [String: (shape: [Int], values: [Float])] {
    let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    guard b.count >= 8 else { throw HarnessError("\(path) is too short for safetensors") }
    let n = (0..<8).reduce(0) { $0 | Int(b[$1]) << (8 * $1) }
    let header = try JSONDecoder().decode(JSONValue.self, from: Data(b[8..<(8 + n)]))
    guard case .object(let entries) = header else { throw HarnessError("\(path): header is not an object") }
    var tensors: [String: (shape: [Int], values: [Float])] = [:]
    for (name, entry) in entries where name != "__metadata__" && entry["dtype"] == "F32" {
        guard case .array(let shape)? = entry["shape"], case .array(let offsets)? = entry["data_offsets"], offsets.count == 2 else {
            throw HarnessError("\(path): bad entry \(name)")
        }
        let begin = 8 + n + Int(offsets[0].number), end = 8 + n + Int(offsets[1].number)
        let values = stride(from: begin, to: end, by: 4).map { i in
            Float(bitPattern: UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
        }
        tensors[name] = (shape.map { Int($0.number) }, values)
    }
    return tensors
}

/// An IDX directory holding exactly the given pixels (row-major, `side`×`side` per example) and labels.
func writeIDX(trainPixels: [UInt8], trainLabels: [UInt8], testPixels: [UInt8], testLabels: [UInt8], side: Int) throws -> String {
    let dir = NSTemporaryDirectory() + "lethe-e2e-exact-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func idx(_ dims: [Int], _ data: [UInt8]) -> Data {
        var out: [UInt8] = [0, 0, 8, UInt8(dims.count)]
        for d in dims { out += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return Data(out + data)
    }
    for (stem, pixels, labels) in [("train", trainPixels, trainLabels), ("t10k", testPixels, testLabels)] {
        try idx([labels.count, side, side], pixels).write(to: URL(fileURLWithPath: "\(dir)/\(stem)-images-idx3-ubyte"))
        try idx([labels.count], labels).write(to: URL(fileURLWithPath: "\(dir)/\(stem)-labels-idx1-ubyte"))
    }
    return dir
}

extension RawConnection {
    /// Makes a read that gets nothing fail after `seconds` instead of the harness's 120, for tests whose failure
    /// mode is a missing reply.
    func setReceiveTimeout(_ seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Whether the daemon sent anything on this connection within `seconds` (nothing is consumed).
    func hasIncomingData(within seconds: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, Int32(seconds * 1000)) > 0
    }
}

extension JSONValue {
    var arrayValue: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }
}
