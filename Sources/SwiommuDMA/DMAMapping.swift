// The DMA API's front door: it checks each call once, picks the device's path (IOMMU DMA, ops installed with
// set_dma_ops, or dma-direct, in kernel/dma/mapping.c's order), runs it, and is the only caller of the trace
// and dma-debug hooks. The kernel's BUG_ON(!valid_dma_direction(dir)) is a WARN record and a failure here.
// Kernel: kernel/dma/mapping.c, kernel/dma/ops_helpers.c.
import Glibc
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

/// Kernel: EREMOTEIO (map_sg of P2P memory the device cannot reach).
let remoteIOErrno: Int32 = 121

/// Where a device's DMA API calls go.
enum DMAPath {
    case direct
    case iommu(UnsafeMutablePointer<IOMMUDomain>)
    case ops(UnsafePointer<dma_map_ops>)
    case unavailable
}

public enum DMAMapping {
    // MARK: Choosing the path. Kernel: dma_map_direct, dma_go_direct, use_dma_iommu.

    /// IOMMU DMA first (dev->dma_iommu), then installed ops, then dma-direct, as mapping.c orders them; a
    /// channel 0 the IOMMU core cannot serve fails loudly.
    @inline(__always)
    static func path(_ dev: UnsafeMutablePointer<Device>) -> DMAPath {
        if let st = DMALayer.state(dev) {
            let r = st.pointee.routes[0]
            if dev.pointee.dma_iommu, case .iommu(let d) = r { return .iommu(d) }
            if let ops = dev.pointee.dma_ops { return .ops(ops) }
            if case .unavailable = r { return .unavailable }
            return .direct
        }
        if let ops = dev.pointee.dma_ops { return .ops(ops) }
        return .direct
    }

    /// The path of one channel (the _multi calls).
    static func path(_ dev: UnsafeMutablePointer<Device>, channel: Int) -> DMAPath? {
        if channel == 0 { return path(dev) }
        switch DMALayer.route(dev, channel: channel) {
        case nil: return nil
        case .direct?: return .direct
        case .iommu(let d)?: return .iommu(d)
        case .unavailable?: return .unavailable
        }
    }

    @inline(never)
    static func unavailable(_ dev: UnsafeMutablePointer<Device>, _ function: StaticString, channel: Int = 0) {
        devPrintk(.error, dev, "\(function): channel \(channel) sits behind an IOMMU the IOMMU core cannot serve "
                  + "for it: no DMA is possible")
    }

    @inline(never)
    static func missingOp(_ dev: UnsafeMutablePointer<Device>, _ op: StaticString) {
        Kernel.warn("\(devName(dev)): the installed dma_map_ops have no \(op)")
    }

    /// The checks every mapping call makes first: a valid direction (the kernel's BUG_ON) and a dma_mask
    /// (its WARN_ON_ONCE).
    @inline(__always)
    static func checkDirection(_ dev: UnsafeMutablePointer<Device>, _ dir: dma_data_direction,
                               _ function: StaticString) -> DMADirection? {
        guard let d = DMADirection(dir), d.isValid else {
            badDirection(dev, dir, function)
            return nil
        }
        return d
    }

    @inline(never)
    static func badDirection(_ dev: UnsafeMutablePointer<Device>, _ dir: dma_data_direction, _ function: StaticString) {
        Kernel.warn("\(devName(dev)): \(function): invalid DMA direction \(dir.rawValue) (the kernel's "
                    + "BUG_ON(!valid_dma_direction(dir)))")
    }

    @inline(__always)
    static func checkMask(_ dev: UnsafeMutablePointer<Device>, _ function: StaticString) -> Bool {
        if dev.pointee.dma_mask != nil { return true }
        warnOnce(dev, "\(function): the device has no dma_mask (WARN_ON_ONCE(!dev->dma_mask))")
        return false
    }

    // MARK: Streaming. Kernel: dma_map_page_attrs, dma_unmap_page_attrs.

