// One IOVA domain: the tree of allocations, the kernel's cached nodes and 32-bit fast-fail state, its one lock,
// and the public Swift API that the ABI layer dispatches to. Kernel: `struct iova_domain`.
import CKernel
import CSwiommuGlue
import Glibc
import SwiommuBase
import Synchronization

/// An allocated range as the C face sees it: the address of its `struct iova`. Valid until it is freed.
public struct IOVAHandle: Hashable, @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    @inlinable public init(_ p: UnsafeMutableRawPointer) { pointer = p }
    public var range: IOVARange {
        let p = pointer.assumingMemoryBound(to: iova.self)
        return IOVARange(lo: IOVAPFN(UInt64(p.pointee.pfn_lo)), hi: IOVAPFN(UInt64(p.pointee.pfn_hi)))
    }
}

/// What `IOVADomain.statistics` reports. Kernel: none (swiommu_iova_get_stats).
public struct IOVAStatistics: Sendable, Equatable {
    public var allocations = 0
    public var cached = 0
    public var depotMagazines = 0
    public var nodeBytes = 0
    public var poolBytes = 0
    public var cachedPfnLo: UInt64 = 0
    public var cached32PfnLo: UInt64 = 0
    public var max32AllocSize: UInt64 = 0
    public var treeHeight = 0
    public var misalignedGaps = 0
}

/// An IOVA domain. Kernel: `struct iova_domain` and the functions of drivers/iommu/iova.c.
///
/// Thread safety: the tree, the cached nodes, the depots and the pool are guarded by one lock (the kernel's
/// `iova_rbtree_lock` and the rcaches' depot locks in one), a spinlock as there. The rcaches' fast paths take no
/// lock shared with other threads (see `RangeCache`), and `free_iova_fast` finds its node with a seqlock-validated
/// lookup.
public final class IOVADomain: @unchecked Sendable {
    /// Kernel: `granule`, `iova_shift()`, `start_pfn`, `dma_32bit_pfn`.
    public let granule: UInt64
    public let shift: Int
    public let startPfn: UInt64
    public let dma32Pfn: UInt64
    /// Kernel: `max32_alloc_size`.
    public internal(set) var max32AllocSize: UInt64
    /// The `max32_alloc_size` field (an unsigned long) of the C struct this domain hangs off (nil for a domain
    /// without one), which `publishMax32AllocSize()` keeps equal to `max32AllocSize` for the users who read it.
    @usableFromInline var max32Field: UnsafeMutablePointer<Int>?
    /// Live nodes whose pfn_lo a reservation lowered, with the pfn_lo they were allocated with: an rcache entry,
    /// and the caller's free_iova_fast(), still name that pfn, as in the kernel (`__adjust_overlap_range`).
    /// Rare (reservations are usually made before any allocation), so removals consult it only when it is not
    /// empty.
    var lowered: [UInt32: UInt64] = [:]
    /// Kernel: `cached_node`, `cached32_node` (pool indices; `NodePool.anchor` for the anchor).
    var cachedNode = NodePool.anchor
    var cached32Node = NodePool.anchor
    /// The index, at a fixed address reached through addressors: calls on it neither copy it nor pay for the
    /// dynamic exclusivity checks of a class's stored property (the domain's lock orders the accesses).
    let treeStorage: UnsafeMutablePointer<GapArray>
    var tree: GapArray {
        unsafeAddress { UnsafePointer(treeStorage) }
        unsafeMutableAddress { treeStorage }
    }
    /// The pool's state bytes (they never move), for the fast path's state stores outside the lock, which must
    /// not access `tree` (a formal access of the whole index, which writers modify under the lock).
    let nodeStates: UnsafeMutablePointer<UInt8>
    let stateLaneShift: Int
    /// The domain's lock: 0 free, 1 held. Kernel: `iova_rbtree_lock` (a spinlock).
    let lockWord = Atomic<Int>(0)
    /// The seqlock sequence of the tree: odd while a writer changes it.
    let sequence: UnsafeMutablePointer<Int>
    var rangeCache: RangeCache
    /// True once `initRangeCaches()` succeeded. Kernel: `rcaches != NULL`.
    public internal(set) var hasRangeCaches = false
    /// Cleared by `destroy()`.
    var alive = true
    /// Gaps long enough for a request that held no aligned start for it: the searches' non-logarithmic steps.
    public var misalignedGaps: Int { tree.misalignedGaps }

