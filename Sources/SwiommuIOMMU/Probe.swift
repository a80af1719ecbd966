// Bringing a master under its IOMMU: the fwspec from of_xlate, probe_device, device_group, the default
// domain, and the reverse at release. Kernel: of_iommu_xlate, iommu_fwspec_init/add_ids,
// __iommu_probe_device, iommu_setup_default_domain, iommu_release_device.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

extension IOMMUCore {
    // MARK: fwspec

    /// Kernel: iommu_fwspec_init (6.17: no ops argument). A second call for the same driver's instance is
    /// fine; another driver's is -EINVAL; an instance without a driver defers the caller.
    public func fwspecInit(_ dev: UnsafeMutablePointer<Device>, fwnode: UnsafeMutablePointer<fwnode_handle>?) -> Int32 {
        guard let inst = instance(forFwnode: fwnode) else { return Errno.probeDefer.negated }
        if let spec = dev.pointee.iommu?.pointee.fwspec {
            guard let first = instance(forFwnode: spec.pointee.iommu_fwnode) else { return Errno.invalid.negated }
            return first.pointee.ops == inst.pointee.ops ? 0 : Errno.invalid.negated
        }
        if dev.pointee.iommu == nil {
            guard let di = calloc(1, MemoryLayout<dev_iommu>.stride) else { return Errno.noMemory.negated }
            dev.pointee.iommu = di.assumingMemoryBound(to: dev_iommu.self)
        }
        guard let spec = calloc(1, MemoryLayout<iommu_fwspec>.stride) else { return Errno.noMemory.negated }
        let fwspec = spec.assumingMemoryBound(to: iommu_fwspec.self)
        fwspec.pointee.iommu_fwnode = fwnode
        dev.pointee.iommu!.pointee.fwspec = fwspec
        return 0
    }

    /// Kernel: iommu_fwspec_add_ids. -EINVAL without a fwspec, -ENOMEM beyond SWIOMMU_FWSPEC_MAX_IDS.
    public func fwspecAddIDs(_ dev: UnsafeMutablePointer<Device>, _ ids: UnsafePointer<UInt32>, count: Int) -> Int32 {
        guard let spec = dev.pointee.iommu?.pointee.fwspec else { return Errno.invalid.negated }
        guard Int(spec.pointee.num_ids) + count <= Int(SWIOMMU_FWSPEC_MAX_IDS) else {
            Kernel.warn("iommu_fwspec_add_ids: more than \(SWIOMMU_FWSPEC_MAX_IDS) IDs for \(String(cString: dev_name(dev)))")
            return Errno.noMemory.negated
        }
        withUnsafeMutableBytes(of: &spec.pointee.ids) { raw in
            for i in 0..<count { raw.storeBytes(of: ids[i], toByteOffset: (Int(spec.pointee.num_ids) + i) * 4, as: UInt32.self) }
        }
        spec.pointee.num_ids += UInt32(count)
        return 0
    }

    /// Kernel: iommu_fwspec_free.
    public func freeFwspec(_ dev: UnsafeMutablePointer<Device>) {
        guard let di = dev.pointee.iommu, let spec = di.pointee.fwspec else { return }
        di.pointee.fwspec = nil
        free(spec)
    }

    /// Kernel: dev_iommu_free.
    public func freeDevIOMMU(_ dev: UnsafeMutablePointer<Device>) {
        guard let di = dev.pointee.iommu else { return }
        if let spec = di.pointee.fwspec { free(spec) }
        BuiltinModels.releasePrivate(di.pointee.priv)
        free(di)
        dev.pointee.iommu = nil
    }

    // MARK: Probe

