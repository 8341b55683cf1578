// safetensors files (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
// {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}, then the raw
// little-endian tensor bytes, offsets relative to the end of the header. Written atomically: a temporary file in
// the same directory, fsync, rename, fsync of the directory, so a crash mid-save leaves the previous file intact.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A safetensors file read whole: its header (tensor entries and metadata) and its data bytes.
public struct SafetensorsFile: Sendable {
    /// One tensor's header entry, as the JSON names it.
    public struct TensorInfo: Sendable, Codable {
        /// The element type, e.g. "F32", "F16", "BF16", "I64".
        public let dtype: String
        /// Dimensions, outermost first ([] for a scalar).
        public let shape: [Int]
        /// [begin, end) of its bytes, relative to the end of the header.
        public let data_offsets: [Int]
    }

    /// The file it was read from, for error messages.
    public let path: String
    /// Every tensor's entry, by name.
    public let tensors: [String: TensorInfo]
    /// The string-to-string `__metadata__` (empty when the file has none).
    public let metadata: [String: String]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Element sizes of the dtypes Lethe converts to float32.
    static let sizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1]

    /// Reads and checks the file at `path`: header length, JSON, dtypes and that every tensor's bytes are in the file.
    public static func read(_ path: String) throws -> SafetensorsFile {
        let bytes = try readFile(path)
        func bad(_ problem: String) -> ModelFileError { .invalid(file: path, problem: problem) }
        guard bytes.count >= 8 else { throw bad("too short for a safetensors header (\(bytes.count) bytes)") }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n > 1, n <= 100_000_000, bytes.count == 8 || bytes[8] == UInt8(ascii: "{") else {
            throw bad("wrong magic: not a safetensors file (header length \(n))")
        }
        guard 8 + n <= bytes.count else { throw bad("truncated: the header needs \(n) bytes, the file has \(bytes.count - 8) after its length") }
        let entries: [String: HeaderEntry]
        do { entries = try JSONDecoder().decode([String: HeaderEntry].self, from: Data(bytes[8..<(8 + n)])) } catch {
            throw bad("malformed JSON header: \(error)")
        }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        let dataLength = bytes.count - 8 - n
        for (name, entry) in entries {
            switch entry {
            case .metadata(let m): metadata = m
            case .tensor(let t):
                guard let size = sizes[t.dtype] else { throw bad("tensor '\(name)' has dtype \(t.dtype), which Lethe does not read") }
                guard t.data_offsets.count == 2, t.shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a malformed entry") }
                let (b, e) = (t.data_offsets[0], t.data_offsets[1])
                var bytes = size  // overflow-checked: the shape comes from the file
                for d in t.shape {
                    let (product, overflow) = bytes.multipliedReportingOverflow(by: d)
                    guard !overflow else { throw bad("tensor '\(name)' has an impossibly large shape \(t.shape)") }
                    bytes = product
                }
                guard b >= 0, e >= b, e - b == bytes else {
                    throw bad("tensor '\(name)': offsets [\(b), \(e)] do not hold shape \(t.shape) of \(t.dtype)")
                }
                guard e <= dataLength else { throw bad("truncated: tensor '\(name)' ends at byte \(e) of a \(dataLength)-byte data section") }
                tensors[name] = t
            }
        }
        return SafetensorsFile(path: path, tensors: tensors, metadata: metadata, bytes: bytes, dataStart: 8 + n)
    }

    /// A tensor's values converted to float32 (float16, bfloat16, float64 and integers converted exactly or rounded).
    public func floats(_ name: String, into out: UnsafeMutablePointer<Float>) {
        let t = tensors[name]!
        let count = t.shape.reduce(1, *)
        bytes.withUnsafeBytes { all in
            let raw = UnsafeRawBufferPointer(rebasing: all[(dataStart + t.data_offsets[0])..<(dataStart + t.data_offsets[1])])
            // One loop per dtype: the dtype is a string, so it is matched once, not per element.
            switch t.dtype {
            case "F32": _ = raw.copyBytes(to: UnsafeMutableRawBufferPointer(start: out, count: count * 4))  // little-endian hosts
            case "F16": for i in 0..<count { out[i] = HalfFloat.float(fromHalf: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case "BF16": for i in 0..<count { out[i] = HalfFloat.float(fromBFloat16: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) }
            case "F64": for i in 0..<count { out[i] = Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)) }
            case "I64": for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self).littleEndian) }
            case "I32": for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self).littleEndian) }
            default: for i in 0..<count { out[i] = Float(raw[i]) }  // U8, BOOL
            }
        }
    }

    private init(path: String, tensors: [String: TensorInfo], metadata: [String: String], bytes: [UInt8], dataStart: Int) {
        self.path = path
        self.tensors = tensors
        self.metadata = metadata
        self.bytes = bytes
        self.dataStart = dataStart
    }

    /// A header value: a tensor entry, or the string-to-string `__metadata__`.
    enum HeaderEntry: Decodable {
        case tensor(TensorInfo)
        case metadata([String: String])
        init(from decoder: Decoder) throws {
            if let t = try? TensorInfo(from: decoder) { self = .tensor(t) } else { self = .metadata(try [String: String](from: decoder)) }
        }
    }

    // MARK: Writing

    /// One tensor to write: its name, dtype, shape and little-endian bytes.
    public struct OutputTensor {
        /// The state_dict name.
        public let name: String
        /// "F32" or "I64".
        public let dtype: String  // "F32" or "I64"
        /// Dimensions, outermost first ([] for a scalar).
        public let shape: [Int]
        /// The raw little-endian data.
        public let bytes: [UInt8]
        public init(name: String, dtype: String, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    /// Writes tensors (in the given order) and metadata; returns the file's size in bytes.
    @discardableResult
    public static func write(_ tensors: [OutputTensor], metadata: [String: String], to path: String) throws -> Int {
        var header = "{\"__metadata__\":{"
        header += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for t in tensors {
            header += ",\(jsonString(t.name)):{\"dtype\":\"\(t.dtype)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + t.bytes.count)]}"
            offset += t.bytes.count
        }
        header += "}"
        // Pad with spaces so the data start 8-byte aligned, as the reference writer does.
        var headerBytes = Array(header.utf8)
        headerBytes += [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8)
        var out: [UInt8] = []
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += headerBytes
        for t in tensors { out += t.bytes }
        try AtomicFile.write(out, to: path)
        return out.count
    }

    static func jsonString(_ s: String) -> String {
        var r = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            case "\r": r += "\\r"
            case "\t": r += "\\t"
            default:
                if u.value < 0x20 { r += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16) } else { r.unicodeScalars.append(u) }
            }
        }
        return r + "\""
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ENOTDIR { throw ModelFileError.missing(file: path) }
            throw ModelFileError.invalid(file: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw ModelFileError.invalid(file: path, problem: "not a regular file") }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let r = out.withUnsafeMutableBytes { posixRead(fd, $0.baseAddress! + done, $0.count - done) }
            guard r > 0 else { throw ModelFileError.invalid(file: path, problem: "read failed after \(done) bytes") }
            done += r
        }
        return out
    }
}

