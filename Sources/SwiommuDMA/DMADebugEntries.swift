// dma-debug's bookkeeping: entries from a pool that only grows, a hash of 16384 buckets by device address
// (one spinlock each), and the active-cacheline table that finds overlapping mappings. No allocation and no
// dictionary per operation. Kernel: kernel/dma/debug.c (struct dma_debug_entry, dma_entry_hash,
// free_entries, dma_active_cacheline).
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

/// What made an entry. Kernel: dma_debug_single, dma_debug_sg, dma_debug_coherent, dma_debug_resource,
/// dma_debug_noncoherent.
enum DebugEntryType: UInt8 {
    case single = 0, scatterGather, coherent, resource, noncoherent

    /// Kernel: type2name[].
    var name: String {
        switch self {
        case .single: "single"
        case .scatterGather: "scatter-gather"
        case .coherent: "coherent"
        case .resource: "resource"
        case .noncoherent: "noncoherent"
        }
    }
}

/// Whether the driver checked a mapping. Kernel: enum map_err_types.
enum MapErrorCheck: UInt8 {
    case notApplicable = 0, notChecked, checked

    /// Kernel: maperr2str[].
    var name: String {
        switch self {
        case .notApplicable: "dma map error check not applicable"
        case .notChecked: "dma map error not checked"
        case .checked: "dma map error checked"
        }
    }
}

/// The physical pieces of one dma_map_sg() call and the checksum of the CPU's view of them, shared by the
/// call's entries (swiommu's checks: a segment's DMA range may merge several pieces). Host memory, freed
/// with the call's last entry.
struct DebugSGPieces {
    var references: Int32
    var count: Int32
    var snapshot: UInt64
    // `count` (phys, length) pairs follow.

    static func pieces(_ p: UnsafeMutablePointer<DebugSGPieces>) -> UnsafeMutablePointer<(UInt64, UInt64)> {
        UnsafeMutableRawPointer(p + 1).assumingMemoryBound(to: (UInt64, UInt64).self)
    }
}

/// One tracked mapping or allocation. Kernel: struct dma_debug_entry (without the stack trace).
struct DebugEntry {
    /// The hash bucket's list (the free list while free).
    var next: UnsafeMutablePointer<DebugEntry>?
    var prev: UnsafeMutablePointer<DebugEntry>?
    /// The active-cacheline table's list.
    var lineNext: UnsafeMutablePointer<DebugEntry>?
    var linePrev: UnsafeMutablePointer<DebugEntry>?
    var dev: UnsafeMutablePointer<Device>?
    var devAddr: UInt64 = 0
    var size: UInt64 = 0
    var paddr: UInt64 = 0
    var type = DebugEntryType.single
    var direction = DMADirection.bidirectional
    var mapError = MapErrorCheck.notApplicable
    /// In the active-cacheline table.
    var tracked = false
    // swiommu's checks: the device is not DMA-coherent (the CPU cache model sits between them); the CPU took
    // the buffer with a sync_for_cpu and has not handed it back; the device wrote it since the CPU last
    // synced it for the CPU; `snapshot` (or the pieces') holds the CPU's view, since the device may read it.
    var noncoherentDevice = false, cpuOwned = false, deviceWrote = false, snapshotValid = false
    var sgCallEnts: Int32 = 0
    var sgMappedEnts: Int32 = 0
    /// Where the mapping lives for the device's own DMA: 0 for a bus address (dma-direct), the domain's
    /// address for an IOVA, DebugEntry.opsRoute for ops installed with set_dma_ops.
    var route: UInt = 0
    /// swiommu: the checksum of the CPU's view when the device last took the buffer (single, noncoherent).
    var snapshot: UInt64 = 0
    /// swiommu: the pieces of a scatterlist entry's dma_map_sg() call.
    var pieces: UnsafeMutablePointer<DebugSGPieces>?

    static let opsRoute: UInt = 1

    @inline(__always) var end: UInt64 { devAddr &+ size }
}

/// A hash bucket: a spinlock and a list in insertion order. Kernel: struct hash_bucket.
struct DebugBucket {
    var lock: Int32 = 0
    var head: UnsafeMutablePointer<DebugEntry>?
    var tail: UnsafeMutablePointer<DebugEntry>?
}

