// The rcaches of alloc_iova_fast/free_iova_fast: per size class, a loaded and a previous magazine per CPU
// (per thread here), and a depot of full magazines trimmed by delayed work. Kernel: `struct iova_rcache`,
// `struct iova_cpu_rcache` and their functions in drivers/iommu/iova.c.
import CKernel
import CSwiommuGlue
import Glibc
import SwiommuBase
import Synchronization

/// The rcache state of a domain, in raw memory (no reference counting on the fast path).
///
/// Per CPU number (`ThreadCPU`), a 64-byte-aligned slot: `busy` (word 0, written by its thread), `drain` (word 1,
/// written by a drainer under the domain's lock), per size class the loaded and previous magazines (from byte
/// 64), then the thread's recent allocations (from byte 192, see `Slot.recent`). A
/// thread marks its slot busy around each use and backs off while a drainer holds it (`AsymmetricFence`), so the
/// fast path takes no lock and no locked instruction, and `flush_rcache` can still empty every slot.
/// The depots, their delayed work and the slot table are guarded by the domain's lock.
struct RangeCache {
    /// Kernel: `IOVA_RANGE_CACHE_MAX_SIZE`: size classes 0 ..< 6, i.e. 1 ... 32 granules.
    static let sizeClasses = 6
    static let magazinesOffset = 64
    /// The recent allocations, direct-mapped by pfn: `recentEntries` pfns from byte 192, then their node
    /// indices. As many as a lazy domain's flush queue holds per thread (256) and room for collisions, so that
    /// the frees a flush releases find their nodes here rather than by a descent of the tree.
    static let recentEntries = 512
    static let recentPfnsOffset = 192
    static let recentIndicesOffset = recentPfnsOffset + 8 * recentEntries
    static let slotBytes = recentIndicesOffset + 4 * recentEntries

    /// A size class's depot. Kernel: `iova_rcache`'s `depot`, `depot_size` and `work`.
    struct Depot {
        var head: UnsafeMutableRawPointer? = nil
        var size = 0
        var workPending = false
        var workDue: UInt64 = 0
    }

    /// Per CPU number, its slot or nil. Made under the domain's lock, published with a release store and read
    /// by the fast path with an acquire load (`IOVADomain.slot(for:)`).
    var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>? = nil
    var depots: UnsafeMutablePointer<Depot>? = nil
    /// Whether the fast path may rely on membarrier(2) (`AsymmetricFence`).
    var expedited = false

    /// Kernel: `iova_domain_init_rcaches` (the magazines of a CPU are allocated at its first use here).
    mutating func setUp(expedited: Bool) {
        self.expedited = expedited
        let s = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: ThreadCPU.maxCPUs)
        s.initialize(repeating: nil, count: ThreadCPU.maxCPUs)
        slots = s
        let d = UnsafeMutablePointer<Depot>.allocate(capacity: RangeCache.sizeClasses)
        d.initialize(repeating: Depot(), count: RangeCache.sizeClasses)
        depots = d
    }

    /// Kernel: `free_iova_rcaches`: the magazines go, their ranges stay in the tree (put_iova_domain frees it).
    mutating func destroy() {
        if let slots {
            for cpu in 0..<ThreadCPU.maxCPUs {
                guard let raw = slots[cpu] else { continue }
                let s = Slot(raw)
                for c in 0..<RangeCache.sizeClasses {
                    s.loaded(c).deallocate()
                    s.previous(c).deallocate()
                }
                Glibc.free(raw)
            }
            slots.deallocate()
        }
        if let depots {
            for c in 0..<RangeCache.sizeClasses {
                var h = depots[c].head
                while let m = h {
                    h = Magazine(m).next
                    Magazine(m).deallocate()
                }
            }
            depots.deallocate()
        }
        slots = nil
        depots = nil
    }

    /// Ranges held, full magazines in the depots, bytes held. `eachSlot` visits the slots (see
    /// `IOVADomain.withSlotsHeld`: their owners may be using them).
    func census(eachSlot: ((Int, Slot) -> Void) -> Void) -> (entries: Int, depotMagazines: Int, bytes: Int) {
        var entries = 0, depotMagazines = 0, bytes = 0
        if slots != nil {
            bytes += ThreadCPU.maxCPUs * 8
            eachSlot { _, s in
                bytes += RangeCache.slotBytes + 2 * RangeCache.sizeClasses * Magazine.byteCount
                for c in 0..<RangeCache.sizeClasses { entries += s.loaded(c).size + s.previous(c).size }
            }
        }
        if let depots {
            bytes += RangeCache.sizeClasses * MemoryLayout<Depot>.stride
            for c in 0..<RangeCache.sizeClasses {
                var h = depots[c].head
                while let m = h {
                    entries += Magazine(m).size
                    depotMagazines += 1
                    bytes += Magazine.byteCount
                    h = Magazine(m).next
                }
            }
        }
        return (entries, depotMagazines, bytes)
    }
}