    /// Kernel: dma_map_page_attrs.
    @inline(__always)
    public static func mapPage(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, page: UnsafeMutablePointer<PageFrame>,
                               offset: Int, size: Int, direction dir: dma_data_direction,
                               attributes: DMAAttributes) -> DMAAddress {
        guard let direction = checkDirection(dev, dir, "dma_map_page_attrs"),
              checkMask(dev, "dma_map_page_attrs") else { return .mappingError }
        guard let phys = layer.physicalAddress(of: page, offset: offset, size: size) else {
            badBuffer(dev, page, offset, size, "dma_map_page_attrs")
            return .mappingError
        }
        layer.attachSwiotlb(dev)
        let addr: DMAAddress
        switch path(dev) {
        case .direct:
            addr = DMADirect.mapPage(dev, layer.memory, phys: phys, size: size, direction: direction, attributes: attributes)
        case .iommu(let d):
            addr = IOMMUDMA.mapPage(dev, domain: d, phys: phys, size: size, direction: direction, attributes: attributes)
        case .ops(let ops):
            if let f = ops.pointee.map_page {
                addr = DMAAddress(f(dev, page, CUnsignedLong(offset), size, dir, CUnsignedLong(attributes.rawValue)))
            } else {
                missingOp(dev, "map_page")
                addr = .mappingError
            }
        case .unavailable:
            unavailable(dev, "dma_map_page_attrs")
            addr = .mappingError
        }
        DMAHooks.mapPage(dev, page: page, offset: offset, phys: phys, size: size, direction: direction,
                         attributes: attributes, result: addr)
        return addr
    }

    @inline(never)
    static func badBuffer(_ dev: UnsafeMutablePointer<Device>, _ page: UnsafeMutableRawPointer?, _ offset: Int, _ size: Int,
                          _ function: StaticString) {
        if size == 0 {
            Kernel.warn("\(devName(dev)): \(function): a mapping of size 0")
        } else {
            Kernel.warn("\(devName(dev)): \(function): page \(Kernel.hex(UInt(bitPattern: page))) + \(offset), \(size) bytes "
                        + "is not simulated RAM")
        }
    }

    /// Kernel: dma_unmap_page_attrs.
    @inline(__always)
    public static func unmapPage(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                                 direction dir: dma_data_direction, attributes: DMAAttributes) {
        guard let direction = checkDirection(dev, dir, "dma_unmap_page_attrs") else { return }
        DMAHooks.willTouch(dev, key: address.rawValue)
        DMAHooks.willUnmapPage(dev, address: address, size: size, direction: direction)
        switch path(dev) {
        case .direct:
            DMADirect.unmapPage(dev, layer.memory, address: address, size: size, direction: direction, attributes: attributes)
        case .iommu(let d):
            IOMMUDMA.unmapPage(dev, domain: d, address: address, size: size, direction: direction, attributes: attributes)
        case .ops(let ops):
            if let f = ops.pointee.unmap_page {
                f(dev, address.rawValue, size, dir, CUnsignedLong(attributes.rawValue))
            } else {
                missingOp(dev, "unmap_page")
            }
        case .unavailable:
            unavailable(dev, "dma_unmap_page_attrs")
        }
        DMAHooks.unmapPage(dev, address: address, size: size, direction: direction, attributes: attributes)
    }

    /// Kernel: debug_dma_map_single, from the dma_map_single_attrs inline.
    public static func debugMapSingle(_ dev: UnsafeMutablePointer<Device>, address: UnsafeRawPointer?, length: Int) {
        DMAHooks.mapSingle(dev, address: address, length: length)
    }

    /// Kernel: debug_dma_mapping_error, from the dma_mapping_error inline.
    @inline(__always)
    public static func debugMappingError(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress) {
        DMAHooks.mappingError(dev, address: address)
    }

    // MARK: Scatterlists. Kernel: __dma_map_sg_attrs, dma_unmap_sg_attrs.