/// Atomic replacement of a file: write a temporary sibling, fsync it, rename it over the target, fsync the
/// directory. Readers see the old file or the new one, never a torn one.
public enum AtomicFile {
    /// Writes `bytes` to `path` atomically; throws `ModelFileError` when the directory is missing or a step fails.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let dir = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func fail(_ what: String) -> ModelFileError {
            .invalid(file: path, problem: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else {
            if errno == ENOENT { throw ModelFileError.missing(file: dir.isEmpty ? "/" : dir) }
            throw fail("cannot create a temporary file beside it")
        }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        var done = 0
        while done < bytes.count {
            let w = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, $0.count - done) }
            guard w > 0 else { close(fd); throw fail("write failed") }
            done += w
        }
        guard fsync(fd) == 0 else { close(fd); throw fail("fsync failed") }
        close(fd)
        guard rename(temporary, path) == 0 else { throw fail("rename failed") }
        ok = true
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }
}

/// Why a model file could not be read, written or matched to a model.
public enum ModelFileError: Error, CustomStringConvertible, Sendable {
    case missing(file: String)
    /// Not a readable safetensors file.
    case invalid(file: String, problem: String)
    /// A readable file whose tensors do not fit the model: names the tensor and both shapes.
    case mismatch(file: String, problem: String)
    /// The file carries no architecture and none was given.
    case needsArchitecture(file: String)

    /// The message: the file and what is wrong with it.
    public var description: String {
        switch self {
        case .missing(let file): return "file not found: \(file)"
        case .invalid(let file, let problem), .mismatch(let file, let problem): return "\(file): \(problem)"
        case .needsArchitecture(let file):
            return "\(file) carries no Lethe metadata (a PyTorch export?): give the architecture and the dataset (or inputShape and classes)"
        }
    }
}

// File-scope wrappers: inside the types above, `read`/`write` name their own static methods.
private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
