// linux/iommu.h: the IOMMU core's C API. Converts, checks arguments once, dispatches to SwiommuIOMMU.
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuPlatform

/// The core, or nil with a WARN naming the call that came while the machine is down.
@inline(__always)
private func core(_ caller: StaticString) -> IOMMUCore? {
    if let c = IOMMUCore.current { return c }
    notBooted(caller)
    return nil
}

/// A usable domain pointer, or nil with a WARN for NULL/ERR_PTR.
@inline(__always)
private func domainArg(_ d: UnsafeMutablePointer<iommu_domain>?, _ caller: StaticString) -> UnsafeMutablePointer<iommu_domain>? {
    guard let d, !isNullOrError(d) else {
        Kernel.warn("\(caller): NULL or ERR_PTR domain")
        return nil
    }
    return d
}

@inline(__always)
private func deviceArg(_ dev: UnsafeMutablePointer<device>?, _ caller: StaticString) -> UnsafeMutablePointer<device>? {
    guard let dev, !isNullOrError(dev) else {
        Kernel.warn("\(caller): NULL or ERR_PTR device")
        return nil
    }
    return dev
}

// MARK: Instances and fwspec

@c(iommu_device_register)
public func abiIOMMUDeviceRegister(_ iommu: UnsafeMutablePointer<iommu_device>?, _ ops: UnsafePointer<iommu_ops>?,
                                   _ hwdev: UnsafeMutablePointer<device>?) -> CInt {
    guard let c = core("iommu_device_register") else { return Errno.noDevice.negated }
    guard let iommu, let ops else {
        Kernel.warn("iommu_device_register: NULL instance or ops")
        return Errno.invalid.negated
    }
    return c.register(iommu, ops: ops, hardware: hwdev)?.negated ?? 0
}

@c(iommu_device_unregister)
public func abiIOMMUDeviceUnregister(_ iommu: UnsafeMutablePointer<iommu_device>?) {
    guard let iommu, let c = core("iommu_device_unregister") else { return }
    c.unregister(iommu)
}

@c(iommu_fwspec_init)
public func abiIOMMUFwspecInit(_ dev: UnsafeMutablePointer<device>?, _ fwnode: UnsafeMutablePointer<fwnode_handle>?) -> CInt {
    guard let c = core("iommu_fwspec_init") else { return Errno.noDevice.negated }
    guard let dev = deviceArg(dev, "iommu_fwspec_init") else { return Errno.invalid.negated }
    return c.fwspecInit(dev, fwnode: fwnode)
}

@c(iommu_fwspec_add_ids)
public func abiIOMMUFwspecAddIDs(_ dev: UnsafeMutablePointer<device>?, _ ids: UnsafePointer<u32>?, _ num: CInt) -> CInt {
    guard let c = core("iommu_fwspec_add_ids") else { return Errno.noDevice.negated }
    guard let dev = deviceArg(dev, "iommu_fwspec_add_ids"), num >= 0, num == 0 || ids != nil else {
        return Errno.invalid.negated
    }
    guard let ids, num > 0 else { return 0 }
    return c.fwspecAddIDs(dev, ids, count: Int(num))
}

@c(iommu_fwspec_free)
public func abiIOMMUFwspecFree(_ dev: UnsafeMutablePointer<device>?) {
    guard let dev, !isNullOrError(dev), let c = IOMMUCore.current else { return }
    c.freeFwspec(dev)
}

// MARK: Domains

@c(iommu_paging_domain_alloc_flags)
public func abiIOMMUPagingDomainAllocFlags(_ dev: UnsafeMutablePointer<device>?, _ flags: CUnsignedInt) -> UnsafeMutablePointer<iommu_domain>? {
    guard let c = core("iommu_paging_domain_alloc") else { return errorPointer(.noDevice) }
    guard let dev = deviceArg(dev, "iommu_paging_domain_alloc") else { return errorPointer(.invalid) }
    switch c.allocatePagingDomain(for: dev, flags: flags) {
    case .success(let d): return d
    case .failure(let e): return errorPointer(e)
    }
}

