// The two framings of one socket (Docs/Architecture.md §5), told apart by the first byte of a connection:
//   - LSP: `Content-Length: N\r\n` (other headers allowed), `\r\n`, then N bytes of JSON;
//   - lines: one JSON value per line, `\n`-terminated (blank lines ignored).
// The parser is plain byte handling with no I/O, so the daemon (SwiftNIO) and the clients (POSIX sockets)
// share it and the tests drive it directly.

/// How a connection delimits messages: LSP's `Content-Length` headers, or one JSON value per line.
public enum Framing: Sendable, Equatable {
    case contentLength
    case lines

    /// Wraps one JSON payload for this framing.
    public func frame(_ payload: [UInt8]) -> [UInt8] {
        switch self {
        case .contentLength: return Array("Content-Length: \(payload.count)\r\n\r\n".utf8) + payload
        case .lines: return payload + [UInt8(ascii: "\n")]
        }
    }
}

/// A byte stream that cannot be read as frames (bad header, oversized frame).
public struct FrameError: Error, Sendable, CustomStringConvertible {
    /// What was wrong with the stream.
    public let description: String
    /// After a framing error the byte stream cannot be resynchronised, so the connection must close.
    public let fatal: Bool
}

/// Splits a connection's bytes into JSON payloads, detecting the framing from the first non-whitespace byte.
public struct FrameParser: Sendable {
    /// The connection's framing: given at init or detected from the first byte, nil until then.
    public private(set) var framing: Framing?
    /// The largest payload accepted, in bytes (default 64 MiB).
    public let maximumFrameSize: Int
    private var buffer: [UInt8] = []
    private var start = 0  // consumed prefix of `buffer`

    public init(maximumFrameSize: Int = 64 << 20, framing: Framing? = nil) {
        self.maximumFrameSize = maximumFrameSize
        self.framing = framing
    }

    /// Adds received bytes to the buffer; `next()` then returns the payloads they complete.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete payload, nil when more bytes are needed. Throws when the stream is unreadable or a
    /// frame is larger than the limit.
    public mutating func next() throws -> [UInt8]? {
        if framing == nil {
            // Skip leading whitespace; the first other byte decides.
            while start < buffer.count, [0x20, 0x09, 0x0D, 0x0A].contains(buffer[start]) { start += 1 }
            guard start < buffer.count else { return nil }
            framing = (buffer[start] == UInt8(ascii: "C") || buffer[start] == UInt8(ascii: "c")) ? .contentLength : .lines
        }
        switch framing! {
        case .lines: return try nextLine()
        case .contentLength: return try nextContentLengthFrame()
        }
    }

    private mutating func nextLine() throws -> [UInt8]? {
        while true {
            guard let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                if buffer.count - start > maximumFrameSize {
                    throw FrameError(description: "a line longer than \(maximumFrameSize) bytes", fatal: true)
                }
                return nil
            }
            var line = Array(buffer[start..<newline])
            start = newline + 1
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            if line.count > maximumFrameSize {
                throw FrameError(description: "a line longer than \(maximumFrameSize) bytes", fatal: true)
            }
            return line
        }
    }

    private mutating func nextContentLengthFrame() throws -> [UInt8]? {
        let terminator: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]
        guard let headerEnd = find(terminator, from: start) else {
            if buffer.count - start > 8192 { throw FrameError(description: "header block longer than 8192 bytes", fatal: true) }
            return nil
        }
        guard let header = String(validating: buffer[start..<headerEnd], as: UTF8.self) else {
            throw FrameError(description: "header block is not UTF-8", fatal: true)
        }
        var length: Int?
        for line in header.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw FrameError(description: "malformed header line '\(line)'", fatal: true) }
            if parts[0].trimmingSpaces.lowercased() == "content-length" {
                guard let n = Int(parts[1].trimmingSpaces), n >= 0 else {
                    throw FrameError(description: "Content-Length '\(parts[1].trimmingSpaces)' is not a byte count", fatal: true)
                }
                length = n
            }
        }
        guard let length else { throw FrameError(description: "header block without Content-Length", fatal: true) }
        guard length <= maximumFrameSize else {
            throw FrameError(description: "frame of \(length) bytes exceeds the limit of \(maximumFrameSize)", fatal: true)
        }
        let bodyStart = headerEnd + terminator.count
        guard buffer.count - bodyStart >= length else { return nil }
        start = bodyStart + length
        return Array(buffer[bodyStart..<(bodyStart + length)])
    }

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard buffer.count - from >= needle.count else { return nil }
        var i = from
        while i <= buffer.count - needle.count {
            if buffer[i] == needle[0] && buffer[i + 1] == needle[1] && buffer[i + 2] == needle[2] && buffer[i + 3] == needle[3] {
                return i
            }
            i += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}
