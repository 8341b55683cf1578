// Half-precision conversions for files written by numpy (float16) and PyTorch (float16, bfloat16).

/// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
public enum HalfFloat {
    /// IEEE 754 binary16 → binary32, exact (subnormals, infinities and NaN included).
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
        if exponent == 0 {
            // Subnormal (or zero): mantissa · 2^-24.
            let value = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign != 0 ? -value : value
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }
}

extension HalfFloat {
    /// bfloat16 → binary32: bfloat16 is the top half of a binary32.
    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
}
