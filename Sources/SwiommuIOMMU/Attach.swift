// Domains from the caller's side: allocation and freeing, attach and detach with the kernel's rules, DMA
// ownership, fault reporting. Kernel: iommu_paging_domain_alloc_flags, iommu_domain_free,
// iommu_attach_device/group, iommu_detach_device/group, __iommu_group_set_domain,
// iommu_device_use_default_domain, iommu_group_claim_dma_owner, report_iommu_fault.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

extension IOMMUCore {
    // MARK: Allocation

    /// Kernel: iommu_paging_domain_alloc_flags. -ENODEV for a device without an IOMMU, -EOPNOTSUPP when the
    /// driver cannot allocate paging domains, -ENOMEM when it returns NULL, or the driver's ERR_PTR.
    public func allocatePagingDomain(for dev: UnsafeMutablePointer<Device>, flags: UInt32) -> Result<UnsafeMutablePointer<IOMMUDomain>, Errno> {
        lock.withLock {
            guard let di = dev.pointee.iommu, let inst = di.pointee.iommu_dev, let ops = inst.pointee.ops else {
                return .failure(.noDevice)
            }
            var d: UnsafeMutablePointer<IOMMUDomain>?
            if flags == 0, let alloc = ops.pointee.domain_alloc_paging {
                d = alloc(dev)
            } else if let alloc = ops.pointee.domain_alloc_paging_flags {
                d = alloc(dev, flags, nil)
            } else {
                return .failure(.notSupported)
            }
            guard let d else { return .failure(.noMemory) }
            if let e = errorOf(UnsafeRawPointer(d)) { return .failure(Errno(negated: e) ?? .noMemory) }
            d.pointee.type = IOMMU_DOMAIN_UNMANAGED_VALUE
            d.pointee.owner = ops
            if d.pointee.ops == nil { d.pointee.ops = ops.pointee.default_domain_ops }
            _ = DomainState.of(d)
            return .success(d)
        }
    }

    /// Kernel: iommu_domain_free. A domain still attached is refused with a WARN (the kernel would leave
    /// the hardware pointing at freed memory).
    public func freeDomain(_ d: UnsafeMutablePointer<IOMMUDomain>) {
        lock.withLock {
            if DomainState.of(d).attachedGroups > 0 || groups.contains(where: { $0.domain == d || $0.defaultDomain == d }) {
                Kernel.warn("iommu_domain_free: the domain is still attached to a group; detach it first")
                return
            }
            swiommu_glue_route_generation_bump()
            DomainState.drop(d)
            d.pointee.ops?.pointee.free?(d)
        }
    }

    // MARK: Attach and detach

    /// Kernel: __iommu_device_set_domain: one device onto `d`. A device whose firmware asked for direct
    /// mappings refuses a blocking domain (-EINVAL). When `mustSucceed` and the attach fails, the group's
    /// blocking domain is tried, so that the device does not keep using a domain about to go.
    func setDeviceDomain(_ g: IOMMUGroup, _ dev: UnsafeMutablePointer<Device>, _ d: UnsafeMutablePointer<IOMMUDomain>,
                         mustSucceed: Bool) -> Int32 {
        if dev.pointee.iommu?.pointee.require_direct != 0
            && (d.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE || d == g.blockingDomain) {
            devPrintk(.warning, dev, "Firmware has requested this device have a 1:1 IOMMU mapping, rejecting "
                      + "configuring the device without a 1:1 mapping. Contact your platform vendor.")
            return Errno.invalid.negated
        }
        let ret = attachOne(d, dev)
        if ret != 0 && mustSucceed, let blocking = g.blockingDomain, blocking != d { _ = attachOne(blocking, dev) }
        return ret
    }

    /// Kernel: __iommu_group_set_domain_internal: every device of the group onto `d`. On a failure the group's
    /// devices up to and including the one that failed go back to the current domain (a WARN when that fails
    /// too), unless `mustSucceed`, which goes on with the others and returns the error with `d` set.
    func setDomain(_ g: IOMMUGroup, _ d: UnsafeMutablePointer<IOMMUDomain>, mustSucceed: Bool = false) -> Int32 {
        if g.domain == d { return 0 }
        var result: Int32 = 0
        for (k, dev) in g.devices.enumerated() {
            let ret = setDeviceDomain(g, dev, d, mustSucceed: mustSucceed)
            if ret == 0 { continue }
            result = ret
            if mustSucceed { continue }
            if let old = g.domain {
                for back in g.devices[...k] where setDeviceDomain(g, back, old, mustSucceed: true) != 0 {
                    Kernel.warn("iommu: group \(g.id): \(String(cString: dev_name(back))) cannot go back to its domain")
                }
            }
            return ret
        }
        if let old = g.domain { DomainState.of(old).attachedGroups -= 1 }
        g.domain = d
        swiommu_glue_route_generation_bump()
        DomainState.of(d).attachedGroups += 1
        return result
    }

