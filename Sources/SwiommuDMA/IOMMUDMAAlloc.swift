// Allocations through an IOMMU: coherent buffers made of scattered pages in one IOVA range and one CPU
// mapping (uncached for a non-coherent device), or contiguous ones; non-contiguous tables; dma_alloc_pages;
// and their export (get_sgtable, mmap). Kernel: iommu_dma_alloc, __iommu_dma_alloc_noncontiguous,
// __iommu_dma_alloc_pages, iommu_dma_alloc_remap, iommu_dma_alloc_pages, __iommu_dma_free, iommu_dma_free,
// iommu_dma_alloc/free/vmap/mmap_noncontiguous, iommu_dma_get_sgtable, iommu_dma_mmap
// (drivers/iommu/dma-iommu.c), dma_common_alloc_pages/free_pages (kernel/dma/ops_helpers.c).
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

/// The pages of a non-contiguous allocation: `count` page pointers, then one byte per page giving the order
/// + 1 of the block that starts there (0 inside a block). The kernel split_page()s its blocks and frees page
/// by page; swiommu's page allocator frees whole blocks, so the orders are kept. Kernel: the `struct page **`
/// of __iommu_dma_alloc_pages (kvcalloc'd).
struct IOMMUDMAPages {
    let raw: UnsafeMutableRawPointer
    let count: Int

    var pages: UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>?> {
        raw.assumingMemoryBound(to: UnsafeMutablePointer<PageFrame>?.self)
    }
    var orders: UnsafeMutablePointer<UInt8> {
        (raw + count * MemoryLayout<UnsafeMutablePointer<PageFrame>?>.stride).assumingMemoryBound(to: UInt8.self)
    }

    static func allocate(count: Int, memory: SimulatedMemory) -> IOMMUDMAPages? {
        let bytes = count * (MemoryLayout<UnsafeMutablePointer<PageFrame>?>.stride + 1)
        guard let raw = memory.kmalloc(size: bytes, gfp: [.kernel, .zero], site: nil) else { return nil }
        return IOMMUDMAPages(raw: raw, count: count)
    }

    /// Kernel: __iommu_dma_free_pages: the pages of the first `filled` entries, then the array.
    func free(_ memory: SimulatedMemory, filled: Int? = nil) {
        let n = filled ?? count
        var i = 0
        while i < n {
            let o = Int(orders[i])
            if o > 0, let p = pages[i] { memory.freePages(p, order: o - 1) }
            i += o > 0 ? 1 << (o - 1) : 1
        }
        memory.kfree(UnsafeRawPointer(raw))
    }
}

/// Kernel: struct dma_sgt_handle: what iommu_dma_alloc_noncontiguous returns (the table first).
struct DMASGTHandle {
    var sgt: SGTable
    var pages: IOMMUDMAPages

    static let tableOffset = MemoryLayout<DMASGTHandle>.offset(of: \DMASGTHandle.sgt)!
    static let pagesOffset = MemoryLayout<DMASGTHandle>.offset(of: \DMASGTHandle.pages)!
}

/// Kernel: __GFP_NORETRY, __GFP_DIRECT_RECLAIM, __GFP_NOWARN, __GFP_HIGHMEM, __GFP_COMP.
private let gfpNoRetry: UInt32 = 0x10000
private let gfpDirectReclaim: UInt32 = 0x400

extension IOMMUDMACookie {
    /// Kernel: get_order.
    @inline(__always) func order(of size: Int) -> Int { pageOrder(size, memory.geometry) }

    // MARK: Kernel: __iommu_dma_alloc_pages, __iommu_dma_alloc_noncontiguous

