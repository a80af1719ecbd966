// dma-direct: DMA without an IOMMU. Bus addresses come from dma-ranges (dev->dma_range_map), reach is the
// mask and bus_dma_limit, and swiotlb bounces what the device cannot reach, what must bounce (forced), and
// small kmalloc buffers mapped for a non-coherent device. Kernel: kernel/dma/direct.c, direct.h,
// include/linux/dma-direct.h.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum DMADirect {
    /// On this machine ZONE_DMA and ZONE_DMA32 are both RAM below 4 GiB. Kernel: zone_dma_limit.
    static let zoneDMALimit: UInt64 = 0xffff_ffff

    // MARK: Addresses. Kernel: phys_to_dma, dma_to_phys, dma_capable.

    /// One dma-ranges translation, CPU to bus (`toBus`) or back. Nil outside every window; the address
    /// itself without dma-ranges. Kernel: translate_phys_to_dma, translate_dma_to_phys.
    @inline(__always)
    static func translate(_ dev: UnsafeMutablePointer<Device>, _ addr: UInt64, toBus: Bool) -> UInt64? {
        guard var m = dev.pointee.dma_range_map else { return addr }
        while m.pointee.size != 0 {
            let from = toBus ? m.pointee.cpu_start : m.pointee.dma_start
            let offset = addr &- from
            if addr >= from && offset < m.pointee.size { return (toBus ? m.pointee.dma_start : m.pointee.cpu_start) &+ offset }
            m += 1
        }
        return nil
    }

    /// Kernel: phys_to_dma: through dma-ranges; DMA_MAPPING_ERROR outside every window.
    @inline(__always)
    public static func physToDMA(_ dev: UnsafeMutablePointer<Device>, _ pa: UInt64) -> UInt64 {
        translate(dev, pa, toBus: true) ?? DMAAddress.mappingError.rawValue
    }

    /// Kernel: dma_to_phys: through dma-ranges; (phys_addr_t)-1 outside every window.
    @inline(__always)
    public static func dmaToPhys(_ dev: UnsafeMutablePointer<Device>, _ dma: UInt64) -> UInt64 {
        translate(dev, dma, toBus: false) ?? UInt64.max
    }

    /// Kernel: min_not_zero(*dev->dma_mask, dev->bus_dma_limit).
    @inline(__always)
    static func streamingLimit(_ dev: UnsafeMutablePointer<Device>) -> UInt64 {
        minNotZero(dev.pointee.dma_mask?.pointee ?? 0, dev.pointee.bus_dma_limit)
    }

    /// Kernel: dma_capable: the mapping's last byte is within the mask and the bus limit.
    @inline(__always)
    public static func isCapable(_ dev: UnsafeMutablePointer<Device>, _ dma: DMAAddress, size: Int) -> Bool {
        if dma.isMappingError { return false }
        let end = dma.rawValue &+ UInt64(size) &- 1
        return end >= dma.rawValue && end <= streamingLimit(dev)
    }

    /// Kernel: dma_kmalloc_needs_bounce: a size that may be a small kmalloc object sharing cache lines with
    /// its neighbours, mapped for a non-coherent device in a direction where the CPU invalidates afterwards.
    /// With kmalloc objects kept on cache lines (no swiotlb to bounce them: `kmallocMinAlign`), no size needs it.
    @inline(__always)
    public static func kmallocNeedsBounce(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, size: Int,
                                          direction: DMADirection) -> Bool {
        if dev.pointee.dma_coherent || direction == .toDevice { return false }
        return !(size >= 2 * archDMAMinAlign || memory.kmallocSizeRoundup(size) & (archDMAMinAlign - 1) == 0)
    }

    /// The kernel's "DMA addr %pad+%zu overflow (mask %llx, bus limit %llx)." (or "swiotlb addr").
    static func overflow(_ what: String, _ dev: UnsafeMutablePointer<Device>, _ dma: DMAAddress, _ size: Int) -> String {
        "\(what) \(pad(dma.rawValue))+\(size) overflow (mask \(hexMask(dev.pointee.dma_mask?.pointee ?? 0)), "
            + "bus limit \(hexMask(dev.pointee.bus_dma_limit)))."
    }

    /// `%pad`: 0x and 16 hex digits.
    static func pad(_ v: UInt64) -> String { SwiotlbPool.hex18(v) }

    // MARK: Streaming. Kernel: dma_direct_map_page, dma_direct_unmap_page, the syncs.

    /// Kernel: dma_direct_map_page.
    @inline(__always)
    public static func mapPage(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, phys: PhysicalAddress,
                               size: Int, direction: DMADirection, attributes: DMAAttributes) -> DMAAddress {
        let dma = DMAAddress(physToDMA(dev, phys.rawValue))
        if Swiotlb.isForceBounce(dev) {
            return Swiotlb.map(dev, memory, phys: phys, size: size, direction: direction, attributes: attributes)
        }
        if !isCapable(dev, dma, size: size) || kmallocNeedsBounce(dev, memory, size: size, direction: direction) {
            if Swiotlb.isActive(dev) {
                return Swiotlb.map(dev, memory, phys: phys, size: size, direction: direction, attributes: attributes)
            }
            warnOnce(dev, overflow("DMA addr", dev, dma, size))
            return .mappingError
        }
        if !dev.pointee.dma_coherent && !attributes.contains(.skipCPUSync) {
            ArchDMA.syncForDevice(memory, phys, size: size, direction: direction)
        }
        return dma
    }

    /// Kernel: dma_direct_unmap_page.
    @inline(__always)
    public static func unmapPage(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, address: DMAAddress,
                                 size: Int, direction: DMADirection, attributes: DMAAttributes) {
        let phys = PhysicalAddress(dmaToPhys(dev, address.rawValue))
        if !attributes.contains(.skipCPUSync) {
            syncSingleForCPU(dev, memory, phys: phys, size: size, direction: direction)
        }
        if Swiotlb.isBounceBuffer(dev, phys) {
            Swiotlb.unmapSingle(dev, tlbAddress: phys, size: size, direction: direction,
                                attributes: attributes.union(.skipCPUSync))
        }
    }

    /// Kernel: dma_direct_sync_single_for_cpu: invalidate (non-coherent), then copy back from swiotlb.
    @inline(__always)
    static func syncSingleForCPU(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, phys: PhysicalAddress,
                                 size: Int, direction: DMADirection) {
        if !dev.pointee.dma_coherent && !ArchDMA.syncForCPU(memory, phys, size: size, direction: direction) {
            warnOutsideRAM(dev, phys, size, "dma_sync_single_for_cpu")
        }
        if Swiotlb.isBounceBuffer(dev, phys) {
            Swiotlb.syncSingleForCPU(dev, tlbAddress: phys, size: size, direction: direction)
        }
    }

    /// Kernel: dma_direct_sync_single_for_device: copy into swiotlb, then clean (non-coherent).
    @inline(__always)
    static func syncSingleForDevice(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, phys: PhysicalAddress,
                                    size: Int, direction: DMADirection) {
        if Swiotlb.isBounceBuffer(dev, phys) {
            Swiotlb.syncSingleForDevice(dev, tlbAddress: phys, size: size, direction: direction)
        }
        if !dev.pointee.dma_coherent && !ArchDMA.syncForDevice(memory, phys, size: size, direction: direction) {
            warnOutsideRAM(dev, phys, size, "dma_sync_single_for_device")
        }
    }

    /// The public form for a DMA address (dma_direct_sync_single_for_cpu).
    public static func syncForCPU(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, address: DMAAddress,
                                  size: Int, direction: DMADirection) {
        syncSingleForCPU(dev, memory, phys: PhysicalAddress(dmaToPhys(dev, address.rawValue)), size: size, direction: direction)
    }

    /// The public form for a DMA address (dma_direct_sync_single_for_device).
    public static func syncForDevice(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, address: DMAAddress,
                                     size: Int, direction: DMADirection) {
        syncSingleForDevice(dev, memory, phys: PhysicalAddress(dmaToPhys(dev, address.rawValue)), size: size,
                            direction: direction)
    }

    @inline(never)
    static func warnOutsideRAM(_ dev: UnsafeMutablePointer<Device>, _ phys: PhysicalAddress, _ size: Int, _ what: StaticString) {
        Kernel.warn("\(devName(dev)): \(what): \(phys)+\(size) is not simulated RAM (a DMA address that was never mapped?)")
    }

    // MARK: Scatterlists. Kernel: dma_direct_map_sg, dma_direct_unmap_sg, dma_direct_sync_sg_for_*.

    /// Kernel: dma_direct_map_sg: each entry on its own. The entry count, or -EIO (with what was mapped
    /// unmapped again).
    public static func mapSG(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory,
                             _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                             direction: DMADirection, attributes: DMAAttributes) -> Int32 {
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while i < nents, let s = sg {
            guard let phys = SG.physicalAddress(s, memory), memory.physical.isRAM(phys, size: UInt64(s.pointee.length)) else {
                devPrintk(.error, dev, "dma_map_sg: entry \(i) is not simulated RAM")
                unmapSG(dev, memory, sgl, count: i, direction: direction, attributes: attributes.union(.skipCPUSync))
                return Errno.invalid.negated
            }
            let dma = mapPage(dev, memory, phys: phys, size: Int(s.pointee.length), direction: direction,
                              attributes: attributes)
            s.pointee.dma_address = dma.rawValue
            if dma.isMappingError {
                unmapSG(dev, memory, sgl, count: i, direction: direction, attributes: attributes.union(.skipCPUSync))
                return Errno.io.negated
            }
            s.pointee.dma_length = s.pointee.length
            i += 1
            sg = SG.next(s)
        }
        return nents
    }

    /// Kernel: dma_direct_unmap_sg.
    public static func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory,
                               _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                               direction: DMADirection, attributes: DMAAttributes) {
        SG.forEach(sgl, nents) { s in
            if s.pointee.dma_flags & UInt32(SG_DMA_BUS_ADDRESS) != 0 {
                s.pointee.dma_flags &= ~UInt32(SG_DMA_BUS_ADDRESS)
            } else {
                unmapPage(dev, memory, address: DMAAddress(s.pointee.dma_address), size: Int(s.pointee.dma_length),
                          direction: direction, attributes: attributes)
            }
        }
    }

    /// Kernel: dma_direct_sync_sg_for_cpu.
    public static func syncSGForCPU(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory,
                                    _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        SG.forEach(sgl, nents) { s in
            syncSingleForCPU(dev, memory, phys: PhysicalAddress(dmaToPhys(dev, s.pointee.dma_address)),
                             size: Int(s.pointee.length), direction: direction)
        }
    }

    /// Kernel: dma_direct_sync_sg_for_device.
    public static func syncSGForDevice(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory,
                                       _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        SG.forEach(sgl, nents) { s in
            syncSingleForDevice(dev, memory, phys: PhysicalAddress(dmaToPhys(dev, s.pointee.dma_address)),
                                size: Int(s.pointee.length), direction: direction)
        }
    }

    /// Kernel: dma_direct_map_resource: MMIO is not translated by dma-ranges; only reach is checked.
    public static func mapResource(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int) -> DMAAddress {
        let dma = DMAAddress(phys.rawValue)
        guard isCapable(dev, dma, size: size) else {
            if WarnOnce.fire("dma_direct_map_resource:\(devName(dev))") {
                devPrintk(.error, dev, overflow("DMA addr", dev, dma, size))
                Kernel.warn("\(devName(dev)): dma_map_resource: address beyond the device's reach")
            }
            return .mappingError
        }
        return dma
    }

    /// Kernel: dma_direct_need_sync.
    public static func needSync(_ dev: UnsafeMutablePointer<Device>, _ address: DMAAddress) -> Bool {
        !dev.pointee.dma_coherent || Swiotlb.isBounceBuffer(dev, PhysicalAddress(dmaToPhys(dev, address.rawValue)))
    }

    // MARK: Allocations. Kernel: dma_direct_alloc, dma_direct_free, dma_direct_alloc_pages.

    /// Kernel: dma_coherent_ok.
    static func isCoherentOK(_ dev: UnsafeMutablePointer<Device>, _ phys: PhysicalAddress, size: Int) -> Bool {
        let dma = physToDMA(dev, phys.rawValue)
        if dma == DMAAddress.mappingError.rawValue { return false }
        return dma &+ UInt64(size) &- 1 <= minNotZero(dev.pointee.coherent_dma_mask, dev.pointee.bus_dma_limit)
    }

    /// Kernel: __dma_direct_alloc_pages with dma_direct_optimal_gfp_mask's zone choice and fallbacks.
    static func allocatePages(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, size: Int, gfp: GFP,
                              site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        let order = pageOrder(size, memory.geometry)
        let limit = dmaToPhys(dev, minNotZero(dev.pointee.coherent_dma_mask, dev.pointee.bus_dma_limit))
        var gfp = gfp.subtracting([.zero, .dma, .dma32, .highmem])
        if limit <= zoneDMALimit { gfp.insert(.dma) }
        while true {
            if let page = memory.allocatePages(order: order, gfp: gfp, site: site) {
                if isCoherentOK(dev, memory.physical.physicalAddress(of: page)!, size: size) { return page }
                memory.freePages(page, order: order)
            }
            // Fall back to ZONE_DMA32, then ZONE_DMA (one zone here).
            if gfp.isDisjoint(with: [.dma, .dma32]) { gfp.insert(.dma32); continue }
            return nil
        }
    }

    /// Kernel: dma_direct_alloc. A non-coherent device gets an uncached remap (DMA_DIRECT_REMAP, as arm64:
    /// arch_dma_prep_coherent, then dma_common_contiguous_remap with dma_pgprot): the pages bypass the CPU
    /// cache model. NO_KERNEL_MAPPING returns the struct page as the cookie.
    public static func alloc(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, size: Int,
                             handle: UnsafeMutablePointer<dma_addr_t>, gfp: GFP, attributes: DMAAttributes,
                             site: AllocationSite?) -> UnsafeMutableRawPointer? {
        let size = pageAlign(size, memory.geometry)
        var gfp = gfp
        if attributes.contains(.noWarn) { gfp.insert(.noWarn) }
        guard let page = allocatePages(dev, memory, size: size, gfp: gfp, site: site) else { return nil }
        let phys = memory.physical.physicalAddress(of: page)!
        let coherent = dev.pointee.dma_coherent
        let ret: UnsafeMutableRawPointer
        if attributes.contains(.noKernelMapping) {
            // Kernel: dma_direct_alloc_no_mapping: remove dirty lines of the kernel alias; the page is the cookie.
            ArchDMA.prepareCoherent(memory, phys, size: size)
            if !coherent { memory.setUncached(phys, size: size, true) }
            handle.pointee = physToDMA(dev, phys.rawValue)
            return UnsafeMutableRawPointer(page)
        }
        if coherent {
            ret = memory.physical.virtualAddress(of: page)!
        } else {
            ArchDMA.prepareCoherent(memory, phys, size: size)
            let count = size >> memory.geometry.shift
            let pages = UnsafeMutablePointer<UnsafeMutablePointer<PageFrame>?>.allocate(capacity: count)
            defer { pages.deallocate() }
            for i in 0..<count { pages[i] = page + i }
            guard let v = memory.vmap(pages, count: count, cached: false, site: site) else {
                memory.freePages(page, order: pageOrder(size, memory.geometry))
                return nil
            }
            memory.setUncached(phys, size: size, true)
            ret = v
        }
        memset(ret, 0, size)
        handle.pointee = physToDMA(dev, phys.rawValue)
        return ret
    }

    /// Kernel: dma_direct_free. The pages are found from the DMA address, as the kernel does.
    public static func free(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, size: Int,
                            cpuAddress: UnsafeMutableRawPointer, handle: DMAAddress, attributes: DMAAttributes) {
        let size = pageAlign(size, memory.geometry)
        let order = pageOrder(size, memory.geometry)
        if attributes.contains(.noKernelMapping) {
            let page = cpuAddress.assumingMemoryBound(to: PageFrame.self)
            guard let phys = memory.physical.physicalAddress(of: page) else {
                Kernel.warn("\(devName(dev)): dma_free_attrs: cookie \(Kernel.hex(UInt(bitPattern: cpuAddress))) is no struct page")
                return
            }
            memory.setUncached(phys, size: size, false)
            memory.freePages(page, order: order)
            return
        }
        let phys = PhysicalAddress(dmaToPhys(dev, handle.rawValue))
        guard let page = memory.physical.page(containing: phys) else {
            Kernel.warn("\(devName(dev)): dma_free_attrs: DMA address \(handle) is not simulated RAM")
            return
        }
        if memory.isVmallocAddress(cpuAddress) { memory.vunmap(cpuAddress) }
        memory.freePages(page, order: order)
    }

    /// Kernel: dma_direct_alloc_pages: cached pages, zeroed.
    public static func allocPages(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, size: Int,
                                  handle: UnsafeMutablePointer<dma_addr_t>, gfp: GFP,
                                  site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        guard let page = allocatePages(dev, memory, size: size, gfp: gfp, site: site) else { return nil }
        memset(memory.physical.virtualAddress(of: page)!, 0, size)
        handle.pointee = physToDMA(dev, memory.physical.physicalAddress(of: page)!.rawValue)
        return page
    }

    /// Kernel: dma_direct_free_pages.
    public static func freePages(_ memory: SimulatedMemory, size: Int, page: UnsafeMutablePointer<PageFrame>) {
        memory.freePages(page, order: pageOrder(size, memory.geometry))
    }

    /// Kernel: dma_direct_get_sgtable: one entry, the page behind the DMA address.
    public static func getSGTable(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory,
                                  table: UnsafeMutablePointer<SGTable>, handle: DMAAddress, size: Int) -> Int32 {
        guard let page = memory.physical.page(containing: PhysicalAddress(dmaToPhys(dev, handle.rawValue))) else {
            return Errno.noDeviceOrAddress.negated
        }
        let ret = SG.allocTable(table, count: 1, gfp: .kernel, memory: memory)
        if ret == 0 { SG.setPage(table.pointee.sgl, page, length: UInt32(pageAlign(size, memory.geometry)), offset: 0) }
        return ret
    }

    /// Kernel: dma_direct_mmap: the buffer's pages into the user mapping, from vm_pgoff on.
    public static func mmap(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, vma: UnsafeMutablePointer<VMArea>,
                            handle: DMAAddress, size: Int, attributes: DMAAttributes) -> Int32 {
        vma.pointee.vm_page_prot = dmaPageProtection(dev, vma.pointee.vm_page_prot, attributes)
        let count = pageAlign(size, memory.geometry) >> memory.geometry.shift
        let phys = PhysicalAddress(dmaToPhys(dev, handle.rawValue))
        guard let page = memory.physical.page(containing: phys) else { return Errno.noDeviceOrAddress.negated }
        return UserMapping.remap(vma, memory, first: page, count: count)
    }

    /// Kernel: dma_direct_supported: a mask below 32 bits must still reach the lowest zone's top.
    public static func isSupported(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, mask: UInt64) -> Bool {
        if mask >= 0xffff_ffff { return true }
        let minMask = min(lastRAMByte(memory), zoneDMALimit)
        let limit = dev.pointee.dma_range_map == nil ? minMask : physToDMA(dev, minMask)
        return mask >= limit
    }

    /// Kernel: dma_direct_get_required_mask.
    public static func requiredMask(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory) -> UInt64 {
        let top = lastRAMByte(memory) & ~UInt64(memory.geometry.size - 1)
        let dma = physToDMA(dev, top)
        let bits = 64 - dma.leadingZeroBitCount
        return bits >= 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
    }

    /// Kernel: dma_direct_all_ram_mapped: every RAM bank inside a dma-ranges window.
    public static func allRAMMapped(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory) -> Bool {
        guard dev.pointee.dma_range_map != nil else { return true }
        for i in 0..<memory.physical.banks.count {
            let b = memory.physical.banks[i]
            var pa = b.start.rawValue
            while pa < b.end.rawValue {
                guard let m = region(dev, containingPhys: pa) else { return false }
                pa = m.pointee.cpu_start &+ m.pointee.size
            }
        }
        return true
    }

    static func region(_ dev: UnsafeMutablePointer<Device>, containingPhys pa: UInt64) -> UnsafePointer<bus_dma_region>? {
        guard var m = dev.pointee.dma_range_map else { return nil }
        while m.pointee.size != 0 {
            if pa >= m.pointee.cpu_start && pa - m.pointee.cpu_start < m.pointee.size { return m }
            m += 1
        }
        return nil
    }

    /// Kernel: dma_direct_max_mapping_size.
    public static func maxMappingSize(_ dev: UnsafeMutablePointer<Device>, addressingLimited: Bool) -> Int {
        if Swiotlb.isActive(dev) && (addressingLimited || Swiotlb.isForceBounce(dev)) {
            return Swiotlb.maxMappingSize(dev)
        }
        return Int.max
    }

    /// Kernel: dma_direct_set_offset. The map is malloc'd: the driver core frees it at unbind.
    public static func setOffset(_ dev: UnsafeMutablePointer<Device>, cpuStart: UInt64, dmaStart: UInt64, size: UInt64) -> Int32 {
        if dev.pointee.dma_range_map != nil {
            devPrintk(.error, dev, "attempt to add DMA range to existing map")
            return Errno.invalid.negated
        }
        if cpuStart == dmaStart { return 0 }
        guard let raw = calloc(2, MemoryLayout<bus_dma_region>.stride) else { return Errno.noMemory.negated }
        let map = raw.assumingMemoryBound(to: bus_dma_region.self)
        map[0] = bus_dma_region(cpu_start: cpuStart, dma_start: dmaStart, size: size)
        dev.pointee.dma_range_map = UnsafePointer(map)
        return 0
    }

    /// The last byte of RAM (max_pfn's page end - 1).
    static func lastRAMByte(_ memory: SimulatedMemory) -> UInt64 {
        var top: UInt64 = 0
        for i in 0..<memory.physical.banks.count { top = max(top, memory.physical.banks[i].end.rawValue &- 1) }
        return top
    }
}

/// arm64's ARCH_DMA_MINALIGN: the cache writeback granule.
public let archDMAMinAlign = 128

/// Kernel: min_not_zero.
@inline(__always)
func minNotZero(_ a: UInt64, _ b: UInt64) -> UInt64 {
    a == 0 ? b : (b == 0 ? a : min(a, b))
}

/// Kernel: PAGE_ALIGN.
@inline(__always)
func pageAlign(_ size: Int, _ g: PageGeometry) -> Int { (size + g.size - 1) & ~(g.size - 1) }

/// Kernel: get_order.
@inline(__always)
func pageOrder(_ size: Int, _ g: PageGeometry) -> Int {
    let pages = (size + g.size - 1) >> g.shift
    return pages <= 1 ? 0 : Int.bitWidth - (pages - 1).leadingZeroBitCount
}

/// Kernel: dma_pgprot (pgprot_writecombine 0x20, pgprot_dmacoherent = write-combine on arm64).
func dmaPageProtection(_ dev: UnsafeMutablePointer<Device>, _ prot: pgprot_t, _ attributes: DMAAttributes) -> pgprot_t {
    if dev.pointee.dma_coherent { return prot }
    return pgprot_t(pgprot: prot.pgprot | 0x20)
}
