// NPY files (numpy's `np.save`), versions 1.0–3.0: the magic "\x93NUMPY", a version, a little-endian header
// length, an ASCII dict {'descr': '<f4', 'fortran_order': False, 'shape': (N, …), } and the raw C-order data.
// Only plain numeric little-endian (or single-byte) dtypes are read: object arrays are pickles, which a
// workbench must never unpickle, and Fortran order would need a transpose nobody asked for.
import NeuralNet

/// Reader of numpy's NPY files (versions 1.0–3.0, plain numeric little-endian dtypes only).
public enum NPY {
    /// The element types read, by their NPY type code.
    public enum DType: String, Sendable {
        case uint8 = "u1", int8 = "i1", uint16 = "u2", int16 = "i2", uint32 = "u4", int32 = "i4", uint64 = "u8", int64 = "i8"
        case float16 = "f2", float32 = "f4", float64 = "f8", bool = "b1"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .uint16, .int16, .float16: return 2
            case .uint32, .int32, .float32: return 4
            case .uint64, .int64, .float64: return 8
            }
        }

        /// Whether the elements are integers (bool included), as labels and indices must be.
        public var isInteger: Bool {
            switch self {
            case .float16, .float32, .float64: return false
            default: return true
            }
        }
    }

    /// One array: its shape, dtype and raw little-endian bytes in C order.
    public struct Array: Sendable {
        /// Dimensions, outermost first.
        public let shape: [Int]
        /// The element type.
        public let dtype: DType
        /// The raw data, little-endian, in C order.
        public let bytes: [UInt8]
        /// Where it came from, for error messages ("file.npz:x_train" for an archive member).
        public let source: String

        /// Number of elements (the product of `shape`).
        public var count: Int { shape.reduce(1, *) }

        /// Every element as a Float (exact for integers below 2^24 and for float16/float32); uint8 values are
        /// multiplied by `uint8Scale` on the way.
        public func floats(uint8Scale: Float = 1) -> [Float] {
            var out = [Float](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { dst in
                    // The common dtypes get their own loops; the rest go through the per-element switch.
                    switch dtype {
                    case .uint8: for i in 0..<dst.count { dst[i] = Float(raw[i]) * uint8Scale }
                    case .float32: _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(dst))  // little-endian hosts
                    default: for i in 0..<dst.count { dst[i] = NPY.float(raw, i, dtype) }
                    }
                }
            }
            return out
        }

        /// Every element as an integer; float arrays are refused (labels and indices must be integers).
        public func integers(what: String) throws -> [Int] {
            guard dtype.isInteger else {
                throw DataError.invalid(file: source, problem: "\(what) must be an integer array, found dtype \(dtype.rawValue)")
            }
            var out = [Int](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                for i in 0..<out.count { out[i] = NPY.integer(raw, i, dtype) }
            }
            return out
        }
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads and parses the NPY file at `path`.
    public static func read(_ path: String) throws -> Array {
        try parse(try FileBytes.read(path), source: path)
    }

    /// Parses NPY bytes; `source` names the file (or archive member) in errors.
    public static func parse(_ data: [UInt8], source: String) throws -> Array {
        func bad(_ problem: String) -> DataError { .invalid(file: source, problem: problem) }
        guard data.count >= 10 else { throw bad("too short for an NPY header (\(data.count) bytes)") }
        guard Swift.Array(data[0..<6]) == magic else { throw bad("wrong magic number: not an NPY file") }
        let major = data[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw bad("truncated NPY header") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default: throw bad("NPY format version \(major).\(data[7]) is not supported (1.0–3.0 are)")
        }
        guard data.count >= headerStart + headerLength else { throw bad("truncated NPY header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)

        guard let descr = field(header, "descr"), descr.count >= 2, descr.first == "'" || descr.first == "\"" else {
            if header.contains("'descr': [") { throw bad("structured dtypes are not supported") }
            throw bad("NPY header has no 'descr': \(header)")
        }
        let quote = descr.first!
        guard let end = descr.dropFirst().firstIndex(of: quote) else { throw bad("malformed 'descr' in the NPY header") }
        let code = String(descr[descr.index(after: descr.startIndex)..<end])
        if code.contains("O") { throw bad("object array (pickled data) refused: save plain numeric arrays") }
        guard let order = code.first, "<|=>".contains(order), let dtype = DType(rawValue: String(code.dropFirst())) else {
            throw bad("dtype '\(code)' is not supported (unsigned/signed integers, float16/32/64, bool)")
        }
        if order == ">" && dtype.size > 1 { throw bad("big-endian dtype '\(code)' is not supported") }
        guard let fortran = field(header, "fortran_order") else { throw bad("NPY header has no 'fortran_order'") }
        if fortran.hasPrefix("True") { throw bad("Fortran-order array refused: save it with np.ascontiguousarray") }
        guard let shapeText = field(header, "shape"), shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else {
            throw bad("NPY header has no 'shape'")
        }
        let inner = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingSpaces
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw bad("bad dimension '\(t)' in shape") }
            shape.append(d)
        }
        let start = headerStart + headerLength
        // Overflow-checked: the dimensions come from the file, and release builds do not trap on overflow.
        var expected = dtype.size
        for d in shape {
            let (product, overflow) = expected.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) is too large") }
            expected = product
        }
        let available = data.count - start
        guard available == expected else {
            throw bad(available < expected
                ? "truncated: shape \(shape) of \(code) needs \(expected) bytes of data, found \(available)"
                : "\(available - expected) bytes of trailing data after shape \(shape)")
        }
        return Array(shape: shape, dtype: dtype, bytes: Swift.Array(data[start...]), source: source)
    }

    /// The text of a dict value, from after "'key':" to the end of the header.
    private static func field(_ header: String, _ key: String) -> Substring? {
        for quote in ["'", "\""] {
            if let r = header.firstRange(of: "\(quote)\(key)\(quote):") { return header[r.upperBound...].drop { $0 == " " } }
        }
        return nil
    }

    // MARK: Element access

    @inline(__always)
    static func float(_ raw: UnsafeRawBufferPointer, _ i: Int, _ dtype: DType) -> Float {
        switch dtype {
        case .uint8: return Float(raw[i])
        case .bool: return raw[i] == 0 ? 0 : 1
        case .int8: return Float(Int8(bitPattern: raw[i]))
        case .uint16: return Float(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .int16: return Float(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self).littleEndian)
        case .uint32: return Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .int32: return Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self).littleEndian)
        case .uint64: return Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)
        case .int64: return Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self).littleEndian)
        case .float16: return HalfFloat.float(fromHalf: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .float32: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .float64: return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
        }
    }

    @inline(__always)
    static func integer(_ raw: UnsafeRawBufferPointer, _ i: Int, _ dtype: DType) -> Int {
        switch dtype {
        case .uint8, .bool: return Int(raw[i])
        case .int8: return Int(Int8(bitPattern: raw[i]))
        case .uint16: return Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
        case .int16: return Int(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self).littleEndian)
        case .uint32: return Int(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .int32: return Int(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self).littleEndian)
        case .uint64: return Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)
        case .int64: return Int(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self).littleEndian)
        default: return 0
        }
    }

    // MARK: Writing

    /// The bytes of an NPY 1.0 file holding `values` (float32, C order) with `shape`.
    public static func encode(float32 values: [Float], shape: [Int]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        var out = header(descr: "<f4", shape: shape)
        values.withUnsafeBytes { out.append(contentsOf: $0) }  // little-endian hosts only (x86-64, arm64)
        return out
    }

    /// The bytes of an NPY 1.0 file holding `values` (float64, C order) with `shape`.
    public static func encode(float64 values: [Double], shape: [Int]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        var out = header(descr: "<f8", shape: shape)
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// The bytes of an NPY 1.0 file holding `values` as int64.
    public static func encode(int64 values: [Int], shape: [Int]) -> [UInt8] {
        var out = header(descr: "<i8", shape: shape)
        values.map { Int64($0) }.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    static func header(descr: String, shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var text = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        // numpy pads the header with spaces so the data start on a 64-byte boundary, and ends it with a newline.
        let total = 10 + text.utf8.count + 1
        text += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        let n = text.utf8.count
        return magic + [1, 0, UInt8(n & 255), UInt8(n >> 8)] + Swift.Array(text.utf8)
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " { s = s.dropFirst() }
        while let l = s.last, l == " " { s = s.dropLast() }
        return s
    }
}
