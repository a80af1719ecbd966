// swiommu/iommu.h: the built-in IOMMU models' counters and the device-side translation.
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuPlatform

@c(swiommu_iommu_iotlb_stats)
public func abiIOMMUIOTLBStats(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt,
                               _ stats: UnsafeMutablePointer<swiommu_iotlb_stats>?) -> CInt {
    guard machine("swiommu_iommu_iotlb_stats") != nil else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), let stats else {
        Kernel.warn("swiommu_iommu_iotlb_stats: NULL or ERR_PTR device, or NULL stats")
        return Errno.invalid.negated
    }
    guard Int(channel) < DeviceState.of(dev).channels.count || DeviceState.of(dev).channels.isEmpty else {
        return Errno.invalid.negated
    }
    guard let s = BuiltinModels.statistics(of: dev, channel: Int(channel)) else { return Errno.noDevice.negated }
    stats.pointee = swiommu_iotlb_stats(
        capacity: UInt64(s.capacity), lookups: s.iotlb.lookups, hits: s.iotlb.hits, misses: s.iotlb.misses,
        fills: s.iotlb.fills, evictions: s.iotlb.evictions, invalidate_all: s.iotlb.invalidateAll,
        invalidate_context: s.iotlb.invalidateContext, invalidate_range: s.iotlb.invalidateRange, faults: s.faults,
        contexts_used: UInt64(s.contextsUsed), contexts: UInt64(s.contexts))
    return 0
}

@c(swiommu_iotlb_invalidations)
public func abiIOTLBInvalidations(_ dev: UnsafeMutablePointer<device>?) -> CUnsignedLong {
    guard Machine.current != nil, let dev, !isNullOrError(dev) else { return 0 }
    return CUnsignedLong(BuiltinModels.invalidations(of: dev))
}

@c(swiommu_iommu_translate)
public func abiIOMMUTranslate(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ iova: dma_addr_t,
                              _ write: Bool, _ phys: UnsafeMutablePointer<phys_addr_t>?) -> CInt {
    guard machine("swiommu_iommu_translate") != nil else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), let phys else {
        Kernel.warn("swiommu_iommu_translate: NULL or ERR_PTR device, or NULL phys")
        return Errno.invalid.negated
    }
    guard Int(channel) < DeviceState.of(dev).channels.count else { return Errno.invalid.negated }
    guard let pa = DeviceDMA.translate(dev, channel: Int(channel), iova: iova, write: write) else {
        return Errno.fault.negated
    }
    phys.pointee = pa
    return 0
}