/// A CPU's rcache slot in raw memory. Kernel: `struct iova_cpu_rcache` (one per size class there).
struct Slot {
    let raw: UnsafeMutableRawPointer
    @inline(__always) init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    /// Which recent entry a range of size class `c` at `pfn` uses (its pfn is a multiple of 2^c).
    @inline(__always) static func recentEntry(_ pfn: UInt64, _ c: Int) -> Int {
        Int(truncatingIfNeeded: ((pfn &>> UInt64(c)) ^ UInt64(c)) & UInt64(RangeCache.recentEntries &- 1))
    }

    /// Remember that this thread allocated the range at `pfn` (node `index`): free_iova_fast then finds the node
    /// without a tree lookup, if the node still holds that range (it checks). Written only by the slot's thread.
    @inline(__always) func setRecent(pfn: UInt64, index: UInt32, sizeClass c: Int) {
        let k = Slot.recentEntry(pfn, c)
        raw.storeBytes(of: pfn, toByteOffset: RangeCache.recentPfnsOffset &+ 8 &* k, as: UInt64.self)
        raw.storeBytes(of: index, toByteOffset: RangeCache.recentIndicesOffset &+ 4 &* k, as: UInt32.self)
    }

    /// The node this thread last allocated at `pfn` in size class `c`, if it remembers one (`none` if not).
    @inline(__always) func recent(pfn: UInt64, sizeClass c: Int) -> UInt32 {
        let k = Slot.recentEntry(pfn, c)
        guard raw.load(fromByteOffset: RangeCache.recentPfnsOffset &+ 8 &* k, as: UInt64.self) == pfn else {
            return NodePool.none
        }
        return raw.load(fromByteOffset: RangeCache.recentIndicesOffset &+ 4 &* k, as: UInt32.self)
    }
    @inline(__always) var busy: UnsafeMutablePointer<Int> { raw.assumingMemoryBound(to: Int.self) }
    @inline(__always) var drain: UnsafeMutablePointer<Int> { (raw + 8).assumingMemoryBound(to: Int.self) }
    @inline(__always) func loaded(_ c: Int) -> Magazine {
        Magazine(raw.load(fromByteOffset: RangeCache.magazinesOffset &+ 16 &* c, as: UnsafeMutableRawPointer.self))
    }
    @inline(__always) func previous(_ c: Int) -> Magazine {
        Magazine(raw.load(fromByteOffset: RangeCache.magazinesOffset &+ 16 &* c &+ 8, as: UnsafeMutableRawPointer.self))
    }
    @inline(__always) func setLoaded(_ c: Int, _ m: Magazine) {
        raw.storeBytes(of: m.raw, toByteOffset: RangeCache.magazinesOffset &+ 16 &* c, as: UnsafeMutableRawPointer.self)
    }
    @inline(__always) func setPrevious(_ c: Int, _ m: Magazine) {
        raw.storeBytes(of: m.raw, toByteOffset: RangeCache.magazinesOffset &+ 16 &* c &+ 8,
                       as: UnsafeMutableRawPointer.self)
    }
}

