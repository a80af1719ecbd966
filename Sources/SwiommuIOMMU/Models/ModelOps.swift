// The C face of the built-in models: one `struct iommu_ops` per model (its identity as a driver: a domain
// of one model never attaches to another's masters), shared `struct iommu_domain_ops`, and the platform
// drivers that bind the models to their compatibles. The IOMMU core calls these exactly as it calls a
// driver written in C.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

/// The built-in models, their ops tables and live instances.
public enum BuiltinModels {
    /// Every model, in the order their drivers register.
    static let models: [BuiltinIOMMU.Type] = [
        SMMUv3.self, ARMSMMU.self, IPMMUVMSA.self, ExynosSysMMUModel.self, RockchipIOMMUModel.self, AppleDARTModel.self,
    ]

    /// Whether swiommu_init binds the built-in models (an API switch for tests of the no-driver paths).
    nonisolated(unsafe) public static var enabled = true

    nonisolated(unsafe) static var instances: [BuiltinIOMMU] = []
    nonisolated(unsafe) static var masters: [UnsafeMutableRawPointer] = []
    nonisolated(unsafe) private static var drivers: [UnsafeMutablePointer<PlatformDriver>] = []
    nonisolated(unsafe) private static var opsTables: [ObjectIdentifier: UnsafeMutablePointer<IOMMUOps>] = [:]

    /// The ops of `model` (made once per process).
    static func ops(for model: BuiltinIOMMU.Type) -> UnsafeMutablePointer<IOMMUOps> {
        if let o = opsTables[ObjectIdentifier(model)] { return o }
        let o = UnsafeMutablePointer<IOMMUOps>.allocate(capacity: 1)
        o.initialize(to: IOMMUOps())
        o.pointee.capable = { dev, cap in
            guard let dev, let inst = MasterConfig.of(dev)?.first else { return false }
            switch cap {
            case IOMMU_CAP_CACHE_COHERENCY: return inst.coherentWalk
            case IOMMU_CAP_NOEXEC: return true
            case IOMMU_CAP_DEFERRED_FLUSH: return inst.deferredFlush
            default: return false
            }
        }
        o.pointee.domain_alloc_paging = { dev in
            guard let dev, let inst = MasterConfig.of(dev)?.first else {
                return UnsafeMutablePointer(bitPattern: Int(Errno.noDevice.negated))
            }
            return inst.allocateDomain(for: dev)
        }
        o.pointee.probe_device = { dev in
            guard let dev, let inst = MasterConfig.of(dev)?.first else {
                return UnsafeMutablePointer(bitPattern: Int(Errno.noDevice.negated))
            }
            return inst.iommu
        }
        o.pointee.release_device = { dev in
            guard let dev, let master = MasterConfig.of(dev) else { return }
            master.domain?.detach(master)
            for port in master.ports { port.instance.forget(master: master) }
            BuiltinModels.releaseMaster(dev.pointee.iommu!.pointee.priv!)
            dev.pointee.iommu!.pointee.priv = nil
        }
        o.pointee.device_group = { dev in
            guard let dev, let master = MasterConfig.of(dev), let inst = master.first, let core = IOMMUCore.current else {
                return UnsafeMutablePointer(bitPattern: Int(Errno.noDevice.negated))
            }
            switch inst.deviceGroup(dev, master: master, core: core) {
            case .success(let g): return g.opaque
            case .failure(let e): return UnsafeMutablePointer(bitPattern: Int(e.negated))
            }
        }
        o.pointee.get_resv_regions = { dev, head in
            guard let dev, let head, let m = Machine.current else { return }
            ResvRegions.fromDeviceTree(dev, into: head, memory: m.memory)
        }
        o.pointee.of_xlate = { dev, args in
            guard let dev, let args, let np = args.pointee.np,
                  let inst = BuiltinModels.instances.first(where: { $0.node == np }) else { return Errno.noDevice.negated }
            let cells = withUnsafeBytes(of: args.pointee.args) { raw in
                (0..<Int(max(0, min(args.pointee.args_count, MAX_PHANDLE_ARGS)))).map {
                    raw.load(fromByteOffset: $0 * 4, as: UInt32.self)
                }
            }
            let ids: [UInt32]
            switch inst.xlate(cells) {
            case .success(let v): ids = v
            case .failure(let e):
                inst.log(.error, "\(String(cString: dev_name(dev))): bad iommus specifier of \(cells.count) cell(s)")
                return e.negated
            }
            let master: MasterConfig
            if let m = MasterConfig.of(dev) {
                master = m
            } else {
                master = MasterConfig()
                let raw = Unmanaged.passRetained(master).toOpaque()
                BuiltinModels.masters.append(raw)
                dev.pointee.iommu!.pointee.priv = raw
            }
            if let i = master.ports.firstIndex(where: { $0.instance === inst }) {
                master.ports[i].ids.append(contentsOf: ids)
            } else {
                master.ports.append(MasterConfig.Port(instance: inst, ids: ids))
            }
            var ret: Int32 = 0
            if !ids.isEmpty, let core = IOMMUCore.current {
                ret = ids.withUnsafeBufferPointer { core.fwspecAddIDs(dev, $0.baseAddress!, count: $0.count) }
            }
            return ret
        }
        o.pointee.def_domain_type = { dev in
            guard let dev, let inst = MasterConfig.of(dev)?.first else { return 0 }
            return Int32(bitPattern: inst.defaultDomainType(dev))
        }
        o.pointee.default_domain_ops = UnsafePointer(domainOps)
        o.pointee.identity_domain = staticDomain(IOMMU_DOMAIN_IDENTITY_VALUE, owner: o)
        o.pointee.blocked_domain = staticDomain(IOMMU_DOMAIN_BLOCKED_VALUE, owner: o)
        opsTables[ObjectIdentifier(model)] = o
        return o
    }

