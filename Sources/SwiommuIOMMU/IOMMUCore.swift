// The IOMMU core of a machine: registered instances, groups, default domains, the attach rules and DMA
// ownership. Kernel: drivers/iommu/iommu.c. Map and unmap (Mapping.swift) need none of this: they go from
// the domain to its ops directly.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuPlatform

public typealias IOMMUDomain = CKernel.iommu_domain
public typealias IOMMUOps = CKernel.iommu_ops
public typealias IOMMUDevice = CKernel.iommu_device

/// Default-domain settings. Kernel: iommu_def_domain_type, iommu_dma_strict and their command line.
public struct DefaultDomainSettings: Sendable {
    public var passthrough = false
    public var strict = true
    /// One default domain per group (the kernel's), per IOMMU instance, or one for all (extensions).
    public var policy: DefaultDomainPolicy = .perGroup
}

/// Settings made while the machine is down, for the next boot (as the kernel's command line and the
/// early iommu_set_* calls are): they override the board's /chosen.
public struct PendingDomainSettings: Sendable {
    public var passthrough: Bool?
    public var strict: Bool?
    public var policy: DefaultDomainPolicy?
    public init() {}
}

public final class IOMMUCore: @unchecked Sendable {
    /// The core of the machine that is up (set at boot through Machine.bootHooks, cleared at shutdown).
    nonisolated(unsafe) public static var current: IOMMUCore?
    /// What the next boot starts with (settings made while no machine is up).
    nonisolated(unsafe) public static var pending = PendingDomainSettings()

    unowned let machine: Machine
    let lock = RecursiveLock()
    /// Registered instances, in registration order.
    public private(set) var instances: [UnsafeMutablePointer<IOMMUDevice>] = []
    var groups: [IOMMUGroup] = []
    var nextGroupID: Int32 = 0
    /// During an instance's bus probe: the new groups whose default domain waits until every master behind
    /// the instance has joined (bus_iommu_probe's group_list); nil otherwise.
    var deferredGroups: [IOMMUGroup]?
    public var settings = DefaultDomainSettings()

    init(machine: Machine) {
        self.machine = machine
        settings.passthrough = machine.board.options.passthrough
        settings.strict = machine.board.options.strict
        settings.policy = machine.board.options.policy
        if let v = IOMMUCore.pending.passthrough { settings.passthrough = v }
        if let v = IOMMUCore.pending.strict { settings.strict = v }
        if let v = IOMMUCore.pending.policy { settings.policy = v }
        machine.iommuDriverBound = { [unowned self] node in self.instance(for: node) != nil }
        machine.iommuProbe = { [unowned self] dev in self.probe(dev) }
        machine.drivers.useDefaultDomain = { [unowned self] dev in self.useDefaultDomain(dev) }
        machine.drivers.unuseDefaultDomain = { [unowned self] dev in self.unuseDefaultDomain(dev) }
        machine.drivers.deviceRemoved = { [unowned self] dev in self.release(dev) }
    }

    /// Attach a core to every machine that boots from now on.
    public static func install() {
        if installed { return }
        installed = true
        Machine.bootHooks.append { machine in IOMMUCore.current = IOMMUCore(machine: machine) }
        Machine.lateInitcallHooks.append { machine in BuiltinModels.registerDrivers(machine: machine) }
        Machine.shutdownHooks.append { machine in
            IOMMUCore.current?.shutdown()
            BuiltinModels.shutdown()
        }
    }
    nonisolated(unsafe) private static var installed = false

    /// Release everything the core allocated for devices (at machine shutdown, after drivers unbound).
    public func shutdown() {
        lock.withLock {
            for pdev in machine.drivers.devices { release(pdev.device) }
            groups.removeAll()
            instances.removeAll()
        }
        if IOMMUCore.current === self { IOMMUCore.current = nil }
    }

    // MARK: Instances. Kernel: iommu_device_register, iommu_ops_from_fwnode.

