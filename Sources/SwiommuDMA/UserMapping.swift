// User mappings for dma_mmap_*(): a host address range reserved by swiommu_vma_alloc() stands for a VMA,
// and remap_pfn_range()/vm_map_pages() map the simulated RAM's pages there (the memfd, MAP_SHARED), so what
// a test reads through the mapping is the buffer itself. Kernel: remap_pfn_range, vm_map_pages.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory

public enum UserMapping {
    /// Live reservations, so a vma from elsewhere is refused instead of mapped over.
    nonisolated(unsafe) private static var live: [UnsafeMutablePointer<VMArea>] = []
    private static let lock = Lock()

    /// Reserve `size` bytes (rounded up to pages) of host address space, inaccessible until mapped.
    public static func allocate(size: Int, pageSize: Int) -> UnsafeMutablePointer<VMArea>? {
        guard size > 0 else { return nil }
        let bytes = (size + pageSize - 1) & ~(pageSize - 1)
        // Over-reserve by a page so the start can be aligned to the simulated page size.
        guard let raw = mmap(nil, bytes + pageSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              raw != MAP_FAILED else { return nil }
        let base = UInt(bitPattern: raw)
        let start = (base + UInt(pageSize) - 1) & ~UInt(pageSize - 1)
        if start > base { munmap(raw, Int(start - base)) }
        let tail = base + UInt(bytes + pageSize) - (start + UInt(bytes))
        if tail > 0 { munmap(UnsafeMutableRawPointer(bitPattern: start + UInt(bytes)), Int(tail)) }
        let vma = UnsafeMutablePointer<VMArea>.allocate(capacity: 1)
        vma.initialize(to: VMArea(vm_start: start, vm_end: start + UInt(bytes), vm_pgoff: 0, vm_flags: 0,
                                  vm_page_prot: pgprot_t(pgprot: 0x1), vm_private_data: nil))
        lock.withLock { live.append(vma) }
        return vma
    }

    /// Unmap and release a reservation. False (and nothing done) for a vma that is no reservation.
    @discardableResult
    public static func free(_ vma: UnsafeMutablePointer<VMArea>) -> Bool {
        let known = lock.withLock { () -> Bool in
            guard let i = live.firstIndex(of: vma) else { return false }
            live.remove(at: i)
            return true
        }
        guard known else { return false }
        munmap(UnsafeMutableRawPointer(bitPattern: vma.pointee.vm_start), Int(vma.pointee.vm_end - vma.pointee.vm_start))
        vma.deinitialize(count: 1)
        vma.deallocate()
        return true
    }

    static func isReservation(_ vma: UnsafeMutablePointer<VMArea>) -> Bool { lock.withLock { live.contains(vma) } }

    /// Map one run of physically contiguous pages at `address`. False if a page is not RAM or mmap fails.
    private static func map(_ memory: SimulatedMemory, _ page: UnsafeMutablePointer<PageFrame>, count: Int,
                            at address: UInt) -> Bool {
        guard let offset = memory.physical.fileOffset(of: page),
              memory.physical.fileOffset(of: page + (count - 1)) == offset + (count - 1) << memory.geometry.shift else {
            return false
        }
        let r = mmap(UnsafeMutableRawPointer(bitPattern: address), count << memory.geometry.shift, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, memory.physical.fd, off_t(offset))
        return r != MAP_FAILED
    }

    /// Kernel: the checks of dma_direct_mmap/dma_mmap_pages, then remap_pfn_range: map the buffer's pages
    /// from `vm_pgoff` on over the whole vma. 0, -ENXIO when the vma does not fit the buffer, -EINVAL for a
    /// vma that is no swiommu_vma_alloc() reservation.
    public static func remap(_ vma: UnsafeMutablePointer<VMArea>, _ memory: SimulatedMemory,
                             first: UnsafeMutablePointer<PageFrame>, count: Int) -> Int32 {
        switch fit(vma, memory, count: count, "dma_mmap") {
        case .failure(let e): return e.negated
        case .success(let (pgoff, userCount)):
            return map(memory, first + pgoff, count: userCount, at: vma.pointee.vm_start) ? 0 : Errno.invalid.negated
        }
    }

    /// The kernel's check that the vma fits the buffer's `count` pages from vm_pgoff on (-ENXIO), and ours
    /// that it is a reservation (-EINVAL, with a WARN). The first page and the page count to map.
    private static func fit(_ vma: UnsafeMutablePointer<VMArea>, _ memory: SimulatedMemory, count: Int,
                            _ caller: StaticString) -> Result<(Int, Int), Errno> {
        let userCount = Int((vma.pointee.vm_end - vma.pointee.vm_start) >> UInt(memory.geometry.shift))
        let pgoff = Int(vma.pointee.vm_pgoff)
        guard pgoff < count, userCount <= count - pgoff else { return .failure(.noDeviceOrAddress) }
        guard isReservation(vma) else {
            Kernel.warn("\(caller): vma at \(Kernel.hex(vma.pointee.vm_start)) is no swiommu_vma_alloc() range")
            return .failure(.invalid)
        }
        return .success((pgoff, userCount))
    }

    /// Kernel: vm_map_pages: map an array of pages (any physical order) from `vm_pgoff` on.
    public static func insertPages(_ vma: UnsafeMutablePointer<VMArea>, _ memory: SimulatedMemory,
                                   pages: UnsafePointer<UnsafeMutablePointer<PageFrame>?>, count: Int) -> Int32 {
        let pgoff: Int, userCount: Int
        switch fit(vma, memory, count: count, "vm_map_pages") {
        case .failure(let e): return e.negated
        case .success(let f): (pgoff, userCount) = f
        }
        for i in 0..<userCount {
            guard let p = pages[pgoff + i],
                  map(memory, p, count: 1, at: vma.pointee.vm_start + UInt(i << memory.geometry.shift)) else {
                return Errno.invalid.negated
            }
        }
        return 0
    }
}
