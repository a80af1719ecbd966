// The vmalloc area: a reserved range of CPU addresses where pages of simulated RAM are mapped again
// (vmalloc, vmap), through the memfd, so the same page is seen at both addresses. Kernel: mm/vmalloc.c.
import Glibc
import CKernel
import SwiommuBase

/// One mapping in the vmalloc area.
struct VmArea {
    enum Kind { case vmalloc, vmap }
    var start: UInt
    var pageCount: Int
    var pages: UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>>
    var kind: Kind
    var requested: Int
    var site: AllocationSite?
    var cached: Bool

    var end: UInt { start + UInt(pageCount) }
}

/// The reserved address range and what is mapped in it, sorted by address.
struct VmallocSpace {
    /// 64 GiB of address space, reserved without backing; where the host refuses that much (valgrind's address
    /// space manager stops at 32 GiB, a ulimit -v), the largest of 32, 16, ... 1 GiB it grants.
    static let largestReservation = 64 << 30
    static let smallestReservation = 1 << 30
    let base: UnsafeMutableRawPointer
    /// The bytes reserved.
    let reservation: Int
    let pageSize: Int
    /// Live areas sorted by start.
    var areas: [VmArea] = []
    /// Next never-used address; freed ranges go to `holes`.
    var bump: UInt
    var holes: [(start: UInt, length: UInt)] = []

