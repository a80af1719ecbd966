// The dma-iommu entry points the dispatcher calls for a channel whose route is an IOMMU DMA domain
// (IOMMU_DOMAIN_DMA or IOMMU_DOMAIN_DMA_FQ). Kernel: drivers/iommu/dma-iommu.c (the functions
// include/linux/iommu-dma.h declares, with 6.17's map_page/map_resource taking a physical address).
//
// Contract: the dispatcher (DMAMapping) has already checked the arguments once (device, direction, size,
// RAM) and calls these with the device, the domain the DMA API uses (the group's default domain, as
// iommu_get_dma_domain returns, even while a driver has its own UNMANAGED domain attached), and the
// kernel's parameters. Trace and dma-debug hooks are the dispatcher's: never call them from here.
//
// The state lives in the domain's cookie (IOMMUDMACookie.swift), the flush queue in
// IOMMUDMAFlushQueue.swift, scatterlists in IOMMUDMAScatterlist.swift, allocations in IOMMUDMAAlloc.swift.
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuIOVA
import SwiommuMemory
import SwiommuPlatform

public enum IOMMUDMA {
    /// Kernel: iommu_dma_forcedac ("iommu.forcedac=1" on the command line): no 32-bit-first IOVAs for PCI.
    static func forceDAC() -> Bool {
        guard let args = Machine.current?.board.options.bootargs else { return false }
        for arg in args.split(separator: " ") where arg.hasPrefix("iommu.forcedac=") {
            // Kernel: kstrtobool.
            switch arg.dropFirst("iommu.forcedac=".count).first {
            case "1", "y", "Y", "t", "T": return true
            case "o", "O": return arg.dropFirst("iommu.forcedac=o".count).first.map { $0 == "n" || $0 == "N" } ?? false
            default: return false
            }
        }
        return false
    }

    /// Run `body` with the domain's cookie; `fallback` (and an error line) for a domain that was never set up.
    @inline(__always)
    static func withCookie<R>(_ dev: UnsafeMutablePointer<Device>, _ domain: UnsafeMutablePointer<IOMMUDomain>,
                              _ function: StaticString, _ fallback: R, _ body: (IOMMUDMACookie) -> R) -> R {
        guard let c = IOMMUDMACookie.of(domain), c._withUnsafeGuaranteedRef({ $0.iovad != nil }) else {
            notSetUp(dev, function)
            return fallback
        }
        return c._withUnsafeGuaranteedRef(body)
    }

    /// The statistics of the IOVA space dma-iommu allocates from in `domain` (its cookie's `iovad`); nil for a
    /// domain iommu_setup_dma_ops never set up (swiommu_iommu_dma_get_iova_stats).
    public static func iovaStatistics(_ domain: UnsafeMutablePointer<IOMMUDomain>) -> IOVAStatistics? {
        guard let c = IOMMUDMACookie.of(domain) else { return nil }
        return c._withUnsafeGuaranteedRef { c in c.lock.withLock { c.iovad?._withUnsafeGuaranteedRef { $0.statistics } } }
    }

    @inline(never)
    static func notSetUp(_ dev: UnsafeMutablePointer<Device>, _ function: StaticString) {
        devPrintk(.error, dev, "\(function): the DMA domain has no IOVA cookie (iommu_setup_dma_ops did not run)")
    }

