// reserve_iova: keep a range out of the allocator's reach, merging with what overlaps it as the kernel does.
import CKernel
import SwiommuBase

extension IOVADomain {
    /// Kernel: `reserve_iova`. Overlapping allocations are extended: the lowest one down to `lo`, each later one
    /// down to where the previous one ends; what remains above the last becomes a new node. Returns the node
    /// holding the top of the range. The kernel walks from its first node; this starts at the first node that can
    /// overlap, O((k + 1) log n) for k overlapping nodes.
    public func reserve(lo: IOVAPFN, hi: IOVAPFN) -> IOVAHandle? {
        var pfnLo = lo.rawValue
        let pfnHi = hi.rawValue
        // Don't allow nonsensical pfns (the kernel's WARN_ON).
        guard (pfnHi | pfnLo) <= UInt64.max &>> UInt64(shift) else {
            Kernel.warn("reserve_iova: [\(Kernel.hex(pfnLo)), \(Kernel.hex(pfnHi))] is above the largest pfn "
                        + "\(Kernel.hex(UInt64.max &>> UInt64(shift)))")
            return nil
        }
        guard pfnLo <= pfnHi else {
            Kernel.warn("reserve_iova: pfn_lo \(Kernel.hex(pfnLo)) is above pfn_hi \(Kernel.hex(pfnHi))")
            return nil
        }
        guard pfnHi != IOVAPFN.anchor.rawValue else {
            Kernel.warn("reserve_iova: [\(Kernel.hex(pfnLo)), \(Kernel.hex(pfnHi))] reaches the anchor at ~0UL")
            return nil
        }
        lockWriter()
        defer { unlockWriter() }
        var x = tree.lowest(hiAtLeast: pfnLo)
        while x != NodePool.none && self.lo(x) <= pfnHi {
            // Kernel: __adjust_overlap_range.
            if pfnLo < self.lo(x) {
                if lowered[x] == nil { lowered[x] = self.lo(x) }
                tree.lowerStart(x, to: pfnLo)
            }
            if pfnHi > self.hi(x) { pfnLo = self.hi(x) &+ 1 }
            if pfnLo >= self.lo(x) && pfnHi <= self.hi(x) { return handle(x) }
            x = tree.successor(x)
        }
        guard tree.canInsert, let i = tree.pool.allocate() else { return nil }
        let p = tree.node(i)
        p.pointee.pfn_lo = CUnsignedLong(pfnLo)
        p.pointee.pfn_hi = CUnsignedLong(pfnHi)
        tree.pool.setState(i, NodeState.allocated)
        tree.setInsertion(of: i)
        tree.insert(i)
        return handle(i)
    }
}