    /// An identity or blocked domain: attaching it takes the master's ports off their paging domain.
    private static func staticDomain(_ type: UInt32, owner: UnsafeMutablePointer<IOMMUOps>) -> UnsafeMutablePointer<IOMMUDomain> {
        let d = UnsafeMutablePointer<IOMMUDomain>.allocate(capacity: 1)
        d.initialize(to: IOMMUDomain())
        d.pointee.type = type
        d.pointee.owner = UnsafePointer(owner)
        d.pointee.ops = UnsafePointer(staticDomainOps)
        return d
    }

    nonisolated(unsafe) static let staticDomainOps: UnsafeMutablePointer<iommu_domain_ops> = {
        let o = UnsafeMutablePointer<iommu_domain_ops>.allocate(capacity: 1)
        o.initialize(to: iommu_domain_ops())
        o.pointee.attach_dev = { _, dev in
            guard let dev, let master = MasterConfig.of(dev) else { return Errno.noDevice.negated }
            master.domain?.detach(master)
            for port in master.ports {
                port.instance.lock.withLock { port.instance.enabledStreams.subtract(port.ids) }
            }
            return 0
        }
        return o
    }()

    /// The ops of every paging domain of every model.
    nonisolated(unsafe) static let domainOps: UnsafeMutablePointer<iommu_domain_ops> = {
        let o = UnsafeMutablePointer<iommu_domain_ops>.allocate(capacity: 1)
        o.initialize(to: iommu_domain_ops())
        o.pointee.attach_dev = { d, dev in
            guard let d, let dev, let master = MasterConfig.of(dev) else { return Errno.noDevice.negated }
            return ModelDomain.from(d).attach(master, dev: dev)
        }
        o.pointee.map_pages = { d, iova, paddr, pgsize, pgcount, prot, gfp, mapped in
            var local = 0
            let out = mapped ?? withUnsafeMutablePointer(to: &local) { $0 }
            return ModelDomain.from(d!).map(iova: UInt64(iova), paddr: paddr, pageSize: UInt64(pgsize), count: pgcount,
                                            prot: prot, gfp: gfp, mapped: out)
        }
        o.pointee.unmap_pages = { d, iova, pgsize, pgcount, gather in
            ModelDomain.from(d!).unmap(iova: UInt64(iova), pageSize: UInt64(pgsize), count: pgcount, gather: gather)
        }
        o.pointee.flush_iotlb_all = { d in ModelDomain.from(d!).flushAll() }
        o.pointee.iotlb_sync = { d, gather in ModelDomain.from(d!).sync(gather) }
        o.pointee.iova_to_phys = { d, iova in ModelDomain.from(d!).iovaToPhys(iova) }
        o.pointee.free = { d in ModelDomain.from(d!).free() }
        return o
    }()

