// A domain's page sizes, and the core's split of a range into them. Kernel: pgsize_bitmap and iommu_pgsize()
// in drivers/iommu/iommu.c (the split itself lives in the page-table layer: PageSizeChoice).
import SwiommuPageTable

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

    /// Kernel: iommu_pgsize(domain, iova, paddr, size, &count), as the page-table layer implements it
    /// (PageSizeChoice). Nil when no supported size fits (the kernel BUGs; callers check alignment to
    /// `minimum` first, so this cannot happen for them).
    @inlinable public func step(iova: UInt64, paddr: UInt64, size: UInt64) -> Step? {
        guard let (pageSize, count) = PageSizeChoice.pick(bitmap: rawValue, iova: iova, paddr: paddr, size: size) else {
            return nil
        }
        return Step(size: pageSize, count: count)
    }
}
