// The kernel's drivers/iommu/iova.c (Linux 6.17) transcribed over a sorted array, step for step: obviously
// correct and O(n) per call. The fast allocator must return exactly what this returns.

/// A reference IOVA domain: nodes sorted by pfn_lo with the anchor last; node identities stand for the kernel's
/// `struct iova` pointers (cached nodes, rb_prev, rb_next).
final class ReferenceIOVA {
    struct Node: Equatable {
        var lo: UInt64
        var hi: UInt64
        let id: Int
        var fastOrigin = false   // made by alloc_iova_fast (the differential driver never reserves over these)
    }

    static let anchorID = 0
    static let magazineSize = 127
    static let sizeClasses = 6

    let granule: UInt64
    let shift: Int
    let startPfn: UInt64
    let dma32: UInt64
    var max32: UInt64
    var nodes: [Node]
    var nextID = 1
    var cachedID = ReferenceIOVA.anchorID
    var cached32ID = ReferenceIOVA.anchorID

    // rcaches
    struct CPUCache { var loaded: [UInt64] = []; var prev: [UInt64] = [] }
    var percpu: [Int: [CPUCache]] = [:]
    var depot = [[[UInt64]]](repeating: [], count: ReferenceIOVA.sizeClasses)
    var workPending = [Bool](repeating: false, count: ReferenceIOVA.sizeClasses)
    var workDue = [UInt64](repeating: 0, count: ReferenceIOVA.sizeClasses)
    var now: UInt64
    var onlineCPUs: Int
    var cpu = 0
    var warnings = 0

    init(granule: UInt64, startPfn: UInt64, now: UInt64 = 0, onlineCPUs: Int = 8) {
        self.granule = granule
        shift = granule.trailingZeroBitCount
        self.startPfn = startPfn
        dma32 = 1 << UInt64(32 - shift)
        max32 = dma32
        nodes = [Node(lo: ~0, hi: ~0, id: ReferenceIOVA.anchorID)]
        self.now = now
        self.onlineCPUs = onlineCPUs
    }

    // MARK: The tree

    func index(of id: Int) -> Int { nodes.firstIndex { $0.id == id }! }
    func node(_ id: Int) -> Node { nodes[index(of: id)] }

    /// The kernel's private_find_iova (the anchor excluded: it is not an allocation).
    func find(_ pfn: UInt64) -> Int? {
        nodes.indices.first { nodes[$0].id != ReferenceIOVA.anchorID && nodes[$0].lo <= pfn && pfn <= nodes[$0].hi }
    }

    func insertSorted(_ n: Node) {
        let at = nodes.firstIndex { $0.lo > n.lo } ?? nodes.count
        nodes.insert(n, at: at)
    }

    static func fls(_ x: UInt64) -> Int { 64 - x.leadingZeroBitCount }

    /// iova_find_limit: a node at or above the limit from which the walk gives the same result: the lowest node
    /// whose pfn_lo is at least the limit (the anchor at worst).
    func findLimit(_ limit: UInt64) -> Int {
        if limit > dma32 { return nodes.count - 1 }
        return nodes.firstIndex { $0.lo >= limit }!
    }

    /// __alloc_and_insert_iova_range, with `limit` exclusive.
    func allocAndInsert(size: UInt64, limit: UInt64, sizeAligned: Bool, fastOrigin: Bool) -> Node? {
        var alignMask: UInt64 = ~0
        if sizeAligned { alignMask = alignMask &<< UInt64(ReferenceIOVA.fls(size &- 1)) }
        var high = limit, low = startPfn
        if limit <= dma32 && size >= max32 { return nil }
        var curr: Int? = index(of: limit <= dma32 ? cached32ID : cachedID)
        let retryPfn = nodes[curr!].hi
        var newPfn: UInt64 = 0
        while true {
            repeat {
                high = min(high, nodes[curr!].lo)
                newPfn = (high &- size) & alignMask
                curr = curr! == 0 ? nil : curr! - 1
            } while curr != nil && newPfn <= nodes[curr!].hi && newPfn >= low
            if high < size || newPfn < low {
                if low == startPfn && retryPfn < limit {
                    high = limit
                    low = retryPfn &+ 1
                    curr = findLimit(limit)
                    continue
                }
                max32 = size
                return nil
            }
            break
        }
        let n = Node(lo: newPfn, hi: newPfn &+ size &- 1, id: nextID, fastOrigin: fastOrigin)
        nextID += 1
        insertSorted(n)
        if n.hi < dma32 { cached32ID = n.id } else { cachedID = n.id }
        return n
    }

