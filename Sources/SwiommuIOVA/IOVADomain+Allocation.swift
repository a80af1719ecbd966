// alloc_iova: the kernel's top-down policy (cached nodes, 32-bit fast fail, one retry above the cached node),
// computed with the gap-summarised index instead of the kernel's node-by-node walk, giving the same address.
import CKernel
import SwiommuBase

extension IOVADomain {
    /// Kernel: `alloc_iova`. nil when nothing fits or the "iova" fault-injection point fires; nil with a WARN for
    /// a size of 0, and for a limit below start_pfn (the kernel does not check; the search then fails as the
    /// kernel's does, setting max32_alloc_size).
    public func allocate(size: UInt64, limit: IOVAPFN, sizeAligned: Bool) -> IOVAHandle? {
        guard checkRequest("alloc_iova", size: size, limit: limit) else { return nil }
        if faultFires { return nil }
        lockWriter()
        let i = allocateLocked(size: size, limitExclusive: limit.rawValue &+ 1, sizeAligned: sizeAligned)
        unlockWriter()
        return i == NodePool.none ? nil : handle(i)
    }

    /// The argument checks the kernel lacks: a WARN and false for a size of 0 (on which the kernel's search
    /// computes nonsense); a WARN and true for a limit below start_pfn, which the kernel's search handles: it
    /// fails, and its side effects (max32_alloc_size, alloc_iova_fast's flush) are kept so that the addresses
    /// that follow stay the kernel's.
    @inline(__always) func checkRequest(_ caller: StaticString, size: UInt64, limit: IOVAPFN) -> Bool {
        if size != 0 && limit.rawValue >= startPfn { return true }
        if size == 0 {
            Kernel.warn("\(caller): size 0")
            return false
        }
        Kernel.warn("\(caller): limit_pfn \(Kernel.hex(limit.rawValue)) is below start_pfn \(Kernel.hex(startPfn))")
        return true
    }

    /// Allocate and insert a node of `size` granules below the exclusive `limit` (which wrapped to 0 when the
    /// caller's limit was ~0UL, as in the kernel). Returns the node or `none`.
    /// Kernel: `__alloc_and_insert_iova_range`.
    func allocateLocked(size: UInt64, limitExclusive limit: UInt64, sizeAligned: Bool) -> UInt32 {
        // align_mask <<= fls_long(size - 1), with x86's shift-count masking for the (absurd) top bit.
        let alignMask: UInt64 = sizeAligned ? ~0 &<< UInt64(Log2.fls(size &- 1)) : ~0
        if limit <= dma32Pfn && size >= max32AllocSize { return NodePool.none }
        let start = limit <= dma32Pfn ? cached32Node : cachedNode
        var pfn = search(from: start, limit: limit, size: size, alignMask: alignMask, low: startPfn)
        // The kernel reads retry_pfn before its walk; a failed search inserted nothing, so it is the same after.
        if pfn == nil, case let retryPfn = hi(start), retryPfn < limit {
            // The kernel restarts from iova_find_limit(limit) (or the anchor): the highest place at or above the
            // limit, which for this search is the same as starting from the anchor.
            pfn = search(from: NodePool.anchor, limit: limit, size: size, alignMask: alignMask, low: retryPfn &+ 1)
        }
        guard let pfn else {
            max32AllocSize = size
            return NodePool.none
        }
        guard tree.canInsert, let i = tree.pool.allocate() else { return NodePool.none }
        let p = tree.node(i)
        p.pointee.pfn_lo = CUnsignedLong(pfn)
        p.pointee.pfn_hi = CUnsignedLong(pfn &+ size &- 1)
        tree.pool.setState(i, NodeState.allocated)
        tree.insert(i)
        // Kernel: __cached_rbnode_insert_update.
        if pfn &+ size &- 1 < dma32Pfn { cached32Node = i } else { cachedNode = i }
        return i
    }

    /// The kernel's walk down from `start`, with the same result, in O(log n); on success the index's insertion
    /// point is where the new node goes.
    ///
    /// The kernel steps from node U to its predecessor P while the candidate `new = (min(limit, U.lo) - size) &
    /// mask` still collides with P (`new <= P.hi`) and stays at or above `low`; it succeeds where it stops if
    /// `min(limit, U.lo) >= size` and `new >= low`. `new` only decreases on the way down, so the first stop
    /// decides. Nodes at or above the limit share one `new`; only the lowest of them (over the highest node
    /// below the limit) can stop the walk. Below the limit the walk stops at the first node whose gap holds the
    /// request: the index finds it with its block summaries (largest gap; for size-aligned requests of up to 64
    /// granules, which alignment classes some gap can hold).
    ///
    /// Not logarithmic: a size-aligned request that is not a power of two meets blocks whose gaps hold a run of
    /// more than half its alignment from an aligned start, yet not the whole request, and a size-aligned request
    /// of more than 64 granules (or of 2^20 granules and more) meets gaps that are long enough but hold no
    /// aligned start; the search then looks further down. `misalignedGaps` counts those gaps.
    @inline(__always)
    func search(from start: UInt32, limit: UInt64, size: UInt64, alignMask: UInt64, low: UInt64) -> UInt64? {
        var from = start
        if tree.loKnown(start) >= limit {
            if limit < size { return nil }           // high < size: the kernel's wrapped `new` fails
            let new = (limit &- size) & alignMask
            if new < low { return nil }
            let p = tree.highest(loBelow: limit)
            if p == NodePool.none || new > hi(p) {
                tree.setInsertion(above: p)           // the new node goes just above p
                return new
            }
            from = p
        } else if !tree.contains(start) {
            Kernel.warn("iova: cached node [\(Kernel.hex(lo(start))), \(Kernel.hex(hi(start)))] is not in the tree")
            return nil
        }
        let request = GapArray.Request(size: size, alignMask: alignMask)
        // Below pfn low + size nothing can succeed: the walk would fail there.
        let (floor, overflow) = low.addingReportingOverflow(size)
        if overflow { return nil }
        let c = tree.searchDown(from: from, request, floor: floor)
        if c == NodePool.none { return nil }
        let new = (tree.insertionLo &- size) & alignMask   // lo(c), as the search read it
        return new >= low ? new : nil                // the new node goes before c
    }
}