    /// Kernel: `init_iova_domain`. The kernel BUGs for a granule that is not a power of two or is larger than
    /// PAGE_SIZE; here that is a WARN and nil, unless `allowLargeGranule` accepts the larger granule.
    public init?(granule: UInt64, startPfn: IOVAPFN, pageSize: UInt64, allowLargeGranule: Bool = false) {
        guard granule != 0, granule & (granule &- 1) == 0 else {
            Kernel.warn("init_iova_domain: granule \(Kernel.hex(granule)) is not a power of two")
            return nil
        }
        guard granule <= pageSize || allowLargeGranule else {
            Kernel.warn("init_iova_domain: granule \(Kernel.hex(granule)) is larger than PAGE_SIZE "
                        + "\(Kernel.hex(pageSize)) (swiommu_iova_allow_large_granule() permits it)")
            return nil
        }
        guard let t = GapArray() else {
            Kernel.warn("init_iova_domain: cannot reserve address space for the domain's nodes")
            return nil
        }
        treeStorage = .allocate(capacity: 1)
        treeStorage.initialize(to: t)
        nodeStates = t.pool.states
        stateLaneShift = t.pool.laneShift
        self.granule = granule
        shift = granule.trailingZeroBitCount
        self.startPfn = startPfn.rawValue
        // 1UL << (32 - shift); a granule of 2^32 or more (the large-granule option) makes it 1.
        dma32Pfn = shift >= 32 ? 1 : 1 &<< UInt64(32 &- shift)
        max32AllocSize = dma32Pfn
        sequence = .allocate(capacity: 8)
        sequence.initialize(repeating: 0, count: 8)
        rangeCache = RangeCache()
    }

    /// Whether the "iova" fault-injection point fires for this call (one relaxed load when disarmed).
    @inline(__always) var faultFires: Bool {
        swiommu_glue_fault_should_fail(Int32(FaultPoint.iova.rawValue))
    }

    deinit {
        if alive { teardown() }
        treeStorage.deinitialize(count: 1)
        treeStorage.deallocate()
        sequence.deallocate()
    }

    // MARK: Locking

    @inline(__always) func lock() {
        if !lockWord.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { lockContended() }
    }

    /// Spin while the holder is likely running, then give the CPU away between tries (a holder can be preempted
    /// here, unlike in the kernel).
    @inline(never) func lockContended() {
        var spins = 0
        while true {
            if lockWord.load(ordering: .relaxed) == 0
                && lockWord.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged { return }
            spins &+= 1
            if spins > 100 { sched_yield() }
        }
    }

    @inline(__always) func unlock() { lockWord.store(0, ordering: .releasing) }

    /// Take the lock and open a seqlock write section: lock-free readers retry until `unlockWriter()`.
    @inline(__always) func lockWriter() {
        lock()
        swiommu_glue_atomic_store_long(sequence, sequence.pointee &+ 1)
        atomicMemoryFence(ordering: .releasing)
    }

    @inline(__always) func unlockWriter() {
        atomicMemoryFence(ordering: .releasing)
        swiommu_glue_atomic_store_long(sequence, sequence.pointee &+ 1)
        unlock()
    }

    // MARK: Node helpers

    @inline(__always) func lo(_ i: UInt32) -> UInt64 { tree.lo(i) }

    /// Set the state of node `i`, which the calling thread owns (taken from or going into its rcache), without
    /// the lock: a one-byte store to its state byte, which nothing else writes meanwhile.
    @inline(__always) func setStateUnlocked(_ i: UInt32, _ state: UInt8) {
        nodeStates[NodePool.stateIndex(i, stateLaneShift)] = state
    }