    /// Kernel: of_iommu_configure's xlate loop, then __iommu_probe_device. 0 when the device sits in a group
    /// on its default domain; otherwise everything is undone and the errno returned.
    func probe(_ dev: UnsafeMutablePointer<Device>) -> Int32 {
        lock.withLock {
            if dev.pointee.iommu?.pointee.iommu_dev != nil { return 0 }
            let state = DeviceState.of(dev)
            var ops: UnsafePointer<IOMMUOps>?
            var first: UnsafeMutablePointer<IOMMUDevice>?
            for ch in state.channels {
                guard let node = ch.iommu, let inst = instance(for: node) else { continue }
                // A further instance joins the master only where its driver takes such masters (exynos,
                // DART); otherwise its channels are a route of their own (swiommu's channel extension).
                if let f = first, f != inst, !BuiltinModels.takesMultiInstanceMasters(inst) { continue }
                first = first ?? inst
                var ret = fwspecInit(dev, fwnode: inst.pointee.fwnode)
                if ret == 0 {
                    ops = inst.pointee.ops
                    var args = of_phandle_args()
                    args.np = node
                    args.args_count = Int32(min(ch.ids.count, Int(MAX_PHANDLE_ARGS)))
                    withUnsafeMutableBytes(of: &args.args) { raw in
                        for (i, id) in ch.ids.prefix(Int(MAX_PHANDLE_ARGS)).enumerated() {
                            raw.storeBytes(of: id, toByteOffset: i * 4, as: UInt32.self)
                        }
                    }
                    if let xlate = inst.pointee.ops.pointee.of_xlate { ret = xlate(dev, &args) } else { ret = Errno.noDevice.negated }
                }
                if ret != 0 {
                    freeDevIOMMU(dev)
                    return ret
                }
            }
            guard let ops, let probeDevice = ops.pointee.probe_device, let deviceGroup = ops.pointee.device_group else {
                freeDevIOMMU(dev)
                return Errno.noDevice.negated
            }
            let iommuDev = probeDevice(dev)
            if let e = errorOf(UnsafeRawPointer(iommuDev)) {
                freeDevIOMMU(dev)
                return e
            }
            dev.pointee.iommu!.pointee.iommu_dev = iommuDev
            let gp = deviceGroup(dev)
            guard let gp, errorOf(UnsafeRawPointer(gp)) == nil, let g = groups.first(where: { $0.opaque == gp }) else {
                let e = gp.flatMap { errorOf(UnsafeRawPointer($0)) } ?? Errno.noDevice.negated
                if gp == nil { Kernel.warn("device_group returned NULL for \(String(cString: dev_name(dev)))") }
                ops.pointee.release_device?(dev)
                freeDevIOMMU(dev)
                return e
            }
            _ = add(dev, to: g)
            put(g)   // device_group's reference
            // __iommu_probe_device: a device joining a group gets its direct mappings in the default domain,
            // then the group's current domain. A new group's default domain waits, during an instance's bus
            // probe, until every master has joined (bus_iommu_probe's group_list), so that it is chosen for
            // the whole group.
            if let def = g.defaultDomain { mapDirectRegions(def, dev) }
            if let d = g.domain {
                let ret = setDeviceDomain(g, dev, d, mustSucceed: false)
                if ret != 0 {
                    release(dev)
                    return ret
                }
            } else if deferredGroups != nil {
                if !deferredGroups!.contains(where: { $0 === g }) { deferredGroups!.append(g) }
                return 0
            } else {
                let ret = setUpDefaultDomain(g)
                if ret != 0 {
                    release(dev)
                    return ret
                }
            }
            ops.pointee.probe_finalize?(dev)
            if state.routeOwner == nil { probeRoutes(dev, state: state) }
            return 0
        }
    }

    /// bus_iommu_probe's second half: each group whose masters joined during the bus probe gets its default
    /// domain, then probe_finalize for its devices. A group whose domain cannot be set up loses its devices.
    func setUpDeferredGroups(_ pending: [IOMMUGroup]) {
        for g in pending where g.domain == nil && !g.devices.isEmpty {
            let ret = setUpDefaultDomain(g)
            let devices = g.devices
            for dev in devices {
                guard ret == 0 else {
                    devPrintk(.error, dev, "Failed to set up the default domain of iommu group \(g.id): \(ret)")
                    release(dev)
                    DeviceState.of(dev).iommuLink = .noDriver
                    continue
                }
                dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops?.pointee.probe_finalize?(dev)
                let state = DeviceState.of(dev)
                if state.routeOwner == nil { probeRoutes(dev, state: state) }
            }
        }
    }

    /// NULL/ERR_PTR check: the errno of an ERR_PTR, nil for a real pointer.
    func errorOf(_ p: UnsafeRawPointer?) -> Int32? {
        guard let p else { return nil }
        let v = Int(bitPattern: p)
        return v < 0 && v >= -4095 ? Int32(v) : nil
    }

