// FNV-1a, 64-bit: the one hash behind the project's content fingerprints (model weights, datasets, splits) and the
// outputs cache's index keys. Not cryptographic: it tells contents apart, it does not guard them.

/// A running 64-bit FNV-1a hash.
public struct FNV1a: Sendable {
    /// The hash so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// An empty hash (FNV's offset basis).
    public init() {}

    /// Mixes one word in (one multiply per word, as the fingerprints of indices and features do).
    @inline(__always)
    public mutating func mix(_ word: UInt64) { value = (value ^ word) &* 0x100_0000_01b3 }

    /// Mixes every byte of `bytes` in, one at a time (FNV-1a proper, as model fingerprints use).
    public mutating func mix(bytes: UnsafeRawBufferPointer) {
        var h = value
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        value = h
    }

    /// The hash as 16 lowercase hexadecimal digits, zero-padded.
    public var hex: String { Self.hex(value) }

    /// Any 64-bit hash (or other value) as 16 lowercase hexadecimal digits, zero-padded.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