    /// The state of node `i`, read without the lock.
    @inline(__always) func stateUnlocked(_ i: UInt32) -> UInt8 { nodeStates[NodePool.stateIndex(i, stateLaneShift)] }
    @inline(__always) func hi(_ i: UInt32) -> UInt64 { tree.hi(i) }
    @inline(__always) func handle(_ i: UInt32) -> IOVAHandle { IOVAHandle(UnsafeMutableRawPointer(tree.node(i))) }

    // MARK: Lookup and free (the tree)

    /// Kernel: `find_iova`.
    public func find(_ pfn: IOVAPFN) -> IOVAHandle? {
        lock()
        defer { unlock() }
        let i = tree.find(containing: pfn.rawValue)
        return i == NodePool.none ? nil : handle(i)
    }

    /// Remove node `i` from the tree and return it to the pool, moving the cached nodes as the kernel does.
    /// Kernel: `remove_iova` (`__cached_rbnode_delete_update` + `rb_erase`) and `free_iova_mem`.
    /// `i` must be in the index (at the position it records).
    func removeLocked(_ i: UInt32) {
        let ilo = lo(i), ihi = hi(i)
        guard var next = tree.remove(i) else {
            Kernel.warn("iova: node [\(Kernel.hex(ilo)), \(Kernel.hex(ihi))] is not in the tree")
            return
        }
        if next == NodePool.none { next = NodePool.anchor }
        if i == cached32Node || (ihi < dma32Pfn && ilo >= lo(cached32Node)) { cached32Node = next }
        if ilo < dma32Pfn { max32AllocSize = dma32Pfn }
        if ilo >= tree.loKnown(cachedNode) { cachedNode = next }
        if !lowered.isEmpty { lowered[i] = nil }
        tree.pool.release(i)
    }

    /// Kernel: `free_iova`. An unknown pfn changes nothing (a WARN here); so does a pfn held by an rcache.
    public func free(pfn: IOVAPFN) {
        lockWriter()
        let i = tree.find(containing: pfn.rawValue)
        let state = i == NodePool.none ? NodeState.free : tree.pool.state(i)
        if state == NodeState.allocated { removeLocked(i) }
        unlockWriter()
        if i == NodePool.none {
            Kernel.warn("free_iova: no IOVA contains pfn \(Kernel.hex(pfn.rawValue)) (freed already?)")
        } else if state == NodeState.cached {
            Kernel.warn("free_iova: pfn \(Kernel.hex(pfn.rawValue)) was freed already (it sits in an rcache)")
        }
    }

    /// Kernel: `__free_iova`. A pointer that is not a live allocation of this domain changes nothing (a WARN).
    public func free(_ h: IOVAHandle) {
        lockWriter()
        // A slot of this pool: allocated and cached nodes are in the tree, free ones are not.
        let i = tree.pool.index(of: h.pointer)
        let state = i.map { tree.pool.state($0) } ?? NodeState.free
        if let i, state == NodeState.allocated { removeLocked(i) }
        unlockWriter()
        if i == nil {
            Kernel.warn("__free_iova: \(Kernel.hex(UInt(bitPattern: h.pointer))) is not an IOVA of this domain "
                        + "(another domain's, the anchor, or not an IOVA)")
        } else if state == NodeState.free {
            Kernel.warn("__free_iova: \(Kernel.hex(UInt(bitPattern: h.pointer))) was freed already")
        } else if state == NodeState.cached {
            Kernel.warn("__free_iova: [\(Kernel.hex(UInt64(h.pointer.assumingMemoryBound(to: iova.self).pointee.pfn_lo)))] "
                        + "was freed already (it sits in an rcache)")
        }
    }

    // MARK: Teardown

    /// Copy `max32AllocSize` to the C struct's field: after every C call, and after the work no C call on the
    /// domain runs (the depot trim, a CPU going offline), so that the field reads what the kernel's would. Written
    /// only when it changed: threads on the fast path must not keep bouncing its cache line.
    @inlinable @inline(__always) func publishMax32AllocSize() {
        guard let f = max32Field else { return }
        let m = Int(truncatingIfNeeded: max32AllocSize)
        if swiommu_glue_atomic_load_long(f) != m { swiommu_glue_atomic_store_long(f, m) }
    }