    /// Kernel: __iommu_group_set_domain_nofail: a WARN when a device refuses.
    func setDomainNoFail(_ g: IOMMUGroup, _ d: UnsafeMutablePointer<IOMMUDomain>) {
        if setDomain(g, d, mustSucceed: true) != 0 {
            Kernel.warn("iommu: group \(g.id): a device refused its core domain")
        }
    }

    /// Kernel: iommu_attach_group's checks, then the switch. -EINVAL for another driver's domain, -EBUSY
    /// when the group is already off its default (and blocking) domain.
    public func attach(_ d: UnsafeMutablePointer<IOMMUDomain>, group g: IOMMUGroup) -> Int32 {
        lock.withLock {
            guard let dev = g.devices.first, let ops = dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops else {
                return Errno.noDevice.negated
            }
            // __iommu_attach_group: busy first (attaching the current non-default domain again is busy
            // too), then the domain must come from this device's driver.
            if let cur = g.domain, cur != g.defaultDomain, cur != g.blockingDomain { return Errno.busy.negated }
            // domain_iommu_ops_compatible: this driver's domain, or its static blocked or identity one.
            guard d.pointee.owner == ops || d == ops.pointee.blocked_domain || d == ops.pointee.identity_domain else {
                return Errno.invalid.negated
            }
            return setDomain(g, d)
        }
    }

    /// Kernel: iommu_attach_device: -ENODEV without a group, -EINVAL for a group of several devices.
    public func attach(_ d: UnsafeMutablePointer<IOMMUDomain>, device dev: UnsafeMutablePointer<Device>) -> Int32 {
        lock.withLock {
            guard let g = group(of: dev) else { return Errno.noDevice.negated }
            guard g.devices.count == 1 else { return Errno.invalid.negated }
            return attach(d, group: g)
        }
    }

    /// Kernel: iommu_detach_group (__iommu_group_set_core_domain): back to the blocking domain if the group is
    /// owned, else the default, whatever `d` is (the kernel does not look at it).
    public func detach(_ d: UnsafeMutablePointer<IOMMUDomain>, group g: IOMMUGroup) {
        lock.withLock { setCoreDomain(g) }
    }

    /// Kernel: __iommu_group_set_core_domain.
    func setCoreDomain(_ g: IOMMUGroup) {
        let core = g.owner != nil ? (g.blockingDomain ?? g.defaultDomain) : g.defaultDomain
        if let core {
            setDomainNoFail(g, core)
        } else if let d = g.domain {
            DomainState.of(d).attachedGroups -= 1
            g.domain = nil
        }
    }

    /// Kernel: iommu_detach_device (WARNs for a group of several devices).
    public func detach(_ d: UnsafeMutablePointer<IOMMUDomain>, device dev: UnsafeMutablePointer<Device>) {
        lock.withLock {
            guard let g = group(of: dev) else {
                Kernel.warn("iommu_detach_device: \(String(cString: dev_name(dev))) has no IOMMU group")
                return
            }
            guard g.domain == d else {
                Kernel.warn("iommu_detach_device: the domain is not the group's current domain")
                return
            }
            guard g.devices.count == 1 else {
                Kernel.warn("iommu_detach_device: group \(g.id) has \(g.devices.count) devices")
                return
            }
            setCoreDomain(g)
        }
    }

    // MARK: DMA ownership. Kernel: iommu_device_use_default_domain, iommu_group_claim_dma_owner.

    /// A driver using the DMA API binds: -EPROBE_DEFER while the group has no default domain; -EBUSY when
    /// other users hold the group and it is owned or off its default domain.
    func useDefaultDomain(_ dev: UnsafeMutablePointer<Device>) -> Int32 {
        lock.withLock {
            guard let g = group(of: dev) else { return 0 }
            guard g.defaultDomain != nil else { return Errno.probeDefer.negated }
            if g.ownerCount > 0 && (g.domain != g.defaultDomain || g.owner != nil) { return Errno.busy.negated }
            g.ownerCount += 1
            return 0
        }
    }

    func unuseDefaultDomain(_ dev: UnsafeMutablePointer<Device>) {
        lock.withLock {
            guard let g = group(of: dev) else { return }
            guard g.ownerCount > 0 else {
                Kernel.warn("iommu_device_unuse_default_domain: group \(g.id) has no user")
                return
            }
            g.ownerCount -= 1
        }
    }

