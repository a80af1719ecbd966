// The simulated memory of one machine: RAM, the page allocator, kmalloc caches, the vmalloc area and the
// CPU cache model, behind one lock. Every allocation records its site for the leak report.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase

/// An opaque allocation site (a `struct swiommu_alloc_site *` from C, or nil).
public typealias AllocationSite = UnsafeRawPointer

/// Counters of what is live. Kernel: /proc/meminfo and slabinfo, roughly.
public struct MemoryStatistics: Sendable, Equatable {
    public var ramBytes: UInt64 = 0
    public var freeBytes: UInt64 = 0
    public var pageBlocks: UInt64 = 0
    public var pageBytes: UInt64 = 0
    public var kmallocObjects: UInt64 = 0
    public var kmallocBytes: UInt64 = 0
    public var vmallocAreas: UInt64 = 0
    public var vmallocBytes: UInt64 = 0
    public var vmapAreas: UInt64 = 0
    public init() {}
}

public final class SimulatedMemory: @unchecked Sendable {
    public let physical: PhysicalMemory
    public var geometry: PageGeometry { physical.geometry }
    let lock = Lock()
    var buddy: BuddyAllocator
    var slabs: SlabAllocator
    var vmallocSpace: VmallocSpace
    /// The vmalloc area's reservation (start and size), which never moves: is_vmalloc_addr reads it without the
    /// lock (reading `vmallocSpace` would race with the vmalloc and vmap calls that change it under the lock).
    let vmallocBase: UnsafeMutableRawPointer
    let vmallocBytes: UInt
    var counters = MemoryStatistics()
    var cacheMaintenance: UInt64 = 0
    /// Pages that have memory's view of their own (the cache model's host copies), free pages included.
    var memoryViews = 0
    /// Addresses live at the end of boot (markBootAllocations).
    var bootAllocations: Set<UInt> = []

    /// Maps RAM as `layout` says. Throws what `PhysicalMemory.init` throws.
    public init(layout: [RAMBankLayout] = RAMBankLayout.defaultLayout,
                geometry: PageGeometry = .k4) throws(Errno) {
        physical = try PhysicalMemory(layout: layout, geometry: geometry)
        buddy = BuddyAllocator(memory: physical)
        slabs = SlabAllocator(geometry: geometry)
        vmallocSpace = try VmallocSpace(geometry: geometry)
        vmallocBase = vmallocSpace.base
        vmallocBytes = UInt(vmallocSpace.reservation)
        counters.ramBytes = physical.totalBytes
    }

    deinit {
        // Pages are unmapped with the RAM; only host-side bookkeeping needs freeing.
        buddy.forEachLive { releaseMemoryView(of: $0, pages: 1 << Int($0.pointee.swiommu.order)) }
        // Maintenance over free pages (a sync past a buffer, of an address never mapped) gave them views too:
        // look for them only then, since the walk touches every struct page.
        for b in physical.banks where memoryViews > 0 {
            var i = 0
            while i < b.pageCount && memoryViews > 0 {
                if b.pages[i].swiommu.memview != nil { releaseMemoryView(of: b.pages + i, pages: 1) }
                i += 1
            }
        }
        slabs.destroy()
        vmallocSpace.destroy()
        buddy.destroy()
    }

    // MARK: Page allocator. Kernel: alloc_pages, __free_pages.

    /// Allocate 2^order pages. Nil when the order is too large (with a WARN unless `.noWarn`), memory is
    /// exhausted or fault injection says so.
    public func allocatePages(order: Int, gfp: GFP, site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        if FaultInjection.shouldFail(.allocPages) { return nil }
        guard order >= 0 && order <= geometry.maxOrder else {
            if !gfp.contains(.noWarn) {
                Kernel.warn("alloc_pages: order \(order) exceeds MAX_PAGE_ORDER \(geometry.maxOrder)")
            }
            return nil
        }
        return lock.withLock { allocatePagesLocked(order: order, gfp: gfp, owner: .pages, site: site) }
    }

    func allocatePagesLocked(order: Int, gfp: GFP, owner: PageOwner,
                             site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        guard let head = buddy.allocate(order: order, below4G: gfp.needsLowMemory, owner: owner) else {
            return nil
        }
        head.pointee.swiommu.site = site?.assumingMemoryBound(to: swiommu_alloc_site.self)
        let count = 1 << order
        for i in 0..<count {
            let p = head + i
            p.pointee.flags = 0
            p.pointee.private = 0
            p.pointee.mapping = nil
            p.pointee.index = 0
            p.pointee._refcount.counter = 1
            p.pointee._mapcount.counter = -1
            p.pointee.lru = list_head()
        }
        if gfp.contains(.zero) {
            memset(physical.virtualAddress(of: head)!, 0, count << geometry.shift)
        }
        if owner == .pages || owner == .kmallocLarge {
            counters.pageBlocks += 1
            counters.pageBytes += UInt64(count << geometry.shift)
        }
        return head
    }

    /// Free pages from `allocatePages`. Anything else is reported as a bad page state and left alone.
    public func freePages(_ head: UnsafeMutablePointer<PageFrame>, order: Int) {
        lock.withLock { _ = freePagesLocked(head, order: order, owner: .pages, caller: "__free_pages") }
    }

    @discardableResult
    func freePagesLocked(_ head: UnsafeMutablePointer<PageFrame>, order: Int, owner: PageOwner, caller: String) -> Bool {
        guard let pa = physical.physicalAddress(of: head) else {
            Kernel.warn("\(caller): \(Kernel.hex(UInt(bitPattern: head))) is not a struct page of simulated RAM")
            return false
        }
        do {
            try buddy.free(head, order: order, owner: owner)
            releaseMemoryView(of: head, pages: 1 << order)
        } catch {
            let reason = switch error {
            case .notAllocated: "page is not allocated (double free?)"
            case .wrongOrder(let actual): "freed with order \(order), allocated with order \(actual)"
            case .wrongOwner(let o): "page belongs to \(o.name)"
            }
            Kernel.log(.alert, "BUG: Bad page state: pfn:\(Kernel.hex(pa.rawValue >> UInt64(geometry.shift))) \(caller): \(reason)")
            Kernel.warn("\(caller): bad page state at phys \(pa): \(reason)")
            return false
        }
        if owner == .pages || owner == .kmallocLarge {
            counters.pageBlocks -= 1
            counters.pageBytes -= UInt64(1 << (order + geometry.shift))
        }
        return true
    }

    // MARK: Statistics

    public var statistics: MemoryStatistics {
        lock.withLock {
            var s = counters
            s.freeBytes = UInt64(buddy.freePages) << UInt64(geometry.shift)
            return s
        }
    }

    /// Frees in the buddy allocator, in pages.
    public var freePageCount: Int { lock.withLock { buddy.freePages } }
}
