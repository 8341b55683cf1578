// NPZ files (`np.savez`, `np.savez_compressed`): a zip archive of NPY members named "<key>.npy". Read with
// zlib (raw inflate), already a dependency for .gz IDX files, rather than a zip library: numpy writes only stored
// and deflated members, so the reader is one central-directory walk.
//
// Sizes and offsets come from the central directory, which numpy writes in plain (non-zip64) form for members
// under 4 GiB even though it forces zip64 extras into the local headers.
import CZlib

/// Reader of numpy's NPZ archives (`np.savez`, `np.savez_compressed`): a zip of NPY members.
public enum NPZ {
    /// Reads every member of the archive, keyed by name without ".npy".
    public static func read(_ path: String) throws -> [String: NPY.Array] {
        let data = try FileBytes.read(path)
        var out: [String: NPY.Array] = [:]
        for member in try members(data, path: path) {
            let key = member.name.hasSuffix(".npy") ? String(member.name.dropLast(4)) : member.name
            out[key] = try NPY.parse(try extract(member, from: data, path: path), source: "\(path):\(key)")
        }
        return out
    }

    struct Member {
        let name: String
        let method: Int
        let crc: UInt32
        let compressedSize: Int
        let size: Int
        let localHeaderOffset: Int
    }

    static func u16(_ d: [UInt8], _ o: Int) -> Int { Int(d[o]) | Int(d[o + 1]) << 8 }
    static func u32(_ d: [UInt8], _ o: Int) -> Int { u16(d, o) | u16(d, o + 2) << 16 }
    static func u64(_ d: [UInt8], _ o: Int) -> Int { u32(d, o) | u32(d, o + 4) << 32 }

    static func members(_ d: [UInt8], path: String) throws -> [Member] {
        func bad(_ problem: String) -> DataError { .invalid(file: path, problem: problem) }
        // The end-of-central-directory record: signature PK\5\6, within the last 22 + 65535 (comment) bytes.
        guard d.count >= 22 else { throw bad("too short for a zip archive (\(d.count) bytes): not an NPZ file") }
        var eocd = -1
        var o = d.count - 22
        while o >= max(0, d.count - 22 - 65535) {
            if d[o] == 0x50, d[o + 1] == 0x4B, d[o + 2] == 5, d[o + 3] == 6 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else {
            if d.count >= 4, d[0] == 0x50, d[1] == 0x4B { throw bad("truncated zip archive: no end-of-central-directory record") }
            throw bad("wrong magic number: not an NPZ (zip) file")
        }
        var count = u16(d, eocd + 10)
        var cdOffset = u32(d, eocd + 16)
        // zip64: the locator (PK\6\7) sits just before the EOCD and points to the zip64 EOCD record.
        if (count == 0xFFFF || cdOffset == 0xFFFF_FFFF), eocd >= 20, d[eocd - 20] == 0x50, d[eocd - 19] == 0x4B,
           d[eocd - 18] == 6, d[eocd - 17] == 7 {
            let z = u64(d, eocd - 12)
            guard z >= 0, z <= d.count - 56 else { throw bad("truncated zip64 end-of-central-directory record") }
            count = u64(d, z + 32)
            cdOffset = u64(d, z + 48)
        }
        // Every value read from the file is checked before it indexes anything: release builds run without
        // bounds checks (-Ounchecked), and zip64 fields can hold any 64-bit value.
        guard count >= 0, count <= d.count / 46, cdOffset >= 0, cdOffset <= d.count else {
            throw bad("corrupt zip end-of-central-directory record")
        }
        var members: [Member] = []
        var p = cdOffset
        for _ in 0..<count {
            guard p + 46 <= d.count, u32(d, p) == 0x0201_4B50 else { throw bad("corrupt zip central directory") }
            let nameLength = u16(d, p + 28), extraLength = u16(d, p + 30), commentLength = u16(d, p + 32)
            guard p + 46 + nameLength + extraLength <= d.count else { throw bad("corrupt zip central directory") }
            let name = String(decoding: d[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            var compressed = u32(d, p + 20), size = u32(d, p + 24), offset = u32(d, p + 42)
            // zip64 extra field (id 1): the 64-bit values, in order, of those stored as 0xFFFFFFFF.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(d, e), length = u16(d, e + 2)
                if id == 1 {
                    var q = e + 4
                    if size == 0xFFFF_FFFF, q + 8 <= extraEnd { size = u64(d, q); q += 8 }
                    if compressed == 0xFFFF_FFFF, q + 8 <= extraEnd { compressed = u64(d, q); q += 8 }
                    if offset == 0xFFFF_FFFF, q + 8 <= extraEnd { offset = u64(d, q) }
                }
                e += 4 + length
            }
            guard compressed >= 0, size >= 0, offset >= 0, compressed <= d.count, size <= 1 << 40 else {
                throw bad("corrupt zip central directory entry for '\(name)'")
            }
            members.append(Member(name: name, method: u16(d, p + 10), crc: UInt32(u32(d, p + 16)),
                                  compressedSize: compressed, size: size, localHeaderOffset: offset))
            p += 46 + nameLength + extraLength + commentLength
        }
        return members
    }

    static func extract(_ m: Member, from d: [UInt8], path: String) throws -> [UInt8] {
        let source = "\(path):\(m.name)"
        func bad(_ problem: String) -> DataError { .invalid(file: source, problem: problem) }
        let h = m.localHeaderOffset
        guard h <= d.count - 30, u32(d, h) == 0x0403_4B50 else { throw bad("corrupt zip local header") }
        let start = h + 30 + u16(d, h + 26) + u16(d, h + 28)
        guard start <= d.count, m.compressedSize <= d.count - start else { throw bad("truncated: member data run past the end of the archive") }
        var out: [UInt8]
        switch m.method {
        case 0:
            out = Array(d[start..<(start + m.compressedSize)])
        case 8:
            out = try inflateRaw(d, start: start, count: m.compressedSize, size: m.size, source: source)
        default:
            throw bad("zip compression method \(m.method) is not supported (stored and deflate are)")
        }
        guard out.count == m.size else { throw bad("member holds \(out.count) bytes, its directory entry says \(m.size)") }
        let crc = out.withUnsafeBytes { UInt32(crc32(0, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count))) }
        guard crc == m.crc else { throw bad("CRC mismatch: the archive is corrupt") }
        return out
    }

    /// Raw deflate (no zlib header: window bits −15), as zip stores it.
    static func inflateRaw(_ d: [UInt8], start: Int, count: Int, size: Int, source: String) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError.invalid(file: source, problem: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: max(size, 1))
        let status: Int32 = d.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress! + start)
                stream.avail_in = uInt(count)
                stream.next_out = dst.baseAddress!
                stream.avail_out = uInt(dst.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else {
            throw DataError.invalid(file: source, problem: "corrupt or truncated deflate data (zlib status \(status))")
        }
        return Array(out[0..<Int(stream.total_out)])
    }
}
