// The driver model: platform devices and drivers, matching, probe with deferral, unbind with devres
// release. Kernel: drivers/base/dd.c (really_probe, deferred probe), platform.c (platform_match),
// devres.c.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import CSwiommuGlue

public final class DriverCore: @unchecked Sendable {
    let memory: SimulatedMemory
    let lock = RecursiveLock()
    /// Registered devices, in registration order.
    public private(set) var devices: [UnsafeMutablePointer<PlatformDevice>] = []
    /// Registered drivers, in registration order.
    public private(set) var drivers: [UnsafeMutablePointer<PlatformDriver>] = []
    /// Devices whose probe returned -EPROBE_DEFER, in the order they deferred.
    private var deferred: [UnsafeMutablePointer<PlatformDevice>] = []
    /// Run before a driver's probe (of_dma_configure's place); a non-zero errno fails the probe.
    public var dmaConfigure: ((UnsafeMutablePointer<Device>) -> Int32)?
    /// A device leaves the bus: the IOMMU core releases its group and domain (installed by the core).
    public var deviceRemoved: ((UnsafeMutablePointer<Device>) -> Void)?
    /// Run after a driver's remove.
    public var dmaCleanup: ((UnsafeMutablePointer<Device>) -> Void)?
    /// Run once a bound driver is gone and its resources are released (BUS_NOTIFY_UNBOUND_DRIVER's place:
    /// dma-debug's leak check). Not run when a probe fails.
    public var driverUnbound: ((UnsafeMutablePointer<Device>) -> Void)?
    /// Run after dmaConfigure for a driver without driver_managed_dma (iommu_device_use_default_domain's
    /// place); a non-zero errno fails the probe.
    public var useDefaultDomain: ((UnsafeMutablePointer<Device>) -> Int32)?
    /// Its counterpart at unbind (iommu_device_unuse_default_domain).
    public var unuseDefaultDomain: ((UnsafeMutablePointer<Device>) -> Void)?

    init(memory: SimulatedMemory) {
        self.memory = memory
    }

    // MARK: Devices

    /// Allocate an unregistered platform device. Kernel: platform_device_alloc.
    public func allocateDevice(name: String, id: Int32, byAPI: Bool = false) -> UnsafeMutablePointer<PlatformDevice> {
        let pdev = UnsafeMutablePointer<PlatformDevice>.allocate(capacity: 1)
        pdev.initialize(to: PlatformDevice())
        let state = DeviceState.of(pdev.device)
        state.allocatedByAPI = byAPI
        pdev.pointee.name = UnsafePointer(state.keep(name))
        pdev.pointee.id = id
        pdev.pointee.dev.kobj.refcount = 1
        pdev.pointee.dev.bus = swiommu_glue_platform_bus()
        pdev.pointee.dev.numa_node = -1
        swiommu_glue_setup_pdev_dma(pdev)
        let devName: String
        switch id {
        case -1: devName = name
        case -2: devName = "\(name).\(devices.count).auto"
        default: devName = "\(name).\(id)"
        }
        pdev.pointee.dev.kobj.name = UnsafePointer(state.keep(devName))
        return pdev
    }

    /// Copy resources into a device. Kernel: platform_device_add_resources.
    public func setResources(_ pdev: UnsafeMutablePointer<PlatformDevice>, _ res: UnsafePointer<resource>?,
                             count: Int) -> Errno? {
        guard count > 0, let res else {
            pdev.pointee.resource = nil
            pdev.pointee.num_resources = 0
            return nil
        }
        guard let copy = malloc(count * MemoryLayout<resource>.stride) else { return .noMemory }
        memcpy(copy, res, count * MemoryLayout<resource>.stride)
        DeviceState.of(pdev.device).owned.append(copy)
        pdev.pointee.resource = copy.assumingMemoryBound(to: resource.self)
        pdev.pointee.num_resources = UInt32(count)
        return nil
    }