    /// Kernel: `put_iova_domain`: frees the rcaches (their ranges with the tree), every node, the pool.
    public func destroy() {
        guard alive else { return }
        if hasRangeCaches { IOVAClock.unregister(self) }
        lock()
        teardown()
        unlock()
    }

    private func teardown() {
        alive = false
        max32Field = nil
        lowered = [:]
        rangeCache.destroy()
        hasRangeCaches = false
        tree.removeAll()
        tree.destroy()
    }

    // MARK: Introspection

    /// Live allocations (allocated, reserved or cached), the anchor excluded.
    public var allocationCount: Int {
        lock()
        defer { unlock() }
        return tree.count
    }

    /// Every allocation in ascending order (for tests and dumps).
    public var ranges: [IOVARange] {
        lock()
        defer { unlock() }
        var out: [IOVARange] = []
        out.reserveCapacity(tree.count)
        tree.forEach { i, _ in out.append(IOVARange(lo: IOVAPFN(lo(i)), hi: IOVAPFN(hi(i)))) }
        return out
    }

    /// The kernel's `cached_node` and `cached32_node` as pfn_lo values (~0 for the anchor).
    public var cachedNodes: (cached: IOVAPFN, cached32: IOVAPFN) {
        lock()
        defer { unlock() }
        return (IOVAPFN(lo(cachedNode)), IOVAPFN(lo(cached32Node)))
    }

    public var statistics: IOVAStatistics {
        lock()
        defer { unlock() }
        var s = IOVAStatistics()
        s.allocations = tree.count
        // The magazines of threads that may be in a fast call are read with their slots held.
        let rc = rangeCache.census(eachSlot: withSlotsHeld)
        s.cached = rc.entries
        s.depotMagazines = rc.depotMagazines
        s.nodeBytes = tree.pool.live * MemoryLayout<iova>.stride
        s.poolBytes = tree.bytes + rc.bytes
        s.cachedPfnLo = lo(cachedNode)
        s.cached32PfnLo = lo(cached32Node)
        s.max32AllocSize = max32AllocSize
        s.treeHeight = tree.height
        s.misalignedGaps = misalignedGaps
        return s
    }
}

// MARK: The IOVA space as text (swiommu_dump_iova)

extension IOVADomain {
    /// The live ranges in address order, the free gaps between them (from the domain's start pfn), the
    /// largest gap and the fragmentation (1 - largest gap / all free granules below the highest allocation).
    /// At most `limit` ranges are listed one by one.
    public func dump(limit: Int = 64) -> String {
        let live = ranges.sorted { $0.lo.rawValue < $1.lo.rawValue }
        let start = startPfn
        var gaps: [UInt64] = []
        var next = start
        for r in live {
            if r.lo.rawValue > next { gaps.append(r.lo.rawValue - next) }
            next = max(next, r.hi.rawValue &+ 1)
        }
        let free = gaps.reduce(0, +)
        let largest = gaps.max() ?? 0
        let fragmentation = free == 0 ? 0 : 100 - Int(largest * 100 / free)
        let used = live.reduce(UInt64(0)) { $0 + $1.size }
        var out = "iova domain: granule \(Kernel.hex(1 << UInt64(shift))), start pfn \(Kernel.hex(start)); "
            + "\(live.count) ranges (\(used) granules), \(gaps.count) free gaps below the highest (\(free) granules), "
            + "largest gap \(largest) granules, fragmentation \(fragmentation)%\n"
        for r in live.prefix(limit) {
            out += "  [\(Kernel.hex(r.lo.rawValue)), \(Kernel.hex(r.hi.rawValue))] \(r.size) granule(s)\n"
        }
        if live.count > limit { out += "  ... \(live.count - limit) more\n" }
        return out
    }
}
