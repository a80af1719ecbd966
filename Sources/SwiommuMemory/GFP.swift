// GFP flags the allocators act on. Kernel: linux/gfp_types.h (the values are checked against the C
// header by the layout test).

public struct GFP: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let dma = GFP(rawValue: 0x01)        // __GFP_DMA
    public static let highmem = GFP(rawValue: 0x02)    // __GFP_HIGHMEM
    public static let dma32 = GFP(rawValue: 0x04)      // __GFP_DMA32
    public static let zero = GFP(rawValue: 0x100)      // __GFP_ZERO
    public static let noWarn = GFP(rawValue: 0x2000)   // __GFP_NOWARN
    public static let kernel = GFP(rawValue: 0x400 | 0x800 | 0x40 | 0x80)  // GFP_KERNEL

    /// Flags kmalloc refuses, as the kernel's GFP_SLAB_BUG_MASK: warned about and dropped.
    public static let slabBugMask: GFP = [.dma32, .highmem]

    /// Whether the allocation must come from RAM below 4 GiB (ZONE_DMA or ZONE_DMA32 on arm64).
    @inlinable public var needsLowMemory: Bool { !isDisjoint(with: [.dma, .dma32]) }
}
