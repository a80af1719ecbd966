// kmalloc: size-class caches of objects carved from page blocks, and whole pages beyond
// KMALLOC_MAX_CACHE_SIZE. Kernel: mm/slub.c and mm/slab_common.c (kmalloc_caches, kmalloc_index,
// kmalloc_large), with SLUB's consistency checks on free always on.
import Glibc
import CKernel
import SwiommuBase

/// One slab: a block of pages cut into objects of one size class. Lives in host memory; every page of the
/// block points at it through `page.swiommu.slab`.
struct Slab {
    var base: UnsafeMutableRawPointer
    var head: UnsafeMutablePointer<PageFrame>
    var cache: Int
    var inUse: Int
    var freeHead: Int32
    var next: UnsafeMutablePointer<Slab>?
    var prev: UnsafeMutablePointer<Slab>?
    /// Per object: its allocation site (live objects).
    var sites: UnsafeMutablePointer<UnsafeRawPointer?>
    /// Per object: the size asked for; 0 when free.
    var sizes: UnsafeMutablePointer<UInt32>
    /// Per object: the next free object's index, -1 at the end.
    var nextFree: UnsafeMutablePointer<Int32>
}

/// A kmalloc cache ("kmalloc-64", "dma-kmalloc-64"); its name is `SlabAllocator.names[index]`.
struct SlabCache {
    let objectSize: Int
    let slabOrder: Int
    let objectsPerSlab: Int
    let lowMemory: Bool
    /// Slabs with at least one free object, most recently used first.
    var partial: UnsafeMutablePointer<Slab>?
    /// Slabs with no free object.
    var full: UnsafeMutablePointer<Slab>?
    var emptySlabs = 0
}

struct SlabAllocator {
    /// Size classes: 8, 16, 32, 64, 96, 128, 192, 256 ... 2 * PAGE_SIZE, then the same for __GFP_DMA.
    /// Plain memory, so the hot path pays no reference counting or copy-on-write checks.
    let caches: UnsafeMutablePointer<SlabCache>
    let cacheCount: Int
    /// Cache names, for messages only.
    let names: [String]
    let classCount: Int
    let maxCacheSize: Int

    init(geometry: PageGeometry) {
        var sizes = [8, 16, 32, 64, 96, 128, 192]
        var s = 256
        while s <= 2 * geometry.size {
            sizes.append(s)
            s *= 2
        }
        maxCacheSize = 2 * geometry.size
        classCount = sizes.count
        var list: [SlabCache] = []
        var names: [String] = []
        for low in [false, true] {
            for size in sizes {
                let label = size < 1024 ? "\(size)" : "\(size / 1024)k"
                // At least 8 objects per slab, and at most an order-3 block, as SLUB's calculate_order aims.
                var order = 0
                while (geometry.size << order) < size * 8 && order < 3 { order += 1 }
                names.append((low ? "dma-kmalloc-" : "kmalloc-") + label)
                list.append(SlabCache(objectSize: size, slabOrder: order,
                                      objectsPerSlab: (geometry.size << order) / size, lowMemory: low))
            }
        }
        self.names = names
        cacheCount = list.count
        caches = .allocate(capacity: list.count)
        caches.initialize(from: list, count: list.count)
    }

    /// Kernel: __kmalloc_minalign(): ARCH_KMALLOC_MINALIGN (8) while swiotlb can bounce small kmalloc buffers,
    /// the cache line (ARCH_DMA_MINALIGN) when it cannot. Size classes whose objects would break it are
    /// served by the next class that keeps it, as create_kmalloc_cache() aliases them.
    var minAlign = 8

    /// Kernel: kmalloc_slab(): kmalloc_index() (with size_index[] for the 96 and 192 byte classes), then the
    /// class that keeps `minAlign`.
    func cacheIndex(size: Int, lowMemory: Bool) -> Int {
        var cls = Self.classIndex(size: size)
        if minAlign > 8 {
            let objectSize = caches[cls].objectSize
            let aligned = (objectSize + minAlign - 1) & ~(minAlign - 1)
            if aligned != objectSize { cls = Self.classIndex(size: aligned) }
        }
        return cls + (lowMemory ? classCount : 0)
    }

