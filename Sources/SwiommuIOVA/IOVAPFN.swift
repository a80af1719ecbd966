// Units of the IOVA allocator: page frame numbers counted in granules, never mixed with bytes.

/// A page frame number in IOVA granule units. Kernel: the `unsigned long pfn` of drivers/iommu/iova.c.
public struct IOVAPFN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The anchor's pfn, above all usable space. Kernel: `IOVA_ANCHOR`.
    public static let anchor = IOVAPFN(~0)

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A range of granules, both ends inclusive. Kernel: `struct iova`'s `pfn_lo`, `pfn_hi`.
public struct IOVARange: Hashable, Sendable, CustomStringConvertible {
    public var lo: IOVAPFN
    public var hi: IOVAPFN
    @inlinable public init(lo: IOVAPFN, hi: IOVAPFN) { self.lo = lo; self.hi = hi }
    /// Kernel: `iova_size`.
    @inlinable public var size: UInt64 { hi.rawValue &- lo.rawValue &+ 1 }
    public var description: String { "[\(lo), \(hi)]" }
}

/// Integer helpers with the kernel's definitions (include/linux/log2.h, bitops.h).
@usableFromInline enum Log2 {
    /// Kernel: `fls_long`: 1-based index of the highest set bit, 0 for 0.
    @inline(__always) @usableFromInline static func fls(_ x: UInt64) -> Int { 64 - x.leadingZeroBitCount }
    /// Kernel: `order_base_2`: ceil(log2(n)), 0 for 0 and 1.
    @inline(__always) @usableFromInline static func orderBase2(_ n: UInt64) -> Int { n > 1 ? fls(n &- 1) : 0 }
    /// Kernel: `roundup_pow_of_two` for 1 <= n <= 2^63.
    @inline(__always) @usableFromInline static func roundUpPowerOfTwo(_ n: UInt64) -> UInt64 {
        n <= 1 ? 1 : 1 &<< UInt64(fls(n &- 1))
    }
}
