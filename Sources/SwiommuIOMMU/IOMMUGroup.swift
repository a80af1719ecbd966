// IOMMU groups: the devices that cannot be isolated from each other, and so share a domain. Kernel:
// struct iommu_group in drivers/iommu/iommu.c. C sees an opaque pointer (the group object itself).
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

public final class IOMMUGroup {
    public let id: Int32
    public var name: String?
    public internal(set) var devices: [UnsafeMutablePointer<Device>] = []
    /// The domain the DMA API uses (iommu_get_dma_domain).
    public internal(set) var defaultDomain: UnsafeMutablePointer<IOMMUDomain>?
    /// The domain the group is attached to now (iommu_get_domain_for_dev).
    public internal(set) var domain: UnsafeMutablePointer<IOMMUDomain>?
    /// The domain that blocks DMA while someone owns the group.
    var blockingDomain: UnsafeMutablePointer<IOMMUDomain>?
    /// DMA-API users (drivers bound without driver_managed_dma) or the claims of one owner.
    var ownerCount = 0
    var owner: UnsafeMutableRawPointer?
    var iommuData: UnsafeMutableRawPointer?
    var iommuDataRelease: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    var references = 1
    /// `struct iommu_group *` for C: its `swiommu` field leads back here.
    public let opaque: UnsafeMutablePointer<iommu_group>

    init(id: Int32) {
        self.id = id
        opaque = .allocate(capacity: 1)
        opaque.initialize(to: iommu_group(swiommu: nil))
        opaque.pointee.swiommu = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        opaque.pointee.swiommu = nil
        opaque.deallocate()
    }
}

extension IOMMUCore {
    /// The group behind a C pointer, or nil (with a WARN) for a pointer that is no live group.
    public func group(_ p: UnsafeMutablePointer<iommu_group>?, caller: String) -> IOMMUGroup? {
        guard let p, UInt(bitPattern: UnsafeRawPointer(p)) < UInt(bitPattern: -4095) else {
            Kernel.warn("\(caller): NULL or ERR_PTR group")
            return nil
        }
        return lock.withLock {
            if let g = groups.first(where: { $0.opaque == p }) { return g }
            Kernel.warn("\(caller): \(Kernel.hex(UInt(bitPattern: UnsafeRawPointer(p)))) is not an IOMMU group")
            return nil
        }
    }