    /// Kernel: iommu_release_device: off the group, release_device, free the per-device data.
    func release(_ dev: UnsafeMutablePointer<Device>) {
        swiommu_glue_route_generation_bump()
        defer { swiommu_glue_route_generation_bump() }
        lock.withLock {
            releaseRoutes(dev)
            guard let di = dev.pointee.iommu else { return }
            if di.pointee.iommu_dev != nil, let ops = di.pointee.iommu_dev.pointee.ops {
                // iommu_deinit_device: the driver's release_domain goes on first, so the idle device
                // translates as the driver chose; then release_device.
                if let rd = ops.pointee.release_domain, group(of: dev) != nil { _ = rd.pointee.ops?.pointee.attach_dev?(rd, dev) }
                ops.pointee.release_device?(dev)
            }
            remove(dev)
            freeDevIOMMU(dev)
        }
    }

    // MARK: Default domains. Kernel: iommu_get_default_domain_type, iommu_setup_default_domain.

    /// The global default for a device: passthrough or translated, strict or lazy (lazy only where the
    /// instance advertises IOMMU_CAP_DEFERRED_FLUSH). Kernel: iommu_def_domain_type.
    func globalDefaultType(for dev: UnsafeMutablePointer<Device>, ops: UnsafePointer<IOMMUOps>) -> UInt32 {
        if settings.passthrough { return IOMMU_DOMAIN_IDENTITY_VALUE }
        let lazyOK = ops.pointee.capable?(dev, IOMMU_CAP_DEFERRED_FLUSH) ?? false
        return !settings.strict && lazyOK ? IOMMU_DOMAIN_DMA_FQ_VALUE : IOMMU_DOMAIN_DMA_VALUE
    }

    /// Kernel: iommu_get_default_domain_type with iommu_get_def_domain_type: what the driver asks for the whole
    /// group (a legacy static default_domain's type, else each device's def_domain_type), 0 for no opinion.
    /// Devices that disagree get the kernel's error line; IDENTITY wins.
    func driverDefaultType(for g: IOMMUGroup) -> UInt32 {
        var type: UInt32 = 0
        for dev in g.devices {
            guard let ops = dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops else { continue }
            let t: UInt32
            if let legacy = ops.pointee.default_domain {
                t = legacy.pointee.type
            } else if let f = ops.pointee.def_domain_type {
                t = UInt32(bitPattern: f(dev))
            } else {
                continue
            }
            if t == 0 || t == type { continue }
            if type == 0 {
                type = t
                continue
            }
            devPrintk(.error, dev, "IOMMU driver error, requesting conflicting def_domain_type, "
                      + "\(Self.domainTypeString(type)) and \(Self.domainTypeString(t)), for devices in group \(g.id).")
            if t == IOMMU_DOMAIN_IDENTITY_VALUE { type = t }
        }
        return type
    }

    /// Kernel: iommu_domain_type_str.
    static func domainTypeString(_ t: UInt32) -> String {
        switch t {
        case IOMMU_DOMAIN_BLOCKED_VALUE: "Blocked"
        case IOMMU_DOMAIN_IDENTITY_VALUE: "Passthrough"
        case IOMMU_DOMAIN_UNMANAGED_VALUE: "Unmanaged"
        case IOMMU_DOMAIN_DMA_VALUE, IOMMU_DOMAIN_DMA_FQ_VALUE: "Translated"
        case IOMMU_DOMAIN_PLATFORM_VALUE: "Platform"
        default: "Unknown"
        }
    }

