// dma-iommu's per-domain state: the IOVA domain (granule = the domain's smallest page), the flush queue, and
// the IOVA policy of iommu_dma_alloc_iova. Kernel: struct iommu_dma_cookie, iommu_get_dma_cookie,
// iommu_put_dma_cookie, iommu_dma_init_domain, iova_reserve_iommu_regions, iova_reserve_pci_windows,
// iommu_dma_alloc_iova, iommu_dma_free_iova (drivers/iommu/dma-iommu.c).
//
// The cookie hangs off the IOMMU core's DomainState.dmaCookie (a retained reference), which the core
// releases before the driver frees the domain; the C domain's iova_cookie stays unused, as it shares a
// union with the fault handler the core reads for every domain.
import Glibc
import CKernel
import CSwiommuGlue
import Synchronization
import SwiommuBase
import SwiommuIOMMU
import SwiommuIOVA
import SwiommuMemory
import SwiommuPlatform

final class IOMMUDMACookie: @unchecked Sendable {
    /// The domain this cookie serves (valid for the cookie's life: the core drops the cookie first).
    let domain: UnsafeMutablePointer<IOMMUDomain>
    let memory: SimulatedMemory
    /// Serialises initialisation, the remap records and teardown (never taken on the streaming paths).
    let lock = Lock()

    /// The IOVA domain, set once by `initialise`. Kernel: `cookie->iovad`.
    private(set) var iovad: Unmanaged<IOVADomain>?
    /// Kernel: iovad->granule, iova_shift(), iova_mask().
    private(set) var granule: UInt64 = 0
    private(set) var shift: UInt64 = 0
    private(set) var mask: UInt64 = 0
    private(set) var startPfn: UInt64 = 0
    /// swiommu's extension: a granule larger than the CPU page (a 16 KiB DART under a 4 KiB kernel), where
    /// unaligned streaming buffers bounce through swiotlb as for an untrusted device.
    private(set) var largeGranule = false

    /// The flush queue, when the domain is lazy. Kernel: `cookie->fq_domain != NULL`.
    private(set) var flushQueue: IOMMUDMAFlushQueue?
    /// `flushQueue` for the hot path, without reference counting.
    private(set) var fq: Unmanaged<IOMMUDMAFlushQueue>?

    /// Page arrays behind the CPU mappings of non-contiguous coherent allocations, by CPU address.
    /// Kernel: the vm area's pages (dma_common_pages_remap, dma_common_find_pages).
    var remaps: [UInt: IOMMUDMAPages] = [:]

    init(domain: UnsafeMutablePointer<IOMMUDomain>, memory: SimulatedMemory) {
        self.domain = domain
        self.memory = memory
        IOMMUDMACookie.register(self)
    }

    deinit {
        teardown()
        IOMMUDMACookie.unregister(self)
    }

    /// Kernel: iommu_put_dma_cookie: the flush queue's timer and queued pages, then the IOVA domain. The
    /// IOVAs still queued go with it (put_iova_domain); nothing is unmapped.
    func teardown() {
        lock.withLock {
            if let q = flushQueue {
                q.free()
                flushQueue = nil
                fq = nil
            }
            if let d = iovad {
                d.takeUnretainedValue().destroy()
                d.release()
                iovad = nil
            }
            // Coherent allocations still live are the driver's leak: the leak check reports their pages.
            remaps.removeAll()
        }
    }

    // MARK: Finding a domain's cookie

    /// The cookie of a DMA API domain, or nil before iommu_setup_dma_ops made one.
    @inline(__always)
    static func of(_ d: UnsafeMutablePointer<IOMMUDomain>) -> Unmanaged<IOMMUDMACookie>? {
        guard let raw = d.pointee.swiommu else { return nil }
        let c = Unmanaged<DomainState>.fromOpaque(raw)._withUnsafeGuaranteedRef { $0.dmaCookie }
        return c.map { Unmanaged<IOMMUDMACookie>.fromOpaque($0) }
    }

    /// Kernel: iommu_get_dma_cookie: the domain's cookie, made on first use.
    static func get(_ d: UnsafeMutablePointer<IOMMUDomain>, memory: SimulatedMemory) -> IOMMUDMACookie {
        let state = DomainState.of(d)
        if let raw = state.dmaCookie { return Unmanaged<IOMMUDMACookie>.fromOpaque(raw).takeUnretainedValue() }
        let c = IOMMUDMACookie(domain: d, memory: memory)
        state.dmaCookie = Unmanaged.passRetained(c).toOpaque()
        return c
    }

    // MARK: Live cookies, torn down at machine shutdown even if the core never frees their domains

    final class Registry: @unchecked Sendable {
        let lock = Lock()
        var cookies: [Unmanaged<IOMMUDMACookie>] = []
        var hookInstalled = false
    }

