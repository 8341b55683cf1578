// IDX files (LeCun's MNIST format, also Fashion-MNIST), plain or gzip-compressed.
// Header: 0x00 0x00, a type byte (0x08 = uint8), the number of dimensions, then each dimension as a big-endian
// UInt32; the data follow in row-major order.
import CZlib

/// Reader of IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
public enum IDX {
    /// One IDX array of unsigned bytes.
    public struct Array {
        /// Its dimensions, outermost first (e.g. [60000, 28, 28]).
        public let dimensions: [Int]
        /// The data in row-major order.
        public let bytes: [UInt8]
    }

    /// Reads an IDX file of unsigned bytes, gzip-compressed or not (zlib reads both).
    public static func read(_ path: String) throws -> Array {
        let data = try readMaybeGzip(path)
        guard data.count >= 4 else { throw DataError.invalid(file: path, problem: "too short for an IDX header (\(data.count) bytes)") }
        guard data[0] == 0, data[1] == 0 else {
            throw DataError.invalid(file: path, problem: "wrong magic number: not an IDX file")
        }
        guard data[2] == 0x08 else {
            throw DataError.invalid(file: path, problem: "IDX element type 0x\(String(data[2], radix: 16)) is not supported (only unsigned bytes, 0x08)")
        }
        let ndim = Int(data[3])
        guard ndim >= 1, data.count >= 4 + 4 * ndim else {
            throw DataError.invalid(file: path, problem: "truncated IDX header")
        }
        var dims: [Int] = []
        for d in 0..<ndim {
            let o = 4 + 4 * d
            dims.append(Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3]))
        }
        let expected = dims.reduce(1, *)
        let available = data.count - 4 - 4 * ndim
        guard available == expected else {
            throw DataError.invalid(file: path, problem: available < expected
                ? "truncated: dimensions \(dims) need \(expected) bytes of data, found \(available)"
                : "\(available - expected) bytes of trailing data after dimensions \(dims)")
        }
        return Array(dimensions: dims, bytes: [UInt8](data[(4 + 4 * ndim)...]))
    }

    /// The whole (decompressed) content of a file.
    static func readMaybeGzip(_ path: String) throws -> [UInt8] {
        guard let file = gzopen(path, "rb") else { throw DataError.missing(file: path) }
        defer { gzclose(file) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if n < 0 { throw DataError.invalid(file: path, problem: "corrupt gzip stream") }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<Int(n)])
        }
        // gzread stops silently at a truncated gzip member; gzerror tells.
        var errnum: Int32 = 0
        _ = gzerror(file, &errnum)
        if errnum != Z_OK && errnum != Z_STREAM_END { throw DataError.invalid(file: path, problem: "corrupt or truncated gzip stream") }
        return out
    }
}