    /// Kernel: __iommu_dma_alloc_pages: `count` pages in blocks of the orders `orderMask` allows, largest
    /// first (with __GFP_NORETRY while smaller ones remain to try).
    func allocPageArray(count: Int, orderMask: UInt64, gfp: UInt32) -> IOMMUDMAPages? {
        var mask = orderMask & ((2 << UInt64(memory.geometry.maxOrder)) - 1)
        guard mask != 0, count > 0, let array = IOMMUDMAPages.allocate(count: count, memory: memory) else { return nil }
        // IOMMU can map any pages, so highmem can also be used here.
        let flags = gfp | GFP.noWarn.rawValue | GFP.highmem.rawValue
        var left = count
        var i = 0
        while left > 0 {
            var page: UnsafeMutablePointer<PageFrame>?
            var orderSize = 0
            var order = 0
            // Higher-order allocations are a convenience rather than a necessity.
            mask &= (UInt64(2) << UInt64(63 - UInt64(left).leadingZeroBitCount)) &- 1
            while mask != 0 {
                order = 63 - mask.leadingZeroBitCount
                orderSize = 1 << order
                var f = flags
                if mask > UInt64(orderSize) { f |= gfpNoRetry }
                page = memory.allocatePages(order: order, gfp: GFP(rawValue: f), site: nil)
                if page != nil { break }
                mask &= ~UInt64(orderSize)
            }
            guard let head = page else {
                array.free(memory, filled: i)
                return nil
            }
            left -= orderSize
            array.orders[i] = UInt8(order + 1)
            for k in 0..<orderSize { array.pages[i + k] = head + k }
            i += orderSize
        }
        return array
    }

    /// Kernel: __iommu_dma_alloc_noncontiguous: pages, one IOVA range, the table (entries of physically
    /// contiguous runs), one iommu_map_sg; the first entry carries the IOVA and the whole length.
    func allocNoncontiguousPages(_ dev: UnsafeMutablePointer<Device>, size: Int, table sgt: UnsafeMutablePointer<SGTable>,
                                 gfp: UInt32, attributes: DMAAttributes) -> IOMMUDMAPages? {
        let coherent = dev.pointee.dma_coherent
        let ioprot = IOMMUDMA.prot(.bidirectional, coherent: coherent, attributes)
        let pageSize = UInt64(memory.geometry.size)
        var allocSizes = UInt64(domain.pointee.pgsize_bitmap)
        var minSize = allocSizes & (0 &- allocSizes)
        var size = UInt64(size)
        if minSize < pageSize {
            minSize = pageSize
            allocSizes |= pageSize
        } else {
            size = (size &+ minSize &- 1) & ~(minSize &- 1)
        }
        if attributes.contains(.allocSinglePages) { allocSizes = minSize }
        let count = Int((size &+ pageSize &- 1) >> UInt64(memory.geometry.shift))
        guard let pages = allocPageArray(count: count, orderMask: allocSizes >> UInt64(memory.geometry.shift), gfp: gfp)
        else { return nil }
        size = align(size)
        let iova = allocIOVA(dev, size: size, dmaLimit: dev.pointee.coherent_dma_mask)
        guard iova != 0 else {
            pages.free(memory)
            return nil
        }
        // The zone and policy flags served the pages, not the table.
        let tableGFP = gfp & ~(GFP.dma.rawValue | GFP.dma32.rawValue | GFP.highmem.rawValue | 0x40000)
        guard SG.tableFromPages(sgt, pages: pages.pages, count: UInt32(count), offset: 0, size: UInt(size),
                                maxSegment: UInt32.max, gfp: GFP(rawValue: tableGFP), memory: memory) == 0 else {
            freeIOVA(iova, size: size, gather: nil)
            pages.free(memory)
            return nil
        }
        if ioprot & IOMMU_CACHE == 0 {
            SG.forEach(sgt.pointee.sgl, Int32(sgt.pointee.orig_nents)) { s in
                if let pa = SG.physicalAddress(s, memory) { ArchDMA.prepareCoherent(memory, pa, size: Int(s.pointee.length)) }
            }
        }
        let mapped = mapSGRange(dev, iova: iova, sgt.pointee.sgl, count: Int32(sgt.pointee.orig_nents), prot: ioprot)
        guard mapped >= 0 && UInt64(mapped) >= size else {
            SG.freeTable(sgt, memory: memory)
            freeIOVA(iova, size: size, gather: nil)
            pages.free(memory)
            return nil
        }
        sgt.pointee.sgl.pointee.dma_address = iova
        sgt.pointee.sgl.pointee.dma_length = UInt32(truncatingIfNeeded: size)
        return pages
    }