/// What a lookup without the lock found.
struct LockFreeLookup {
    var index: UInt32
    var lo: UInt64
    var hi: UInt64
    var state: UInt8
}

extension IOVADomain {
    // MARK: Public fast paths

    /// Kernel: `iova_domain_init_rcaches`. Set up once; a second call WARNs and keeps the rcaches.
    public func initRangeCaches() -> Errno? {
        lock()
        let again = hasRangeCaches
        if !again {
            rangeCache.setUp(expedited: AsymmetricFence.expedited)
            hasRangeCaches = true
        }
        unlock()
        if again {
            Kernel.warn("iova_domain_init_rcaches: the domain has rcaches already")
        } else {
            IOVAClock.register(self)
        }
        return nil
    }

    /// Kernel: `alloc_iova_fast`: the calling thread's rcache, else `alloc_iova(..., true)`, else (with
    /// `flushRangeCache`) flush every rcache and try the tree once more. Returns the pfn, or 0.
    public func allocateFast(size: UInt64, limit: IOVAPFN, flushRangeCache: Bool) -> UInt64 {
        guard checkRequest("alloc_iova_fast", size: size, limit: limit) else { return 0 }
        guard hasRangeCaches else {
            Kernel.warn("alloc_iova_fast: the domain has no rcaches (call iova_domain_init_rcaches() first)")
            return 0
        }
        if faultFires { return 0 }
        // Sizes that can be cached are rounded up so that a cached range always fits its size class.
        let size = size < UInt64(1 &<< (RangeCache.sizeClasses - 1)) ? Log2.roundUpPowerOfTwo(size) : size
        let limitExclusive = limit.rawValue &+ 1
        let pfn = rangeCacheGet(size: size, limitExclusive: limitExclusive)
        if pfn != 0 { return pfn }
        var flush = flushRangeCache
        while true {
            lockWriter()
            let i = allocateLocked(size: size, limitExclusive: limitExclusive, sizeAligned: true)
            let r = i == NodePool.none ? nil : lo(i)
            unlockWriter()
            if let r {
                let c = Log2.orderBase2(size)
                if c < RangeCache.sizeClasses, let s = currentSlot() { s.setRecent(pfn: r, index: i, sizeClass: c) }
                return r
            }
            if !flush { return 0 }
            flush = false
            flushRangeCaches()
        }
    }

    /// Kernel: `free_iova_fast`: into the calling thread's rcache, else `free_iova`. What the kernel would cache
    /// and later hand out twice (an unknown pfn, a double free) is a WARN and changes nothing here.
    public func freeFast(pfn: IOVAPFN, size: UInt64) {
        let p = pfn.rawValue
        guard hasRangeCaches, size != 0 else {
            Kernel.warn(size == 0 ? "free_iova_fast: size 0 (freed to the tree)"
                        : "free_iova_fast: the domain has no rcaches (freed to the tree)")
            free(pfn: pfn)
            return
        }
        let c = Log2.orderBase2(size)
        if c >= RangeCache.sizeClasses {
            free(pfn: pfn)
            return
        }
        let s = currentSlot()
        @inline(__always) func exact(_ f: LockFreeLookup) -> Bool {
            f.index != NodePool.none && f.state == NodeState.allocated && f.lo == p
                && f.hi &- f.lo &+ 1 == 1 &<< UInt64(c)
        }
        var found = LockFreeLookup(index: NodePool.none, lo: 0, hi: 0, state: 0)
        if let s, case let i = s.recent(pfn: p, sizeClass: c), i != NodePool.none { found = readLockFree(i) }
        if !exact(found) {
            found = lookupLockFree(p)
            guard exact(found) else {
                freeFastChecked(pfn: p, size: size, sizeClass: c)
                return
            }
        }
        cache(index: found.index, pfn: p, sizeClass: c, slot: s)
    }

