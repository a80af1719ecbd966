// linux/dma-mapping.h, linux/dma-map-ops.h, linux/dma-direct.h and the DMA half of swiommu/dma.h: convert
// and dispatch to the DMA layer (SwiommuDMA.DMAMapping).
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuMemory
import SwiommuPlatform

/// Run `body` with the DMA layer and a usable device; `fallback` with a WARN for a NULL/ERR_PTR device or a
/// machine that is down.
@inline(__always)
func withDMA<R>(_ caller: StaticString, _ dev: UnsafeMutablePointer<device>?, _ fallback: R,
                _ body: (DMALayer, UnsafeMutablePointer<device>) -> R) -> R {
    guard let dev, !isNullOrError(dev) else {
        badDevice(caller)
        return fallback
    }
    if let r = DMALayer.withCurrent({ body($0, dev) }) { return r }
    notBooted(caller)
    return fallback
}

@inline(never)
func badDevice(_ caller: StaticString) {
    Kernel.warn("\(caller): NULL or ERR_PTR device")
}

/// `withDMA` for a call that takes a size (or sizes OR-ed together, such as an offset and a size): a size_t of
/// 2^63 or more (negative here) is no buffer's size (a negative int passed as a size?): a WARN and `fallback`
/// before anything runs. The kernel does not check; its address arithmetic would wrap around.
@inline(__always)
func withDMA<R>(_ caller: StaticString, _ dev: UnsafeMutablePointer<device>?, size: size_t, _ fallback: R,
                _ body: (DMALayer, UnsafeMutablePointer<device>) -> R) -> R {
    guard size >= 0 else {
        badSize(caller, size)
        return fallback
    }
    return withDMA(caller, dev, fallback, body)
}

@inline(never)
func badSize(_ caller: StaticString, _ size: size_t) {
    Kernel.warn("\(caller): size \(Kernel.hex(UInt(bitPattern: size))) is larger than the address space")
}

// MARK: Streaming mappings