    /// Kernel: iommu_setup_dma_ops. Runs when a device's DMA route gets a DMA/DMA_FQ domain (at bind,
    /// after of_dma_configure): initialise the domain's IOVA cookie (iommu_dma_init_domain) for `dev`.
    /// Returns 0 (the device then uses IOMMU DMA: dev->dma_iommu) or a negative errno, after which the
    /// dispatcher logs "Failed to set up IOMMU for device %s; retaining platform DMA ops" and goes direct.
    public static func setup(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> Int32 {
        guard let memory = Machine.current?.memory else { return Errno.noDevice.negated }
        if isPCI(dev), let di = dev.pointee.iommu {
            let dac = forceDAC()
            // Kernel: iommu_dma_forcedac_setup's line, once per boot.
            if dac && WarnOnce.fire("iommu.forcedac") { Kernel.log(.info, "Forcing DAC for PCI devices") }
            di.pointee.pci_32bit_workaround = dac ? 0 : 1
        }
        return IOMMUDMACookie.get(domain, memory: memory).initialise(for: dev)
    }

    /// Kernel: dma_info_to_prot.
    @inline(__always)
    static func prot(_ dir: DMADirection, coherent: Bool, _ attributes: DMAAttributes) -> Int32 {
        var prot: Int32 = coherent ? IOMMU_CACHE : 0
        if attributes.contains(.privileged) { prot |= IOMMU_PRIV }
        switch dir {
        case .bidirectional: return prot | IOMMU_READ | IOMMU_WRITE
        case .toDevice: return prot | IOMMU_READ
        case .fromDevice: return prot | IOMMU_WRITE
        case .none: return 0
        }
    }

    /// Kernel: iommu_dma_map_page (iommu_dma_map_phys in later kernels). `phys` is page_to_phys(page) +
    /// offset. Returns the IOVA, or `.mappingError`.
    @inline(__always)
    public static func mapPage(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                               phys: PhysicalAddress, size: Int, direction: DMADirection,
                               attributes: DMAAttributes) -> DMAAddress {
        withCookie(dev, domain, "iommu_dma_map_page", .mappingError) {
            $0.mapPage(dev, phys: phys.rawValue, size: size, direction: direction, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_unmap_page.
    @inline(__always)
    public static func unmapPage(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                 address: DMAAddress, size: Int, direction: DMADirection, attributes: DMAAttributes) {
        withCookie(dev, domain, "iommu_dma_unmap_page", ()) {
            $0.unmapPage(dev, address: address.rawValue, size: size, direction: direction, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_map_sg. Returns the number of DMA segments, or -EINVAL, -ENOMEM, -EIO, -EREMOTEIO.
    public static func mapSG(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                             _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                             direction: DMADirection, attributes: DMAAttributes) -> Int32 {
        withCookie(dev, domain, "iommu_dma_map_sg", Errno.invalid.negated) {
            $0.mapSG(dev, sgl, count: nents, direction: direction, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_unmap_sg. `nents` is the count given to map.
    public static func unmapSG(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                               _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32,
                               direction: DMADirection, attributes: DMAAttributes) {
        withCookie(dev, domain, "iommu_dma_unmap_sg", ()) {
            $0.unmapSG(dev, sgl, count: nents, direction: direction, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_sync_single_for_cpu.
    public static func syncSingleForCPU(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                        address: DMAAddress, size: Int, direction: DMADirection) {
        withCookie(dev, domain, "iommu_dma_sync_single_for_cpu", ()) {
            $0.syncSingle(dev, address: address.rawValue, size: size, direction: direction, forDevice: false)
        }
    }

    /// Kernel: iommu_dma_sync_single_for_device.
    public static func syncSingleForDevice(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                           address: DMAAddress, size: Int, direction: DMADirection) {
        withCookie(dev, domain, "iommu_dma_sync_single_for_device", ()) {
            $0.syncSingle(dev, address: address.rawValue, size: size, direction: direction, forDevice: true)
        }
    }

    /// Kernel: iommu_dma_sync_sg_for_cpu.
    public static func syncSGForCPU(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                    _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        withCookie(dev, domain, "iommu_dma_sync_sg_for_cpu", ()) {
            $0.syncSG(dev, sgl, count: nents, direction: direction, forDevice: false)
        }
    }

    /// Kernel: iommu_dma_sync_sg_for_device.
    public static func syncSGForDevice(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                       _ sgl: UnsafeMutablePointer<Scatterlist>, count nents: Int32, direction: DMADirection) {
        withCookie(dev, domain, "iommu_dma_sync_sg_for_device", ()) {
            $0.syncSG(dev, sgl, count: nents, direction: direction, forDevice: true)
        }
    }

    /// Kernel: iommu_dma_alloc. Returns the CPU address (a cookie with NO_KERNEL_MAPPING) and sets `handle`,
    /// or nil.
    public static func alloc(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                             handle: UnsafeMutablePointer<dma_addr_t>, gfp: gfp_t,
                             attributes: DMAAttributes) -> UnsafeMutableRawPointer? {
        withCookie(dev, domain, "iommu_dma_alloc", nil) {
            $0.alloc(dev, size: size, handle: handle, gfp: gfp, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_free.
    public static func free(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                            cpuAddress: UnsafeMutableRawPointer, handle: DMAAddress, attributes: DMAAttributes) {
        withCookie(dev, domain, "iommu_dma_free", ()) {
            $0.free(dev, size: size, cpuAddress: cpuAddress, handle: handle.rawValue)
        }
    }

    /// Kernel: dma_common_alloc_pages with iommu_dma_map_page (the DMA API's dma_alloc_pages for a device
    /// on IOMMU DMA). `size` is page-aligned. Returns the first page and sets `handle`, or nil.
    public static func allocPages(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                                  handle: UnsafeMutablePointer<dma_addr_t>, direction: DMADirection,
                                  gfp: gfp_t) -> UnsafeMutablePointer<PageFrame>? {
        withCookie(dev, domain, "dma_common_alloc_pages", nil) {
            $0.allocPages(dev, size: size, handle: handle, direction: direction, gfp: gfp)
        }
    }

    /// Kernel: dma_common_free_pages with iommu_dma_unmap_page.
    public static func freePages(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>, size: Int,
                                 page: UnsafeMutablePointer<PageFrame>, handle: DMAAddress, direction: DMADirection) {
        withCookie(dev, domain, "dma_common_free_pages", ()) {
            $0.freePages(dev, size: size, page: page, handle: handle.rawValue, direction: direction)
        }
    }

    /// Kernel: iommu_dma_alloc_noncontiguous. The table's first entry carries the one DMA segment.
    public static func allocNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                          size: Int, direction: DMADirection, gfp: gfp_t,
                                          attributes: DMAAttributes) -> UnsafeMutablePointer<SGTable>? {
        withCookie(dev, domain, "iommu_dma_alloc_noncontiguous", nil) {
            $0.allocNoncontiguous(dev, size: size, gfp: gfp, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_free_noncontiguous.
    public static func freeNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         size: Int, table: UnsafeMutablePointer<SGTable>, direction: DMADirection) {
        withCookie(dev, domain, "iommu_dma_free_noncontiguous", ()) {
            $0.freeNoncontiguous(dev, size: size, table: table)
        }
    }

    /// Kernel: iommu_dma_vmap_noncontiguous. Its vunmap is the dispatcher's (vunmap of the address).
    public static func vmapNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         size: Int, table: UnsafeMutablePointer<SGTable>) -> UnsafeMutableRawPointer? {
        withCookie(dev, domain, "iommu_dma_vmap_noncontiguous", nil) { $0.vmapNoncontiguous(size: size, table: table) }
    }

    /// Kernel: iommu_dma_mmap_noncontiguous. 0, -ENXIO or -EINVAL.
    public static func mmapNoncontiguous(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                         vma: UnsafeMutablePointer<VMArea>, size: Int,
                                         table: UnsafeMutablePointer<SGTable>) -> Int32 {
        withCookie(dev, domain, "iommu_dma_mmap_noncontiguous", Errno.invalid.negated) {
            $0.mmapNoncontiguous(vma: vma, size: size, table: table)
        }
    }

    /// Kernel: iommu_dma_get_sgtable. 0 or a negative errno.
    public static func getSGTable(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                  table: UnsafeMutablePointer<SGTable>, cpuAddress: UnsafeMutableRawPointer,
                                  handle: DMAAddress, size: Int, attributes: DMAAttributes) -> Int32 {
        withCookie(dev, domain, "iommu_dma_get_sgtable", Errno.noDeviceOrAddress.negated) {
            $0.getSGTable(table: table, cpuAddress: cpuAddress, size: size)
        }
    }

    /// The IOVA space of a DMA API domain as text (swiommu_dump_iova's view of the cookie's iova_domain); nil
    /// for a domain dma-iommu has not set up. Kernel equivalent: none.
    public static func dumpIOVA(of domain: UnsafeMutablePointer<IOMMUDomain>) -> String? {
        IOMMUDMACookie.of(domain)?._withUnsafeGuaranteedRef { $0.iovad?.takeUnretainedValue().dump() }
    }

    /// Kernel: iommu_dma_mmap. 0 or a negative errno.
    public static func mmap(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                            vma: UnsafeMutablePointer<VMArea>, cpuAddress: UnsafeMutableRawPointer,
                            handle: DMAAddress, size: Int, attributes: DMAAttributes) -> Int32 {
        withCookie(dev, domain, "iommu_dma_mmap", Errno.noDeviceOrAddress.negated) {
            $0.mmap(dev, vma: vma, cpuAddress: cpuAddress, size: size, attributes: attributes)
        }
    }

    /// Kernel: iommu_dma_map_resource. Returns the IOVA, or `.mappingError`.
    public static func mapResource(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                   phys: PhysicalAddress, size: Int, direction: DMADirection,
                                   attributes: DMAAttributes) -> DMAAddress {
        withCookie(dev, domain, "iommu_dma_map_resource", .mappingError) {
            $0.map(dev, phys: phys.rawValue, size: size, prot: prot(direction, coherent: false, attributes) | IOMMU_MMIO,
                   dmaMask: DMAMapping.mask(dev))
        }
    }

    /// Kernel: iommu_dma_unmap_resource.
    public static func unmapResource(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>,
                                     address: DMAAddress, size: Int, direction: DMADirection, attributes: DMAAttributes) {
        withCookie(dev, domain, "iommu_dma_unmap_resource", ()) { $0.unmap(address.rawValue, size: size) }
    }

    /// Kernel: iommu_dma_max_mapping_size: SIZE_MAX, unless the device may bounce any buffer (untrusted
    /// upstream; here a domain whose granule is larger than PAGE_SIZE): then swiotlb's limit.
    public static func maxMappingSize(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> Int {
        let large = IOMMUDMACookie.of(domain)?._withUnsafeGuaranteedRef { $0.largeGranule } ?? false
        return large && Swiotlb.isActive(dev) ? Swiotlb.maxMappingSize(dev) : Int.max
    }

    /// Kernel: iommu_dma_opt_mapping_size: iova_rcache_range(), PAGE_SIZE << (IOVA_RANGE_CACHE_MAX_SIZE - 1),
    /// the largest size the IOVA rcaches serve.
    public static func optMappingSize() -> Int {
        (Machine.current?.memory.geometry.size ?? 4096) << 5
    }

    /// Kernel: iommu_dma_get_merge_boundary (the granule - 1).
    public static func mergeBoundary(_ dev: UnsafeMutablePointer<Device>, domain: UnsafeMutablePointer<IOMMUDomain>) -> UInt {
        let bitmap = UInt(domain.pointee.pgsize_bitmap)
        guard bitmap != 0 else { return 0 }
        return (1 << UInt(bitmap.trailingZeroBitCount)) - 1
    }
}

// MARK: Streaming mappings of one buffer

extension IOMMUDMACookie {
    /// Kernel: dev_use_swiotlb: an untrusted device (none here), a small kmalloc buffer a non-coherent
    /// device could share cache lines of, or (swiommu's extension) a granule larger than PAGE_SIZE, where
    /// an unaligned buffer would expose the rest of its granules to the device.
    @inline(__always)
    func useSwiotlb(_ dev: UnsafeMutablePointer<Device>, size: Int, direction: DMADirection) -> Bool {
        largeGranule || DMADirect.kmallocNeedsBounce(dev, memory, size: size, direction: direction)
    }

    /// Kernel: iommu_dma_map_swiotlb: a bounce buffer aligned to the granule. Nil when swiotlb is off or full.
    func mapSwiotlb(_ dev: UnsafeMutablePointer<Device>, phys: UInt64, size: Int, direction: DMADirection,
                    attributes: DMAAttributes) -> UInt64? {
        guard Swiotlb.isActive(dev) else {
            if WarnOnce.fire("iommu_dma_map_swiotlb:\(devName(dev))") {
                devPrintk(.warning, dev, "DMA bounce buffers are inactive, unable to map unaligned transaction.")
            }
            return nil
        }
        guard let tlb = Swiotlb.mapSingle(dev, phys: PhysicalAddress(phys), size: size, allocAlignMask: UInt32(mask),
                                          direction: direction, attributes: attributes) else { return nil }
        // Untrusted devices should not see padding areas with random leftover kernel data, so zero the pre-
        // and post-padding. A device behind a granule larger than the page sees all of it too.
        if largeGranule, let virt = memory.physical.virtualAddress(of: tlb) {
            let pre = Int(tlb.rawValue & mask)
            memset(virt - pre, 0, pre)
            let end = tlb.rawValue &+ UInt64(size)
            memset(virt + size, 0, Int(align(end) &- end))
        }
        return tlb.rawValue
    }

    /// Kernel: iommu_dma_map_page.
    @inline(__always)
    func mapPage(_ dev: UnsafeMutablePointer<Device>, phys: UInt64, size: Int, direction: DMADirection,
                 attributes: DMAAttributes) -> DMAAddress {
        let coherent = dev.pointee.dma_coherent
        let prot = IOMMUDMA.prot(direction, coherent: coherent, attributes)
        var phys = phys
        // If both the physical buffer start address and size are granule aligned, we don't need a bounce page.
        if useSwiotlb(dev, size: size, direction: direction) && (phys | UInt64(size)) & mask != 0 {
            guard let tlb = mapSwiotlb(dev, phys: phys, size: size, direction: direction, attributes: attributes) else {
                return .mappingError
            }
            phys = tlb
        }
        if !coherent && !attributes.contains(.skipCPUSync) {
            ArchDMA.syncForDevice(memory, PhysicalAddress(phys), size: size, direction: direction)
        }
        let iova = map(dev, phys: phys, size: size, prot: prot, dmaMask: DMAMapping.mask(dev))
        if iova.isMappingError {
            Swiotlb.unmapSingle(dev, tlbAddress: PhysicalAddress(phys), size: size, direction: direction, attributes: attributes)
        }
        return iova
    }

    /// Kernel: iommu_dma_unmap_page.
    @inline(__always)
    func unmapPage(_ dev: UnsafeMutablePointer<Device>, address: UInt64, size: Int, direction: DMADirection,
                   attributes: DMAAttributes) {
        let phys = Mapping.iovaToPhys(domain, address)
        if phys == 0 {
            noMapping(dev, address, "iommu_dma_unmap_page")
            return
        }
        if !attributes.contains(.skipCPUSync) && !dev.pointee.dma_coherent {
            ArchDMA.syncForCPU(memory, PhysicalAddress(phys), size: size, direction: direction)
        }
        unmap(address, size: size)
        Swiotlb.unmapSingle(dev, tlbAddress: PhysicalAddress(phys), size: size, direction: direction, attributes: attributes)
    }

    /// The kernel's WARN_ON(!phys): an address the domain does not map.
    @inline(never)
    func noMapping(_ dev: UnsafeMutablePointer<Device>, _ address: UInt64, _ function: StaticString) {
        Kernel.warn("\(devName(dev)): \(function): nothing is mapped at IOVA \(Kernel.hex(address)) (WARN_ON(!phys))")
    }

    /// Kernel: iommu_dma_sync_single_for_cpu / _for_device.
    func syncSingle(_ dev: UnsafeMutablePointer<Device>, address: UInt64, size: Int, direction: DMADirection,
                    forDevice: Bool) {
        let coherent = dev.pointee.dma_coherent
        if coherent && !useSwiotlb(dev, size: size, direction: direction) { return }
        let phys = PhysicalAddress(Mapping.iovaToPhys(domain, address))
        if forDevice {
            Swiotlb.syncSingleForDevice(dev, tlbAddress: phys, size: size, direction: direction)
            if !coherent && !ArchDMA.syncForDevice(memory, phys, size: size, direction: direction) {
                DMADirect.warnOutsideRAM(dev, phys, size, "dma_sync_single_for_device")
            }
        } else {
            if !coherent && !ArchDMA.syncForCPU(memory, phys, size: size, direction: direction) {
                DMADirect.warnOutsideRAM(dev, phys, size, "dma_sync_single_for_cpu")
            }
            Swiotlb.syncSingleForCPU(dev, tlbAddress: phys, size: size, direction: direction)
        }
    }
}