    /// The calling thread's rcache slot, made at its first use; nil when the thread has no CPU number or memory
    /// runs out.
    @inline(__always) func currentSlot() -> Slot? {
        let cpu = ThreadCPU.current()
        return cpu >= 0 ? slot(for: cpu) : nil
    }

    /// Node `i` read without the lock, as a seqlock reader (index `none` when a writer got in the way).
    @inline(__always) func readLockFree(_ i: UInt32) -> LockFreeLookup {
        let s1 = swiommu_glue_atomic_load_long(sequence)
        guard s1 & 1 == 0, let n = tree.pool.checkedNode(i) else {
            return LockFreeLookup(index: NodePool.none, lo: 0, hi: 0, state: 0)
        }
        atomicMemoryFence(ordering: .acquiring)
        let r = LockFreeLookup(index: i, lo: UInt64(n.pointee.pfn_lo), hi: UInt64(n.pointee.pfn_hi),
                               state: stateUnlocked(i))
        atomicMemoryFence(ordering: .acquiring)
        return swiommu_glue_atomic_load_long(sequence) == s1 ? r
            : LockFreeLookup(index: NodePool.none, lo: 0, hi: 0, state: 0)
    }

    /// Put a validated allocated node into the calling thread's rcache, or free it to the tree when the rcache
    /// cannot take it.
    @inline(__always) func cache(index: UInt32, pfn: UInt64, sizeClass c: Int, slot: Slot? = nil) {
        setStateUnlocked(index, NodeState.cached)
        if !rangeCacheInsert(pfn: pfn, index: index, sizeClass: c, slot: slot) {
            setStateUnlocked(index, NodeState.allocated)
            free(pfn: IOVAPFN(pfn))
        }
    }

    /// free_iova_fast for what the lock-free check did not accept: decided under the lock, with the WARNs.
    @inline(never) func freeFastChecked(pfn: UInt64, size: UInt64, sizeClass c: Int) {
        lockWriter()
        let i = tree.find(containing: pfn)
        let state = i == NodePool.none ? NodeState.free : tree.pool.state(i)
        let (ilo, ihi) = i == NodePool.none ? (0, 0) : (lo(i), hi(i))
        // A node a reservation lowered is still freed by the pfn it was allocated with.
        let start = lowered.isEmpty || i == NodePool.none ? ilo : lowered[i] ?? ilo
        let exact = i != NodePool.none && start == pfn && ihi &- start &+ 1 == 1 &<< UInt64(c)
        if state == NodeState.allocated && !exact { removeLocked(i) }
        unlockWriter()
        if i == NodePool.none {
            Kernel.warn("free_iova_fast: no IOVA contains pfn \(Kernel.hex(pfn)) (freed already?)")
        } else if state == NodeState.cached {
            Kernel.warn("free_iova_fast: pfn \(Kernel.hex(pfn)) was freed already (it sits in an rcache)")
        } else if !exact {
            Kernel.warn("free_iova_fast: pfn \(Kernel.hex(pfn)) size \(size) does not match its allocation "
                        + "[\(Kernel.hex(ilo)), \(Kernel.hex(ihi))]: freed to the tree instead of cached")
        } else {
            // The lock-free lookup lost a race with writers; the range is fine.
            cache(index: i, pfn: pfn, sizeClass: c)
        }
    }

    /// Find the node containing `pfn` without the lock: a seqlock read of the tree, retried when a writer was
    /// active, with bounded steps and checked indices so that a torn read cannot fault or loop. Falls back to
    /// the lock after a few tries.
    @inline(__always) func lookupLockFree(_ pfn: UInt64) -> LockFreeLookup {
        for _ in 0..<8 {
            let s1 = swiommu_glue_atomic_load_long(sequence)
            if s1 & 1 != 0 { continue }
            atomicMemoryFence(ordering: .acquiring)
            var r = LockFreeLookup(index: NodePool.none, lo: 0, hi: 0, state: 0)
            let (x, torn) = tree.findLockFree(pfn)
            if x != NodePool.none, let p = tree.pool.checkedNode(x) {
                let l = UInt64(p.pointee.pfn_lo), h = UInt64(p.pointee.pfn_hi)
                if pfn <= h { r = LockFreeLookup(index: x, lo: l, hi: h, state: stateUnlocked(x)) }
            }
            atomicMemoryFence(ordering: .acquiring)
            if !torn && swiommu_glue_atomic_load_long(sequence) == s1 { return r }
        }
        lock()
        defer { unlock() }
        let i = tree.find(containing: pfn)
        if i == NodePool.none { return LockFreeLookup(index: i, lo: 0, hi: 0, state: 0) }
        return LockFreeLookup(index: i, lo: lo(i), hi: hi(i), state: tree.pool.state(i))
    }