    /// Whether `d` is a paging domain of a built-in model.
    @inline(__always)
    static func isModelDomain(_ d: UnsafeMutablePointer<IOMMUDomain>) -> Bool {
        d.pointee.ops == UnsafePointer(domainOps)
    }

    static func releaseMaster(_ raw: UnsafeMutableRawPointer) {
        guard let i = masters.firstIndex(of: raw) else { return }
        masters.remove(at: i)
        Unmanaged<MasterConfig>.fromOpaque(raw).release()
    }

    /// The core frees `dev->iommu` after a failed probe: drop a master config of ours left in it.
    static func releasePrivate(_ raw: UnsafeMutableRawPointer?) {
        if let raw { releaseMaster(raw) }
    }

    // MARK: Platform drivers

    /// Register the models' platform drivers: after the initcalls, so that a C driver registered for the
    /// same compatible has bound its devices first.
    static func registerDrivers(machine: Machine) {
        guard enabled else { return }
        for model in models {
            let drv = UnsafeMutablePointer<PlatformDriver>.allocate(capacity: 1)
            drv.initialize(to: PlatformDriver())
            drv.pointee.driver.name = UnsafePointer(strdup(model.driverName))
            let compatibles = model.compatibles
            let table = UnsafeMutablePointer<of_device_id>.allocate(capacity: compatibles.count + 1)
            table.initialize(repeating: of_device_id(), count: compatibles.count + 1)
            for (i, c) in compatibles.enumerated() {
                withUnsafeMutableBytes(of: &table[i].compatible) { raw in
                    let bytes = Array(c.utf8.prefix(raw.count - 1))
                    raw.copyBytes(from: bytes)
                }
            }
            drv.pointee.driver.of_match_table = UnsafePointer(table)
            drv.pointee.probe = { pdev in BuiltinModels.probe(pdev!) }
            drv.pointee.remove = { pdev in BuiltinModels.remove(pdev!) }
            if let e = machine.drivers.registerDriver(drv) {
                Kernel.log(.error, "swiommu: built-in \(model.driverName) driver not registered: \(e)")
            }
            drivers.append(drv)
        }
    }

    /// Whether the built-in driver of `inst` (if any) lets a master sit behind several of its instances.
    static func takesMultiInstanceMasters(_ inst: UnsafeMutablePointer<IOMMUDevice>) -> Bool {
        guard let i = instances.first(where: { $0.iommu == inst }) else { return false }
        return type(of: i).multiInstanceMasters
    }

    /// Free the drivers at shutdown (the machine has unregistered them with every other driver).
    static func shutdown() {
        for drv in drivers {
            free(UnsafeMutableRawPointer(mutating: drv.pointee.driver.name))
            UnsafeMutablePointer(mutating: drv.pointee.driver.of_match_table)?.deallocate()
            drv.deallocate()
        }
        drivers.removeAll()
        for raw in masters { Unmanaged<MasterConfig>.fromOpaque(raw).release() }
        masters.removeAll()
        instances.removeAll()
    }

    private static func model(for dev: UnsafeMutablePointer<Device>) -> BuiltinIOMMU.Type? {
        guard let drv = dev.pointee.driver, let name = drv.pointee.name else { return nil }
        let n = String(cString: name)
        return models.first { $0.driverName == n }
    }

    private static func probe(_ pdev: UnsafeMutablePointer<PlatformDevice>) -> Int32 {
        let dev = pdev.device
        guard let machine = Machine.current, let core = IOMMUCore.current, let node = dev.pointee.of_node,
              let model = model(for: dev) else { return Errno.noDevice.negated }
        let inst: BuiltinIOMMU
        switch model.make(device: dev, node: node, machine: machine) {
        case .success(let i): inst = i
        case .failure(let e): return e.negated
        }
        instances.append(inst)
        if let e = core.register(inst.iommu, ops: ops(for: model), hardware: dev) {
            instances.removeAll { $0 === inst }
            return e.negated
        }
        inst.didRegister()
        return 0
    }

    private static func remove(_ pdev: UnsafeMutablePointer<PlatformDevice>) {
        let dev = pdev.device
        guard let i = instances.firstIndex(where: { $0.device == dev }) else { return }
        let inst = instances[i]
        IOMMUCore.current?.unregister(inst.iommu)
        inst.willRemove()
        instances.remove(at: i)
    }
}