    static let registry = Registry()

    private static func register(_ c: IOMMUDMACookie) {
        let r = registry
        r.lock.withLock {
            r.cookies.append(Unmanaged.passUnretained(c))
            if !r.hookInstalled {
                r.hookInstalled = true
                Machine.shutdownHooks.append { _ in IOMMUDMACookie.shutdownAll() }
            }
        }
    }

    private static func unregister(_ c: IOMMUDMACookie) {
        let r = registry
        r.lock.withLock { r.cookies.removeAll { $0.toOpaque() == Unmanaged.passUnretained(c).toOpaque() } }
    }

    /// At machine shutdown: every cookie whose domain outlived its devices stops its timer and gives back
    /// its IOVA domain (the domain's memory goes with the machine).
    static func shutdownAll() {
        let r = registry
        let live = r.lock.withLock { r.cookies }
        for c in live { c._withUnsafeGuaranteedRef { $0.teardown() } }
    }

    // MARK: Kernel: iommu_dma_init_domain

    /// Kernel: iommu_dma_init_domain. 0, -EINVAL (no page sizes), -EFAULT (the device's dma-ranges miss the
    /// aperture; a second device whose range differs), -ENOMEM; or what reserving regions returned.
    func initialise(for dev: UnsafeMutablePointer<Device>) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        let bitmap = UInt64(domain.pointee.pgsize_bitmap)
        guard bitmap != 0 else { return Errno.invalid.negated }
        // Use the smallest supported page size for IOVA granularity.
        let order = UInt64(bitmap.trailingZeroBitCount)
        let geometry = domain.pointee.geometry
        // Check the domain allows at least some access to the device...
        if var m = dev.pointee.dma_range_map {
            var lo = UInt64.max
            var hi: UInt64 = 0
            while m.pointee.size != 0 {
                lo = min(lo, m.pointee.dma_start)
                hi = max(hi, m.pointee.dma_start &+ m.pointee.size &- 1)
                m += 1
            }
            if lo > geometry.aperture_end || hi < geometry.aperture_start {
                Kernel.log(.warning, "specified DMA range outside IOMMU capability")
                return Errno.fault.negated
            }
        }
        // ...then finally give it a kicking to make sure it fits.
        let basePfn = max(1, geometry.aperture_start >> order)
        // start_pfn is always nonzero for an already-initialised domain.
        if iovad != nil {
            if UInt64(1) << order != granule || basePfn != startPfn {
                Kernel.log(.warning, "Incompatible range for DMA domain")
                return Errno.fault.negated
            }
            return 0
        }
        let pageSize = UInt64(memory.geometry.size)
        let g = UInt64(1) << order
        // The kernel BUGs in init_iova_domain for a granule above PAGE_SIZE; swiommu lets it through for the
        // domains an IOMMU with larger pages gives (the design discussion's proposal; see largeGranule).
        guard let d = IOVADomain(granule: g, startPfn: IOVAPFN(basePfn), pageSize: pageSize,
                                 allowLargeGranule: true) else { return Errno.invalid.negated }
        if let e = d.initRangeCaches() {
            d.destroy()
            return e.negated
        }
        iovad = Unmanaged.passRetained(d)
        granule = g
        shift = order
        mask = g &- 1
        startPfn = basePfn
        largeGranule = g > pageSize
        if largeGranule {
            devPrintk(.info, dev, "swiommu: IOVA granule \(g >> 10)K is larger than PAGE_SIZE \(pageSize >> 10)K: "
                      + "unaligned streaming buffers bounce through swiotlb")
        }
        // If the FQ fails we can simply fall back to strict mode.
        if domain.pointee.type == IOMMU_DOMAIN_DMA_FQ_VALUE {
            let capable = dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops?.pointee.capable?(dev, IOMMU_CAP_DEFERRED_FLUSH)
                ?? false
            if !capable || !initFlushQueue(dev) { domain.pointee.type = IOMMU_DOMAIN_DMA_VALUE }
        }
        return reserveRegions(for: dev, d)
    }

    /// Kernel: iommu_dma_init_fq with iommu_dma_init_options (a single big queue where the IOMMU shadows
    /// flushes). False when the queue cannot be allocated ("iova flush queue initialization failed").
    private func initFlushQueue(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        if flushQueue != nil { return true }
        let single = dev.pointee.iommu?.pointee.shadow_on_flush ?? 0 != 0
        guard let q = IOMMUDMAFlushQueue(cookie: self, single: single) else {
            Kernel.log(.warning, "iova flush queue initialization failed")
            return false
        }
        flushQueue = q
        fq = Unmanaged.passUnretained(q)
        return true
    }

    // MARK: Kernel: iova_reserve_iommu_regions, iova_reserve_pci_windows

    private func reserveRegions(for dev: UnsafeMutablePointer<Device>, _ iovad: IOVADomain) -> Int32 {
        if isPCI(dev) {
            let ret = reservePCIWindows(dev, iovad)
            if ret != 0 { return ret }
        }
        let head = UnsafeMutablePointer<list_head>.allocate(capacity: 1)
        defer { head.deallocate() }
        head.pointee.next = head
        head.pointee.prev = head
        ResvRegions.get(dev, into: head)
        var n = head.pointee.next
        while let node = n, node != head {
            n = node.pointee.next
            let r = UnsafeMutableRawPointer(node).assumingMemoryBound(to: iommu_resv_region.self)
            // We ARE the software that manages these!
            if r.pointee.type == IOMMU_RESV_SW_MSI { continue }
            let lo = r.pointee.start >> shift
            let hi = (r.pointee.start &+ UInt64(r.pointee.length) &- 1) >> shift
            _ = iovad.reserve(lo: IOVAPFN(lo), hi: IOVAPFN(hi))
            // IOMMU_RESV_MSI's doorbell pages (cookie_init_hw_msi_region) matter only to MSI set-up, which
            // swiommu does not model: the reservation is what DMA sees.
        }
        ResvRegions.put(dev, head, memory: memory)
        return 0
    }

    /// Kernel: iova_reserve_pci_windows: the host bridge's memory windows (from its "ranges"), and the gaps
    /// between its "dma-ranges" windows, are no IOVAs for its devices.
    private func reservePCIWindows(_ dev: UnsafeMutablePointer<Device>, _ iovad: IOVADomain) -> Int32 {
        guard let bridge = dev.pointee.of_node?.pointee.parent else { return 0 }
        for w in Self.pciWindows(bridge, property: "ranges") where w.isMemory {
            _ = iovad.reserve(lo: IOVAPFN(w.busStart >> shift), hi: IOVAPFN(w.busEnd >> shift))
        }
        // Get reserved DMA windows from host bridge.
        let windows = Self.pciWindows(bridge, property: "dma-ranges").sorted { $0.cpuStart < $1.cpuStart }
        var start: UInt64 = 0
        for (i, w) in windows.enumerated() {
            var end = w.busStart
            while true {
                if end > start {
                    _ = iovad.reserve(lo: IOVAPFN(start >> shift), hi: IOVAPFN(end >> shift))
                } else if end < start {
                    // DMA ranges should be non-overlapping.
                    devPrintk(.error, dev, "Failed to reserve IOVA [\(SwiotlbPool.hex18(start))-\(SwiotlbPool.hex18(end))]")
                    return Errno.invalid.negated
                }
                start = w.busEnd &+ 1
                // If window is last entry.
                if i == windows.count - 1 && end != UInt64.max {
                    end = UInt64.max
                    continue
                }
                break
            }
        }
        return 0
    }

    /// One window of a PCI host bridge's "ranges" or "dma-ranges": PCI (bus) and CPU addresses.
    struct PCIWindow {
        var isMemory: Bool
        var busStart: UInt64
        var cpuStart: UInt64
        var size: UInt64
        var busEnd: UInt64 { busStart &+ size &- 1 }
    }

    /// Parse a host bridge's 3-cell PCI address ranges (the space code in the first cell: 1 I/O, 2 and 3
    /// memory). Kernel: of_pci_range_parser, as pci_host_bridge's windows and dma_ranges hold them.
    static func pciWindows(_ bridge: UnsafeMutablePointer<DeviceNode>, property: String) -> [PCIWindow] {
        guard let cells = DeviceTree.cells(bridge, property) else { return [] }
        let parentCells = bridge.pointee.parent.map { DeviceTree.cellCounts(forChildrenOf: $0).address } ?? 2
        let sizeCells = DeviceTree.cellCounts(forChildrenOf: bridge).size
        let entry = 3 + parentCells + sizeCells
        func read(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { ($0 << 32) | UInt64(cells[at + $1]) } }
        var out: [PCIWindow] = []
        var i = 0
        while i + entry <= cells.count {
            let space = (cells[i] >> 24) & 3
            out.append(PCIWindow(isMemory: space >= 2, busStart: read(i + 1, 2), cpuStart: read(i + 3, parentCells),
                                 size: read(i + 3 + parentCells, sizeCells)))
            i += entry
        }
        return out
    }

    // MARK: Kernel: iommu_dma_alloc_iova, iommu_dma_free_iova

    /// Kernel: iommu_dma_alloc_iova: an IOVA for `size` bytes (granule-aligned) under `dmaLimit`, the bus
    /// limit and the aperture; below 4 GiB first for a PCI device (pci_32bit_workaround). 0 on failure.
    @inline(__always)
    func allocIOVA(_ dev: UnsafeMutablePointer<Device>, size: UInt64, dmaLimit: UInt64) -> UInt64 {
        let len = size &>> shift
        var limit = minNotZero(dmaLimit, dev.pointee.bus_dma_limit)
        if domain.pointee.geometry.force_aperture { limit = min(limit, domain.pointee.geometry.aperture_end) }
        return iovad.unsafelyUnwrapped._withUnsafeGuaranteedRef { d -> UInt64 in
            // Try to use all the 32-bit PCI addresses first.
            if limit > 0xffff_ffff, let di = dev.pointee.iommu, di.pointee.pci_32bit_workaround != 0 {
                let pfn = d.allocateFast(size: len, limit: IOVAPFN(0xffff_ffff &>> shift), flushRangeCache: false)
                if pfn != 0 { return pfn &<< shift }
                di.pointee.pci_32bit_workaround = 0
                devPrintk(.notice, dev, "Using \(64 - limit.leadingZeroBitCount)-bit DMA addresses")
            }
            return d.allocateFast(size: len, limit: IOVAPFN(limit &>> shift), flushRangeCache: true) &<< shift
        }
    }

    /// Kernel: iommu_dma_free_iova: to the flush queue when the unmap was queued, else back to the rcache.
    @inline(__always)
    func freeIOVA(_ iova: UInt64, size: UInt64, gather: UnsafeMutablePointer<iommu_iotlb_gather>?) {
        if let gather, gather.pointee.queued, let q = fq {
            q._withUnsafeGuaranteedRef { $0.queue(pfn: iova &>> shift, pages: size &>> shift, freelist: gather) }
        } else {
            iovad.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.freeFast(pfn: IOVAPFN(iova &>> shift), size: size &>> shift) }
        }
    }

    /// Kernel: iova_align.
    @inline(__always) func align(_ size: UInt64) -> UInt64 { (size &+ mask) & ~mask }

    // MARK: Kernel: __iommu_dma_map, __iommu_dma_unmap

    /// Kernel: __iommu_dma_map: an IOVA for [phys, phys + size) keeping phys's in-granule offset, mapped
    /// with `prot`. `.mappingError` when the IOVA space or the driver's map fails.
    @inline(__always)
    func map(_ dev: UnsafeMutablePointer<Device>, phys: UInt64, size: Int, prot: Int32, dmaMask: UInt64) -> DMAAddress {
        let off = phys & mask
        // If anyone ever wants this we'd need support in the IOVA allocator.
        if UInt64(dmaMinAlignMask(dev)) > mask {
            warnOnce(dev, "Unsupported alignment constraint")
            return .mappingError
        }
        let len = align(UInt64(size) &+ off)
        let iova = allocIOVA(dev, size: len, dmaLimit: dmaMask)
        if iova == 0 { return .mappingError }
        if Mapping.map(domain, iova: iova, paddr: phys &- off, size: len, prot: prot, gfp: gfpAtomic) != 0 {
            freeIOVA(iova, size: len, gather: nil)
            return .mappingError
        }
        return DMAAddress(iova &+ off)
    }

    /// Kernel: __iommu_dma_unmap: unmap the granules of [addr, addr + size), then invalidate the IOTLB now
    /// (strict) or queue the IOVA for the next flush (lazy).
    @inline(__always)
    func unmap(_ addr: UInt64, size: Int) {
        let off = addr & mask
        let iova = addr &- off
        let len = align(UInt64(size) &+ off)
        withUnsafeTemporaryAllocation(of: iommu_iotlb_gather.self, capacity: 1) { buf in
            let gather = buf.baseAddress.unsafelyUnwrapped
            iommu_iotlb_gather_init(gather)
            gather.pointee.queued = fq != nil
            let unmapped = Mapping.unmapCore(domain, iova: iova, size: len, gather: gather)
            if unmapped != len { unmapMismatch(iova: iova, size: len, unmapped: unmapped) }
            if !gather.pointee.queued { Mapping.sync(domain, gather) }
            freeIOVA(iova, size: len, gather: gather)
        }
    }

    @inline(never)
    private func unmapMismatch(iova: UInt64, size: UInt64, unmapped: UInt64) {
        Kernel.warn("__iommu_dma_unmap: unmapped \(Kernel.hex(unmapped)) of \(Kernel.hex(size)) bytes at IOVA \(Kernel.hex(iova))")
    }
}

/// Kernel: GFP_ATOMIC (__GFP_HIGH | __GFP_KSWAPD_RECLAIM).
let gfpAtomic: UInt32 = 0x20 | 0x800

/// Kernel: dev_is_pci.
@inline(__always)
func isPCI(_ dev: UnsafeMutablePointer<Device>) -> Bool {
    dev.pointee.bus == swiommu_glue_pci_bus()
}
