// swiommu/iommu.h: the built-in IOMMU models' counters and the device-side translation.
import CKernel
import SwiommuBase
import SwiommuDMA
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

@c(swiommu_iommu_channel_domain)
public func abiIOMMUChannelDomain(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt) -> UnsafeMutablePointer<iommu_domain>? {
    guard let core = IOMMUCore.current, let dev, !isNullOrError(dev) else { return nil }
    if case .translated(let d, _) = core.route(of: dev, channel: Int(channel)) { return d }
    return nil
}

@c(swiommu_iommu_port_powered)
public func abiIOMMUPortPowered(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt) -> CInt {
    guard machine("swiommu_iommu_port_powered") != nil else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), dev.pointee.swiommu != nil else {
        Kernel.warn("swiommu_iommu_port_powered: NULL or ERR_PTR device")
        return Errno.invalid.negated
    }
    guard Int(channel) < DeviceState.channelCount(dev) else { return Errno.invalid.negated }
    switch BuiltinModels.portPower(of: dev, channel: Int(channel)) {
    case .powered: return 1
    case .poweredDown: return 0
    case .noPort: return Errno.noDevice.negated
    case .unknown: return Errno.notSupported.negated
    }
}

@c(swiommu_iotlb_invalidations)
public func abiIOTLBInvalidations(_ dev: UnsafeMutablePointer<device>?) -> CUnsignedLong {
    guard Machine.current != nil, let dev, !isNullOrError(dev) else { return 0 }
    return CUnsignedLong(BuiltinModels.invalidations(of: dev))
}

@c(swiommu_iommu_translate)
public func abiIOMMUTranslate(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ iova: dma_addr_t,
                              _ write: Bool, _ phys: UnsafeMutablePointer<phys_addr_t>?) -> CInt {
    guard Machine.isUp else { return machine("swiommu_iommu_translate") == nil ? Errno.noDevice.negated : 0 }
    guard let dev, !isNullOrError(dev), let phys, dev.pointee.swiommu != nil else {
        Kernel.warn("swiommu_iommu_translate: NULL or ERR_PTR device, or NULL phys")
        return Errno.invalid.negated
    }
    guard DeviceState.channelCount(dev) > Int(channel) else { return Errno.invalid.negated }
    guard let pa = DeviceDMA.translate(dev, channel: Int(channel), iova: iova, write: write) else {
        return Errno.fault.negated
    }
    phys.pointee = pa
    return 0
}

/// Copy `text` into a C buffer as snprintf does; the full length.
func copyOut(_ text: String, _ buf: UnsafeMutablePointer<CChar>?, _ size: Int) -> Int {
    var utf8 = Array(text.utf8)
    if let buf, size > 0 {
        let n = min(utf8.count, size - 1)
        utf8.withUnsafeMutableBufferPointer { src in
            UnsafeMutableRawPointer(buf).copyMemory(from: src.baseAddress!, byteCount: n)
        }
        buf[n] = 0
    }
    return utf8.count
}

@c(swiommu_dump_domain)
public func abiDumpDomain(_ d: UnsafeMutablePointer<iommu_domain>?, _ buf: UnsafeMutablePointer<CChar>?, _ size: size_t) -> Int {
    guard machine("swiommu_dump_domain") != nil else { return Int(Errno.noDevice.negated) }
    guard let d, !isNullOrError(d) else {
        Kernel.warn("swiommu_dump_domain: NULL or ERR_PTR domain")
        return Int(Errno.invalid.negated)
    }
    return copyOut(BuiltinModels.dump(domain: d), buf, Int(size))
}

@c(swiommu_dump_iotlb)
public func abiDumpIOTLB(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ buf: UnsafeMutablePointer<CChar>?,
                         _ size: size_t) -> Int {
    guard machine("swiommu_dump_iotlb") != nil else { return Int(Errno.noDevice.negated) }
    guard let dev, !isNullOrError(dev), dev.pointee.swiommu != nil else {
        Kernel.warn("swiommu_dump_iotlb: NULL or ERR_PTR device")
        return Int(Errno.invalid.negated)
    }
    guard let text = BuiltinModels.dumpIOTLB(of: dev, channel: Int(channel)) else { return Int(Errno.noDevice.negated) }
    return copyOut(text, buf, Int(size))
}

@c(swiommu_dump_swiotlb)
public func abiDumpSwiotlb(_ buf: UnsafeMutablePointer<CChar>?, _ size: size_t) -> Int {
    guard let layer = DMALayer.current else {
        _ = machine("swiommu_dump_swiotlb")
        return Int(Errno.noDevice.negated)
    }
    return copyOut(Swiotlb.dump(layer.swiotlbMemory), buf, Int(size))
}

@c(swiommu_dma_counters_enable)
public func abiDMACountersEnable(_ on: Bool) {
    DMACounters.enabled = on
}

@c(swiommu_dma_get_counters)
public func abiDMAGetCounters(_ dev: UnsafeMutablePointer<device>?, _ out: UnsafeMutablePointer<swiommu_dma_counters>?) -> CInt {
    guard machine("swiommu_dma_get_counters") != nil else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), let out else {
        Kernel.warn("swiommu_dma_get_counters: NULL or ERR_PTR device, or NULL counters")
        return Errno.invalid.negated
    }
    guard let c = DMACounters.read(dev) else { return Errno.noDevice.negated }
    let faults = dev.pointee.swiommu != nil ? DeviceState.of(dev).dmaFaults : 0
    out.pointee = swiommu_dma_counters(maps: UInt64(c[0]), unmaps: UInt64(c[1]), mapped_bytes: UInt64(c[2]),
                                       unmapped_bytes: UInt64(c[3]), syncs: UInt64(c[4]), bounced_bytes: UInt64(c[5]),
                                       faults: faults, invalidations: BuiltinModels.invalidations(of: dev))
    return 0
}

@c(swiommu_iommu_domain_counters)
public func abiDomainCounters(_ d: UnsafeMutablePointer<iommu_domain>?,
                              _ out: UnsafeMutablePointer<swiommu_domain_counters>?) -> CInt {
    guard machine("swiommu_iommu_domain_counters") != nil else { return Errno.noDevice.negated }
    guard let d, !isNullOrError(d), let out else {
        Kernel.warn("swiommu_iommu_domain_counters: NULL or ERR_PTR domain, or NULL counters")
        return Errno.invalid.negated
    }
    let c = DomainCounters.of(d)
    out.pointee = swiommu_domain_counters(maps: c.maps, unmaps: c.unmaps, mapped_bytes: c.mappedBytes,
                                          unmapped_bytes: c.unmappedBytes, invalidations: c.invalidations,
                                          faults: c.faults, attached_groups: UInt32(c.attachedGroups),
                                          by_model: c.byModel ? 1 : 0)
    return 0
}