    /// Kernel: iommu_setup_default_domain for a group without a domain: the type the drivers ask for (else the
    /// global default, falling back to DMA), the driver's legacy static default_domain if it has one, the
    /// direct regions of every device mapped before the devices are attached.
    func setUpDefaultDomain(_ g: IOMMUGroup) -> Int32 {
        guard let first = g.devices.first, let ops = first.pointee.iommu?.pointee.iommu_dev?.pointee.ops else {
            return Errno.noDevice.negated
        }
        let driverType = driverDefaultType(for: g)
        if driverType == 0, settings.policy != .perGroup, let shared = shareableDefaultDomain(for: first, ops: ops) {
            var ret: Int32 = 0
            for dev in g.devices where ret == 0 { ret = attachOne(shared, dev) }
            if ret == 0 {
                g.defaultDomain = shared
                g.domain = shared
                let state = DomainState.of(shared)
                state.defaultUsers += 1
                state.attachedGroups += 1
                return 0
            }
            Kernel.log(.warning, "swiommu: group \(g.id): the driver refuses the \(settings.policy.rawValue) default domain "
                       + "(\(ret)); the group gets its own")
        }
        var domain: UnsafeMutablePointer<IOMMUDomain>?
        if let legacy = ops.pointee.default_domain {
            // iommu_group_alloc_default_domain: legacy drivers name the domain (IDENTITY, BLOCKED or PLATFORM).
            domain = legacy
            if legacy.pointee.owner == nil { legacy.pointee.owner = ops }
        } else {
            var type = driverType != 0 ? driverType : globalDefaultType(for: first, ops: ops)
            domain = allocateDomain(type: type, dev: first, ops: ops)
            if domain == nil && driverType == 0 && type != IOMMU_DOMAIN_DMA_VALUE {
                Kernel.log(.warning, "iommu: Failed to allocate default IOMMU domain of type \(type) for group \(g.id) - Falling back to IOMMU_DOMAIN_DMA")
                type = IOMMU_DOMAIN_DMA_VALUE
                domain = allocateDomain(type: type, dev: first, ops: ops)
            }
        }
        guard let domain else { return Errno.noMemory.negated }
        // The direct regions are mapped before the devices are attached, for the continuity of what firmware
        // set going; a driver that cannot map before attach gets a second try.
        var directFailed = false
        for dev in g.devices where mapDirectRegions(domain, dev) != 0 {
            directFailed = true
            devPrintk(.warning, dev, "IOMMU driver was not able to establish FW requested direct mapping.")
        }
        for (k, dev) in g.devices.enumerated() {
            let ret = attachOne(domain, dev)
            guard ret != 0 else { continue }
            Kernel.warn("iommu: group \(g.id): \(String(cString: dev_name(dev))) refuses its first default domain (\(ret))")
            if let blocked = ops.pointee.blocked_domain {
                for back in g.devices[..<k] { _ = attachOne(blocked, back) }
            }
            if !isStatic(domain, ops) { DomainState.drop(domain); domain.pointee.ops?.pointee.free?(domain) }
            return ret
        }
        g.defaultDomain = domain
        g.domain = domain
        DomainState.of(domain).attachedGroups += 1
        DomainState.of(domain).defaultUsers += 1
        if directFailed {
            for dev in g.devices {
                let ret = mapDirectRegions(domain, dev)
                if ret != 0 { return ret }
            }
        }
        return 0
    }

    /// A driver's static domain (identity, blocked, release or legacy default), never freed by the core.
    func isStatic(_ d: UnsafeMutablePointer<IOMMUDomain>, _ ops: UnsafePointer<IOMMUOps>) -> Bool {
        d == ops.pointee.identity_domain || d == ops.pointee.blocked_domain || d == ops.pointee.release_domain
            || d == ops.pointee.default_domain
    }

    /// Under the per-instance policy, the default domain of another group on the same instance; under the
    /// global policy, any default domain of the same driver. (swiommu extensions: the kernel gives every
    /// group its own.)
    private func shareableDefaultDomain(for dev: UnsafeMutablePointer<Device>,
                                        ops: UnsafePointer<IOMMUOps>) -> UnsafeMutablePointer<IOMMUDomain>? {
        let instance = dev.pointee.iommu?.pointee.iommu_dev
        for g in groups {
            guard let d = g.defaultDomain, d.pointee.owner == ops, d.pointee.type & domainPagingBit != 0,
                  let other = g.devices.first else { continue }
            if settings.policy == .global || other.pointee.iommu?.pointee.iommu_dev == instance { return d }
        }
        return nil
    }