    // MARK: Slots

    @inline(__always) func slot(for cpu: Int) -> Slot? {
        if let raw = swiommu_glue_atomic_load_acquire_ptr(rangeCache.slots.unsafelyUnwrapped + cpu) { return Slot(raw) }
        return createSlot(cpu)
    }

    /// A CPU's slot with its 12 empty magazines, made at its first use. Kernel: the per-CPU part of
    /// `iova_domain_init_rcaches`.
    @inline(never) func createSlot(_ cpu: Int) -> Slot? {
        lock()
        defer { unlock() }
        guard let slots = rangeCache.slots else { return nil }
        if let raw = slots[cpu] { return Slot(raw) }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, RangeCache.slotBytes) == 0, let raw = p else { return nil }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: RangeCache.slotBytes)
        let s = Slot(raw)
        var made: [Magazine] = []
        for c in 0..<RangeCache.sizeClasses {
            guard let a = Magazine.allocate(), let b = Magazine.allocate() else {
                for m in made { m.deallocate() }
                Glibc.free(raw)
                return nil
            }
            made += [a, b]
            s.setLoaded(c, a)
            s.setPrevious(c, b)
        }
        swiommu_glue_atomic_store_release_ptr(slots + cpu, raw)
        return s
    }

    /// Mark the slot in use; wait while a drainer holds it. The acquire load of `drain` pairs with the drainer's
    /// release store that gives the slot back (the acquire/release pairs order the magazines' contents; the
    /// fence pair only decides who goes first).
    @inline(__always) func enter(_ s: Slot) {
        while true {
            swiommu_glue_atomic_store_long(s.busy, 1)
            AsymmetricFence.light(expedited: rangeCache.expedited)
            if swiommu_glue_atomic_load_acquire_long(s.drain) == 0 { break }
            swiommu_glue_atomic_store_long(s.busy, 0)
            while swiommu_glue_atomic_load_long(s.drain) != 0 { sched_yield() }
        }
    }

    /// Leave the slot: a release store, which the drainer's acquire load of `busy` pairs with.
    @inline(__always) func exit(_ s: Slot) {
        swiommu_glue_atomic_store_release_long(s.busy, 0)
    }

    // MARK: Get and insert

    /// A cached range of `size` granules (a power of two up to 32) below the exclusive limit, or 0.
    /// Kernel: `iova_rcache_get` and `__iova_rcache_get`.
    @inline(__always) func rangeCacheGet(size: UInt64, limitExclusive: UInt64) -> UInt64 {
        let c = Log2.orderBase2(size)
        if c >= RangeCache.sizeClasses { return 0 }
        let cpu = ThreadCPU.current()
        guard cpu >= 0, let s = slot(for: cpu) else { return 0 }
        let popLimit = limitExclusive &- size
        enter(s)
        var loaded = s.loaded(c)
        if loaded.isEmpty {
            let previous = s.previous(c)
            if !previous.isEmpty {
                s.setLoaded(c, previous)
                s.setPrevious(c, loaded)
                loaded = previous
            } else {
                // The depot is the domain lock's: fetch a full magazine outside the busy section, so that a
                // drainer holding the lock never waits for a thread that waits for the lock.
                exit(s)
                lock()
                let full = depotPop(c)
                unlock()
                guard let full else { return 0 }
                enter(s)
                loaded = s.loaded(c)
                if loaded.isEmpty {
                    loaded.deallocate()
                    s.setLoaded(c, full)
                    loaded = full
                } else {
                    // Cannot happen (only this thread fills its slot); keep the full magazine in the depot.
                    exit(s)
                    lock()
                    depotPush(c, full)
                    unlock()
                    enter(s)
                    loaded = s.loaded(c)
                }
            }
        }
        let got = loaded.pop(limit: popLimit)
        exit(s)
        guard let got else { return 0 }
        // The kernel takes a cached pfn 0 for a miss; that range then stays allocated, as there.
        setStateUnlocked(got.index, NodeState.allocated)
        s.setRecent(pfn: got.pfn, index: got.index, sizeClass: c)
        return got.pfn
    }

    /// Push a range into the calling thread's magazine; false when there is no room and no new magazine.
    /// Kernel: `__iova_rcache_insert`.
    @inline(__always) func rangeCacheInsert(pfn: UInt64, index: UInt32, sizeClass c: Int, slot known: Slot?) -> Bool {
        guard let s = known ?? currentSlot() else { return false }
        enter(s)
        var loaded = s.loaded(c)
        var full: Magazine? = nil
        if loaded.isFull {
            let previous = s.previous(c)
            if !previous.isFull {
                s.setLoaded(c, previous)
                s.setPrevious(c, loaded)
                loaded = previous
            } else {
                guard let fresh = Magazine.allocate() else {
                    exit(s)
                    return false
                }
                full = loaded
                s.setLoaded(c, fresh)
                loaded = fresh
            }
        }
        loaded.push(pfn, index)
        exit(s)
        if let full {
            lock()
            depotPush(c, full)
            scheduleDepotWork(c)
            unlock()
        }
        return true
    }

    // MARK: Depot (under the lock)

    /// Kernel: `iova_depot_push`.
    func depotPush(_ c: Int, _ m: Magazine) {
        let d = rangeCache.depots.unsafelyUnwrapped
        m.next = d[c].head
        d[c].head = m.raw
        d[c].size += 1
    }

    /// Kernel: `iova_depot_pop`.
    func depotPop(_ c: Int) -> Magazine? {
        guard let d = rangeCache.depots, let h = d[c].head else { return nil }
        let m = Magazine(h)
        d[c].head = m.next
        d[c].size -= 1
        return m
    }

    /// Kernel: `schedule_delayed_work(&rcache->work, IOVA_DEPOT_DELAY)`: no change when already pending.
    func scheduleDepotWork(_ c: Int) {
        let d = rangeCache.depots.unsafelyUnwrapped
        guard !d[c].workPending else { return }
        d[c].workPending = true
        d[c].workDue = IOVAClock.now &+ IOVAClock.depotDelay
    }

    /// The earliest pending depot work due by `target`: (due time, size class).
    func nextDepotWork(dueBy target: UInt64) -> (UInt64, Int)? {
        lock()
        defer { unlock() }
        guard alive, let d = rangeCache.depots else { return nil }
        var best: (UInt64, Int)? = nil
        for c in 0..<RangeCache.sizeClasses where d[c].workPending && d[c].workDue <= target {
            if best == nil || d[c].workDue < best!.0 { best = (d[c].workDue, c) }
        }
        return best
    }

    /// Kernel: `iova_depot_work_func`: while the depot holds more than num_online_cpus() magazines, free one
    /// (its ranges to the tree) and come back IOVA_DEPOT_DELAY later.
    func runDepotWork(sizeClass c: Int, at time: UInt64) {
        lockWriter()
        defer { unlockWriter() }
        guard alive, let d = rangeCache.depots else { return }
        d[c].workPending = false
        guard d[c].size > ThreadCPU.onlineCPUs, let m = depotPop(c) else { return }
        freeRanges(of: m)
        m.deallocate()
        publishMax32AllocSize()
        d[c].workPending = true
        d[c].workDue = time &+ IOVAClock.depotDelay
    }

    // MARK: Flush (under the lock)

    /// Free a cached range to the tree. Kernel: the loop body of `iova_magazine_free_pfns`.
    func freeCachedRangeLocked(pfn: UInt64, index: UInt32) {
        var i = index
        if !(tree.pool.state(i) == NodeState.cached && lo(i) <= pfn && pfn <= hi(i)) {
            i = tree.find(containing: pfn)
            guard i != NodePool.none else {
                Kernel.warn("iova_magazine_free_pfns: cached pfn \(Kernel.hex(pfn)) is not in the tree")
                return
            }
        }
        removeLocked(i)
    }

    /// Kernel: `iova_magazine_free_pfns`.
    func freeRanges(of m: Magazine) {
        let n = m.size
        for k in 0..<n { freeCachedRangeLocked(pfn: m.pfns[k], index: m.indices[k]) }
        m.size = 0
    }

    /// CPU `cpu` went offline (the thread that counted as it exited): its cached ranges go back to the tree and its
    /// slot and magazines are freed (made again if a thread counts as that CPU later). No thread is in a fast call
    /// on that slot: its thread has exited and the number is not given out again before this returns. Kernel:
    /// `iova_cpuhp_dead` (`free_cpu_cached_iovas`), which keeps the per-CPU memory.
    func cpuDead(_ cpu: Int) {
        lockWriter()
        defer { unlockWriter() }
        guard alive, let slots = rangeCache.slots, let raw = slots[cpu] else { return }
        let s = Slot(raw)
        swiommu_glue_atomic_store_release_ptr(slots + cpu, nil)
        for c in 0..<RangeCache.sizeClasses {
            for m in [s.loaded(c), s.previous(c)] {
                freeRanges(of: m)
                m.deallocate()
            }
        }
        Glibc.free(raw)
        publishMax32AllocSize()
    }

    /// Run `body` on every CPU's slot while its owner is kept out of it: the drainer's side of `enter`/`exit`.
    /// Each slot is taken from its thread (which waits, if it is in a fast call, only for that call to end),
    /// and given back after `body`. Caller holds the domain's lock (drainers take turns under it; an owner
    /// never waits for the lock inside its busy section).
    func withSlotsHeld(_ body: (Int, Slot) -> Void) {
        guard let slots = rangeCache.slots else { return }
        var taken: [(Int, Slot)] = []
        for cpu in 0..<ThreadCPU.maxCPUs {
            guard let raw = slots[cpu] else { continue }
            let s = Slot(raw)
            swiommu_glue_atomic_store_long(s.drain, 1)
            taken.append((cpu, s))
        }
        if !taken.isEmpty { AsymmetricFence.heavy() }
        for (cpu, s) in taken {
            while swiommu_glue_atomic_load_acquire_long(s.busy) != 0 { sched_yield() }
            body(cpu, s)
            swiommu_glue_atomic_store_release_long(s.drain, 0)
        }
    }

    /// Kernel: the flush in `alloc_iova_fast`: `free_cpu_cached_iovas` for every CPU, then
    /// `free_global_cached_iovas`. Each thread's slot is taken from it (it waits, if it is in a fast call,
    /// only for that call to end), emptied, and given back before the ranges go to the tree.
    func flushRangeCaches() {
        lockWriter()
        defer { unlockWriter() }
        guard rangeCache.slots != nil, rangeCache.depots != nil else { return }
        var ranges: [(pfn: UInt64, index: UInt32)] = []
        withSlotsHeld { _, s in
            for c in 0..<RangeCache.sizeClasses {
                for m in [s.loaded(c), s.previous(c)] {
                    for k in 0..<m.size { ranges.append((m.pfns[k], m.indices[k])) }
                    m.size = 0
                }
            }
        }
        for r in ranges { freeCachedRangeLocked(pfn: r.pfn, index: r.index) }
        for c in 0..<RangeCache.sizeClasses {
            while let m = depotPop(c) {
                freeRanges(of: m)
                m.deallocate()
            }
        }
    }
}