    /// The group of a device, or nil.
    /// The group of a device, or nil. `iommu_group` is only ever set by the core, so it is trusted: no lookup.
    @inline(__always)
    public func group(of dev: UnsafeMutablePointer<Device>) -> IOMMUGroup? {
        guard let raw = dev.pointee.iommu_group?.pointee.swiommu else { return nil }
        return Unmanaged<IOMMUGroup>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Kernel: iommu_group_alloc. One reference for the caller.
    public func allocateGroup() -> IOMMUGroup {
        lock.withLock {
            let g = IOMMUGroup(id: nextGroupID)
            nextGroupID += 1
            groups.append(g)
            return g
        }
    }

    /// Kernel: iommu_group_put. The last reference of an empty group releases it.
    public func put(_ g: IOMMUGroup) {
        lock.withLock {
            g.references -= 1
            guard g.references <= 0, g.devices.isEmpty else { return }
            if let release = g.iommuDataRelease { release(g.iommuData) }
            if let d = g.defaultDomain {
                // A default domain shared under the per-instance or global policy goes with its last group.
                let state = DomainState.of(d)
                state.defaultUsers -= 1
                if state.defaultUsers > 0 { g.defaultDomain = nil }
            }
            if let d = g.defaultDomain { detachOthers(from: d, leaving: g) }
            freeDomain(&g.defaultDomain)
            freeDomain(&g.blockingDomain)
            groups.removeAll { $0 === g }
        }
    }

    /// A default domain goes with its group, but a driver may have attached another group to it
    /// (iommu_attach_device() allows any domain of the same driver): that group goes back to its own default
    /// (or blocking) domain first, with a WARN, where the kernel would leave it on freed memory.
    private func detachOthers(from d: UnsafeMutablePointer<IOMMUDomain>, leaving g: IOMMUGroup) {
        for h in groups where h !== g && h.domain == d {
            Kernel.warn("iommu: group \(g.id) is released with its default domain, to which group \(h.id) is still "
                        + "attached: group \(h.id) goes back to its own domain")
            let core = h.owner != nil ? (h.blockingDomain ?? h.defaultDomain) : h.defaultDomain
            if let core, core != d, setDomain(h, core) == 0 { continue }
            DomainState.of(d).attachedGroups -= 1
            h.domain = nil
        }
    }

    private func freeDomain(_ d: inout UnsafeMutablePointer<IOMMUDomain>?) {
        guard let domain = d else { return }
        swiommu_glue_route_generation_bump()
        d = nil
        // Static domains of a driver (identity, blocked, release, legacy default) are not freed.
        if let owner = domain.pointee.owner, isStatic(domain, owner) {
            return
        }
        DomainState.drop(domain)
        domain.pointee.ops?.pointee.free?(domain)
    }

    /// Kernel: iommu_group_add_device ("Adding to iommu group N").
    public func add(_ dev: UnsafeMutablePointer<Device>, to g: IOMMUGroup) -> Errno? {
        lock.withLock {
            if dev.pointee.iommu_group != nil {
                Kernel.warn("iommu_group_add_device: \(String(cString: dev_name(dev))) is in a group already")
                return .busy
            }
            g.devices.append(dev)
            g.references += 1
            dev.pointee.iommu_group = g.opaque
            devPrintk(.info, dev, "Adding to iommu group \(g.id)")
            if Trace.enabled(.addDeviceToGroup) {
                Trace.emit(.addDeviceToGroup, "IOMMU: groupID=\(g.id) device=\(String(cString: dev_name(dev)))")
            }
            return nil
        }
    }

    /// Kernel: iommu_group_remove_device: "Removing from iommu group N", then for a device its IOMMU driver
    /// probed the teardown of iommu_deinit_device (release_domain, release_device, the per-device data);
    /// a device added by hand only leaves the group. Nothing for a device in no group.
    public func removeFromGroup(_ dev: UnsafeMutablePointer<Device>) {
        guard let g = group(of: dev) else { return }
        devPrintk(.info, dev, "Removing from iommu group \(g.id)")
        if dev.pointee.iommu?.pointee.iommu_dev != nil { release(dev) } else { remove(dev) }
    }

    /// The group's side of iommu_group_remove_device: off the group's list, the device's reference dropped.
    public func remove(_ dev: UnsafeMutablePointer<Device>) {
        lock.withLock {
            guard let g = group(of: dev) else { return }
            g.devices.removeAll { $0 == dev }
            dev.pointee.iommu_group = nil
            if Trace.enabled(.removeDeviceFromGroup) {
                Trace.emit(.removeDeviceFromGroup, "IOMMU: groupID=\(g.id) device=\(String(cString: dev_name(dev)))")
            }
            put(g)
        }
    }
}

/// A group as dumps and the CLI show it.
public struct GroupSummary: Sendable {
    public var id: Int32
    public var devices: [String]
    /// The default domain's and the current domain's type names ("DMA", "DMA-FQ", "identity" ...).
    public var defaultDomain: String?
    public var currentDomain: String?
    public var pageSizes: UInt64
    public var aperture: (start: UInt64, end: UInt64)
    /// Whether another group shares the default domain (per-instance or global policy).
    public var sharedDefault: Bool
}

/// The kernel's names of domain types (iommu_domain_type_str).
public func domainTypeName(_ type: UInt32) -> String {
    switch type {
    case IOMMU_DOMAIN_BLOCKED_VALUE: "Blocked"
    case IOMMU_DOMAIN_IDENTITY_VALUE: "Passthrough"
    case IOMMU_DOMAIN_UNMANAGED_VALUE: "Unmanaged"
    case IOMMU_DOMAIN_DMA_VALUE: "Translated"
    case IOMMU_DOMAIN_DMA_FQ_VALUE: "Translated (lazy)"
    default: "Unknown"
    }
}

extension IOMMUCore {
    /// The group of `dev` as a summary, or nil.
    public func summary(ofGroupOf dev: UnsafeMutablePointer<Device>) -> GroupSummary? {
        lock.withLock {
            guard let g = group(of: dev) else { return nil }
            let d = g.defaultDomain
            return GroupSummary(id: g.id, devices: g.devices.map { String(cString: dev_name($0)) },
                                defaultDomain: d.map { domainTypeName($0.pointee.type) },
                                currentDomain: g.domain.map { domainTypeName($0.pointee.type) },
                                pageSizes: UInt64(d?.pointee.pgsize_bitmap ?? 0),
                                aperture: (d?.pointee.geometry.aperture_start ?? 0, d?.pointee.geometry.aperture_end ?? 0),
                                sharedDefault: d.map { DomainState.of($0).defaultUsers > 1 } ?? false)
        }
    }

    /// Kernel: iommu_group_ref_get.
    public func takeReference(_ g: IOMMUGroup) {
        lock.withLock { g.references += 1 }
    }

    public func iommuData(_ g: IOMMUGroup) -> UnsafeMutableRawPointer? { lock.withLock { g.iommuData } }

    public func setIOMMUData(_ g: IOMMUGroup, _ data: UnsafeMutableRawPointer?,
                             release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
        lock.withLock {
            g.iommuData = data
            g.iommuDataRelease = release
        }
    }

    public func isOwned(_ g: IOMMUGroup) -> Bool { lock.withLock { g.owner != nil } }

    /// The group's devices now (a copy, taken under the core's lock).
    public func devices(of g: IOMMUGroup) -> [UnsafeMutablePointer<Device>] { lock.withLock { g.devices } }

    /// Kernel: generic_single_device_group: one group per instance (iommu->singleton_group), with a
    /// reference for the caller.
    public func singletonGroup(of inst: UnsafeMutablePointer<IOMMUDevice>) -> IOMMUGroup {
        lock.withLock {
            if let p = inst.pointee.singleton_group, let g = groups.first(where: { $0.opaque == p }) {
                g.references += 1
                return g
            }
            let g = allocateGroup()
            g.references += 1   // the instance keeps one
            inst.pointee.singleton_group = g.opaque
            return g
        }
    }
}