/// The tables, made at the first boot with dma-debug on and kept for the process (as the kernel keeps its
/// pool). Kernel: dma_entry_hash, free_entries, dma_active_cacheline.
enum DebugTable {
    /// Kernel: HASH_SIZE, HASH_FN_SHIFT.
    static let hashSize = 16384
    static let hashShift: UInt64 = 13
    /// Kernel: L1_CACHE_SHIFT on arm64 (64-byte lines).
    static let lineShift: UInt64 = 6
    /// Entries made at the first boot, and how many more each time the pool runs dry. Kernel:
    /// PREALLOC_DMA_DEBUG_ENTRIES (65536, sized for a whole system), DMA_DEBUG_DYNAMIC_ENTRIES.
    static let preallocated = 4096
    static let growth = 1024
    /// Kernel: ACTIVE_CACHELINE_MAX_OVERLAP.
    static let maxOverlap = 7

    nonisolated(unsafe) static var buckets: UnsafeMutablePointer<DebugBucket>?
    nonisolated(unsafe) static var lines: UnsafeMutablePointer<DebugBucket>?
    /// The free list, its spinlock and the pool's counters, all under `freeLock`.
    nonisolated(unsafe) static var freeLock: UnsafeMutablePointer<Int32>?
    nonisolated(unsafe) static var freeList: UnsafeMutablePointer<DebugEntry>?
    nonisolated(unsafe) static var freeCount = 0
    nonisolated(unsafe) static var minFree = 0
    nonisolated(unsafe) static var totalEntries = 0
    /// The largest mapping tracked since boot: how far down a containing lookup must look. Written under
    /// `freeLock`, read by lookups that hold only a bucket's lock: an atomic word.
    nonisolated(unsafe) static let largestWord: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        return p
    }()
    static var largest: UInt64 {
        get { UInt64(bitPattern: Int64(swiommu_glue_atomic_load_long(largestWord))) }
        set { swiommu_glue_atomic_store_long(largestWord, Int(Int64(bitPattern: newValue))) }
    }

    /// Make the tables and the first entries. False when out of host memory.
    static func setUp() -> Bool {
        if buckets != nil { return true }
        let b = UnsafeMutablePointer<DebugBucket>.allocate(capacity: hashSize)
        b.initialize(repeating: DebugBucket(), count: hashSize)
        let l = UnsafeMutablePointer<DebugBucket>.allocate(capacity: hashSize)
        l.initialize(repeating: DebugBucket(), count: hashSize)
        let f = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        f.initialize(to: 0)
        buckets = b
        lines = l
        freeLock = f
        guard grow(by: preallocated) else { return false }
        minFree = freeCount
        return true
    }

    /// Add `count` entries to the free list. Caller holds `freeLock` (or is the only thread, at set-up).
    private static func grow(by count: Int) -> Bool {
        guard let raw = malloc(count * MemoryLayout<DebugEntry>.stride) else { return false }
        let chunk = raw.bindMemory(to: DebugEntry.self, capacity: count)
        chunk.initialize(repeating: DebugEntry(), count: count)
        for i in 0..<count {
            chunk[i].next = freeList
            freeList = chunk + i
        }
        freeCount += count
        totalEntries += count
        return true
    }

    @inline(__always) static func bucketIndex(_ devAddr: UInt64) -> Int {
        Int(truncatingIfNeeded: (devAddr >> hashShift) & UInt64(hashSize - 1))
    }

    @inline(__always) static func bucket(_ devAddr: UInt64) -> UnsafeMutablePointer<DebugBucket> {
        buckets.unsafelyUnwrapped + bucketIndex(devAddr)
    }

    @inline(__always) static func lock(_ b: UnsafeMutablePointer<DebugBucket>) {
        swiommu_glue_spin_lock(UnsafeMutableRawPointer(b).assumingMemoryBound(to: Int32.self))
    }

    @inline(__always) static func unlock(_ b: UnsafeMutablePointer<DebugBucket>) {
        swiommu_glue_spin_unlock(UnsafeMutableRawPointer(b).assumingMemoryBound(to: Int32.self))
    }

    // MARK: The pool. Kernel: dma_entry_alloc, dma_entry_free.

    /// A zeroed entry for a mapping of `size` bytes, or nil when the pool cannot grow (dma-debug then
    /// switches itself off, as the kernel's does).
    static func allocate(size: UInt64) -> UnsafeMutablePointer<DebugEntry>? {
        let lockWord = freeLock.unsafelyUnwrapped
        swiommu_glue_spin_lock(lockWord)
        var grownTo = 0
        if freeList == nil {
            guard grow(by: growth) else {
                swiommu_glue_spin_unlock(lockWord)
                DMADebug.outOfMemory()
                return nil
            }
            grownTo = totalEntries
        }
        let e = freeList.unsafelyUnwrapped
        freeList = e.pointee.next
        freeCount -= 1
        if freeCount < minFree { minFree = freeCount }
        if size > largest { largest = size }
        swiommu_glue_spin_unlock(lockWord)
        e.pointee = DebugEntry()
        // Kernel: __dma_entry_alloc_check_leak: say so each time the pool passes a multiple of its first size.
        if grownTo != 0 && grownTo % preallocated < growth {
            Kernel.log(.info, "DMA-API: dma_debug_entry pool grown to \(grownTo) (\(grownTo / preallocated)00%)")
        }
        return e
    }

    /// Return an entry to the pool, out of the cacheline table first. Kernel: dma_entry_free.
    static func free(_ e: UnsafeMutablePointer<DebugEntry>) {
        lineRemove(e)
        if let p = e.pointee.pieces {
            p.pointee.references -= 1
            if p.pointee.references == 0 { Glibc.free(p) }
            e.pointee.pieces = nil
        }
        let lockWord = freeLock.unsafelyUnwrapped
        swiommu_glue_spin_lock(lockWord)
        e.pointee.next = freeList
        freeList = e
        freeCount += 1
        swiommu_glue_spin_unlock(lockWord)
    }

    /// Entries in use.
    static var inUse: Int {
        guard let lockWord = freeLock else { return 0 }
        swiommu_glue_spin_lock(lockWord)
        defer { swiommu_glue_spin_unlock(lockWord) }
        return totalEntries - freeCount
    }

    // MARK: Bucket lists. Kernel: hash_bucket_add, hash_bucket_del, __hash_bucket_find.

    /// Append to its bucket. Caller holds the bucket's lock.
    @inline(__always)
    static func append(_ e: UnsafeMutablePointer<DebugEntry>, to b: UnsafeMutablePointer<DebugBucket>) {
        e.pointee.next = nil
        e.pointee.prev = b.pointee.tail
        if let t = b.pointee.tail { t.pointee.next = e } else { b.pointee.head = e }
        b.pointee.tail = e
    }

    /// Unlink from its bucket. Caller holds the bucket's lock.
    @inline(__always)
    static func remove(_ e: UnsafeMutablePointer<DebugEntry>, from b: UnsafeMutablePointer<DebugBucket>) {
        if let p = e.pointee.prev { p.pointee.next = e.pointee.next } else { b.pointee.head = e.pointee.next }
        if let n = e.pointee.next { n.pointee.prev = e.pointee.prev } else { b.pointee.tail = e.pointee.prev }
        e.pointee.next = nil
        e.pointee.prev = nil
    }

    /// What a lookup compares: the kernel's reference entry.
    struct Reference {
        var dev: UnsafeMutablePointer<Device>?
        var devAddr: UInt64
        var size: UInt64
        var type: DebugEntryType
        var direction: DMADirection
        var sgCallEnts: Int32 = 0
        var paddr: UInt64 = 0
    }

    /// The best fit in one bucket for `matches`: a perfect fit (size, type, direction and sg count all
    /// equal) at once, else the best, but nil when several matched without a perfect one. Caller holds the
    /// lock. Kernel: __hash_bucket_find.
    /// `bestFit` false: the first match (swiommu's device-side lookups, where any will do).
    @inline(__always)
    static func find(in b: UnsafeMutablePointer<DebugBucket>, _ ref: Reference, bestFit: Bool = true,
                     _ matches: (UnsafeMutablePointer<DebugEntry>) -> Bool) -> UnsafeMutablePointer<DebugEntry>? {
        var best: UnsafeMutablePointer<DebugEntry>?
        var count = 0
        var bestLevel = -1
        var e = b.pointee.head
        while let c = e {
            e = c.pointee.next
            guard matches(c) else { continue }
            if !bestFit { return c }
            count += 1
            var level = 0
            if c.pointee.size == ref.size { level += 1 }
            if c.pointee.type == ref.type { level += 1 }
            if c.pointee.direction == ref.direction { level += 1 }
            if c.pointee.sgCallEnts == ref.sgCallEnts { level += 1 }
            if level == 4 { return c }
            if level > bestLevel {
                bestLevel = level
                best = c
            }
        }
        return count == 1 ? best : nil
    }

    /// The entry for exactly (dev, devAddr), its bucket locked; the caller unlocks `bucket`. Kernel:
    /// get_hash_bucket + bucket_find_exact.
    @inline(__always)
    static func findExact(_ ref: Reference) -> (UnsafeMutablePointer<DebugBucket>, UnsafeMutablePointer<DebugEntry>?) {
        let b = bucket(ref.devAddr)
        lock(b)
        let e = find(in: b, ref) { $0.pointee.devAddr == ref.devAddr && $0.pointee.dev == ref.dev }
        return (b, e)
    }

    /// The entry of `ref.dev` that contains [devAddr, devAddr + size), looking in lower buckets too (only as
    /// far as the largest mapping reaches, where the kernel looks down to address 0); its bucket is locked
    /// and returned. Kernel: bucket_find_contain.
    static func findContaining(_ ref: Reference) -> (UnsafeMutablePointer<DebugBucket>, UnsafeMutablePointer<DebugEntry>?) {
        findCovering(ref) { e in
            e.pointee.dev == ref.dev && e.pointee.devAddr <= ref.devAddr
                && e.pointee.devAddr &+ e.pointee.size >= ref.devAddr &+ ref.size
        }
    }

    /// The bucket walk of findContaining, with any containment test.
    @inline(__always)
    static func findCovering(_ ref: Reference, bestFit: Bool = true, _ matches: (UnsafeMutablePointer<DebugEntry>) -> Bool)
        -> (UnsafeMutablePointer<DebugBucket>, UnsafeMutablePointer<DebugEntry>?) {
        // Entries that can contain the reference start at most `largest` bytes below it.
        let lowest = ref.devAddr &- min(ref.devAddr, largest)
        let steps = min(UInt64(hashSize), (ref.devAddr >> hashShift) &- (lowest >> hashShift) &+ 1)
        var addr = ref.devAddr
        var b = bucket(addr)
        lock(b)
        var i: UInt64 = 0
        while true {
            if let e = find(in: b, ref, bestFit: bestFit, matches) { return (b, e) }
            i += 1
            if i >= steps { return (b, nil) }
            unlock(b)
            addr &-= 1 << hashShift
            b = bucket(addr)
            lock(b)
        }
    }

    // MARK: Active cache lines. Kernel: active_cacheline_insert, active_cacheline_remove.

    /// Kernel: to_cacheline_number.
    @inline(__always) static func lineNumber(_ paddr: UInt64) -> UInt64 { paddr >> lineShift }

    @inline(__always) static func lineBucket(_ line: UInt64) -> UnsafeMutablePointer<DebugBucket> {
        lines.unsafelyUnwrapped + Int(truncatingIfNeeded: line & UInt64(hashSize - 1))
    }

    /// Track the first cache line of a mapping the device may write; the number of live mappings that
    /// already started in it (0: none). Kernel: active_cacheline_insert (the radix tree's overlap tags).
    static func lineInsert(_ e: UnsafeMutablePointer<DebugEntry>) -> Int {
        if e.pointee.direction == .toDevice { return 0 }
        let line = lineNumber(e.pointee.paddr)
        let b = lineBucket(line)
        lock(b)
        var overlap = 0
        var c = b.pointee.head
        while let x = c {
            if lineNumber(x.pointee.paddr) == line { overlap += 1 }
            c = x.pointee.lineNext
        }
        e.pointee.lineNext = nil
        e.pointee.linePrev = b.pointee.tail
        if let t = b.pointee.tail { t.pointee.lineNext = e } else { b.pointee.head = e }
        b.pointee.tail = e
        e.pointee.tracked = true
        unlock(b)
        return overlap
    }

    static func lineRemove(_ e: UnsafeMutablePointer<DebugEntry>) {
        guard e.pointee.tracked else { return }
        let b = lineBucket(lineNumber(e.pointee.paddr))
        lock(b)
        if let p = e.pointee.linePrev { p.pointee.lineNext = e.pointee.lineNext } else { b.pointee.head = e.pointee.lineNext }
        if let n = e.pointee.lineNext { n.pointee.linePrev = e.pointee.linePrev } else { b.pointee.tail = e.pointee.linePrev }
        e.pointee.lineNext = nil
        e.pointee.linePrev = nil
        e.pointee.tracked = false
        unlock(b)
    }

    // MARK: Whole-table walks (unbind, dumps, shutdown).

    /// Visit every entry, bucket by bucket in index order, each bucket locked while visited.
    static func forEach(_ body: (Int, UnsafeMutablePointer<DebugEntry>) -> Void) {
        guard let buckets else { return }
        for i in 0..<hashSize {
            let b = buckets + i
            lock(b)
            var e = b.pointee.head
            while let c = e {
                e = c.pointee.next
                body(i, c)
            }
            unlock(b)
        }
    }

    /// Forget every entry (shutdown, dma-debug switched off): back to the pool.
    static func dropAll() {
        guard let buckets else { return }
        for i in 0..<hashSize {
            let b = buckets + i
            lock(b)
            var e = b.pointee.head
            b.pointee.head = nil
            b.pointee.tail = nil
            unlock(b)
            while let c = e {
                e = c.pointee.next
                free(c)
            }
        }
        largest = 0
    }
}