@c(iommu_domain_alloc)
public func abiIOMMUDomainAlloc(_ bus: UnsafePointer<bus_type>?) -> UnsafeMutablePointer<iommu_domain>? {
    guard let c = core("iommu_domain_alloc"), let m = Machine.current else { return nil }
    for pdev in m.drivers.devices where pdev.pointee.dev.iommu?.pointee.iommu_dev != nil
        && (bus == nil || pdev.pointee.dev.bus == bus) {
        if case .success(let d) = c.allocatePagingDomain(for: pdev.device, flags: 0) { return d }
    }
    return nil
}

@c(iommu_domain_free)
public func abiIOMMUDomainFree(_ d: UnsafeMutablePointer<iommu_domain>?) {
    guard let d = domainArg(d, "iommu_domain_free"), let c = core("iommu_domain_free") else { return }
    c.freeDomain(d)
}

@c(iommu_attach_device)
public func abiIOMMUAttachDevice(_ d: UnsafeMutablePointer<iommu_domain>?, _ dev: UnsafeMutablePointer<device>?) -> CInt {
    guard let c = core("iommu_attach_device") else { return Errno.noDevice.negated }
    guard let d = domainArg(d, "iommu_attach_device"), let dev = deviceArg(dev, "iommu_attach_device") else {
        return Errno.invalid.negated
    }
    return c.attach(d, device: dev)
}

@c(iommu_detach_device)
public func abiIOMMUDetachDevice(_ d: UnsafeMutablePointer<iommu_domain>?, _ dev: UnsafeMutablePointer<device>?) {
    guard let c = core("iommu_detach_device"), let d = domainArg(d, "iommu_detach_device"),
          let dev = deviceArg(dev, "iommu_detach_device") else { return }
    c.detach(d, device: dev)
}

@c(iommu_attach_group)
public func abiIOMMUAttachGroup(_ d: UnsafeMutablePointer<iommu_domain>?, _ g: UnsafeMutablePointer<iommu_group>?) -> CInt {
    guard let c = core("iommu_attach_group") else { return Errno.noDevice.negated }
    guard let d = domainArg(d, "iommu_attach_group"), let group = c.group(g, caller: "iommu_attach_group") else {
        return Errno.invalid.negated
    }
    return c.attach(d, group: group)
}

@c(iommu_detach_group)
public func abiIOMMUDetachGroup(_ d: UnsafeMutablePointer<iommu_domain>?, _ g: UnsafeMutablePointer<iommu_group>?) {
    guard let c = core("iommu_detach_group"), let d = domainArg(d, "iommu_detach_group"),
          let group = c.group(g, caller: "iommu_detach_group") else { return }
    c.detach(d, group: group)
}