    /// Register an instance; masters waiting for it are probed when its driver's probe returns.
    public func register(_ iommu: UnsafeMutablePointer<IOMMUDevice>, ops: UnsafePointer<IOMMUOps>,
                         hardware: UnsafeMutablePointer<Device>?) -> Errno? {
        lock.withLock {
            if instances.contains(iommu) {
                Kernel.warn("iommu_device_register: instance registered twice")
                return .exists
            }
            iommu.pointee.ops = ops
            iommu.pointee.dev = hardware
            if iommu.pointee.fwnode == nil, let hw = hardware { iommu.pointee.fwnode = hw.pointee.fwnode }
            iommu.pointee.list.next = nil
            iommu.pointee.list.prev = nil
            iommu.pointee.ready = true
            instances.append(iommu)
            swiommu_glue_route_generation_bump()
            busProbe(iommu)
            return nil
        }
    }

    /// Kernel: bus_iommu_probe from iommu_device_register. Since 6.11, __iommu_probe_device runs the bus's
    /// dma_configure for a device no driver is bound to, so every master behind the new instance gets its
    /// group and default domain now, not when a driver binds.
    private func busProbe(_ iommu: UnsafeMutablePointer<IOMMUDevice>) {
        let outer = deferredGroups
        deferredGroups = []
        defer {
            let pending = deferredGroups ?? []
            deferredGroups = outer
            setUpDeferredGroups(pending)
        }
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            let state = DeviceState.of(dev)
            let behind = state.channels.contains {
                guard let node = $0.iommu else { return false }
                return swiommu_glue_of_fwnode(node) == iommu.pointee.fwnode
            }
            guard behind else { continue }
            if dev.pointee.iommu == nil {
                if dev.pointee.driver == nil { _ = machine.configureDMA(dev) }
            } else if state.iommuLink == .attached {
                // Probed into another instance already: this one's channels become a route of their own.
                probeRoutes(dev, state: state)
            }
        }
    }

    public func unregister(_ iommu: UnsafeMutablePointer<IOMMUDevice>) {
        lock.withLock {
            guard let i = instances.firstIndex(of: iommu) else {
                Kernel.warn("iommu_device_unregister: instance is not registered")
                return
            }
            for pdev in machine.drivers.devices {
                let state = DeviceState.of(pdev.device)
                if pdev.pointee.dev.iommu?.pointee.iommu_dev == iommu {
                    release(pdev.device)
                } else if let i = state.routeDevices.firstIndex(where: { $0.pointee.iommu?.pointee.iommu_dev == iommu }) {
                    let r = state.routeDevices.remove(at: i)
                    release(r)
                    DeviceState.drop(r)
                    r.deinitialize(count: 1)
                    r.deallocate()
                }
            }
            instances.remove(at: i)
            iommu.pointee.ready = false
            // The reference generic_single_device_group keeps for the instance (iommu_device_unregister's
            // iommu_group_put(iommu->singleton_group)).
            if let p = iommu.pointee.singleton_group, let raw = p.pointee.swiommu {
                iommu.pointee.singleton_group = nil
                put(Unmanaged<IOMMUGroup>.fromOpaque(raw).takeUnretainedValue())
            }
            swiommu_glue_route_generation_bump()
        }
    }

    /// The instance registered for a device tree node.
    public func instance(for node: UnsafePointer<DeviceNode>) -> UnsafeMutablePointer<IOMMUDevice>? {
        let fwnode = swiommu_glue_of_fwnode(UnsafeMutablePointer(mutating: node))
        return instances.first { $0.pointee.fwnode == fwnode }
    }

    public func instance(forFwnode fwnode: UnsafeMutablePointer<fwnode_handle>?) -> UnsafeMutablePointer<IOMMUDevice>? {
        guard let fwnode else { return nil }
        return instances.first { $0.pointee.fwnode == fwnode }
    }
}
