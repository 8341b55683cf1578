// Whole-file reads for the loaders: a missing file is `DataError.missing`, an unreadable one `invalid`.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

enum FileBytes {
    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            if errno == ENOENT || errno == ENOTDIR { throw DataError.missing(file: path) }
            throw DataError.invalid(file: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw DataError.invalid(file: path, problem: "not a regular file")
        }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: size)
        let n = out.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
        guard n == size else { throw DataError.invalid(file: path, problem: "read \(n) of \(size) bytes") }
        return out
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
