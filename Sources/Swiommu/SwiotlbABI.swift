// linux/swiotlb.h and the swiotlb calls of swiommu/dma.h: convert and dispatch to SwiommuDMA.Swiotlb.
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuMemory
import SwiommuPlatform

private func defaultPool<R>(_ fallback: R, _ body: (UnsafeMutablePointer<io_tlb_mem>) -> R) -> R {
    DMALayer.withCurrent { body($0.swiotlbMemory) } ?? fallback
}

@c(swiotlb_size_or_default)
public func abiSwiotlbSizeOrDefault() -> CUnsignedLong {
    defaultPool(0) { mem in mem.pointee.nslabs > 0 ? mem.pointee.nslabs << CUnsignedLong(ioTLBShift) : 0 }
}

@c(swiotlb_max_mapping_size)
public func abiSwiotlbMaxMappingSize(_ dev: UnsafeMutablePointer<device>?) -> size_t {
    withDMA("swiotlb_max_mapping_size", dev, 0) { _, dev in Swiotlb.maxMappingSize(dev) }
}

@c(is_swiotlb_allocated)
public func abiIsSwiotlbAllocated() -> Bool {
    defaultPool(false) { $0.pointee.nslabs > 0 }
}

@c(is_swiotlb_active)
public func abiIsSwiotlbActive(_ dev: UnsafeMutablePointer<device>?) -> Bool {
    withDMA("is_swiotlb_active", dev, false) { layer, dev in
        layer.attachSwiotlb(dev)
        return Swiotlb.isActive(dev)
    }
}

@c(default_swiotlb_base)
public func abiDefaultSwiotlbBase() -> phys_addr_t {
    defaultPool(0) { $0.pointee.defpool.start }
}

@c(default_swiotlb_limit)
public func abiDefaultSwiotlbLimit() -> phys_addr_t {
    defaultPool(0) { $0.pointee.nslabs > 0 ? $0.pointee.defpool.end - 1 : 0 }
}

/// The checks of the two bouncing calls: a direction, a size, simulated RAM. DMA_MAPPING_ERROR otherwise.
private func withBounce(_ caller: StaticString, _ dev: UnsafeMutablePointer<device>?, _ phys: phys_addr_t, _ size: size_t,
                        _ dir: dma_data_direction, _ body: (DMALayer, UnsafeMutablePointer<device>, DMADirection) -> UInt64) -> UInt64 {
    withDMA(caller, dev, size: size, DMAAddress.mappingError.rawValue) { layer, dev in
        guard let d = DMADirection(dir), d.isValid, size > 0,
              layer.memory.physical.isRAM(PhysicalAddress(phys), size: UInt64(size)) else {
            Kernel.warn("\(caller): a bad direction, size 0, or memory that is not simulated RAM")
            return DMAAddress.mappingError.rawValue
        }
        layer.attachSwiotlb(dev)
        return body(layer, dev, d)
    }
}

@c(swiotlb_tbl_map_single)
public func abiSwiotlbTblMapSingle(_ dev: UnsafeMutablePointer<device>?, _ phys: phys_addr_t, _ size: size_t,
                                   _ alignMask: CUnsignedInt, _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> phys_addr_t {
    withBounce("swiotlb_tbl_map_single", dev, phys, size, dir) { _, dev, d in
        Swiotlb.mapSingle(dev, phys: PhysicalAddress(phys), size: size, allocAlignMask: alignMask, direction: d,
                          attributes: DMAAttributes(rawValue: attrs))?.rawValue ?? DMAAddress.mappingError.rawValue
    }
}

@c(swiotlb_map)
public func abiSwiotlbMap(_ dev: UnsafeMutablePointer<device>?, _ phys: phys_addr_t, _ size: size_t,
                          _ dir: dma_data_direction, _ attrs: CUnsignedLong) -> dma_addr_t {
    withBounce("swiotlb_map", dev, phys, size, dir) { layer, dev, d in
        Swiotlb.map(dev, layer.memory, phys: PhysicalAddress(phys), size: size, direction: d,
                    attributes: DMAAttributes(rawValue: attrs)).rawValue
    }
}

private func swiotlbCall(_ caller: StaticString, _ dev: UnsafeMutablePointer<device>?, _ size: size_t,
                         _ dir: dma_data_direction, _ body: (UnsafeMutablePointer<device>, DMADirection) -> Void) {
    withDMA(caller, dev, size: size, ()) { _, dev in
        guard let d = DMADirection(dir), d.isValid else { return Kernel.warn("\(caller): invalid DMA direction \(dir.rawValue)") }
        body(dev, d)
    }
}

@c(__swiotlb_tbl_unmap_single)
public func abiSwiotlbTblUnmapSingle(_ dev: UnsafeMutablePointer<device>?, _ tlbAddr: phys_addr_t, _ size: size_t,
                                     _ dir: dma_data_direction, _ attrs: CUnsignedLong, _ pool: UnsafeMutablePointer<io_tlb_pool>?) {
    swiotlbCall("swiotlb_tbl_unmap_single", dev, size, dir) { dev, d in
        Swiotlb.unmapSingle(dev, tlbAddress: PhysicalAddress(tlbAddr), size: size, direction: d,
                            attributes: DMAAttributes(rawValue: attrs))
    }
}

@c(__swiotlb_sync_single_for_device)
public func abiSwiotlbSyncSingleForDevice(_ dev: UnsafeMutablePointer<device>?, _ tlbAddr: phys_addr_t, _ size: size_t,
                                          _ dir: dma_data_direction, _ pool: UnsafeMutablePointer<io_tlb_pool>?) {
    swiotlbCall("swiotlb_sync_single_for_device", dev, size, dir) { dev, d in
        Swiotlb.syncSingleForDevice(dev, tlbAddress: PhysicalAddress(tlbAddr), size: size, direction: d)
    }
}

@c(__swiotlb_sync_single_for_cpu)
public func abiSwiotlbSyncSingleForCPU(_ dev: UnsafeMutablePointer<device>?, _ tlbAddr: phys_addr_t, _ size: size_t,
                                       _ dir: dma_data_direction, _ pool: UnsafeMutablePointer<io_tlb_pool>?) {
    swiotlbCall("swiotlb_sync_single_for_cpu", dev, size, dir) { dev, d in
        Swiotlb.syncSingleForCPU(dev, tlbAddress: PhysicalAddress(tlbAddr), size: size, direction: d)
    }
}

@c(swiotlb_print_info)
public func abiSwiotlbPrintInfo() {
    DMALayer.withCurrent { Swiotlb.printInfo($0.swiotlbMemory) }
}

@c(swiommu_swiotlb_set_force_bounce)
public func abiSwiotlbSetForceBounce(_ force: Bool) -> CInt {
    DMALayer.withCurrent { layer -> CInt in
        layer.swiotlbMemory.pointee.force_bounce = force
        return 0
    } ?? Errno.noDevice.negated
}

@c(swiommu_swiotlb_used)
public func abiSwiotlbUsed() -> CUnsignedLong {
    defaultPool(0) { CUnsignedLong(Swiotlb.usedSlots($0)) }
}