    // MARK: Kernel: iommu_dma_alloc, iommu_dma_free

    /// Kernel: iommu_dma_alloc.
    func alloc(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: UnsafeMutablePointer<dma_addr_t>, gfp: gfp_t,
               attributes: DMAAttributes) -> UnsafeMutableRawPointer? {
        let coherent = dev.pointee.dma_coherent
        let ioprot = IOMMUDMA.prot(.bidirectional, coherent: coherent, attributes)
        let gfp = gfp | GFP.zero.rawValue
        if gfp & gfpDirectReclaim != 0 && !attributes.contains(.forceContiguous) {
            return allocRemap(dev, size: size, handle: handle, gfp: gfp, attributes: attributes)
        }
        // A non-coherent atomic allocation comes from the kernel's atomic pool, memory remapped uncached ahead
        // of time; swiommu remaps on demand, which gives the same buffer.
        guard let (cpu, page) = allocContiguous(dev, size: size, gfp: gfp) else { return nil }
        let phys = memory.physical.physicalAddress(of: page)!
        let dma = map(dev, phys: phys.rawValue, size: size, prot: ioprot, dmaMask: dev.pointee.coherent_dma_mask)
        if dma.isMappingError {
            freeBuffer(size: size, cpuAddress: cpu)
            return nil
        }
        handle.pointee = dma.rawValue
        return cpu
    }

    /// Kernel: iommu_dma_alloc_remap: scattered pages, one IOVA range, one CPU mapping (dma_pgprot: uncached
    /// for a non-coherent device).
    private func allocRemap(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: UnsafeMutablePointer<dma_addr_t>,
                            gfp: UInt32, attributes: DMAAttributes) -> UnsafeMutableRawPointer? {
        let table = UnsafeMutablePointer<SGTable>.allocate(capacity: 1)
        defer { table.deallocate() }
        table.initialize(to: SGTable())
        guard let pages = allocNoncontiguousPages(dev, size: size, table: table, gfp: gfp, attributes: attributes) else {
            return nil
        }
        handle.pointee = table.pointee.sgl.pointee.dma_address
        SG.freeTable(table, memory: memory)
        let count = pageAlign(size, memory.geometry) >> memory.geometry.shift
        let coherent = dev.pointee.dma_coherent
        guard let vaddr = memory.vmap(pages.pages, count: count, cached: coherent, site: nil) else {
            unmap(handle.pointee, size: size)
            pages.free(memory)
            return nil
        }
        if !coherent {
            for i in 0..<pages.count { _ = memory.setUncached(memory.physical.physicalAddress(of: pages.pages[i]!)!,
                                                              size: memory.geometry.size, true) }
        }
        lock.withLock { remaps[UInt(bitPattern: vaddr)] = pages }
        return vaddr
    }

    /// The size a contiguous allocation takes: whole pages, and (swiommu's extension) whole granules when the
    /// granule is larger than the page, so that the device sees nothing beyond the buffer.
    @inline(__always) func contiguousSize(_ size: Int) -> Int {
        let s = pageAlign(size, memory.geometry)
        return largeGranule ? Int(align(UInt64(s))) : s
    }

    /// Kernel: iommu_dma_alloc_pages: one block, remapped uncached for a non-coherent device, zeroed.
    private func allocContiguous(_ dev: UnsafeMutablePointer<Device>, size: Int,
                                 gfp: UInt32) -> (UnsafeMutableRawPointer, UnsafeMutablePointer<PageFrame>)? {
        let coherent = dev.pointee.dma_coherent
        let allocSize = contiguousSize(size)
        let ord = order(of: allocSize)
        guard let page = memory.allocatePages(order: ord, gfp: GFP(rawValue: gfp & ~GFP.zero.rawValue), site: nil) else {
            return nil
        }
        let cpu: UnsafeMutableRawPointer
        if !coherent {
            let count = allocSize >> memory.geometry.shift
            let list = UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>?>.allocate(capacity: count)
            defer { list.deallocate() }
            for i in 0..<count { list[i] = page + i }
            guard let v = memory.vmap(list, count: count, cached: false, site: nil) else {
                memory.freePages(page, order: ord)
                return nil
            }
            let phys = memory.physical.physicalAddress(of: page)!
            ArchDMA.prepareCoherent(memory, phys, size: allocSize)
            memory.setUncached(phys, size: allocSize, true)
            cpu = v
        } else {
            cpu = memory.physical.virtualAddress(of: page)!
        }
        memset(cpu, 0, allocSize)
        return (cpu, page)
    }