    init(geometry: PageGeometry) throws(Errno) {
        var size = Self.largestReservation
        var area: UnsafeMutableRawPointer?
        while area == nil && size >= Self.smallestReservation {
            let p = mmap(nil, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            if let p, p != MAP_FAILED { area = p } else { size >>= 1 }
        }
        guard let p = area else {
            Kernel.log(.error, "swiommu: cannot reserve \(Kernel.hex(UInt64(Self.smallestReservation))) bytes of "
                       + "address space for the vmalloc area (errno \(errno))")
            throw .noMemory
        }
        // Align the start to the simulated page size.
        let aligned = (UInt(bitPattern: p) + UInt(geometry.size) - 1) & ~UInt(geometry.size - 1)
        base = p
        reservation = size
        pageSize = geometry.size
        bump = aligned
    }

    func destroy() {
        for a in areas { a.pages.deallocate() }
        munmap(base, reservation)
    }

    func contains(_ p: UnsafeRawPointer) -> Bool {
        let off = UInt(bitPattern: p) &- UInt(bitPattern: base)
        return off < UInt(reservation)
    }

    /// Reserve `pages` pages plus a guard page. First fit among holes, else the bump pointer.
    mutating func reserve(pages: Int) -> UInt? {
        let length = UInt((pages + 1) * pageSize)
        if let i = holes.firstIndex(where: { $0.length >= length }) {
            let start = holes[i].start
            if holes[i].length == length { holes.remove(at: i) }
            else { holes[i] = (start + length, holes[i].length - length) }
            return start
        }
        guard bump + length <= UInt(bitPattern: base) + UInt(reservation) else { return nil }
        defer { bump += length }
        return bump
    }

    mutating func release(start: UInt, pages: Int) {
        holes.append((start, UInt((pages + 1) * pageSize)))
    }

    /// Index of the area that starts exactly at `start`.
    func areaIndex(startingAt start: UInt) -> Int? {
        let i = insertionIndex(start)
        return i < areas.count && areas[i].start == start ? i : nil
    }

    /// Index of the area that contains `address`.
    func areaIndex(containing address: UInt) -> Int? {
        let i = insertionIndex(address + 1)
        guard i > 0 else { return nil }
        let a = areas[i - 1]
        return address < a.start + UInt(a.pageCount * pageSize) ? i - 1 : nil
    }

    /// First index whose start is >= `address`.
    func insertionIndex(_ address: UInt) -> Int {
        var lo = 0, hi = areas.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if areas[mid].start < address { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

extension SimulatedMemory {
    /// Map `pages` at `start`, coalescing runs that are contiguous in the memfd. False on failure.
    private func mapPages(_ pages: UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>>, count: Int, at start: UInt) -> Bool {
        var i = 0
        while i < count {
            let first = physical.fileOffset(of: pages[i])!
            var run = 1
            while i + run < count, physical.fileOffset(of: pages[i + run]) == first + run * geometry.size { run += 1 }
            let target = UnsafeMutableRawPointer(bitPattern: start + UInt(i * geometry.size))
            let r = mmap(target, run * geometry.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, physical.fd,
                         off_t(first))
            guard r != MAP_FAILED else { return false }
            i += run
        }
        return true
    }

    /// Give the range back to the reservation (no access, no backing).
    private func unmapRange(start: UInt, pages: Int) {
        mmap(UnsafeMutableRawPointer(bitPattern: start), pages * geometry.size, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0)
    }

    // MARK: Kernel: vmalloc, vzalloc, vfree

    /// Allocate `size` bytes of virtually contiguous memory from order-0 pages.
    ///
    /// The pages are mapped in descending physical order, so a buffer is never physically contiguous:
    /// code that assumes it is breaks here as it does on a kernel that has been up for a while.
    public func vmalloc(size: Int, zero: Bool, site: AllocationSite?) -> UnsafeMutableRawPointer? {
        guard size > 0 else {
            Kernel.warn("vmalloc: size 0")   // __vmalloc_node_range: WARN_ON_ONCE(!size)
            return nil
        }
        if FaultInjection.shouldFail(.vmalloc) { return nil }
        let count = (size + geometry.size - 1) >> geometry.shift
        return lock.withLock { () -> UnsafeMutableRawPointer? in
            let pages = UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>>.allocate(capacity: count)
            var got = 0
            while got < count {
                guard let p = buddy.allocate(order: 0, below4G: false, owner: .vmalloc) else { break }
                p.pointee.swiommu.site = site?.assumingMemoryBound(to: swiommu_alloc_site.self)
                pages[count - 1 - got] = p
                got += 1
            }
            guard got == count, let start = vmallocSpace.reserve(pages: count),
                  mapPages(pages, count: count, at: start) else {
                for i in (count - got)..<count {
                    try? buddy.free(pages[i], order: 0, owner: .vmalloc)
                }
                pages.deallocate()
                return nil
            }
            let area = VmArea(start: start, pageCount: count, pages: pages, kind: .vmalloc, requested: size,
                              site: site, cached: true)
            vmallocSpace.areas.insert(area, at: vmallocSpace.insertionIndex(start))
            counters.vmallocAreas += 1
            counters.vmallocBytes += UInt64(count << geometry.shift)
            let p = UnsafeMutableRawPointer(bitPattern: start)!
            if zero { memset(p, 0, count << geometry.shift) }
            return p
        }
    }

    /// Kernel: vfree. Reports anything that is not the start of a live vmalloc area.
    public func vfree(_ p: UnsafeRawPointer?) {
        guard let p else { return }
        lock.withLock {
            guard let i = vmallocSpace.areaIndex(startingAt: UInt(bitPattern: p)),
                  vmallocSpace.areas[i].kind == .vmalloc else {
                Kernel.log(.error, "Trying to vfree() nonexistent vm area (\(Kernel.hex(UInt(bitPattern: p))))")
                Kernel.warn("vfree(\(Kernel.hex(UInt(bitPattern: p)))): nonexistent vm area")
                return
            }
            let a = vmallocSpace.areas.remove(at: i)
            unmapRange(start: a.start, pages: a.pageCount)
            vmallocSpace.release(start: a.start, pages: a.pageCount)
            for j in 0..<a.pageCount {
                releaseMemoryView(of: a.pages[j], pages: 1)
                try? buddy.free(a.pages[j], order: 0, owner: .vmalloc)
            }
            a.pages.deallocate()
            counters.vmallocAreas -= 1
            counters.vmallocBytes -= UInt64(a.pageCount << geometry.shift)
        }
    }

    // MARK: Kernel: vmap, vunmap

    /// Map existing pages at one virtually contiguous range. `cached` false records an uncached mapping.
    public func vmap(_ pages: UnsafePointer<UnsafeMutablePointer<PageFrame>?>, count: Int, cached: Bool,
                     site: AllocationSite?) -> UnsafeMutableRawPointer? {
        guard count > 0 else { return nil }
        return lock.withLock { () -> UnsafeMutableRawPointer? in
            let list = UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>>.allocate(capacity: count)
            for i in 0..<count {
                guard let p = pages[i], physical.bankIndex(containingPage: p) != nil else {
                    Kernel.warn("vmap: page \(i) is not a struct page of simulated RAM")
                    list.deallocate()
                    return nil
                }
                list[i] = p
            }
            guard let start = vmallocSpace.reserve(pages: count) else {
                list.deallocate()
                return nil
            }
            guard mapPages(list, count: count, at: start) else {
                unmapRange(start: start, pages: count)
                vmallocSpace.release(start: start, pages: count)
                list.deallocate()
                return nil
            }
            vmallocSpace.areas.insert(VmArea(start: start, pageCount: count, pages: list, kind: .vmap,
                                             requested: count << geometry.shift, site: site, cached: cached),
                                      at: vmallocSpace.insertionIndex(start))
            counters.vmapAreas += 1
            return UnsafeMutableRawPointer(bitPattern: start)
        }
    }

    /// Kernel: vunmap. The pages stay with their owner.
    public func vunmap(_ p: UnsafeRawPointer?) {
        guard let p else { return }
        lock.withLock {
            guard let i = vmallocSpace.areaIndex(startingAt: UInt(bitPattern: p)),
                  vmallocSpace.areas[i].kind == .vmap else {
                Kernel.log(.error, "Trying to vunmap() nonexistent vm area (\(Kernel.hex(UInt(bitPattern: p))))")
                Kernel.warn("vunmap(\(Kernel.hex(UInt(bitPattern: p)))): nonexistent vm area")
                return
            }
            let a = vmallocSpace.areas.remove(at: i)
            unmapRange(start: a.start, pages: a.pageCount)
            vmallocSpace.release(start: a.start, pages: a.pageCount)
            a.pages.deallocate()
            counters.vmapAreas -= 1
        }
    }

    /// Kernel: vmalloc_to_page. Nil for an address that is not mapped in the vmalloc area.
    public func vmallocToPage(_ p: UnsafeRawPointer) -> UnsafeMutablePointer<PageFrame>? {
        lock.withLock {
            guard let i = vmallocSpace.areaIndex(containing: UInt(bitPattern: p)) else { return nil }
            let a = vmallocSpace.areas[i]
            return a.pages[Int((UInt(bitPattern: p) - a.start) >> UInt(geometry.shift))]
        }
    }

    /// Kernel: is_vmalloc_addr.
    public func isVmallocAddress(_ p: UnsafeRawPointer) -> Bool {
        UInt(bitPattern: p) &- UInt(bitPattern: vmallocBase) < vmallocBytes
    }

    /// The physical address behind any CPU address of ours: linear map or vmalloc area.
    public func physicalAddress(ofAnyVirtual p: UnsafeRawPointer) -> PhysicalAddress? {
        if let pa = physical.physicalAddress(ofVirtual: p) { return pa }
        guard let pg = vmallocToPage(p), let base = physical.physicalAddress(of: pg) else { return nil }
        return base + UInt64(UInt(bitPattern: p) & UInt(geometry.size - 1))
    }
}