    /// Kernel: platform_get_irq_optional. A device tree device's interrupts come from "interrupts"
    /// (of_irq_get); others from IORESOURCE_IRQ resources. The number, -ENXIO, or -EINVAL for a number that
    /// is no int (no interrupt controller maps it).
    public func interrupt(_ pdev: UnsafeMutablePointer<PlatformDevice>, index: Int) -> Int32 {
        if pdev.pointee.dev.of_node != nil {
            let irqs = DeviceState.of(pdev.device).interrupts
            guard index < irqs.count else { return Errno.noDeviceOrAddress.negated }
            return Int32(exactly: irqs[index]) ?? Errno.invalid.negated
        }
        guard let res = pdev.pointee.resource else { return Errno.noDeviceOrAddress.negated }
        var seen = 0
        for i in 0..<Int(pdev.pointee.num_resources) where UInt32(res[i].flags) & UInt32(IORESOURCE_TYPE_BITS) == UInt32(IORESOURCE_IRQ) {
            if seen == index { return Int32(exactly: res[i].start) ?? Errno.invalid.negated }
            seen += 1
        }
        return Errno.noDeviceOrAddress.negated
    }

    /// Copy platform data into a device. Kernel: platform_device_add_data.
    public func setPlatformData(_ pdev: UnsafeMutablePointer<PlatformDevice>, _ data: UnsafeRawPointer?,
                                size: Int) -> Errno? {
        guard let data, size > 0 else {
            pdev.pointee.dev.platform_data = nil
            return nil
        }
        guard let copy = malloc(size) else { return .noMemory }
        memcpy(copy, data, size)
        DeviceState.of(pdev.device).owned.append(copy)
        pdev.pointee.dev.platform_data = copy
        return nil
    }

    /// Register a device and bind a matching driver. Kernel: platform_device_add.
    public func addDevice(_ pdev: UnsafeMutablePointer<PlatformDevice>) -> Errno? {
        lock.withLock {
            let name = String(cString: dev_name(pdev.device))
            if devices.contains(where: { $0 == pdev }) {
                Kernel.warn("platform_device_add: \(name) is registered already")
                return .exists
            }
            if devices.contains(where: { String(cString: dev_name($0.device)) == name }) {
                Kernel.log(.error, "sysfs: cannot create duplicate filename '/devices/platform/\(name)'")
                return .exists
            }
            devices.append(pdev)
            _ = attach(pdev)
            return nil
        }
    }

    /// Unbind and unregister a device. Kernel: platform_device_del.
    public func deleteDevice(_ pdev: UnsafeMutablePointer<PlatformDevice>) {
        lock.withLock {
            guard let i = devices.firstIndex(of: pdev) else {
                Kernel.warn("platform_device_del: \(deviceName(pdev)) is not registered")
                return
            }
            release(pdev)
            // BUS_NOTIFY_REMOVED_DEVICE: the IOMMU core lets go of the device (iommu_release_device).
            deviceRemoved?(pdev.device)
            deferred.removeAll { $0 == pdev }
            devices.remove(at: i)
        }
    }

    /// Kernel: get_device.
    public func getDevice(_ dev: UnsafeMutablePointer<Device>) {
        _ = swiommu_glue_atomic_add_int(&dev.pointee.kobj.refcount, 1)
    }

    /// Kernel: put_device. The last reference frees a device from platform_device_alloc().
    public func putDevice(_ dev: UnsafeMutablePointer<Device>) {
        let left = swiommu_glue_atomic_add_int(&dev.pointee.kobj.refcount, -1)
        if left < 0 {
            Kernel.warn("put_device(\(String(cString: dev_name(dev)))): reference count underflow")
            _ = swiommu_glue_atomic_add_int(&dev.pointee.kobj.refcount, 1)
            return
        }
        guard left == 0 else { return }
        if let release = dev.pointee.release { release(dev) }
        if dev.pointee.bus == swiommu_glue_platform_bus(), DeviceState.of(dev).allocatedByAPI {
            let pdev = platformDevice(of: dev)
            lock.withLock {
                if devices.contains(pdev) {
                    Kernel.warn("put_device(\(deviceName(pdev))): last reference dropped while registered")
                    return
                }
                DeviceState.drop(dev)
                pdev.deinitialize(count: 1)
                pdev.deallocate()
            }
        }
    }