@c(iommu_get_domain_for_dev)
public func abiIOMMUGetDomainForDev(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<iommu_domain>? {
    guard let dev, !isNullOrError(dev), let c = IOMMUCore.current else { return nil }
    return c.group(of: dev)?.domain
}

@c(iommu_get_dma_domain)
public func abiIOMMUGetDMADomain(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<iommu_domain>? {
    guard let dev, !isNullOrError(dev), let c = IOMMUCore.current else { return nil }
    return c.group(of: dev)?.defaultDomain
}

// MARK: Mapping: the domain leads to its ops; no core lookup.

@c(iommu_map)
public func abiIOMMUMap(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ paddr: phys_addr_t,
                        _ size: size_t, _ prot: CInt, _ gfp: gfp_t) -> CInt {
    guard let d = domainArg(d, "iommu_map") else { return Errno.invalid.negated }
    return Mapping.map(d, iova: UInt64(iova), paddr: paddr, size: UInt64(UInt(bitPattern: size)), prot: prot, gfp: gfp)
}

@c(iommu_map_nosync)
public func abiIOMMUMapNoSync(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ paddr: phys_addr_t,
                              _ size: size_t, _ prot: CInt, _ gfp: gfp_t) -> CInt {
    guard let d = domainArg(d, "iommu_map_nosync") else { return Errno.invalid.negated }
    return Mapping.mapNoSync(d, iova: UInt64(iova), paddr: paddr, size: UInt64(UInt(bitPattern: size)), prot: prot,
                             gfp: gfp)
}

@c(iommu_sync_map)
public func abiIOMMUSyncMap(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ size: size_t) -> CInt {
    guard let d = domainArg(d, "iommu_sync_map") else { return Errno.invalid.negated }
    return Mapping.syncMap(d, iova: UInt64(iova), size: UInt64(UInt(bitPattern: size)))
}

@c(iommu_unmap)
public func abiIOMMUUnmap(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ size: size_t) -> size_t {
    guard let d = domainArg(d, "iommu_unmap") else { return 0 }
    return size_t(bitPattern: UInt(Mapping.unmap(d, iova: UInt64(iova), size: UInt64(UInt(bitPattern: size)))))
}

@c(iommu_unmap_fast)
public func abiIOMMUUnmapFast(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ size: size_t,
                              _ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> size_t {
    guard let d = domainArg(d, "iommu_unmap_fast") else { return 0 }
    guard let gather else {
        Kernel.warn("iommu_unmap_fast: NULL gather")
        return 0
    }
    let unmapped = Mapping.unmapCore(d, iova: UInt64(iova), size: UInt64(UInt(bitPattern: size)), gather: gather)
    return size_t(bitPattern: UInt(unmapped))
}

@c(iommu_map_sg)
public func abiIOMMUMapSG(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: CUnsignedLong, _ sg: UnsafeMutablePointer<scatterlist>?,
                          _ nents: CUnsignedInt, _ prot: CInt, _ gfp: gfp_t) -> Int {
    guard let d = domainArg(d, "iommu_map_sg") else { return Int(Errno.invalid.negated) }
    guard let sg, !isNullOrError(sg) else {
        Kernel.warn("iommu_map_sg: NULL or ERR_PTR scatterlist")
        return Int(Errno.invalid.negated)
    }
    guard nents > 0 else { return 0 }
    return withMachine("iommu_map_sg", Int(Errno.noDevice.negated)) {
        Mapping.mapSG(d, iova: UInt64(iova), sg, count: Int(nents), prot: prot, gfp: gfp, memory: $0.memory)
    }
}

@c(iommu_set_pgtable_quirks)
public func abiIOMMUSetPgtableQuirks(_ d: UnsafeMutablePointer<iommu_domain>?, _ quirks: CUnsignedLong) -> CInt {
    guard let d = domainArg(d, "iommu_set_pgtable_quirks") else { return Errno.invalid.negated }
    guard d.pointee.type == IOMMU_DOMAIN_UNMANAGED_VALUE, let set = d.pointee.ops?.pointee.set_pgtable_quirks else {
        return Errno.invalid.negated
    }
    return set(d, quirks)
}

@c(iommu_iova_to_phys)
public func abiIOMMUIovaToPhys(_ d: UnsafeMutablePointer<iommu_domain>?, _ iova: dma_addr_t) -> phys_addr_t {
    guard let d = domainArg(d, "iommu_iova_to_phys") else { return 0 }
    return Mapping.iovaToPhys(d, iova)
}

// MARK: Faults and capabilities

@c(iommu_set_fault_handler)
public func abiIOMMUSetFaultHandler(_ d: UnsafeMutablePointer<iommu_domain>?, _ handler: iommu_fault_handler_t?,
                                    _ token: UnsafeMutableRawPointer?) {
    guard let d = domainArg(d, "iommu_set_fault_handler") else { return }
    IOMMUCore.setFaultHandler(d, handler, token: token)
}

@c(report_iommu_fault)
public func abiReportIOMMUFault(_ d: UnsafeMutablePointer<iommu_domain>?, _ dev: UnsafeMutablePointer<device>?,
                                _ iova: CUnsignedLong, _ flags: CInt) -> CInt {
    guard let d = domainArg(d, "report_iommu_fault") else { return Errno.invalid.negated }
    return IOMMUCore.reportFault(d, dev: dev, iova: UInt64(iova), flags: flags)
}

@c(device_iommu_capable)
public func abiDeviceIOMMUCapable(_ dev: UnsafeMutablePointer<device>?, _ cap: iommu_cap) -> Bool {
    guard let dev, !isNullOrError(dev), let ops = dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops,
          let capable = ops.pointee.capable else { return false }
    return capable(dev, cap)
}

// MARK: Groups

@c(iommu_group_alloc)
public func abiIOMMUGroupAlloc() -> UnsafeMutablePointer<iommu_group>? {
    guard let c = core("iommu_group_alloc") else { return UnsafeMutablePointer<iommu_group>(bitPattern: Int(Errno.noDevice.negated)) }
    return c.allocateGroup().opaque
}

@c(iommu_group_get)
public func abiIOMMUGroupGet(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<iommu_group>? {
    guard let dev, !isNullOrError(dev), let c = IOMMUCore.current, let g = c.group(of: dev) else { return nil }
    c.takeReference(g)
    return g.opaque
}

@c(iommu_group_ref_get)
public func abiIOMMUGroupRefGet(_ g: UnsafeMutablePointer<iommu_group>?) -> UnsafeMutablePointer<iommu_group>? {
    guard let c = core("iommu_group_ref_get"), let group = c.group(g, caller: "iommu_group_ref_get") else { return g }
    c.takeReference(group)
    return g
}

@c(iommu_group_put)
public func abiIOMMUGroupPut(_ g: UnsafeMutablePointer<iommu_group>?) {
    guard g != nil, let c = core("iommu_group_put"), let group = c.group(g, caller: "iommu_group_put") else { return }
    c.put(group)
}

@c(iommu_group_add_device)
public func abiIOMMUGroupAddDevice(_ g: UnsafeMutablePointer<iommu_group>?, _ dev: UnsafeMutablePointer<device>?) -> CInt {
    guard let c = core("iommu_group_add_device") else { return Errno.noDevice.negated }
    guard let group = c.group(g, caller: "iommu_group_add_device"), let dev = deviceArg(dev, "iommu_group_add_device") else {
        return Errno.invalid.negated
    }
    return c.add(dev, to: group)?.negated ?? 0
}

@c(iommu_group_remove_device)
public func abiIOMMUGroupRemoveDevice(_ dev: UnsafeMutablePointer<device>?) {
    guard let c = core("iommu_group_remove_device"), let dev = deviceArg(dev, "iommu_group_remove_device") else { return }
    c.removeFromGroup(dev)
}

@c(iommu_group_for_each_dev)
public func abiIOMMUGroupForEachDev(_ g: UnsafeMutablePointer<iommu_group>?, _ data: UnsafeMutableRawPointer?,
                                    _ fn: (@convention(c) (UnsafeMutablePointer<device>?, UnsafeMutableRawPointer?) -> CInt)?) -> CInt {
    guard let c = core("iommu_group_for_each_dev") else { return Errno.noDevice.negated }
    guard let group = c.group(g, caller: "iommu_group_for_each_dev"), let fn else { return Errno.invalid.negated }
    for dev in group.devices {
        let r = fn(dev, data)
        if r != 0 { return r }
    }
    return 0
}

@c(iommu_get_group_resv_regions)
public func abiIOMMUGetGroupResvRegions(_ g: UnsafeMutablePointer<iommu_group>?, _ head: UnsafeMutablePointer<list_head>?) -> CInt {
    guard let c = core("iommu_get_group_resv_regions") else { return Errno.noDevice.negated }
    guard let group = c.group(g, caller: "iommu_get_group_resv_regions"), let head else {
        if head == nil { Kernel.warn("iommu_get_group_resv_regions: NULL list") }
        return Errno.invalid.negated
    }
    return withMachine("iommu_get_group_resv_regions", Errno.noDevice.negated) {
        ResvRegions.getGroup(c.devices(of: group), into: head, memory: $0.memory)?.negated ?? 0
    }
}

@c(iommu_group_has_isolated_msi)
public func abiIOMMUGroupHasIsolatedMSI(_ g: UnsafeMutablePointer<iommu_group>?) -> Bool {
    guard let c = core("iommu_group_has_isolated_msi"), let group = c.group(g, caller: "iommu_group_has_isolated_msi")
    else { return false }
    // msi_device_has_isolated_msi(): no device here has an MSI domain, and arch_is_isolated_msi() is false.
    return c.devices(of: group).isEmpty
}

@c(iommu_group_id)
public func abiIOMMUGroupID(_ g: UnsafeMutablePointer<iommu_group>?) -> CInt {
    guard let c = core("iommu_group_id"), let group = c.group(g, caller: "iommu_group_id") else { return Errno.invalid.negated }
    return group.id
}

@c(iommu_group_set_name)
public func abiIOMMUGroupSetName(_ g: UnsafeMutablePointer<iommu_group>?, _ name: UnsafePointer<CChar>?) -> CInt {
    guard let c = core("iommu_group_set_name"), let group = c.group(g, caller: "iommu_group_set_name") else {
        return Errno.invalid.negated
    }
    group.name = name.map { String(cString: $0) }
    return 0
}

@c(iommu_group_get_iommudata)
public func abiIOMMUGroupGetIOMMUData(_ g: UnsafeMutablePointer<iommu_group>?) -> UnsafeMutableRawPointer? {
    guard let c = core("iommu_group_get_iommudata"), let group = c.group(g, caller: "iommu_group_get_iommudata") else { return nil }
    return c.iommuData(group)
}

@c(iommu_group_set_iommudata)
public func abiIOMMUGroupSetIOMMUData(_ g: UnsafeMutablePointer<iommu_group>?, _ data: UnsafeMutableRawPointer?,
                                      _ release: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) {
    guard let c = core("iommu_group_set_iommudata"), let group = c.group(g, caller: "iommu_group_set_iommudata") else { return }
    c.setIOMMUData(group, data, release: release)
}

@c(iommu_group_default_domain)
public func abiIOMMUGroupDefaultDomain(_ g: UnsafeMutablePointer<iommu_group>?) -> UnsafeMutablePointer<iommu_domain>? {
    guard let c = core("iommu_group_default_domain"), let group = c.group(g, caller: "iommu_group_default_domain") else { return nil }
    return group.defaultDomain
}

@c(generic_device_group)
public func abiGenericDeviceGroup(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<iommu_group>? {
    abiIOMMUGroupAlloc()
}

@c(generic_single_device_group)
public func abiGenericSingleDeviceGroup(_ dev: UnsafeMutablePointer<device>?) -> UnsafeMutablePointer<iommu_group>? {
    guard let c = core("generic_single_device_group") else { return UnsafeMutablePointer<iommu_group>(bitPattern: Int(Errno.noDevice.negated)) }
    guard let dev, !isNullOrError(dev), let inst = dev.pointee.iommu?.pointee.iommu_dev else {
        return UnsafeMutablePointer<iommu_group>(bitPattern: Int(Errno.invalid.negated))
    }
    return c.singletonGroup(of: inst).opaque
}

// MARK: DMA ownership and default-domain settings

@c(iommu_group_claim_dma_owner)
public func abiIOMMUGroupClaimDMAOwner(_ g: UnsafeMutablePointer<iommu_group>?, _ owner: UnsafeMutableRawPointer?) -> CInt {
    guard let c = core("iommu_group_claim_dma_owner") else { return Errno.noDevice.negated }
    guard let group = c.group(g, caller: "iommu_group_claim_dma_owner"), let owner else { return Errno.invalid.negated }
    return c.claimOwnership(group, owner: owner, shared: false)
}

@c(iommu_group_release_dma_owner)
public func abiIOMMUGroupReleaseDMAOwner(_ g: UnsafeMutablePointer<iommu_group>?) {
    guard let c = core("iommu_group_release_dma_owner"), let group = c.group(g, caller: "iommu_group_release_dma_owner") else { return }
    c.releaseOwnership(group, device: false)
}

@c(iommu_device_claim_dma_owner)
public func abiIOMMUDeviceClaimDMAOwner(_ dev: UnsafeMutablePointer<device>?, _ owner: UnsafeMutableRawPointer?) -> CInt {
    guard let c = core("iommu_device_claim_dma_owner") else { return Errno.noDevice.negated }
    guard let dev = deviceArg(dev, "iommu_device_claim_dma_owner") else { return Errno.invalid.negated }
    guard let owner else {
        Kernel.warn("iommu_device_claim_dma_owner: NULL owner")
        return Errno.invalid.negated
    }
    guard let group = c.group(of: dev) else { return Errno.noDevice.negated }
    return c.claimOwnership(group, owner: owner, shared: true)
}

@c(iommu_device_release_dma_owner)
public func abiIOMMUDeviceReleaseDMAOwner(_ dev: UnsafeMutablePointer<device>?) {
    guard let c = core("iommu_device_release_dma_owner"), let dev = deviceArg(dev, "iommu_device_release_dma_owner"),
          let group = c.group(of: dev) else { return }
    c.releaseOwnership(group, device: true)
}

@c(iommu_group_dma_owner_claimed)
public func abiIOMMUGroupDMAOwnerClaimed(_ g: UnsafeMutablePointer<iommu_group>?) -> Bool {
    guard let c = core("iommu_group_dma_owner_claimed"), let group = c.group(g, caller: "iommu_group_dma_owner_claimed") else {
        return false
    }
    return c.isOwned(group)
}

@c(iommu_set_dma_strict)
public func abiIOMMUSetDMAStrict() {
    if let c = IOMMUCore.current { c.settings.strict = true } else { IOMMUCore.pending.strict = true }
}

@c(iommu_set_default_passthrough)
public func abiIOMMUSetDefaultPassthrough(_ cmdLine: Bool) {
    if let c = IOMMUCore.current { c.settings.passthrough = true } else { IOMMUCore.pending.passthrough = true }
}

@c(iommu_set_default_translated)
public func abiIOMMUSetDefaultTranslated(_ cmdLine: Bool) {
    if let c = IOMMUCore.current { c.settings.passthrough = false } else { IOMMUCore.pending.passthrough = false }
}

@c(iommu_default_passthrough)
public func abiIOMMUDefaultPassthrough() -> Bool {
    IOMMUCore.current?.settings.passthrough ?? false
}

// MARK: Reserved regions

@c(iommu_alloc_resv_region)
public func abiIOMMUAllocResvRegion(_ start: phys_addr_t, _ length: size_t, _ prot: CInt, _ type: iommu_resv_type,
                                    _ gfp: gfp_t) -> UnsafeMutablePointer<iommu_resv_region>? {
    withMachine("iommu_alloc_resv_region", nil) {
        ResvRegions.allocate($0.memory, start: start, length: length, prot: prot, type: type)
    }
}

@c(iommu_get_resv_regions)
public func abiIOMMUGetResvRegions(_ dev: UnsafeMutablePointer<device>?, _ list: UnsafeMutablePointer<list_head>?) {
    guard let dev = deviceArg(dev, "iommu_get_resv_regions"), let list else { return }
    ResvRegions.get(dev, into: list)
}

@c(iommu_put_resv_regions)
public func abiIOMMUPutResvRegions(_ dev: UnsafeMutablePointer<device>?, _ list: UnsafeMutablePointer<list_head>?) {
    guard let list else { return }
    withMachine("iommu_put_resv_regions", ()) { ResvRegions.put(dev, list, memory: $0.memory) }
}

@c(of_iommu_get_resv_regions)
public func abiOfIOMMUGetResvRegions(_ dev: UnsafeMutablePointer<device>?, _ list: UnsafeMutablePointer<list_head>?) {
    guard let dev = deviceArg(dev, "of_iommu_get_resv_regions"), let list else { return }
    withMachine("of_iommu_get_resv_regions", ()) { ResvRegions.fromDeviceTree(dev, into: list, memory: $0.memory) }
}

// MARK: swiommu/iommu.h

@c(swiommu_iommu_set_default_domain_policy)
public func abiIOMMUSetDefaultDomainPolicy(_ policy: UnsafePointer<CChar>?) -> CInt {
    let name = policy.map { String(cString: $0) } ?? "(null)"
    guard let p = DefaultDomainPolicy(rawValue: name) else {
        Kernel.log(.error, "swiommu: unknown default-domain policy '\(name)' (per-group, per-instance or global)")
        return Errno.invalid.negated
    }
    if let c = IOMMUCore.current { c.settings.policy = p } else { IOMMUCore.pending.policy = p }
    return 0
}

@c(swiommu_iommu_use_builtin_models)
public func abiIOMMUUseBuiltinModels(_ enable: Bool) -> CInt {
    guard Machine.current == nil else {
        Kernel.log(.error, "swiommu: swiommu_iommu_use_builtin_models: call it before swiommu_init()")
        return Errno.busy.negated
    }
    BuiltinModels.enabled = enable
    return 0
}

private let policyNames: [StaticString] = ["per-group", "per-instance", "global"]

@c(swiommu_iommu_default_domain_policy)
public func abiIOMMUDefaultDomainPolicy() -> UnsafePointer<CChar>? {
    guard let c = IOMMUCore.current else { return nil }
    let s: StaticString = switch c.settings.policy {
    case .perGroup: policyNames[0]
    case .perInstance: policyNames[1]
    case .global: policyNames[2]
    }
    return UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
