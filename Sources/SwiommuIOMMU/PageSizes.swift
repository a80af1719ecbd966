// How the core splits a range into the hardware's page sizes. Kernel: iommu_pgsize() in
// drivers/iommu/iommu.c: the largest size that fits and that the alignment of iova and paddr allows,
// stopping early at the next larger size's boundary so that the next step can use the larger page.

/// A set of supported page sizes. Kernel: `pgsize_bitmap`.
public struct PageSizeBitmap: RawRepresentable, Sendable, Equatable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The smallest supported size (the mapping granule), or 0 for an empty bitmap.
    @inlinable public var minimum: UInt64 { rawValue & (0 &- rawValue) }

    /// One step of a split: `count` pages of `size` bytes.
    public struct Step: Equatable, Sendable {
        public var size: UInt64
        public var count: UInt64
        @inlinable public init(size: UInt64, count: UInt64) {
            self.size = size
            self.count = count
        }
    }

    /// Kernel: iommu_pgsize(domain, iova, paddr, size, &count). Nil when no supported size fits (the
    /// kernel BUGs; callers check alignment to `minimum` first, so this cannot happen for them).
    @inlinable public func step(iova: UInt64, paddr: UInt64, size: UInt64) -> Step? {
        guard size > 0 else { return nil }
        let addrMerge = iova | paddr
        // Page sizes supported by the hardware and small enough for @size.
        var sizes = rawValue & Self.mask(upTo: 63 - size.leadingZeroBitCount)
        // Constrain the page sizes further based on the maximum alignment.
        if addrMerge != 0 { sizes &= Self.mask(upTo: addrMerge.trailingZeroBitCount) }
        guard sizes != 0 else { return nil }
        // Pick the biggest page size remaining.
        let pgsizeIndex = 63 - sizes.leadingZeroBitCount
        let pgsize = UInt64(1) << UInt64(pgsizeIndex)
        var count = size >> UInt64(pgsizeIndex)
        // Find the next biggest supported page size, if it exists.
        let larger = rawValue & ~Self.mask(upTo: pgsizeIndex)
        if larger != 0 {
            let next = UInt64(1) << UInt64(larger.trailingZeroBitCount)
            // If iova and paddr are offset alike from the larger size's alignment, stop at its boundary.
            if (iova ^ paddr) & (next &- 1) == 0 {
                let offset = next &- (iova & (next &- 1))
                // Only if the region covers the whole next page after that boundary.
                if offset &+ next <= size { count = offset >> UInt64(pgsizeIndex) }
            }
        }
        return Step(size: pgsize, count: count)
    }

    /// GENMASK(bit, 0).
    @inlinable static func mask(upTo bit: Int) -> UInt64 {
        bit >= 63 ? ~0 : (UInt64(1) << UInt64(bit + 1)) &- 1
    }
}