    /// Claim exclusive DMA ownership (vfio style): -EPERM while any DMA-API driver or other owner uses the
    /// group; the group moves to a blocking domain. `shared` lets callers with the same cookie share it
    /// (iommu_device_claim_dma_owner).
    public func claimOwnership(_ g: IOMMUGroup, owner: UnsafeMutableRawPointer, shared: Bool) -> Int32 {
        lock.withLock {
            if g.ownerCount > 0 {
                if shared && g.owner == owner {
                    g.ownerCount += 1
                    return 0
                }
                return Errno.notPermitted.negated
            }
            guard let dev = g.devices.first, let ops = dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops else {
                return Errno.noDevice.negated
            }
            // __iommu_take_dma_ownership: not while a caller's domain is attached.
            if let cur = g.domain, cur != g.defaultDomain { return Errno.busy.negated }
            if g.blockingDomain == nil {
                g.blockingDomain = ops.pointee.blocked_domain
                    ?? allocateDomain(type: IOMMU_DOMAIN_UNMANAGED_VALUE, dev: dev, ops: ops)  // an empty paging domain
            }
            guard let blocking = g.blockingDomain else { return Errno.noMemory.negated }
            let ret = setDomain(g, blocking)
            guard ret == 0 else { return ret }
            g.owner = owner
            g.ownerCount = 1
            return 0
        }
    }

    /// Kernel: iommu_group_release_dma_owner (`device` false: every claim goes at once) and
    /// iommu_device_release_dma_owner (`device` true: one of the shared claims).
    public func releaseOwnership(_ g: IOMMUGroup, device: Bool) {
        lock.withLock {
            guard g.owner != nil, g.ownerCount > 0 else {
                Kernel.warn("iommu: releasing DMA ownership of group \(g.id) that is not owned")
                return
            }
            if device && g.ownerCount > 1 {
                g.ownerCount -= 1
                return
            }
            g.ownerCount = 0
            g.owner = nil
            if let d = g.defaultDomain { setDomainNoFail(g, d) }
        }
    }

    // MARK: Faults. Kernel: iommu_set_fault_handler, report_iommu_fault.

    /// Kernel: iommu_set_fault_handler. The handler shares the domain's cookie union, so it goes only on a
    /// domain with no cookie yet: a DMA-API domain (dma-iommu's cookie) or a domain that has a handler
    /// already gets a WARN and keeps what it has.
    public static func setFaultHandler(_ d: UnsafeMutablePointer<IOMMUDomain>, _ handler: iommu_fault_handler_t?,
                                       token: UnsafeMutableRawPointer?) {
        let cookie = d.pointee.cookie_type
        guard cookie == IOMMU_COOKIE_NONE else {
            let what = cookie == IOMMU_COOKIE_DMA_IOVA ? "a DMA-API domain (its cookie is dma-iommu's)"
                : cookie == IOMMU_COOKIE_FAULT_HANDLER ? "a domain that has a fault handler already"
                : "a domain with a cookie of type \(cookie.rawValue)"
            Kernel.warn("iommu_set_fault_handler: WARN_ON(domain->cookie_type != IOMMU_COOKIE_NONE): \(what); "
                        + "nothing is changed")
            return
        }
        d.pointee.cookie_type = IOMMU_COOKIE_FAULT_HANDLER
        d.pointee.handler = handler
        d.pointee.handler_token = token
    }

    /// The domain's handler decides: its return value, or -ENOSYS when there is none.
    public static func reportFault(_ d: UnsafeMutablePointer<IOMMUDomain>, dev: UnsafeMutablePointer<Device>?,
                                   iova: UInt64, flags: Int32) -> Int32 {
        DomainState.of(d).faultCount.add(1, ordering: .relaxed)
        if Trace.enabled(.ioPageFault), let dev {
            // IOMMU:%s %s iova=0x%016llx flags=0x%04x (driver, device).
            let flagText = String(flags, radix: 16)
            Trace.emit(.ioPageFault, "IOMMU:\(String(cString: dev_driver_string(dev))) \(String(cString: dev_name(dev))) "
                       + "iova=0x\(Mapping.hex16(iova)) flags=0x" + String(repeating: "0", count: max(0, 4 - flagText.count)) + flagText)
        }
        guard d.pointee.cookie_type == IOMMU_COOKIE_FAULT_HANDLER, let handler = d.pointee.handler else {
            return Errno.noSys.negated
        }
        return handler(d, dev, UInt(iova), flags, d.pointee.handler_token)
    }
}