    /// Kernel: kmalloc_index() with size_index[].
    static func classIndex(size: Int) -> Int {
        let cls: Int
        switch size {
        case ...8: cls = 0
        case ...16: cls = 1
        case ...32: cls = 2
        case ...64: cls = 3
        case ...96: cls = 4
        case ...128: cls = 5
        case ...192: cls = 6
        default:
            // 256 is class 7; each doubling adds one.
            cls = 7 + (Int.bitWidth - (size - 1).leadingZeroBitCount) - 8
        }
        return cls
    }

    func destroy() {
        for c in UnsafeBufferPointer(start: caches, count: cacheCount) {
            for var list in [c.partial, c.full] {
                while let s = list {
                    list = s.pointee.next
                    Self.freeSlabRecord(s)
                }
            }
        }
        caches.deallocate()
    }

    static func freeSlabRecord(_ s: UnsafeMutablePointer<Slab>) {
        s.pointee.sites.deallocate()
        s.pointee.sizes.deallocate()
        s.pointee.nextFree.deallocate()
        s.deallocate()
    }
}

extension SimulatedMemory {
    /// The ZERO_SIZE_PTR of C: what kmalloc(0) returns.
    public static var zeroSizePointer: UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: 16)! }

    // MARK: Kernel: kmalloc

    /// Allocate `size` bytes. Nil on exhaustion, fault injection, or a size beyond KMALLOC_MAX_SIZE.
    public func kmalloc(size: Int, gfp: GFP, site: AllocationSite?) -> UnsafeMutableRawPointer? {
        if size == 0 { return Self.zeroSizePointer }
        var gfp = gfp
        if !gfp.isDisjoint(with: .slabBugMask) {
            // kmalloc_fix_flags(): the kernel warns and drops flags slab cannot honour.
            let bad = gfp.intersection(.slabBugMask).rawValue
            gfp.subtract(.slabBugMask)
            Kernel.warn("Unexpected gfp: \(Kernel.hex(bad)). Fixing up to gfp: \(Kernel.hex(gfp.rawValue))")
        }
        if FaultInjection.shouldFail(.kmalloc) { return nil }
        if size > slabs.maxCacheSize { return kmallocLarge(size: size, gfp: gfp, site: site) }
        return lock.withLock { () -> UnsafeMutableRawPointer? in
            let ci = slabs.cacheIndex(size: size, lowMemory: gfp.contains(.dma))
            guard let object = allocateObjectLocked(cache: ci, size: size, site: site) else { return nil }
            if gfp.contains(.zero) { memset(object, 0, slabs.caches[ci].objectSize) }
            counters.kmallocObjects += 1
            counters.kmallocBytes += UInt64(size)
            return object
        }
    }

    /// Kernel: get_order(size): the page block order kmalloc_large() takes for `size`.
    private func largeOrder(_ size: Int) -> Int {
        let pages = (size + geometry.size - 1) >> geometry.shift
        return pages <= 1 ? 0 : Int.bitWidth - (pages - 1).leadingZeroBitCount
    }

    private func kmallocLarge(size: Int, gfp: GFP, site: AllocationSite?) -> UnsafeMutableRawPointer? {
        let order = largeOrder(size)
        guard order <= geometry.maxOrder else {
            if !gfp.contains(.noWarn) {
                Kernel.warn("kmalloc: size \(size) exceeds KMALLOC_MAX_SIZE \(geometry.size << geometry.maxOrder)")
            }
            return nil
        }
        return lock.withLock { () -> UnsafeMutableRawPointer? in
            guard let head = allocatePagesLocked(order: order, gfp: gfp, owner: .kmallocLarge, site: site) else {
                return nil
            }
            head.pointee.private = UInt(size)
            counters.kmallocObjects += 1
            counters.kmallocBytes += UInt64(size)
            return physical.virtualAddress(of: head)
        }
    }

    private func allocateObjectLocked(cache ci: Int, size: Int, site: AllocationSite?) -> UnsafeMutableRawPointer? {
        if slabs.caches[ci].partial == nil {
            guard let s = newSlabLocked(cache: ci) else { return nil }
            pushSlab(s, partial: true, cache: ci)
            slabs.caches[ci].emptySlabs += 1
        }
        let s = slabs.caches[ci].partial!
        let idx = Int(s.pointee.freeHead)
        s.pointee.freeHead = s.pointee.nextFree[idx]
        if s.pointee.inUse == 0 { slabs.caches[ci].emptySlabs -= 1 }
        s.pointee.inUse += 1
        s.pointee.sites[idx] = site
        s.pointee.sizes[idx] = UInt32(size)
        if s.pointee.freeHead < 0 {
            unlinkSlab(s, partial: true, cache: ci)
            pushSlab(s, partial: false, cache: ci)
        }
        return s.pointee.base + idx * slabs.caches[ci].objectSize
    }

    private func newSlabLocked(cache ci: Int) -> UnsafeMutablePointer<Slab>? {
        let c = slabs.caches[ci]
        guard let head = buddy.allocate(order: c.slabOrder, below4G: c.lowMemory, owner: .slab) else { return nil }
        let n = c.objectsPerSlab
        let s = UnsafeMutablePointer<Slab>.allocate(capacity: 1)
        s.initialize(to: Slab(base: physical.virtualAddress(of: head)!, head: head, cache: ci, inUse: 0, freeHead: 0,
                              next: nil, prev: nil, sites: .allocate(capacity: n), sizes: .allocate(capacity: n),
                              nextFree: .allocate(capacity: n)))
        s.pointee.sites.initialize(repeating: nil, count: n)
        s.pointee.sizes.initialize(repeating: 0, count: n)
        for i in 0..<n { s.pointee.nextFree[i] = i + 1 < n ? Int32(i + 1) : -1 }
        for i in 0..<(1 << c.slabOrder) { (head + i).pointee.swiommu.slab = UnsafeMutableRawPointer(s) }
        return s
    }

    private func pushSlab(_ s: UnsafeMutablePointer<Slab>, partial: Bool, cache ci: Int) {
        let first = partial ? slabs.caches[ci].partial : slabs.caches[ci].full
        s.pointee.prev = nil
        s.pointee.next = first
        first?.pointee.prev = s
        if partial { slabs.caches[ci].partial = s } else { slabs.caches[ci].full = s }
    }

    private func unlinkSlab(_ s: UnsafeMutablePointer<Slab>, partial: Bool, cache ci: Int) {
        if let p = s.pointee.prev { p.pointee.next = s.pointee.next }
        else if partial { slabs.caches[ci].partial = s.pointee.next }
        else { slabs.caches[ci].full = s.pointee.next }
        s.pointee.next?.pointee.prev = s.pointee.prev
        s.pointee.next = nil
        s.pointee.prev = nil
    }

    /// What kfree() finds at an address.
    enum KmallocObject {
        case slab(UnsafeMutablePointer<Slab>, index: Int)
        case large(UnsafeMutablePointer<PageFrame>)
    }

    /// Resolve an object pointer, reporting what is wrong with it the way SLUB does. Caller holds the lock.
    private func resolveObjectLocked(_ p: UnsafeRawPointer, caller: String) -> KmallocObject? {
        guard let pg = physical.page(containingVirtual: p) else {
            Kernel.log(.error, "\(caller): Attempt to free invalid pointer \(Kernel.hex(UInt(bitPattern: p))) (not kmalloc memory)")
            Kernel.warn("\(caller)(\(Kernel.hex(UInt(bitPattern: p)))): not in the linear map of simulated RAM")
            return nil
        }
        if let raw = pg.pointee.swiommu.slab {
            let s = raw.assumingMemoryBound(to: Slab.self)
            let c = slabs.caches[s.pointee.cache]
            let offset = p - UnsafeRawPointer(s.pointee.base)
            let idx = offset / c.objectSize
            guard offset % c.objectSize == 0, idx < c.objectsPerSlab else {
                let name = slabs.names[s.pointee.cache]
                Kernel.log(.error, "BUG \(name) (Not tainted): Invalid object pointer \(Kernel.hex(UInt(bitPattern: p)))")
                Kernel.warn("\(caller): invalid object pointer \(Kernel.hex(UInt(bitPattern: p))) in \(name)")
                return nil
            }
            guard s.pointee.sizes[idx] != 0 else {
                let name = slabs.names[s.pointee.cache]
                Kernel.log(.error, "BUG \(name) (Not tainted): Object already free")
                Kernel.warn("\(caller): double free of \(Kernel.hex(UInt(bitPattern: p))) in \(name)")
                return nil
            }
            return .slab(s, index: idx)
        }
        let state = pg.pointee.swiommu.state
        guard PageState.kind(state) == PageState.allocatedHead, PageState.owner(state) == .kmallocLarge,
              UnsafeRawPointer(physical.virtualAddress(of: pg)!) == p else {
            Kernel.log(.error, "\(caller): Attempt to free invalid pointer \(Kernel.hex(UInt(bitPattern: p)))")
            Kernel.warn("\(caller)(\(Kernel.hex(UInt(bitPattern: p)))): not a live kmalloc object")
            return nil
        }
        return .large(pg)
    }

    /// Kernel: kfree. NULL and ZERO_SIZE_PTR are ignored; bad pointers are reported and ignored.
    public func kfree(_ p: UnsafeRawPointer?) {
        guard let p, UInt(bitPattern: p) > 16 else { return }
        lock.withLock {
            guard let object = resolveObjectLocked(p, caller: "kfree") else { return }
            switch object {
            case .large(let head):
                counters.kmallocObjects -= 1
                counters.kmallocBytes -= UInt64(head.pointee.private)
                freePagesLocked(head, order: Int(head.pointee.swiommu.order), owner: .kmallocLarge, caller: "kfree")
            case .slab(let s, let idx):
                freeObjectLocked(s, index: idx)
            }
        }
    }

    private func freeObjectLocked(_ s: UnsafeMutablePointer<Slab>, index idx: Int) {
        let ci = s.pointee.cache
        counters.kmallocObjects -= 1
        counters.kmallocBytes -= UInt64(s.pointee.sizes[idx])
        let wasFull = s.pointee.freeHead < 0
        s.pointee.sizes[idx] = 0
        s.pointee.sites[idx] = nil
        s.pointee.nextFree[idx] = s.pointee.freeHead
        s.pointee.freeHead = Int32(idx)
        s.pointee.inUse -= 1
        if wasFull {
            unlinkSlab(s, partial: false, cache: ci)
            pushSlab(s, partial: true, cache: ci)
        }
        if s.pointee.inUse == 0 {
            // Keep one empty slab per cache, as SLUB keeps min_partial slabs, and give the rest back.
            if slabs.caches[ci].emptySlabs >= 1 {
                unlinkSlab(s, partial: true, cache: ci)
                let c = slabs.caches[ci]
                for i in 0..<(1 << c.slabOrder) { (s.pointee.head + i).pointee.swiommu.slab = nil }
                freePagesLocked(s.pointee.head, order: c.slabOrder, owner: .slab, caller: "kfree")
                SlabAllocator.freeSlabRecord(s)
            } else {
                slabs.caches[ci].emptySlabs += 1
            }
        }
    }

    /// Kernel: kmalloc_size_roundup: the size kmalloc() would really give for `size` (its cache's object size,
    /// whole pages above KMALLOC_MAX_CACHE_SIZE); `size` itself for 0 and beyond KMALLOC_MAX_SIZE.
    public func kmallocSizeRoundup(_ size: Int) -> Int {
        if size > 0 && size <= slabs.maxCacheSize {
            return slabs.caches[slabs.cacheIndex(size: size, lowMemory: false)].objectSize
        }
        if size > 0 && size <= geometry.size << geometry.maxOrder { return geometry.size << largeOrder(size) }
        return size
    }

    /// Kernel: __kmalloc_minalign(): the alignment of every kmalloc object, 8 or the cache line.
    public var kmallocMinAlign: Int { slabs.minAlign }

    /// Kernel: create_kmalloc_caches() under swiotlb=noforce, or when swiotlb's buffer could not be allocated:
    /// with no bounce buffers for small kmalloc objects, every kmalloc object keeps the cache line
    /// (ARCH_DMA_MINALIGN) from now on. Objects allocated before keep their caches.
    public func setKmallocMinAlign(_ alignment: Int) {
        precondition(alignment >= 8 && alignment & (alignment - 1) == 0 && alignment <= 256)
        lock.withLock { slabs.minAlign = alignment }
    }

    /// Kernel: ksize. The usable size of a live object, 0 for anything else.
    public func ksize(_ p: UnsafeRawPointer?) -> Int {
        guard let p, UInt(bitPattern: p) > 16 else { return 0 }
        return lock.withLock {
            switch resolveObjectLocked(p, caller: "ksize") {
            case .slab(let s, _): slabs.caches[s.pointee.cache].objectSize
            case .large(let head): geometry.size << Int(head.pointee.swiommu.order)
            case nil: 0
            }
        }
    }

    /// The size a live object was allocated with (0 for anything else), without reporting.
    func requestedSizeLocked(_ p: UnsafeRawPointer) -> Int {
        guard let pg = physical.page(containingVirtual: p) else { return 0 }
        if let raw = pg.pointee.swiommu.slab {
            let s = raw.assumingMemoryBound(to: Slab.self)
            let size = slabs.caches[s.pointee.cache].objectSize
            let off = p - UnsafeRawPointer(s.pointee.base)
            return off % size == 0 && off / size < slabs.caches[s.pointee.cache].objectsPerSlab
                ? Int(s.pointee.sizes[off / size]) : 0
        }
        return PageState.owner(pg.pointee.swiommu.state) == .kmallocLarge ? Int(pg.pointee.private) : 0
    }

    /// Kernel: krealloc. Moves the object when it must; leaves `p` alone on failure.
    public func krealloc(_ p: UnsafeRawPointer?, newSize: Int, gfp: GFP, site: AllocationSite?) -> UnsafeMutableRawPointer? {
        guard let p, UInt(bitPattern: p) > 16 else { return kmalloc(size: newSize, gfp: gfp, site: site) }
        if newSize == 0 {
            kfree(p)
            return Self.zeroSizePointer
        }
        let usable = ksize(p)
        guard usable > 0 else { return nil }  // ksize reported it
        let old = lock.withLock { requestedSizeLocked(p) }
        if newSize <= usable {
            lock.withLock { resizeLocked(p, to: newSize) }
            if gfp.contains(.zero) && newSize > old {
                memset(UnsafeMutableRawPointer(mutating: p) + old, 0, newSize - old)
            }
            return UnsafeMutableRawPointer(mutating: p)
        }
        guard let q = kmalloc(size: newSize, gfp: gfp, site: site) else { return nil }
        memcpy(q, p, old)
        if gfp.contains(.zero) { memset(q + old, 0, newSize - old) }
        kfree(p)
        return q
    }

    private func resizeLocked(_ p: UnsafeRawPointer, to newSize: Int) {
        guard let pg = physical.page(containingVirtual: p) else { return }
        let old: Int
        if let raw = pg.pointee.swiommu.slab {
            let s = raw.assumingMemoryBound(to: Slab.self)
            let idx = (p - UnsafeRawPointer(s.pointee.base)) / slabs.caches[s.pointee.cache].objectSize
            old = Int(s.pointee.sizes[idx])
            s.pointee.sizes[idx] = UInt32(newSize)
        } else {
            old = Int(pg.pointee.private)
            pg.pointee.private = UInt(newSize)
        }
        counters.kmallocBytes = counters.kmallocBytes &- UInt64(old) &+ UInt64(newSize)
    }

    /// Visit every live kmalloc object: address, requested size, cache name, site.
    func forEachLiveObjectLocked(_ body: (UnsafeRawPointer, Int, String, AllocationSite?) -> Void) {
        for ci in 0..<slabs.cacheCount {
            let c = slabs.caches[ci]
            for var list in [c.partial, c.full] {
                while let s = list {
                    for i in 0..<c.objectsPerSlab where s.pointee.sizes[i] != 0 {
                        body(s.pointee.base + i * c.objectSize, Int(s.pointee.sizes[i]), slabs.names[ci], s.pointee.sites[i])
                    }
                    list = s.pointee.next
                }
            }
        }
    }
}