    /// Kernel: __dma_map_sg_attrs: the segment count, or -EINVAL, -ENOMEM, -EIO, -EREMOTEIO. As in 6.17, a
    /// device without a DMA mask gives 0 (WARN_ON_ONCE), and no entries -EIO: every backend maps none of them,
    /// and the 0 it returns is not one of the four codes (WARN_ON_ONCE).
    public static func mapSG(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>,
                             count nents: Int32, direction dir: dma_data_direction, attributes: DMAAttributes) -> Int32 {
        guard let direction = checkDirection(dev, dir, "dma_map_sg_attrs") else { return Errno.invalid.negated }
        guard checkMask(dev, "dma_map_sg_attrs") else { return 0 }
        guard nents > 0 else {
            Kernel.warn("\(devName(dev)): dma_map_sg_attrs: \(nents) entries: the backend returned 0")
            DMAHooks.mapSGError(dev, sgl, nents: nents, error: Errno.io.negated, direction: direction, attributes: attributes)
            return Errno.io.negated
        }
        layer.attachSwiotlb(dev)
        var ents: Int32
        switch path(dev) {
        case .direct:
            ents = DMADirect.mapSG(dev, layer.memory, sgl, count: nents, direction: direction, attributes: attributes)
        case .iommu(let d):
            ents = IOMMUDMA.mapSG(dev, domain: d, sgl, count: nents, direction: direction, attributes: attributes)
        case .ops(let ops):
            if let f = ops.pointee.map_sg {
                ents = f(dev, sgl, nents, dir, CUnsignedLong(attributes.rawValue))
            } else {
                missingOp(dev, "map_sg")
                ents = Errno.invalid.negated
            }
        case .unavailable:
            unavailable(dev, "dma_map_sg_attrs")
            ents = Errno.io.negated
        }
        if ents > 0 {
            DMAHooks.mapSG(dev, sgl, nents: nents, mapped: ents, direction: direction, attributes: attributes)
        } else if ents != Errno.invalid.negated && ents != Errno.noMemory.negated && ents != Errno.io.negated
                    && ents != -remoteIOErrno {
            Kernel.warn("\(devName(dev)): dma_map_sg_attrs: the backend returned \(ents)")
            DMAHooks.mapSGError(dev, sgl, nents: nents, error: ents, direction: direction, attributes: attributes)
            return Errno.io.negated
        }
        return ents
    }