    /// alloc_iova.
    func allocIova(size: UInt64, limit: UInt64, sizeAligned: Bool, fastOrigin: Bool = false) -> Node? {
        allocAndInsert(size: size, limit: limit &+ 1, sizeAligned: sizeAligned, fastOrigin: fastOrigin)
    }

    /// remove_iova: __cached_rbnode_delete_update, then rb_erase.
    func remove(at i: Int) {
        let free = nodes[i]
        let next = nodes[i + 1].id
        let c32 = node(cached32ID)
        if free.id == cached32ID || (free.hi < dma32 && free.lo >= c32.lo) { cached32ID = next }
        if free.lo < dma32 { max32 = dma32 }
        let c = node(cachedID)
        if free.lo >= c.lo { cachedID = next }
        nodes.remove(at: i)
    }

    /// free_iova.
    func freeIova(_ pfn: UInt64) {
        if let i = find(pfn) { remove(at: i) }
    }

    /// reserve_iova; returns the node holding the top of the range.
    func reserve(_ pfnLo: UInt64, _ pfnHi: UInt64) -> Node? {
        guard (pfnHi | pfnLo) <= (UInt64.max >> UInt64(shift)) else { return nil }
        var lo = pfnLo
        var overlap = false
        var i = 0
        while i < nodes.count {
            let n = nodes[i]
            if lo <= n.hi && pfnHi >= n.lo {
                if lo < n.lo { nodes[i].lo = lo }
                if pfnHi > n.hi { lo = n.hi &+ 1 }
                if lo >= nodes[i].lo && pfnHi <= nodes[i].hi { return nodes[i] }
                overlap = true
            } else if overlap {
                break
            }
            i += 1
        }
        let n = Node(lo: lo, hi: pfnHi, id: nextID)
        nextID += 1
        insertSorted(n)
        return n
    }

    // MARK: rcaches

    static func orderBase2(_ n: UInt64) -> Int { n > 1 ? fls(n - 1) : 0 }

    func caches() -> [CPUCache] {
        percpu[cpu] ?? [CPUCache](repeating: CPUCache(), count: ReferenceIOVA.sizeClasses)
    }

    /// iova_magazine_pop.
    static func magazinePop(_ m: inout [UInt64], _ limit: UInt64) -> UInt64 {
        var i = m.count - 1
        while m[i] > limit {
            if i == 0 { return 0 }
            i -= 1
        }
        let pfn = m[i]
        m[i] = m[m.count - 1]
        m.removeLast()
        return pfn
    }

    /// iova_rcache_get, with `limit` the kernel's limit_pfn + 1.
    func rcacheGet(size: UInt64, limit: UInt64) -> UInt64 {
        let c = ReferenceIOVA.orderBase2(size)
        if c >= ReferenceIOVA.sizeClasses { return 0 }
        var all = caches()
        var cc = all[c]
        var has = false
        if !cc.loaded.isEmpty {
            has = true
        } else if !cc.prev.isEmpty {
            swap(&cc.loaded, &cc.prev)
            has = true
        } else if let m = depot[c].popLast() {
            cc.loaded = m
            has = true
        }
        var pfn: UInt64 = 0
        if has { pfn = ReferenceIOVA.magazinePop(&cc.loaded, limit &- size) }
        all[c] = cc
        percpu[cpu] = all
        return pfn
    }

