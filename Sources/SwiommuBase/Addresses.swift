// Distinct types for the address spaces swiommu models, so a physical address is never mistaken for a
// bus address or a frame number.

/// A simulated physical address. Kernel: `phys_addr_t`.
public struct PhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }

    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func + (a: Self, offset: UInt64) -> Self { Self(a.rawValue &+ offset) }
    @inlinable public static func - (a: Self, b: Self) -> UInt64 { a.rawValue &- b.rawValue }

    /// The frame this address lies in.
    @inlinable public func pfn(pageShift: Int) -> PFN { PFN(rawValue >> UInt64(pageShift)) }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// An I/O virtual address: what a device puts on the bus, before translation. Kernel: `unsigned long iova`.
public struct IOVirtualAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func + (a: Self, offset: UInt64) -> Self { Self(a.rawValue &+ offset) }
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// A page frame number. Kernel: `unsigned long pfn`.
public struct PFN: RawRepresentable, Hashable, Comparable, Sendable {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    @inlinable public func address(pageShift: Int) -> PhysicalAddress {
        PhysicalAddress(rawValue << UInt64(pageShift))
    }
}

/// The simulated CPU's page size: 4, 16 or 64 KiB, as arm64 builds allow.
public struct PageGeometry: Sendable, Equatable {
    /// Kernel: `PAGE_SHIFT`.
    public let shift: Int
    /// Kernel: `MAX_PAGE_ORDER` (arm64's default for the page size).
    public let maxOrder: Int

    public init?(shift: Int) {
        switch shift {
        case 12: maxOrder = 10
        case 14: maxOrder = 11
        case 16: maxOrder = 13
        default: return nil
        }
        self.shift = shift
    }

    /// Kernel: `PAGE_SIZE`.
    @inlinable public var size: Int { 1 << shift }
    /// Kernel: `PAGE_MASK` inverted: the offset bits.
    @inlinable public var offsetMask: UInt64 { UInt64(size - 1) }

    public static let k4 = PageGeometry(shift: 12)!
}