    /// Kernel: dma_unmap_sg_attrs.
    public static func unmapSG(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>,
                               count nents: Int32, direction dir: dma_data_direction, attributes: DMAAttributes) {
        guard let direction = checkDirection(dev, dir, "dma_unmap_sg_attrs") else { return }
        DMAHooks.willTouch(dev, key: UInt64(UInt(bitPattern: sgl)))
        DMAHooks.unmapSG(dev, sgl, nents: nents, direction: direction, attributes: attributes)
        switch path(dev) {
        case .direct:
            DMADirect.unmapSG(dev, layer.memory, sgl, count: nents, direction: direction, attributes: attributes)
        case .iommu(let d):
            IOMMUDMA.unmapSG(dev, domain: d, sgl, count: nents, direction: direction, attributes: attributes)
        case .ops(let ops):
            ops.pointee.unmap_sg?(dev, sgl, nents, dir, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_unmap_sg_attrs")
        }
    }

    // MARK: Resources. Kernel: dma_map_resource, dma_unmap_resource.

    public static func mapResource(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int,
                                   direction dir: dma_data_direction, attributes: DMAAttributes) -> DMAAddress {
        guard let direction = checkDirection(dev, dir, "dma_map_resource"),
              checkMask(dev, "dma_map_resource") else { return .mappingError }
        // Kernel: WARN_ON_ONCE(pfn_valid(PHYS_PFN(phys_addr))): RAM is no resource.
        if layer.memory.physical.bankIndex(containing: phys) != nil {
            warnOnce(dev, "dma_map_resource: \(phys) is RAM (pfn_valid)")
            return .mappingError
        }
        var addr = DMAAddress.mappingError
        switch path(dev) {
        case .direct:
            addr = DMADirect.mapResource(dev, phys: phys, size: size)
        case .iommu(let d):
            addr = IOMMUDMA.mapResource(dev, domain: d, phys: phys, size: size, direction: direction, attributes: attributes)
        case .ops(let ops):
            if let f = ops.pointee.map_resource {
                addr = DMAAddress(f(dev, phys.rawValue, size, dir, CUnsignedLong(attributes.rawValue)))
            }
        case .unavailable:
            unavailable(dev, "dma_map_resource")
        }
        DMAHooks.mapResource(dev, phys: phys, size: size, direction: direction, attributes: attributes, result: addr)
        return addr
    }

    public static func unmapResource(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                                     direction dir: dma_data_direction, attributes: DMAAttributes) {
        guard let direction = checkDirection(dev, dir, "dma_unmap_resource") else { return }
        DMAHooks.willUnmapResource(dev, address: address, size: size, direction: direction)
        switch path(dev) {
        case .direct:
            break  // nothing to do: uncached and no swiotlb
        case .iommu(let d):
            IOMMUDMA.unmapResource(dev, domain: d, address: address, size: size, direction: direction, attributes: attributes)
        case .ops(let ops):
            ops.pointee.unmap_resource?(dev, address.rawValue, size, dir, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_unmap_resource")
        }
        DMAHooks.unmapResource(dev, address: address, size: size, direction: direction, attributes: attributes)
    }

    // MARK: Syncs. Kernel: __dma_sync_single_for_cpu/device, __dma_sync_sg_for_cpu/device, __dma_need_sync.

    @inline(__always)
    public static func syncSingle(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                                  direction dir: dma_data_direction, forDevice: Bool) {
        guard let direction = checkDirection(dev, dir, forDevice ? "dma_sync_single_for_device" : "dma_sync_single_for_cpu")
        else { return }
        DMAHooks.willTouch(dev, key: address.rawValue)
        switch path(dev) {
        case .direct:
            if forDevice {
                DMADirect.syncForDevice(dev, layer.memory, address: address, size: size, direction: direction)
            } else {
                DMADirect.syncForCPU(dev, layer.memory, address: address, size: size, direction: direction)
            }
        case .iommu(let d):
            if forDevice {
                IOMMUDMA.syncSingleForDevice(dev, domain: d, address: address, size: size, direction: direction)
            } else {
                IOMMUDMA.syncSingleForCPU(dev, domain: d, address: address, size: size, direction: direction)
            }
        case .ops(let ops):
            let f = forDevice ? ops.pointee.sync_single_for_device : ops.pointee.sync_single_for_cpu
            f?(dev, address.rawValue, size, dir)
        case .unavailable:
            unavailable(dev, forDevice ? "dma_sync_single_for_device" : "dma_sync_single_for_cpu")
        }
        DMAHooks.syncSingle(dev, address: address, size: size, direction: direction, forDevice: forDevice)
    }

    public static func syncSG(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>,
                              count nents: Int32, direction dir: dma_data_direction, forDevice: Bool) {
        guard let direction = checkDirection(dev, dir, forDevice ? "dma_sync_sg_for_device" : "dma_sync_sg_for_cpu")
        else { return }
        DMAHooks.willTouch(dev, key: UInt64(UInt(bitPattern: sgl)))
        switch path(dev) {
        case .direct:
            if forDevice {
                DMADirect.syncSGForDevice(dev, layer.memory, sgl, count: nents, direction: direction)
            } else {
                DMADirect.syncSGForCPU(dev, layer.memory, sgl, count: nents, direction: direction)
            }
        case .iommu(let d):
            if forDevice {
                IOMMUDMA.syncSGForDevice(dev, domain: d, sgl, count: nents, direction: direction)
            } else {
                IOMMUDMA.syncSGForCPU(dev, domain: d, sgl, count: nents, direction: direction)
            }
        case .ops(let ops):
            let f = forDevice ? ops.pointee.sync_sg_for_device : ops.pointee.sync_sg_for_cpu
            f?(dev, sgl, nents, dir)
        case .unavailable:
            unavailable(dev, forDevice ? "dma_sync_sg_for_device" : "dma_sync_sg_for_cpu")
        }
        DMAHooks.syncSG(dev, sgl, nents: nents, direction: direction, forDevice: forDevice)
    }

    /// Kernel: __dma_need_sync.
    public static func needSync(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress) -> Bool {
        if case .direct = path(dev) { return DMADirect.needSync(dev, address) }
        return true
    }

    /// Kernel: dma_need_unmap (true with dma-debug on: it must see the unmap).
    public static func needUnmap(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        if case .direct = path(dev) { return !dev.pointee.dma_skip_sync || DMADebug.active }
        return true
    }

    // MARK: Coherent allocations. Kernel: dma_alloc_attrs, dma_free_attrs.

    public static func alloc(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                             handle: UnsafeMutablePointer<dma_addr_t>, gfp: gfp_t, attributes: DMAAttributes,
                             site: AllocationSite?) -> UnsafeMutableRawPointer? {
        if dev.pointee.coherent_dma_mask == 0 { warnOnce(dev, "dma_alloc_attrs: coherent_dma_mask is 0") }
        // Compound pages cannot be turned back into a page pointer by every backend.
        if gfp & 0x40000 != 0 {
            warnOnce(dev, "dma_alloc_attrs: __GFP_COMP")
            return nil
        }
        guard size > 0 else {
            Kernel.warn("\(devName(dev)): dma_alloc_attrs: size 0")
            return nil
        }
        // Let the implementation pick the zone.
        let flags = gfp & ~UInt32(GFP.dma.rawValue | GFP.dma32.rawValue | GFP.highmem.rawValue)
        layer.attachSwiotlb(dev)
        let cpu: UnsafeMutableRawPointer?
        switch path(dev) {
        case .direct:
            cpu = DMADirect.alloc(dev, layer.memory, size: size, handle: handle, gfp: GFP(rawValue: flags),
                                  attributes: attributes, site: site)
        case .iommu(let d):
            cpu = IOMMUDMA.alloc(dev, domain: d, size: size, handle: handle, gfp: flags, attributes: attributes)
        case .ops(let ops):
            cpu = ops.pointee.alloc?(dev, size, handle, flags, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_alloc_attrs")
            cpu = nil
        }
        DMAHooks.allocCoherent(dev, size: size, handle: DMAAddress(cpu == nil ? 0 : handle.pointee), cpuAddress: cpu,
                               attributes: attributes)
        return cpu
    }

    public static func free(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                            cpuAddress: UnsafeMutableRawPointer?, handle: DMAAddress, attributes: DMAAttributes) {
        guard let cpuAddress else { return }
        DMAHooks.freeCoherent(dev, size: size, cpuAddress: cpuAddress, handle: handle)
        switch path(dev) {
        case .direct:
            DMADirect.free(dev, layer.memory, size: size, cpuAddress: cpuAddress, handle: handle, attributes: attributes)
        case .iommu(let d):
            IOMMUDMA.free(dev, domain: d, size: size, cpuAddress: cpuAddress, handle: handle, attributes: attributes)
        case .ops(let ops):
            ops.pointee.free?(dev, size, cpuAddress, handle.rawValue, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_free_attrs")
        }
    }

    // MARK: Non-coherent pages. Kernel: __dma_alloc_pages, __dma_free_pages.

    static func allocPagesBackend(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                  handle: UnsafeMutablePointer<dma_addr_t>, direction: DMADirection, gfp: gfp_t,
                                  site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        if dev.pointee.coherent_dma_mask == 0 {
            warnOnce(dev, "dma_alloc_pages: coherent_dma_mask is 0")
            return nil
        }
        if gfp & UInt32(GFP.dma.rawValue | GFP.dma32.rawValue | GFP.highmem.rawValue) != 0 {
            warnOnce(dev, "dma_alloc_pages: zone modifiers (__GFP_DMA, __GFP_DMA32, __GFP_HIGHMEM) in gfp")
            return nil
        }
        if gfp & 0x40000 != 0 {
            warnOnce(dev, "dma_alloc_pages: __GFP_COMP")
            return nil
        }
        guard size > 0 else {
            Kernel.warn("\(devName(dev)): dma_alloc_pages: size 0")
            return nil
        }
        let size = pageAlign(size, layer.memory.geometry)
        layer.attachSwiotlb(dev)
        switch path(dev) {
        case .direct:
            return DMADirect.allocPages(dev, layer.memory, size: size, handle: handle, gfp: GFP(rawValue: gfp), site: site)
        case .iommu(let d):
            return IOMMUDMA.allocPages(dev, domain: d, size: size, handle: handle, direction: direction, gfp: gfp)
        case .ops(let ops):
            return ops.pointee.alloc_pages_op?(dev, size, handle, direction.c, gfp)
        case .unavailable:
            unavailable(dev, "dma_alloc_pages")
            return nil
        }
    }

    static func freePagesBackend(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                 page: UnsafeMutablePointer<PageFrame>, handle: DMAAddress, direction: DMADirection) {
        let size = pageAlign(size, layer.memory.geometry)
        switch path(dev) {
        case .direct:
            DMADirect.freePages(layer.memory, size: size, page: page)
        case .iommu(let d):
            IOMMUDMA.freePages(dev, domain: d, size: size, page: page, handle: handle, direction: direction)
        case .ops(let ops):
            ops.pointee.free_pages?(dev, size, page, handle.rawValue, direction.c)
        case .unavailable:
            unavailable(dev, "dma_free_pages")
        }
    }

    /// Kernel: dma_alloc_pages.
    public static func allocPages(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                  handle: UnsafeMutablePointer<dma_addr_t>, direction dir: dma_data_direction, gfp: gfp_t,
                                  site: AllocationSite?) -> UnsafeMutablePointer<PageFrame>? {
        guard let direction = checkDirection(dev, dir, "dma_alloc_pages") else { return nil }
        let page = allocPagesBackend(layer, dev, size: size, handle: handle, direction: direction, gfp: gfp, site: site)
        DMAHooks.allocPages(dev, page: page, size: size, handle: DMAAddress(page == nil ? 0 : handle.pointee),
                            direction: direction)
        return page
    }

    /// Kernel: dma_free_pages.
    public static func freePages(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                 page: UnsafeMutablePointer<PageFrame>, handle: DMAAddress, direction dir: dma_data_direction) {
        guard let direction = checkDirection(dev, dir, "dma_free_pages") else { return }
        DMAHooks.freePages(dev, page: page, size: size, handle: handle, direction: direction)
        freePagesBackend(layer, dev, size: size, page: page, handle: handle, direction: direction)
    }

    /// Kernel: dma_mmap_pages.
    public static func mmapPages(_ layer: DMALayer, vma: UnsafeMutablePointer<VMArea>, size: Int,
                                 page: UnsafeMutablePointer<PageFrame>) -> Int32 {
        let count = pageAlign(size, layer.memory.geometry) >> layer.memory.geometry.shift
        return UserMapping.remap(vma, layer.memory, first: page, count: count)
    }

    // MARK: Non-contiguous. Kernel: dma_alloc_noncontiguous and friends (alloc_single_sgt off the IOMMU).

    public static func allocNoncontiguous(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                          direction dir: dma_data_direction, gfp: gfp_t, attributes: DMAAttributes,
                                          site: AllocationSite?) -> UnsafeMutablePointer<SGTable>? {
        guard let direction = checkDirection(dev, dir, "dma_alloc_noncontiguous") else { return nil }
        if !attributes.subtracting(.allocSinglePages).isEmpty {
            warnOnce(dev, "dma_alloc_noncontiguous: attributes other than DMA_ATTR_ALLOC_SINGLE_PAGES")
            return nil
        }
        if gfp & 0x40000 != 0 {
            warnOnce(dev, "dma_alloc_noncontiguous: __GFP_COMP")
            return nil
        }
        let memory = layer.memory
        var sgt: UnsafeMutablePointer<SGTable>?
        if case .iommu(let d) = path(dev) {
            sgt = IOMMUDMA.allocNoncontiguous(dev, domain: d, size: size, direction: direction, gfp: gfp, attributes: attributes)
        } else if let raw = memory.kmalloc(size: MemoryLayout<SGTable>.stride, gfp: GFP(rawValue: gfp), site: site) {
            // Kernel: alloc_single_sgt.
            let t = raw.assumingMemoryBound(to: SGTable.self)
            if SG.allocTable(t, count: 1, gfp: GFP(rawValue: gfp), memory: memory) == 0 {
                let sgl = t.pointee.sgl!
                if let page = withUnsafeMutablePointer(to: &sgl.pointee.dma_address, { h in
                    allocPagesBackend(layer, dev, size: size, handle: h, direction: direction, gfp: gfp, site: site)
                }) {
                    SG.setPage(sgl, page, length: UInt32(pageAlign(size, memory.geometry)), offset: 0)
                    sgl.pointee.dma_length = sgl.pointee.length
                    sgt = t
                } else {
                    SG.freeTable(t, memory: memory)
                    memory.kfree(raw)
                }
            } else {
                memory.kfree(raw)
            }
        }
        if let sgt { sgt.pointee.nents = 1 }
        DMAHooks.allocNoncontiguous(dev, table: sgt, size: size, direction: direction)
        return sgt
    }

    public static func freeNoncontiguous(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                         table sgt: UnsafeMutablePointer<SGTable>, direction dir: dma_data_direction) {
        guard let direction = checkDirection(dev, dir, "dma_free_noncontiguous") else { return }
        DMAHooks.freeNoncontiguous(dev, table: sgt, size: size, direction: direction)
        if case .iommu(let d) = path(dev) {
            IOMMUDMA.freeNoncontiguous(dev, domain: d, size: size, table: sgt, direction: direction)
            return
        }
        // Kernel: free_single_sgt.
        guard let sgl = sgt.pointee.sgl, let page = SG.page(sgl) else {
            Kernel.warn("\(devName(dev)): dma_free_noncontiguous: a table that holds no pages")
            return
        }
        freePagesBackend(layer, dev, size: size, page: page, handle: DMAAddress(sgl.pointee.dma_address), direction: direction)
        SG.freeTable(sgt, memory: layer.memory)
        layer.memory.kfree(UnsafeRawPointer(sgt))
    }

    public static func vmapNoncontiguous(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, size: Int,
                                         table sgt: UnsafeMutablePointer<SGTable>) -> UnsafeMutableRawPointer? {
        if case .iommu(let d) = path(dev) { return IOMMUDMA.vmapNoncontiguous(dev, domain: d, size: size, table: sgt) }
        guard let sgl = sgt.pointee.sgl, let page = SG.page(sgl) else { return nil }
        return layer.memory.physical.virtualAddress(of: page)
    }

    public static func vunmapNoncontiguous(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, address: UnsafeMutableRawPointer?) {
        if case .iommu = path(dev) { layer.memory.vunmap(address) }
    }

    public static func mmapNoncontiguous(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, vma: UnsafeMutablePointer<VMArea>,
                                         size: Int, table sgt: UnsafeMutablePointer<SGTable>) -> Int32 {
        if case .iommu(let d) = path(dev) {
            return IOMMUDMA.mmapNoncontiguous(dev, domain: d, vma: vma, size: size, table: sgt)
        }
        guard let sgl = sgt.pointee.sgl, let page = SG.page(sgl) else { return Errno.invalid.negated }
        return mmapPages(layer, vma: vma, size: size, page: page)
    }

    // MARK: Export. Kernel: dma_get_sgtable_attrs, dma_can_mmap, dma_mmap_attrs.

    public static func getSGTable(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, table: UnsafeMutablePointer<SGTable>,
                                  cpuAddress: UnsafeMutableRawPointer?, handle: DMAAddress, size: Int,
                                  attributes: DMAAttributes) -> Int32 {
        switch path(dev) {
        case .direct:
            return DMADirect.getSGTable(dev, layer.memory, table: table, handle: handle, size: size)
        case .iommu(let d):
            guard let cpuAddress else { return Errno.invalid.negated }
            return IOMMUDMA.getSGTable(dev, domain: d, table: table, cpuAddress: cpuAddress, handle: handle, size: size,
                                       attributes: attributes)
        case .ops(let ops):
            guard let f = ops.pointee.get_sgtable else { return Errno.noDeviceOrAddress.negated }
            return f(dev, table, cpuAddress, handle.rawValue, size, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_get_sgtable_attrs")
            return Errno.noDeviceOrAddress.negated
        }
    }

    public static func canMmap(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        switch path(dev) {
        // Kernel: dma_direct_can_mmap: coherent, or CONFIG_DMA_NONCOHERENT_MMAP (arm64 has it).
        case .direct, .iommu: true
        case .ops(let ops): ops.pointee.mmap != nil
        case .unavailable: false
        }
    }

    public static func mmap(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, vma: UnsafeMutablePointer<VMArea>,
                            cpuAddress: UnsafeMutableRawPointer?, handle: DMAAddress, size: Int,
                            attributes: DMAAttributes) -> Int32 {
        switch path(dev) {
        case .direct:
            return DMADirect.mmap(dev, layer.memory, vma: vma, handle: handle, size: size, attributes: attributes)
        case .iommu(let d):
            guard let cpuAddress else { return Errno.invalid.negated }
            return IOMMUDMA.mmap(dev, domain: d, vma: vma, cpuAddress: cpuAddress, handle: handle, size: size,
                                 attributes: attributes)
        case .ops(let ops):
            guard let f = ops.pointee.mmap else { return Errno.noDeviceOrAddress.negated }
            return f(dev, vma, cpuAddress, handle.rawValue, size, CUnsignedLong(attributes.rawValue))
        case .unavailable:
            unavailable(dev, "dma_mmap_attrs")
            return Errno.noDeviceOrAddress.negated
        }
    }

    // MARK: Masks and limits. Kernel: dma_supported, dma_set_mask, dma_set_coherent_mask, ...

    /// Kernel: dma_supported.
    static func isSupported(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, mask: UInt64) -> Bool {
        switch path(dev) {
        case .iommu:
            if dev.pointee.dma_ops != nil {
                Kernel.warn("\(devName(dev)): dma_supported: IOMMU DMA and dma_map_ops both installed")
                return false
            }
            return true
        case .ops(let ops):
            guard let f = ops.pointee.dma_supported else { return true }
            return f(dev, mask) != 0
        case .direct, .unavailable:
            return DMADirect.isSupported(dev, layer.memory, mask: mask)
        }
    }

    /// Kernel: dma_set_mask (with dma_setup_need_sync).
    public static func setMask(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ mask: UInt64) -> Int32 {
        guard let storage = dev.pointee.dma_mask, isSupported(layer, dev, mask: mask) else { return Errno.io.negated }
        storage.pointee = mask
        switch path(dev) {
        case .direct, .iommu, .unavailable:
            dev.pointee.dma_skip_sync = dev.pointee.dma_coherent
        case .ops(let ops):
            let o = ops.pointee
            dev.pointee.dma_skip_sync = o.sync_single_for_device == nil && o.sync_single_for_cpu == nil
                && o.sync_sg_for_device == nil && o.sync_sg_for_cpu == nil
        }
        return 0
    }

    /// Kernel: dma_set_coherent_mask.
    public static func setCoherentMask(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>, _ mask: UInt64) -> Int32 {
        guard isSupported(layer, dev, mask: mask) else { return Errno.io.negated }
        dev.pointee.coherent_dma_mask = mask
        return 0
    }

    /// Kernel: dma_get_mask.
    @inline(__always)
    static func mask(_ dev: UnsafeMutablePointer<Device>) -> UInt64 {
        if let m = dev.pointee.dma_mask, m.pointee != 0 { return m.pointee }
        return 0xffff_ffff
    }

    /// Kernel: dma_get_required_mask.
    public static func requiredMask(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>) -> UInt64 {
        switch path(dev) {
        case .direct, .unavailable: DMADirect.requiredMask(dev, layer.memory)
        case .iommu: 0xffff_ffff
        case .ops(let ops): ops.pointee.get_required_mask?(dev) ?? 0xffff_ffff
        }
    }

    /// Kernel: dma_addressing_limited (without its debug message).
    static func isAddressingLimited(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>) -> Bool {
        if minNotZero(mask(dev), dev.pointee.bus_dma_limit) < requiredMask(layer, dev) { return true }
        switch path(dev) {
        case .ops, .iommu: return false
        case .direct, .unavailable: return !DMADirect.allRAMMapped(dev, layer.memory)
        }
    }

    /// Kernel: dma_addressing_limited.
    public static func addressingLimited(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>) -> Bool {
        guard isAddressingLimited(layer, dev) else { return false }
        devPrintk(.debug, dev, "device is DMA addressing limited")
        return true
    }

    /// SIZE_MAX from a backend's Int (Int.max, or a C size_t of all ones, means no limit).
    @inline(__always)
    static func sizeLimit(_ v: Int) -> UInt { v == Int.max ? UInt.max : UInt(bitPattern: v) }

    /// Kernel: dma_max_mapping_size (UInt.max is SIZE_MAX).
    public static func maxMappingSize(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>) -> UInt {
        switch path(dev) {
        case .direct:
            let limited = Swiotlb.isActive(dev) && addressingLimited(layer, dev)
            return sizeLimit(DMADirect.maxMappingSize(dev, addressingLimited: limited))
        case .iommu(let d): return sizeLimit(IOMMUDMA.maxMappingSize(dev, domain: d))
        case .ops(let ops): return ops.pointee.max_mapping_size.map { sizeLimit($0(dev)) } ?? UInt.max
        case .unavailable: return UInt.max
        }
    }

    /// Kernel: dma_opt_mapping_size (UInt.max is SIZE_MAX).
    public static func optMappingSize(_ layer: DMALayer, _ dev: UnsafeMutablePointer<Device>) -> UInt {
        var size = UInt.max
        switch path(dev) {
        case .iommu: size = sizeLimit(IOMMUDMA.optMappingSize())
        case .ops(let ops): size = ops.pointee.opt_mapping_size.map { sizeLimit($0()) } ?? UInt.max
        case .direct, .unavailable: break
        }
        return min(maxMappingSize(layer, dev), size)
    }

    /// Kernel: dma_get_merge_boundary.
    public static func mergeBoundary(_ dev: UnsafeMutablePointer<Device>) -> UInt {
        switch path(dev) {
        case .iommu(let d): IOMMUDMA.mergeBoundary(dev, domain: d)
        case .ops(let ops): ops.pointee.get_merge_boundary?(dev) ?? 0
        case .direct, .unavailable: 0
        }
    }

    /// Kernel: dma_pci_p2pdma_supported.
    public static func p2pSupported(_ dev: UnsafeMutablePointer<Device>) -> Bool { dev.pointee.dma_ops == nil }
}