    /// iova_rcache_insert.
    func rcacheInsert(pfn: UInt64, size: UInt64) -> Bool {
        let c = ReferenceIOVA.orderBase2(size)
        if c >= ReferenceIOVA.sizeClasses { return false }
        var all = caches()
        var cc = all[c]
        if cc.loaded.count < ReferenceIOVA.magazineSize {
        } else if cc.prev.count < ReferenceIOVA.magazineSize {
            swap(&cc.loaded, &cc.prev)
        } else {
            depot[c].append(cc.loaded)
            scheduleWork(c)
            cc.loaded = []
        }
        cc.loaded.append(pfn)
        all[c] = cc
        percpu[cpu] = all
        return true
    }

    func scheduleWork(_ c: Int) {
        if !workPending[c] {
            workPending[c] = true
            workDue[c] = now + 100
        }
    }

    /// iova_magazine_free_pfns.
    func freePfns(_ m: [UInt64]) {
        for pfn in m {
            if let i = find(pfn) { remove(at: i) } else { warnings += 1 }
        }
    }

    /// alloc_iova_fast.
    func allocFast(size: UInt64, limit: UInt64, flush: Bool) -> UInt64 {
        var size = size
        if size < 32 { size = size <= 1 ? 1 : 1 << UInt64(ReferenceIOVA.fls(size - 1)) }
        let pfn = rcacheGet(size: size, limit: limit &+ 1)
        if pfn != 0 { return pfn }
        var flush = flush
        while true {
            if let n = allocIova(size: size, limit: limit, sizeAligned: true, fastOrigin: true) { return n.lo }
            if !flush { return 0 }
            flush = false
            flushAll()
        }
    }

    /// free_iova_fast.
    func freeFast(pfn: UInt64, size: UInt64) {
        if !rcacheInsert(pfn: pfn, size: size) { freeIova(pfn) }
    }

    /// free_cpu_cached_iovas for every CPU, then free_global_cached_iovas.
    func flushAll() {
        for cpu in percpu.keys.sorted() {
            var all = percpu[cpu]!
            for c in 0..<ReferenceIOVA.sizeClasses {
                freePfns(all[c].loaded)
                all[c].loaded = []
                freePfns(all[c].prev)
                all[c].prev = []
            }
            percpu[cpu] = all
        }
        for c in 0..<ReferenceIOVA.sizeClasses {
            while let m = depot[c].popLast() { freePfns(m) }
        }
    }

    /// The virtual clock: iova_depot_work_func each time a work falls due.
    func advance(_ ms: UInt64) {
        let target = now + ms
        while true {
            var best: Int? = nil
            for c in 0..<ReferenceIOVA.sizeClasses where workPending[c] && workDue[c] <= target {
                if best == nil || workDue[c] < workDue[best!] { best = c }
            }
            guard let c = best else { break }
            now = workDue[c]
            workPending[c] = false
            if depot[c].count > onlineCPUs, let m = depot[c].popLast() {
                freePfns(m)
                workPending[c] = true
                workDue[c] = now + 100
            }
        }
        now = target
    }

    // MARK: Views

    var ranges: [(UInt64, UInt64)] { nodes.dropLast().map { ($0.lo, $0.hi) } }
    var cachedLo: UInt64 { node(cachedID).lo }
    var cached32Lo: UInt64 { node(cached32ID).lo }
    var cachedEntries: Int {
        percpu.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.loaded.count + $1.prev.count } }
            + depot.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
    }
    var cachedPfns: Set<UInt64> {
        var s = Set<UInt64>()
        for all in percpu.values { for cc in all { s.formUnion(cc.loaded); s.formUnion(cc.prev) } }
        for d in depot { for m in d { s.formUnion(m) } }
        return s
    }
}