    /// Kernel: __iommu_dma_free: the CPU mapping and the pages behind it.
    func freeBuffer(size: Int, cpuAddress: UnsafeMutableRawPointer) {
        let allocSize = contiguousSize(size)
        var page: UnsafeMutablePointer<PageFrame>?
        if memory.isVmallocAddress(cpuAddress) {
            // If the address is remapped, it is either non-coherent or an iommu_dma_alloc_remap() construction.
            let pages = lock.withLock { remaps.removeValue(forKey: UInt(bitPattern: cpuAddress)) }
            if pages == nil { page = memory.vmallocToPage(cpuAddress) }
            memory.vunmap(cpuAddress)
            pages?.free(memory)
        } else {
            page = memory.physical.page(containingVirtual: cpuAddress)
        }
        if let page { memory.freePages(page, order: order(of: allocSize)) }
    }

    /// Kernel: iommu_dma_free.
    func free(_ dev: UnsafeMutablePointer<Device>, size: Int, cpuAddress: UnsafeMutableRawPointer, handle: UInt64) {
        unmap(handle, size: size)
        freeBuffer(size: size, cpuAddress: cpuAddress)
    }

    // MARK: Kernel: dma_common_alloc_pages, dma_common_free_pages (with iommu_dma_map_page)

    func allocPages(_ dev: UnsafeMutablePointer<Device>, size: Int, handle: UnsafeMutablePointer<dma_addr_t>,
                    direction: DMADirection, gfp: gfp_t) -> UnsafeMutablePointer<PageFrame>? {
        let allocSize = contiguousSize(size)
        guard let page = memory.allocatePages(order: order(of: allocSize), gfp: GFP(rawValue: gfp), site: nil) else {
            return nil
        }
        let phys = memory.physical.physicalAddress(of: page)!
        // Whole granules: a larger granule's block is mapped in place, not bounced.
        let dma = mapPage(dev, phys: phys.rawValue, size: allocSize, direction: direction, attributes: .skipCPUSync)
        if dma.isMappingError {
            memory.freePages(page, order: order(of: allocSize))
            return nil
        }
        memset(memory.physical.virtualAddress(of: page)!, 0, allocSize)
        handle.pointee = dma.rawValue
        return page
    }

    func freePages(_ dev: UnsafeMutablePointer<Device>, size: Int, page: UnsafeMutablePointer<PageFrame>, handle: UInt64,
                   direction: DMADirection) {
        unmapPage(dev, address: handle, size: size, direction: direction, attributes: .skipCPUSync)
        memory.freePages(page, order: order(of: contiguousSize(size)))
    }

    // MARK: Kernel: iommu_dma_alloc/free/vmap/mmap_noncontiguous

    func allocNoncontiguous(_ dev: UnsafeMutablePointer<Device>, size: Int, gfp: gfp_t,
                            attributes: DMAAttributes) -> UnsafeMutablePointer<SGTable>? {
        guard let raw = memory.kmalloc(size: MemoryLayout<DMASGTHandle>.stride, gfp: GFP(rawValue: gfp), site: nil) else {
            return nil
        }
        let table = (raw + DMASGTHandle.tableOffset).assumingMemoryBound(to: SGTable.self)
        table.initialize(to: SGTable())
        guard let pages = allocNoncontiguousPages(dev, size: size, table: table, gfp: gfp, attributes: attributes) else {
            memory.kfree(raw)
            return nil
        }
        (raw + DMASGTHandle.pagesOffset).assumingMemoryBound(to: IOMMUDMAPages.self).initialize(to: pages)
        return table
    }

