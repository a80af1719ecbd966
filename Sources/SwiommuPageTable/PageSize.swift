// The page size the IOMMU core maps each chunk of a range with. Kernel: iommu_pgsize() in
// drivers/iommu/iommu.c (Linux 6.17), which feeds io_pgtable_ops->map_pages.

/// The IOMMU core's choice of page size and count. Kernel: `iommu_pgsize`.
public enum PageSizeChoice {
    /// The largest size of `bitmap` that fits `size` and the alignment of `iova` and `paddr`, and how many
    /// such pages to map before a larger size becomes possible. Nil when no size fits (Linux BUG()s).
    public static func pick(bitmap: UInt64, iova: UInt64, paddr: UInt64, size: UInt64) -> (pageSize: UInt64, count: UInt64)? {
        guard size != 0 else { return nil }
        let addressMerge = paddr | iova
        // The common case of one page of the smallest size, which the steps below come to as well.
        let smallest = bitmap & (0 &- bitmap)
        if size == smallest && addressMerge & (smallest &- 1) == 0 { return (smallest, 1) }
        // Page sizes supported by the hardware and small enough for size.
        var sizes = bitmap & genmask(size.highestBit, 0)
        // Constrain the page sizes further based on the maximum alignment.
        if addressMerge != 0 { sizes &= genmask(addressMerge.lowestBit, 0) }
        guard sizes != 0 else { return nil }
        // Pick the biggest page size remaining.
        let index = sizes.highestBit
        let pageSize: UInt64 = 1 &<< UInt64(truncatingIfNeeded: index)
        var size = size
        // Find the next biggest supported page size, if it exists.
        let bigger = bitmap & ~genmask(index, 0)
        if bigger != 0 {
            let next: UInt64 = 1 &<< UInt64(truncatingIfNeeded: bigger.lowestBit)
            // No point trying a bigger page size unless the virtual and physical addresses are similarly
            // offset within the larger page.
            if (iova ^ paddr) & (next &- 1) == 0 {
                // The offset to the next page size alignment boundary.
                let offset = next &- (addressMerge & (next &- 1))
                // If size is big enough to accommodate the larger page, reduce the number of smaller pages.
                let (end, overflow) = offset.addingReportingOverflow(next)
                if !overflow && end <= size { size = offset }
            }
        }
        return (pageSize, size &>> UInt64(truncatingIfNeeded: index))
    }
}
