// swiommu/topology.h: a device's channels, IOMMU link, reserved regions and requester ID.
import CKernel
import SwiommuBase
import SwiommuPlatform

/// The device's state, or nil for NULL, ERR_PTR or a device that is not ours.
private func state(_ dev: UnsafeMutablePointer<device>?) -> DeviceState? {
    guard let dev, !isNullOrError(dev), dev.pointee.swiommu != nil else { return nil }
    return DeviceState.of(dev)
}

@c(swiommu_device_channel_count)
public func abiDeviceChannelCount(_ dev: UnsafeMutablePointer<device>?) -> CInt {
    guard let s = state(dev) else { return Errno.invalid.negated }
    return CInt(s.channels.count)
}

@c(swiommu_device_channel)
public func abiDeviceChannel(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt,
                             _ out: UnsafeMutablePointer<swiommu_channel>?) -> CInt {
    guard let s = state(dev), let out else { return Errno.invalid.negated }
    guard Int(channel) < s.channels.count else { return Errno.noEntry.negated }
    let c = s.channels[Int(channel)]
    var r = swiommu_channel()
    r.iommu = c.iommu
    r.num_ids = CUnsignedInt(min(c.ids.count, Int(SWIOMMU_MAX_IOMMU_IDS)))
    withUnsafeMutableBytes(of: &r.ids) { raw in
        for (i, id) in c.ids.prefix(Int(SWIOMMU_MAX_IOMMU_IDS)).enumerated() {
            raw.storeBytes(of: id, toByteOffset: i * 4, as: UInt32.self)
        }
    }
    out.pointee = r
    return 0
}

@c(swiommu_device_iommu_link)
public func abiDeviceIOMMULink(_ dev: UnsafeMutablePointer<device>?) -> CInt {
    guard let s = state(dev) else { return Errno.invalid.negated }
    switch s.iommuLink {
    case .none: return CInt(SWIOMMU_IOMMU_NONE.rawValue)
    case .deferred: return CInt(SWIOMMU_IOMMU_DEFERRED.rawValue)
    case .disabled: return CInt(SWIOMMU_IOMMU_DISABLED.rawValue)
    case .noDriver: return CInt(SWIOMMU_IOMMU_NO_DRIVER.rawValue)
    case .attached: return CInt(SWIOMMU_IOMMU_ATTACHED.rawValue)
    }
}

@c(swiommu_device_resv_region)
public func abiDeviceResvRegion(_ dev: UnsafeMutablePointer<device>?, _ index: CUnsignedInt,
                                _ out: UnsafeMutablePointer<swiommu_resv_region>?) -> CInt {
    guard let s = state(dev), let out else { return Errno.invalid.negated }
    guard Int(index) < s.reservedRegions.count else { return Errno.noEntry.negated }
    let r = s.reservedRegions[Int(index)]
    out.pointee = swiommu_resv_region(start: r.start, length: r.length, prot: r.prot,
                                      type: r.type == .direct ? SWIOMMU_RESV_DIRECT : SWIOMMU_RESV_RESERVED)
    return 0
}

@c(swiommu_device_requester_id)
public func abiDeviceRequesterID(_ dev: UnsafeMutablePointer<device>?) -> CInt {
    guard let s = state(dev) else { return Errno.invalid.negated }
    guard let rid = s.requesterID else { return Errno.noDevice.negated }
    return CInt(rid)
}