    /// Kernel: sgt_handle(sgt), the container_of of the table.
    private func handle(of table: UnsafeMutablePointer<SGTable>) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(table) - DMASGTHandle.tableOffset
    }

    /// Kernel: sgt_handle(sgt)->pages.
    private func pages(of table: UnsafeMutablePointer<SGTable>) -> IOMMUDMAPages {
        (handle(of: table) + DMASGTHandle.pagesOffset).assumingMemoryBound(to: IOMMUDMAPages.self).pointee
    }

    func freeNoncontiguous(_ dev: UnsafeMutablePointer<Device>, size: Int, table: UnsafeMutablePointer<SGTable>) {
        unmap(table.pointee.sgl.pointee.dma_address, size: size)
        pages(of: table).free(memory)
        SG.freeTable(table, memory: memory)
        memory.kfree(UnsafeRawPointer(handle(of: table)))
    }

    func vmapNoncontiguous(size: Int, table: UnsafeMutablePointer<SGTable>) -> UnsafeMutableRawPointer? {
        let count = pageAlign(size, memory.geometry) >> memory.geometry.shift
        return memory.vmap(pages(of: table).pages, count: count, cached: true, site: nil)
    }

    func mmapNoncontiguous(vma: UnsafeMutablePointer<VMArea>, size: Int, table: UnsafeMutablePointer<SGTable>) -> Int32 {
        let count = pageAlign(size, memory.geometry) >> memory.geometry.shift
        let pgoff = Int(vma.pointee.vm_pgoff)
        let userPages = Int((vma.pointee.vm_end - vma.pointee.vm_start) >> UInt(memory.geometry.shift))
        if pgoff >= count || userPages > count - pgoff { return Errno.noDeviceOrAddress.negated }
        return UserMapping.insertPages(vma, memory, pages: pages(of: table).pages, count: count)
    }

    // MARK: Kernel: iommu_dma_get_sgtable, iommu_dma_mmap

    func getSGTable(table: UnsafeMutablePointer<SGTable>, cpuAddress: UnsafeMutableRawPointer, size: Int) -> Int32 {
        let page: UnsafeMutablePointer<PageFrame>?
        if memory.isVmallocAddress(cpuAddress) {
            if let pages = lock.withLock({ remaps[UInt(bitPattern: cpuAddress)] }) {
                return SG.tableFromPages(table, pages: pages.pages,
                                         count: UInt32(pageAlign(size, memory.geometry) >> memory.geometry.shift),
                                         offset: 0, size: UInt(size), maxSegment: UInt32.max, gfp: .kernel, memory: memory)
            }
            page = memory.vmallocToPage(cpuAddress)
        } else {
            page = memory.physical.page(containingVirtual: cpuAddress)
        }
        guard let page else { return Errno.noDeviceOrAddress.negated }
        let ret = SG.allocTable(table, count: 1, gfp: .kernel, memory: memory)
        if ret == 0 { SG.setPage(table.pointee.sgl, page, length: UInt32(pageAlign(size, memory.geometry)), offset: 0) }
        return ret
    }

    func mmap(_ dev: UnsafeMutablePointer<Device>, vma: UnsafeMutablePointer<VMArea>, cpuAddress: UnsafeMutableRawPointer,
              size: Int, attributes: DMAAttributes) -> Int32 {
        let count = pageAlign(size, memory.geometry) >> memory.geometry.shift
        vma.pointee.vm_page_prot = dmaPageProtection(dev, vma.pointee.vm_page_prot, attributes)
        let pgoff = Int(vma.pointee.vm_pgoff)
        let userPages = Int((vma.pointee.vm_end - vma.pointee.vm_start) >> UInt(memory.geometry.shift))
        if pgoff >= count || userPages > count - pgoff { return Errno.noDeviceOrAddress.negated }
        let page: UnsafeMutablePointer<PageFrame>?
        if memory.isVmallocAddress(cpuAddress) {
            if let pages = lock.withLock({ remaps[UInt(bitPattern: cpuAddress)] }) {
                return UserMapping.insertPages(vma, memory, pages: pages.pages, count: count)
            }
            page = memory.vmallocToPage(cpuAddress)
        } else {
            page = memory.physical.page(containingVirtual: cpuAddress)
        }
        guard let page else { return Errno.noDeviceOrAddress.negated }
        return UserMapping.remap(vma, memory, first: page, count: count)
    }
}