    public func platformDevice(of dev: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<PlatformDevice> {
        (UnsafeMutableRawPointer(dev) - MemoryLayout<PlatformDevice>.offset(of: \PlatformDevice.dev)!)
            .assumingMemoryBound(to: PlatformDevice.self)
    }

    func deviceName(_ pdev: UnsafeMutablePointer<PlatformDevice>) -> String {
        String(cString: dev_name(pdev.device))
    }

    /// Free every device at teardown (drivers are gone by then).
    func destroyAllDevices() {
        lock.withLock {
            for pdev in devices.reversed() {
                release(pdev)
                DeviceState.drop(pdev.device)
                pdev.deinitialize(count: 1)
                pdev.deallocate()
            }
            devices.removeAll()
            deferred.removeAll()
        }
    }

    /// Look a device up by full path, node name (with or without unit address) or device name.
    public func findDevice(_ name: String) -> UnsafeMutablePointer<Device>? {
        lock.withLock {
            for pdev in devices {
                if deviceName(pdev) == name { return pdev.device }
                if let np = pdev.pointee.dev.of_node {
                    if String(cString: np.pointee.full_name) == name || String(cString: np.pointee.name) == name
                        || DeviceTree.path(of: np) == name { return pdev.device }
                }
            }
            return nil
        }
    }

    // MARK: Drivers

    /// Register a driver and bind it to every matching unbound device. Kernel: __platform_driver_register.
    public func registerDriver(_ drv: UnsafeMutablePointer<PlatformDriver>) -> Errno? {
        lock.withLock {
            guard drv.pointee.driver.name != nil else {
                Kernel.warn("platform_driver_register: driver without a name")
                return .invalid
            }
            // driver_register(): driver_find() by name on the bus.
            if drivers.contains(where: { $0 == drv || strcmp($0.pointee.driver.name, drv.pointee.driver.name) == 0 }) {
                Kernel.log(.error, "Error: Driver '\(String(cString: drv.pointee.driver.name))' is already registered, aborting...")
                return .busy
            }
            drv.pointee.driver.bus = swiommu_glue_platform_bus()
            drivers.append(drv)
            for pdev in devices where pdev.pointee.dev.driver == nil && !DeviceState.of(pdev.device).deferred {
                if match(drv, pdev) { _ = probe(pdev, with: drv) }
            }
            return nil
        }
    }

    /// Unbind a driver from its devices and forget it. Kernel: platform_driver_unregister.
    public func unregisterDriver(_ drv: UnsafeMutablePointer<PlatformDriver>) {
        lock.withLock {
            guard let i = drivers.firstIndex(of: drv) else {
                let name = drv.pointee.driver.name.map { String(cString: $0) } ?? "?"
                Kernel.warn("platform_driver_unregister: driver '\(name)' is not registered")
                return
            }
            let generic = Self.genericDriver(drv)
            for pdev in devices.reversed() where pdev.pointee.dev.driver == generic {
                release(pdev)
            }
            drivers.remove(at: i)
        }
    }

    /// Unregister every driver, newest first (at teardown).
    func unregisterAllDrivers() {
        lock.withLock {
            for drv in drivers.reversed() { unregisterDriver(drv) }
        }
    }

    // MARK: Matching and probing

    private static let driverOffset = MemoryLayout<PlatformDriver>.offset(of: \PlatformDriver.driver)!

    /// `&drv->driver`.
    static func genericDriver(_ drv: UnsafeMutablePointer<PlatformDriver>) -> UnsafeMutablePointer<device_driver> {
        (UnsafeMutableRawPointer(drv) + driverOffset).assumingMemoryBound(to: device_driver.self)
    }

    /// Kernel: platform_match (of_match_table, then id_table, then the driver name).
    func match(_ drv: UnsafeMutablePointer<PlatformDriver>, _ pdev: UnsafeMutablePointer<PlatformDevice>) -> Bool {
        if let table = drv.pointee.driver.of_match_table, let np = pdev.pointee.dev.of_node {
            if OFMatch.bestMatch(table, np) != nil { return true }
        }
        if let ids = drv.pointee.id_table {
            var e = ids
            while e.pointee.name.0 != 0 {
                let entryName = withUnsafeBytes(of: e.pointee.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if entryName == String(cString: pdev.pointee.name) { return true }
                e += 1
            }
            return false
        }
        return strcmp(pdev.pointee.name, drv.pointee.driver.name) == 0
    }

    private func idEntry(_ drv: UnsafeMutablePointer<PlatformDriver>,
                         _ pdev: UnsafeMutablePointer<PlatformDevice>) -> UnsafePointer<platform_device_id>? {
        guard var e = drv.pointee.id_table else { return nil }
        while e.pointee.name.0 != 0 {
            let n = withUnsafeBytes(of: e.pointee.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n == String(cString: pdev.pointee.name) { return e }
            e += 1
        }
        return nil
    }

    /// Try every registered driver on a device. Kernel: device_attach / __device_attach.
    private func attach(_ pdev: UnsafeMutablePointer<PlatformDevice>) -> Bool {
        for drv in drivers where match(drv, pdev) {
            if probe(pdev, with: drv) { return true }
            if DeviceState.of(pdev.device).deferred { return false }
        }
        return false
    }

    /// Kernel: really_probe. True when the driver bound.
    private func probe(_ pdev: UnsafeMutablePointer<PlatformDevice>, with drv: UnsafeMutablePointer<PlatformDriver>) -> Bool {
        let dev = pdev.device
        let state = DeviceState.of(dev)
        let driverName = String(cString: drv.pointee.driver.name)
        dev.pointee.driver = Self.genericDriver(drv)
        pdev.pointee.id_entry = idEntry(drv, pdev)
        if let t = drv.pointee.driver.of_match_table, let np = dev.pointee.of_node { state.matchedEntry = OFMatch.bestMatch(t, np) }
        state.driverManagedDMA = drv.pointee.driver_managed_dma
        var ret: Int32 = 0
        if let configure = dmaConfigure { ret = configure(dev) }
        // platform_dma_configure: a driver that uses the DMA API claims the default domain.
        let claimsDefaultDomain = ret == 0 && !drv.pointee.driver_managed_dma
        var usedDefaultDomain = false
        if claimsDefaultDomain, let use = useDefaultDomain {
            ret = use(dev)
            usedDefaultDomain = ret == 0
        }
        if ret == 0, let probe = drv.pointee.probe {
            // The "probe" fault-injection point: the driver's probe is deferred before it runs.
            ret = FaultInjection.shouldFail(.probe) ? Errno.probeDefer.negated : probe(pdev)
            // platform_probe(): a driver that cannot be deferred turns deferral into "no such device".
            if ret == Errno.probeDefer.negated && drv.pointee.prevent_deferred_probe {
                Kernel.log(.warning, driver: driverName, device: deviceName(pdev), "probe deferral not supported")
                ret = Errno.noDeviceOrAddress.negated
            }
        }
        if ret != 0 && usedDefaultDomain { unuseDefaultDomain?(dev) }
        if ret == 0 {
            dev.pointee.can_match = true
            if state.deferred {
                state.deferred = false
                deferred.removeAll { $0 == pdev }
            }
            triggerDeferredProbes()
            return true
        }
        // Undo: managed resources, the DMA configuration, the binding.
        unbindCleanup(dev)
        state.matchedEntry = nil
        if ret == Errno.probeDefer.negated {
            Kernel.log(.debug, driver: driverName, device: deviceName(pdev), "Driver \(driverName) requests probe deferral")
            if !state.deferred {
                state.deferred = true
                deferred.append(pdev)
            }
        } else if ret == Errno.noDevice.negated || ret == Errno.noDeviceOrAddress.negated {
            Kernel.log(.debug, driver: driverName, device: deviceName(pdev),
                       "probe with driver \(driverName) rejects match \(ret)")
        } else {
            // really_probe has set dev->driver, so the message carries the driver's name.
            Kernel.log(.error, driver: driverName, device: deviceName(pdev),
                       "probe with driver \(driverName) failed with error \(ret)")
        }
        return false
    }

    /// Retry every deferred device now (deferred_probe_initcall at the end of boot).
    public func retryDeferredProbes() {
        lock.withLock { triggerDeferredProbes() }
    }

    /// Retry every deferred device, as driver_deferred_probe_trigger does after a successful bind.
    private func triggerDeferredProbes() {
        guard !deferred.isEmpty else { return }
        let pending = deferred
        for pdev in pending where pdev.pointee.dev.driver == nil {
            let state = DeviceState.of(pdev.device)
            state.deferred = false
            deferred.removeAll { $0 == pdev }
            if !attach(pdev) && !state.deferred { continue }
        }
    }

    /// Devices still waiting for a resource at the end of boot.
    public var deferredDevices: [UnsafeMutablePointer<PlatformDevice>] { lock.withLock { deferred } }

    /// Unbind a device: remove, devres, DMA cleanup. Kernel: device_release_driver.
    private func release(_ pdev: UnsafeMutablePointer<PlatformDevice>) {
        let dev = pdev.device
        guard let d = dev.pointee.driver else { return }
        let drv = (UnsafeMutableRawPointer(d) - Self.driverOffset).assumingMemoryBound(to: PlatformDriver.self)
        if let remove = drv.pointee.remove { remove(pdev) }
        if !drv.pointee.driver_managed_dma { unuseDefaultDomain?(dev) }
        unbindCleanup(dev)
        DeviceState.of(dev).matchedEntry = nil
        driverUnbound?(dev)
    }

    /// Kernel: device_unbind_cleanup: devres, the DMA ops, the dma-ranges map, the binding.
    private func unbindCleanup(_ dev: UnsafeMutablePointer<Device>) {
        releaseDevres(dev)
        dmaCleanup?(dev)
        if let map = dev.pointee.dma_range_map {
            free(UnsafeMutableRawPointer(mutating: map))
            dev.pointee.dma_range_map = nil
        }
        dev.pointee.driver = nil
        dev.pointee.driver_data = nil
    }

    // MARK: devres. Kernel: drivers/base/devres.c.

    public func devmKmalloc(_ dev: UnsafeMutablePointer<Device>, size: Int, gfp: GFP,
                            site: AllocationSite?) -> UnsafeMutableRawPointer? {
        guard let p = memory.kmalloc(size: size, gfp: gfp, site: site) else { return nil }
        lock.withLock { DeviceState.of(dev).devres.append(.memory(p)) }
        return p
    }

    public func devmKfree(_ dev: UnsafeMutablePointer<Device>, _ p: UnsafeRawPointer) {
        let found = lock.withLock { () -> Bool in
            let state = DeviceState.of(dev)
            guard let i = state.devres.lastIndex(where: { if case .memory(let q) = $0 { q == p } else { false } })
            else { return false }
            state.devres.remove(at: i)
            return true
        }
        if found { memory.kfree(p) } else {
            Kernel.warn("devm_kfree(\(String(cString: dev_name(dev))), \(Kernel.hex(UInt(bitPattern: p)))): not a managed allocation")
        }
    }

    public func devmAddAction(_ dev: UnsafeMutablePointer<Device>,
                              _ action: @escaping @convention(c) (UnsafeMutableRawPointer?) -> Void,
                              _ data: UnsafeMutableRawPointer?) {
        lock.withLock { DeviceState.of(dev).devres.append(.action(action, data)) }
    }

    public func devmRemoveAction(_ dev: UnsafeMutablePointer<Device>,
                                 _ action: @convention(c) (UnsafeMutableRawPointer?) -> Void,
                                 _ data: UnsafeMutableRawPointer?) -> Bool {
        lock.withLock {
            let state = DeviceState.of(dev)
            let target = unsafeBitCast(action, to: UnsafeRawPointer.self)
            guard let i = state.devres.lastIndex(where: {
                if case .action(let f, let d) = $0 { unsafeBitCast(f, to: UnsafeRawPointer.self) == target && d == data }
                else { false }
            }) else { return false }
            state.devres.remove(at: i)
            return true
        }
    }

    /// Release managed resources newest first. Kernel: devres_release_all.
    private func releaseDevres(_ dev: UnsafeMutablePointer<Device>) {
        let state = DeviceState.of(dev)
        while let r = state.devres.popLast() {
            switch r {
            case .memory(let p): memory.kfree(p)
            case .action(let f, let d): f(d)
            }
        }
    }
}