    /// A domain of `type` from the driver: a paging domain (UNMANAGED, DMA, DMA_FQ) or its identity one.
    func allocateDomain(type: UInt32, dev: UnsafeMutablePointer<Device>, ops: UnsafePointer<IOMMUOps>) -> UnsafeMutablePointer<IOMMUDomain>? {
        var d: UnsafeMutablePointer<IOMMUDomain>?
        if type == IOMMU_DOMAIN_IDENTITY_VALUE {
            d = ops.pointee.identity_domain ?? ops.pointee.domain_alloc_identity?(dev)
        } else if let alloc = ops.pointee.domain_alloc_paging {
            d = alloc(dev)
        } else if let alloc = ops.pointee.domain_alloc_paging_flags {
            d = alloc(dev, 0, nil)
        }
        guard let d, errorOf(UnsafeRawPointer(d)) == nil else { return nil }
        d.pointee.type = type
        d.pointee.owner = ops
        if d.pointee.ops == nil { d.pointee.ops = ops.pointee.default_domain_ops }
        // iommu_setup_default_domain: a DMA-API domain gets dma-iommu's cookie (iommu_get_dma_cookie).
        if type & domainDMABit != 0 { d.pointee.cookie_type = IOMMU_COOKIE_DMA_IOVA }
        return d
    }

    /// Kernel: iommu_create_device_direct_mappings. An IOMMU_RESV_DIRECT region marks the device as needing
    /// its 1:1 mappings (whatever the domain); in a DMA-API domain each run of unmapped pages of a direct region
    /// (its ends rounded up to the smallest page size, as ALIGN does) is mapped 1:1 by one iommu_map. Returns 0
    /// or the first iommu_map error.
    @discardableResult
    func mapDirectRegions(_ domain: UnsafeMutablePointer<IOMMUDomain>, _ dev: UnsafeMutablePointer<Device>) -> Int32 {
        let bitmap = UInt64(domain.pointee.pgsize_bitmap)
        let pageSize = bitmap & (0 &- bitmap)
        let dmaDomain = domain.pointee.type & domainDMABit != 0
        if dmaDomain && pageSize == 0 {
            Kernel.warn("iommu: a DMA domain without page sizes")
            return Errno.invalid.negated
        }
        return ResvRegions.withList { head in
            ResvRegions.get(dev, into: head)
            defer { ResvRegions.put(dev, head, memory: machine.memory) }
            return mapDirectRuns(domain, dev, ResvRegions.regions(in: head), pageSize: pageSize, dmaDomain: dmaDomain)
        }
    }

    /// mapDirectRegions' loop over one device's regions: require_direct, and the 1:1 runs.
    private func mapDirectRuns(_ domain: UnsafeMutablePointer<IOMMUDomain>, _ dev: UnsafeMutablePointer<Device>,
                                  _ regions: [UnsafeMutablePointer<iommu_resv_region>], pageSize: UInt64,
                                  dmaDomain: Bool) -> Int32 {
        for r in regions {
            if r.pointee.type == IOMMU_RESV_DIRECT { dev.pointee.iommu?.pointee.require_direct = 1 }
            guard r.pointee.type == IOMMU_RESV_DIRECT || r.pointee.type == IOMMU_RESV_DIRECT_RELAXABLE,
                  dmaDomain else { continue }
            let start = (r.pointee.start &+ pageSize &- 1) & ~(pageSize &- 1)
            let end = (r.pointee.start &+ UInt64(r.pointee.length) &+ pageSize &- 1) & ~(pageSize &- 1)
            var run: UInt64 = 0
            var addr = start
            while addr <= end {
                if addr != end && Mapping.iovaToPhys(domain, addr) == 0 {
                    run &+= pageSize
                } else if run != 0 {
                    let ret = Mapping.map(domain, iova: addr &- run, paddr: addr &- run, size: run, prot: r.pointee.prot,
                                          gfp: 0x400 | 0x800 | 0x40 | 0x80)  // GFP_KERNEL
                    if ret != 0 { return ret }
                    run = 0
                }
                addr &+= pageSize
            }
        }
        return 0
    }

    /// One device onto a domain through the driver's attach_dev.
    func attachOne(_ d: UnsafeMutablePointer<IOMMUDomain>, _ dev: UnsafeMutablePointer<Device>) -> Int32 {
        guard let attach = d.pointee.ops?.pointee.attach_dev else { return Errno.noDevice.negated }
        // The "attach" fault-injection point: the driver finds no context, as arm-smmu's -ENOSPC.
        if FaultInjection.shouldFail(.attach) { return Errno.noSpace.negated }
        defer { swiommu_glue_route_generation_bump() }
        let ret = attach(d, dev)
        if ret == 0 && Trace.enabled(.attachDeviceToDomain) {
            Trace.emit(.attachDeviceToDomain, "IOMMU: device=\(String(cString: dev_name(dev)))")
        }
        return ret
    }
}