@c(dma_map_page_attrs)
public func abiDMAMapPageAttrs(_ dev: UnsafeMutablePointer<device>?, _ page: UnsafeMutablePointer<page>?, _ offset: size_t,
                               _ size: size_t, _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> dma_addr_t {
    withDMA("dma_map_page_attrs", dev, size: offset | size, DMAAddress.mappingError.rawValue) { layer, dev in
        guard let page else {
            Kernel.warn("dma_map_page_attrs: NULL page (virt_to_page() of memory that is not simulated RAM?)")
            return DMAAddress.mappingError.rawValue
        }
        return DMAMapping.mapPage(layer, dev, page: page, offset: offset, size: size, direction: dir,
                                  attributes: DMAAttributes(rawValue: attrs)).rawValue
    }
}

@c(dma_unmap_page_attrs)
public func abiDMAUnmapPageAttrs(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t, _ size: size_t,
                                 _ dir: dma_data_direction, _ attrs: CUnsignedLong) {
    withDMA("dma_unmap_page_attrs", dev, size: size, ()) { layer, dev in
        DMAMapping.unmapPage(layer, dev, address: DMAAddress(addr), size: size, direction: dir,
                             attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(debug_dma_map_single)
public func abiDebugDMAMapSingle(_ dev: UnsafeMutablePointer<device>?, _ addr: UnsafeRawPointer?, _ len: CUnsignedLong) {
    guard let dev, !isNullOrError(dev) else { return }
    guard len <= CUnsignedLong(Int.max) else { return badSize("debug_dma_map_single", size_t(bitPattern: UInt(len))) }
    DMAMapping.debugMapSingle(dev, address: addr, length: Int(len))
}

@c(debug_dma_mapping_error)
public func abiDebugDMAMappingError(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t) {
    guard let dev, !isNullOrError(dev) else { return }
    DMAMapping.debugMappingError(dev, address: DMAAddress(addr))
}

@c(dma_map_sg_attrs)
public func abiDMAMapSGAttrs(_ dev: UnsafeMutablePointer<device>?, _ sg: UnsafeMutablePointer<scatterlist>?, _ nents: CInt,
                             _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> CUnsignedInt {
    withDMA("dma_map_sg_attrs", dev, 0) { layer, dev in
        guard let sg else {
            Kernel.warn("dma_map_sg_attrs: NULL scatterlist")
            return 0
        }
        let ret = DMAMapping.mapSG(layer, dev, sg, count: nents, direction: dir, attributes: DMAAttributes(rawValue: attrs))
        return ret < 0 ? 0 : CUnsignedInt(ret)
    }
}

@c(dma_map_sgtable)
public func abiDMAMapSGTable(_ dev: UnsafeMutablePointer<device>?, _ sgt: UnsafeMutablePointer<sg_table>?,
                             _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> CInt {
    withDMA("dma_map_sgtable", dev, Errno.invalid.negated) { layer, dev in
        guard let sgt, let sgl = sgt.pointee.sgl else {
            Kernel.warn("dma_map_sgtable: NULL table or scatterlist")
            return Errno.invalid.negated
        }
        let n = DMAMapping.mapSG(layer, dev, sgl, count: CInt(truncatingIfNeeded: sgt.pointee.orig_nents), direction: dir,
                                 attributes: DMAAttributes(rawValue: attrs))
        if n < 0 { return n }
        sgt.pointee.nents = CUnsignedInt(n)
        return 0
    }
}

@c(dma_unmap_sg_attrs)
public func abiDMAUnmapSGAttrs(_ dev: UnsafeMutablePointer<device>?, _ sg: UnsafeMutablePointer<scatterlist>?, _ nents: CInt,
                               _ dir: dma_data_direction, _ attrs: CUnsignedLong) {
    withDMA("dma_unmap_sg_attrs", dev, ()) { layer, dev in
        guard let sg else {
            Kernel.warn("dma_unmap_sg_attrs: NULL scatterlist")
            return
        }
        DMAMapping.unmapSG(layer, dev, sg, count: nents, direction: dir, attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(dma_map_resource)
public func abiDMAMapResource(_ dev: UnsafeMutablePointer<device>?, _ phys: phys_addr_t, _ size: size_t,
                              _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> dma_addr_t {
    withDMA("dma_map_resource", dev, size: size, DMAAddress.mappingError.rawValue) { layer, dev in
        DMAMapping.mapResource(layer, dev, phys: PhysicalAddress(phys), size: size, direction: dir,
                               attributes: DMAAttributes(rawValue: attrs)).rawValue
    }
}

@c(dma_unmap_resource)
public func abiDMAUnmapResource(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t, _ size: size_t,
                                _ dir: dma_data_direction, _ attrs: CUnsignedLong) {
    withDMA("dma_unmap_resource", dev, size: size, ()) { layer, dev in
        DMAMapping.unmapResource(layer, dev, address: DMAAddress(addr), size: size, direction: dir,
                                 attributes: DMAAttributes(rawValue: attrs))
    }
}

// MARK: Syncs

@c(__dma_sync_single_for_cpu)
public func abiDMASyncSingleForCPU(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t, _ size: size_t,
                                   _ dir: dma_data_direction) {
    withDMA("dma_sync_single_for_cpu", dev, size: size, ()) { layer, dev in
        DMAMapping.syncSingle(layer, dev, address: DMAAddress(addr), size: size, direction: dir, forDevice: false)
    }
}

@c(__dma_sync_single_for_device)
public func abiDMASyncSingleForDevice(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t, _ size: size_t,
                                      _ dir: dma_data_direction) {
    withDMA("dma_sync_single_for_device", dev, size: size, ()) { layer, dev in
        DMAMapping.syncSingle(layer, dev, address: DMAAddress(addr), size: size, direction: dir, forDevice: true)
    }
}

@c(__dma_sync_sg_for_cpu)
public func abiDMASyncSGForCPU(_ dev: UnsafeMutablePointer<device>?, _ sg: UnsafeMutablePointer<scatterlist>?,
                               _ nelems: CInt, _ dir: dma_data_direction) {
    withDMA("dma_sync_sg_for_cpu", dev, ()) { layer, dev in
        guard let sg else { return Kernel.warn("dma_sync_sg_for_cpu: NULL scatterlist") }
        DMAMapping.syncSG(layer, dev, sg, count: nelems, direction: dir, forDevice: false)
    }
}

@c(__dma_sync_sg_for_device)
public func abiDMASyncSGForDevice(_ dev: UnsafeMutablePointer<device>?, _ sg: UnsafeMutablePointer<scatterlist>?,
                                  _ nelems: CInt, _ dir: dma_data_direction) {
    withDMA("dma_sync_sg_for_device", dev, ()) { layer, dev in
        guard let sg else { return Kernel.warn("dma_sync_sg_for_device: NULL scatterlist") }
        DMAMapping.syncSG(layer, dev, sg, count: nelems, direction: dir, forDevice: true)
    }
}

@c(__dma_need_sync)
public func abiDMANeedSync(_ dev: UnsafeMutablePointer<device>?, _ addr: dma_addr_t) -> Bool {
    withDMA("dma_need_sync", dev, true) { _, dev in DMAMapping.needSync(dev, address: DMAAddress(addr)) }
}

@c(dma_need_unmap)
public func abiDMANeedUnmap(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    withDMA("dma_need_unmap", dev, true) { _, dev in DMAMapping.needUnmap(dev) }
}

// MARK: Allocations

@c(dma_alloc_attrs)
public func abiDMAAllocAttrs(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ handle: UnsafeMutablePointer<dma_addr_t>?,
                             _ flag: gfp_t, _ attrs: CUnsignedLong) -> UnsafeMutableRawPointer? {
    withDMA("dma_alloc_attrs", dev, size: size, nil) { layer, dev in
        guard let handle else {
            Kernel.warn("dma_alloc_attrs: NULL dma_handle")
            return nil
        }
        return DMAMapping.alloc(layer, dev, size: size, handle: handle, gfp: flag, attributes: DMAAttributes(rawValue: attrs),
                                site: currentSite)
    }
}

@c(dma_free_attrs)
public func abiDMAFreeAttrs(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ cpu: UnsafeMutableRawPointer?,
                            _ handle: dma_addr_t, _ attrs: CUnsignedLong) {
    withDMA("dma_free_attrs", dev, size: size, ()) { layer, dev in
        DMAMapping.free(layer, dev, size: size, cpuAddress: cpu, handle: DMAAddress(handle),
                        attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(dmam_alloc_attrs)
public func abiDMAMAllocAttrs(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ handle: UnsafeMutablePointer<dma_addr_t>?,
                              _ gfp: gfp_t, _ attrs: CUnsignedLong) -> UnsafeMutableRawPointer? {
    withDMA("dmam_alloc_attrs", dev, size: size, nil) { layer, dev in
        guard let handle else {
            Kernel.warn("dmam_alloc_attrs: NULL dma_handle")
            return nil
        }
        return DMAMapping.allocManaged(layer, dev, size: size, handle: handle, gfp: gfp,
                                       attributes: DMAAttributes(rawValue: attrs), site: currentSite)
    }
}

@c(dmam_free_coherent)
public func abiDMAMFreeCoherent(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ vaddr: UnsafeMutableRawPointer?,
                                _ handle: dma_addr_t) {
    withDMA("dmam_free_coherent", dev, size: size, ()) { layer, dev in
        DMAMapping.freeManaged(layer, dev, size: size, vaddr: vaddr, handle: DMAAddress(handle))
    }
}

@c(dma_alloc_pages)
public func abiDMAAllocPages(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ handle: UnsafeMutablePointer<dma_addr_t>?,
                             _ dir: dma_data_direction, _ gfp: gfp_t) -> UnsafeMutablePointer<page>? {
    withDMA("dma_alloc_pages", dev, size: size, nil) { layer, dev in
        guard let handle else {
            Kernel.warn("dma_alloc_pages: NULL dma_handle")
            return nil
        }
        return DMAMapping.allocPages(layer, dev, size: size, handle: handle, direction: dir, gfp: gfp, site: currentSite)
    }
}

@c(dma_free_pages)
public func abiDMAFreePages(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ page: UnsafeMutablePointer<page>?,
                            _ handle: dma_addr_t, _ dir: dma_data_direction) {
    withDMA("dma_free_pages", dev, size: size, ()) { layer, dev in
        guard let page else { return Kernel.warn("dma_free_pages: NULL page") }
        DMAMapping.freePages(layer, dev, size: size, page: page, handle: DMAAddress(handle), direction: dir)
    }
}

@c(dma_mmap_pages)
public func abiDMAMmapPages(_ dev: UnsafeMutablePointer<device>?, _ vma: UnsafeMutablePointer<vm_area_struct>?, _ size: size_t,
                            _ page: UnsafeMutablePointer<page>?) -> CInt {
    withDMA("dma_mmap_pages", dev, size: size, Errno.invalid.negated) { layer, _ in
        guard let vma, let page else { return Errno.invalid.negated }
        return DMAMapping.mmapPages(layer, vma: vma, size: size, page: page)
    }
}

@c(dma_alloc_noncontiguous)
public func abiDMAAllocNoncontiguous(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ dir: dma_data_direction,
                                     _ gfp: gfp_t, _ attrs: CUnsignedLong) -> UnsafeMutablePointer<sg_table>? {
    withDMA("dma_alloc_noncontiguous", dev, size: size, nil) { layer, dev in
        DMAMapping.allocNoncontiguous(layer, dev, size: size, direction: dir, gfp: gfp,
                                      attributes: DMAAttributes(rawValue: attrs), site: currentSite)
    }
}

@c(dma_free_noncontiguous)
public func abiDMAFreeNoncontiguous(_ dev: UnsafeMutablePointer<device>?, _ size: size_t, _ sgt: UnsafeMutablePointer<sg_table>?,
                                    _ dir: dma_data_direction) {
    withDMA("dma_free_noncontiguous", dev, size: size, ()) { layer, dev in
        guard let sgt else { return Kernel.warn("dma_free_noncontiguous: NULL table") }
        DMAMapping.freeNoncontiguous(layer, dev, size: size, table: sgt, direction: dir)
    }
}

@c(dma_vmap_noncontiguous)
public func abiDMAVmapNoncontiguous(_ dev: UnsafeMutablePointer<device>?, _ size: size_t,
                                    _ sgt: UnsafeMutablePointer<sg_table>?) -> UnsafeMutableRawPointer? {
    withDMA("dma_vmap_noncontiguous", dev, size: size, nil) { layer, dev in
        guard let sgt else { return nil }
        return DMAMapping.vmapNoncontiguous(layer, dev, size: size, table: sgt)
    }
}

@c(dma_vunmap_noncontiguous)
public func abiDMAVunmapNoncontiguous(_ dev: UnsafeMutablePointer<device>?, _ vaddr: UnsafeMutableRawPointer?) {
    withDMA("dma_vunmap_noncontiguous", dev, ()) { layer, dev in DMAMapping.vunmapNoncontiguous(layer, dev, address: vaddr) }
}

@c(dma_mmap_noncontiguous)
public func abiDMAMmapNoncontiguous(_ dev: UnsafeMutablePointer<device>?, _ vma: UnsafeMutablePointer<vm_area_struct>?,
                                    _ size: size_t, _ sgt: UnsafeMutablePointer<sg_table>?) -> CInt {
    withDMA("dma_mmap_noncontiguous", dev, size: size, Errno.invalid.negated) { layer, dev in
        guard let vma, let sgt else { return Errno.invalid.negated }
        return DMAMapping.mmapNoncontiguous(layer, dev, vma: vma, size: size, table: sgt)
    }
}

@c(dma_get_sgtable_attrs)
public func abiDMAGetSGTableAttrs(_ dev: UnsafeMutablePointer<device>?, _ sgt: UnsafeMutablePointer<sg_table>?,
                                  _ cpu: UnsafeMutableRawPointer?, _ handle: dma_addr_t, _ size: size_t,
                                  _ attrs: CUnsignedLong) -> CInt {
    withDMA("dma_get_sgtable_attrs", dev, size: size, Errno.invalid.negated) { layer, dev in
        guard let sgt else { return Errno.invalid.negated }
        return DMAMapping.getSGTable(layer, dev, table: sgt, cpuAddress: cpu, handle: DMAAddress(handle), size: size,
                                     attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(dma_common_get_sgtable)
public func abiDMACommonGetSGTable(_ dev: UnsafeMutablePointer<device>?, _ sgt: UnsafeMutablePointer<sg_table>?,
                                   _ cpu: UnsafeMutableRawPointer?, _ handle: dma_addr_t, _ size: size_t,
                                   _ attrs: CUnsignedLong) -> CInt {
    withDMA("dma_common_get_sgtable", dev, size: size, Errno.invalid.negated) { layer, dev in
        guard let sgt else { return Errno.invalid.negated }
        return DMADirect.getSGTable(dev, layer.memory, table: sgt, handle: DMAAddress(handle), size: size)
    }
}

@c(dma_can_mmap)
public func abiDMACanMmap(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    withDMA("dma_can_mmap", dev, false) { _, dev in DMAMapping.canMmap(dev) }
}

@c(dma_mmap_attrs)
public func abiDMAMmapAttrs(_ dev: UnsafeMutablePointer<device>?, _ vma: UnsafeMutablePointer<vm_area_struct>?,
                            _ cpu: UnsafeMutableRawPointer?, _ handle: dma_addr_t, _ size: size_t, _ attrs: CUnsignedLong) -> CInt {
    withDMA("dma_mmap_attrs", dev, size: size, Errno.invalid.negated) { layer, dev in
        guard let vma else { return Errno.invalid.negated }
        return DMAMapping.mmap(layer, dev, vma: vma, cpuAddress: cpu, handle: DMAAddress(handle), size: size,
                               attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(dma_common_mmap)
public func abiDMACommonMmap(_ dev: UnsafeMutablePointer<device>?, _ vma: UnsafeMutablePointer<vm_area_struct>?,
                             _ cpu: UnsafeMutableRawPointer?, _ handle: dma_addr_t, _ size: size_t, _ attrs: CUnsignedLong) -> CInt {
    withDMA("dma_common_mmap", dev, size: size, Errno.invalid.negated) { layer, dev in
        guard let vma else { return Errno.invalid.negated }
        return DMADirect.mmap(dev, layer.memory, vma: vma, handle: DMAAddress(handle), size: size,
                              attributes: DMAAttributes(rawValue: attrs))
    }
}

// MARK: Masks and limits

@c(dma_set_mask)
public func abiDMASetMask(_ dev: UnsafeMutablePointer<device>?, _ mask: u64) -> CInt {
    withDMA("dma_set_mask", dev, Errno.io.negated) { layer, dev in DMAMapping.setMask(layer, dev, mask) }
}

@c(dma_set_coherent_mask)
public func abiDMASetCoherentMask(_ dev: UnsafeMutablePointer<device>?, _ mask: u64) -> CInt {
    withDMA("dma_set_coherent_mask", dev, Errno.io.negated) { layer, dev in DMAMapping.setCoherentMask(layer, dev, mask) }
}

@c(dma_get_required_mask)
public func abiDMAGetRequiredMask(_ dev: UnsafeMutablePointer<device>?) -> u64 {
    withDMA("dma_get_required_mask", dev, 0) { layer, dev in DMAMapping.requiredMask(layer, dev) }
}

@c(dma_direct_get_required_mask)
public func abiDMADirectGetRequiredMask(_ dev: UnsafeMutablePointer<device>?) -> u64 {
    withDMA("dma_direct_get_required_mask", dev, 0) { layer, dev in DMADirect.requiredMask(dev, layer.memory) }
}

@c(dma_addressing_limited)
public func abiDMAAddressingLimited(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    withDMA("dma_addressing_limited", dev, false) { layer, dev in DMAMapping.addressingLimited(layer, dev) }
}

@c(dma_max_mapping_size)
public func abiDMAMaxMappingSize(_ dev: UnsafeMutablePointer<device>?) -> size_t {
    withDMA("dma_max_mapping_size", dev, 0) { layer, dev in size_t(bitPattern: DMAMapping.maxMappingSize(layer, dev)) }
}

@c(dma_opt_mapping_size)
public func abiDMAOptMappingSize(_ dev: UnsafeMutablePointer<device>?) -> size_t {
    withDMA("dma_opt_mapping_size", dev, 0) { layer, dev in size_t(bitPattern: DMAMapping.optMappingSize(layer, dev)) }
}

@c(dma_get_merge_boundary)
public func abiDMAGetMergeBoundary(_ dev: UnsafeMutablePointer<device>?) -> CUnsignedLong {
    withDMA("dma_get_merge_boundary", dev, 0) { _, dev in CUnsignedLong(DMAMapping.mergeBoundary(dev)) }
}

@c(dma_pci_p2pdma_supported)
public func abiDMAPCIP2PDMASupported(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    withDMA("dma_pci_p2pdma_supported", dev, false) { _, dev in DMAMapping.p2pSupported(dev) }
}

@c(dma_direct_set_offset)
public func abiDMADirectSetOffset(_ dev: UnsafeMutablePointer<device>?, _ cpuStart: phys_addr_t, _ dmaStart: dma_addr_t,
                                  _ size: u64) -> CInt {
    withDMA("dma_direct_set_offset", dev, Errno.invalid.negated) { _, dev in
        DMADirect.setOffset(dev, cpuStart: cpuStart, dmaStart: dmaStart, size: size)
    }
}

@c(kmalloc_size_roundup)
public func abiKmallocSizeRoundup(_ size: size_t) -> size_t {
    withMachine("kmalloc_size_roundup", 0) { $0.memory.kmallocSizeRoundup(size) }
}

// MARK: Arch cache maintenance (linux/dma-map-ops.h)

private func archSync(_ paddr: phys_addr_t, _ size: size_t, _ dir: dma_data_direction, _ caller: StaticString,
                      _ body: (SimulatedMemory, PhysicalAddress, DMADirection) -> Bool) {
    withMachine(caller, ()) { m in
        guard let d = DMADirection(dir), d.isValid else {
            return Kernel.warn("\(caller): invalid DMA direction \(dir.rawValue)")
        }
        guard size >= 0 else { return badSize(caller, size) }
        if !body(m.memory, PhysicalAddress(paddr), d) {
            Kernel.warn("\(caller): \(Kernel.hex(paddr))+\(size) is not simulated RAM")
        }
    }
}

@c(arch_sync_dma_for_device)
public func abiArchSyncDMAForDevice(_ paddr: phys_addr_t, _ size: size_t, _ dir: dma_data_direction) {
    archSync(paddr, size, dir, "arch_sync_dma_for_device") { ArchDMA.syncForDevice($0, $1, size: size, direction: $2) }
}

@c(arch_sync_dma_for_cpu)
public func abiArchSyncDMAForCPU(_ paddr: phys_addr_t, _ size: size_t, _ dir: dma_data_direction) {
    archSync(paddr, size, dir, "arch_sync_dma_for_cpu") { ArchDMA.syncForCPU($0, $1, size: size, direction: $2) }
}

@c(arch_dma_prep_coherent)
public func abiArchDMAPrepCoherent(_ page: UnsafeMutablePointer<page>?, _ size: size_t) {
    withMachine("arch_dma_prep_coherent", ()) { m in
        guard let page, let pa = m.memory.physical.physicalAddress(of: page) else {
            return Kernel.warn("arch_dma_prep_coherent: not a struct page of simulated RAM")
        }
        guard size >= 0 else { return badSize("arch_dma_prep_coherent", size) }
        ArchDMA.prepareCoherent(m.memory, pa, size: size)
    }
}

// MARK: swiommu/dma.h: channels, user mappings

@c(dma_map_page_attrs_multi)
public func abiDMAMapPageAttrsMulti(_ dev: UnsafeMutablePointer<device>?, _ page: UnsafeMutablePointer<page>?, _ offset: size_t,
                                    _ size: size_t, _ dir: dma_data_direction, _ attrs: CUnsignedLong,
                                    _ channels: CUnsignedLong, _ addrs: UnsafeMutablePointer<dma_addr_t>?) -> dma_addr_t {
    withDMA("dma_map_page_attrs_multi", dev, size: offset | size, DMAAddress.mappingError.rawValue) { layer, dev in
        guard let page, let addrs else {
            Kernel.warn("dma_map_page_attrs_multi: NULL page or addrs")
            return DMAAddress.mappingError.rawValue
        }
        return DMAMapping.mapPageMulti(layer, dev, page: page, offset: offset, size: size, direction: dir,
                                       attributes: DMAAttributes(rawValue: attrs), channels: channels,
                                       addresses: addrs).rawValue
    }
}

@c(dma_unmap_page_attrs_multi)
public func abiDMAUnmapPageAttrsMulti(_ dev: UnsafeMutablePointer<device>?, _ addrs: UnsafePointer<dma_addr_t>?, _ size: size_t,
                                      _ dir: dma_data_direction, _ attrs: CUnsignedLong, _ channels: CUnsignedLong) {
    withDMA("dma_unmap_page_attrs_multi", dev, size: size, ()) { layer, dev in
        guard let addrs else { return Kernel.warn("dma_unmap_page_attrs_multi: NULL addrs") }
        DMAMapping.unmapPageMulti(layer, dev, addresses: addrs, size: size, direction: dir,
                                  attributes: DMAAttributes(rawValue: attrs), channels: channels)
    }
}

@c(swiommu_vma_alloc)
public func abiVMAAlloc(_ size: size_t) -> UnsafeMutablePointer<vm_area_struct>? {
    withMachine("swiommu_vma_alloc", nil) { UserMapping.allocate(size: size, pageSize: $0.memory.geometry.size) }
}

@c(swiommu_vma_free)
public func abiVMAFree(_ vma: UnsafeMutablePointer<vm_area_struct>?) {
    guard let vma else { return }
    if !UserMapping.free(vma) { Kernel.warn("swiommu_vma_free: \(Kernel.hex(UInt(bitPattern: vma))) is no swiommu_vma_alloc() vma") }
}
