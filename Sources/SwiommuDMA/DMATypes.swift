// The DMA layer's value types: bus addresses, directions and attributes, with their kernel names.
import CKernel
import SwiommuBase

/// A DMA (bus) address as a device puts it on the bus: a bus address for dma-direct, an IOVA behind an
/// IOMMU. Kernel: `dma_addr_t`.
public struct DMAAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt64) { self.rawValue = value }

    /// What a failed mapping returns. Kernel: `DMA_MAPPING_ERROR`.
    @inlinable public static var mappingError: DMAAddress { DMAAddress(~0) }

    @inlinable public var isMappingError: Bool { rawValue == ~0 }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    @inlinable public static func + (a: Self, offset: UInt64) -> Self { Self(a.rawValue &+ offset) }
    @inlinable public static func - (a: Self, b: Self) -> UInt64 { a.rawValue &- b.rawValue }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// Which way a mapping's data moves. Kernel: `enum dma_data_direction`.
public enum DMADirection: UInt32, Sendable, CustomStringConvertible {
    /// Kernel: `DMA_BIDIRECTIONAL`.
    case bidirectional = 0
    /// Kernel: `DMA_TO_DEVICE`.
    case toDevice = 1
    /// Kernel: `DMA_FROM_DEVICE`.
    case fromDevice = 2
    /// Kernel: `DMA_NONE`; no mapping call accepts it.
    case none = 3

    /// The C value; nil for a value outside the enum.
    @inlinable public init?(_ dir: dma_data_direction) { self.init(rawValue: dir.rawValue) }

    /// Kernel: `valid_dma_direction`.
    @inlinable public var isValid: Bool { self != .none }

    /// The device may read the buffer (DMA_TO_DEVICE or DMA_BIDIRECTIONAL).
    @inlinable public var deviceReads: Bool { self == .toDevice || self == .bidirectional }
    /// The device may write the buffer (DMA_FROM_DEVICE or DMA_BIDIRECTIONAL).
    @inlinable public var deviceWrites: Bool { self == .fromDevice || self == .bidirectional }

    @inlinable public var c: dma_data_direction { dma_data_direction(rawValue: rawValue) }

    public var description: String {
        switch self {
        case .bidirectional: "DMA_BIDIRECTIONAL"
        case .toDevice: "DMA_TO_DEVICE"
        case .fromDevice: "DMA_FROM_DEVICE"
        case .none: "DMA_NONE"
        }
    }
}

/// `DMA_ATTR_*` flags of a mapping or allocation. Kernel: `unsigned long attrs`.
public struct DMAAttributes: OptionSet, Sendable {
    public var rawValue: UInt
    @inlinable public init(rawValue: UInt) { self.rawValue = rawValue }

    /// Kernel: `DMA_ATTR_WEAK_ORDERING`.
    public static let weakOrdering = DMAAttributes(rawValue: 1 << 1)
    /// Kernel: `DMA_ATTR_WRITE_COMBINE`.
    public static let writeCombine = DMAAttributes(rawValue: 1 << 2)
    /// Kernel: `DMA_ATTR_NO_KERNEL_MAPPING`.
    public static let noKernelMapping = DMAAttributes(rawValue: 1 << 4)
    /// Kernel: `DMA_ATTR_SKIP_CPU_SYNC`.
    public static let skipCPUSync = DMAAttributes(rawValue: 1 << 5)
    /// Kernel: `DMA_ATTR_FORCE_CONTIGUOUS`.
    public static let forceContiguous = DMAAttributes(rawValue: 1 << 6)
    /// Kernel: `DMA_ATTR_ALLOC_SINGLE_PAGES`.
    public static let allocSinglePages = DMAAttributes(rawValue: 1 << 7)
    /// Kernel: `DMA_ATTR_NO_WARN`.
    public static let noWarn = DMAAttributes(rawValue: 1 << 8)
    /// Kernel: `DMA_ATTR_PRIVILEGED`.
    public static let privileged = DMAAttributes(rawValue: 1 << 9)
}

public typealias Scatterlist = CKernel.scatterlist
public typealias SGTable = CKernel.sg_table
public typealias VMArea = CKernel.vm_area_struct
