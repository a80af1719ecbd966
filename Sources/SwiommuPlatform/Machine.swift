// The simulated machine: memory, the board's device tree, the devices made from it, and the driver
// model, booted by swiommu_init() and torn down by swiommu_exit().
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

public final class Machine: @unchecked Sendable {
    /// The machine that is up, held as one retained reference: boot sets it, shutdown releases it.
    @usableFromInline nonisolated(unsafe) static var up: Unmanaged<Machine>?

    /// The machine that is up, if any.
    public static var current: Machine? { up?.takeUnretainedValue() }

    /// Whether a machine is up (no reference taken).
    @inlinable public static var isUp: Bool { up != nil }

    /// Run `body` with the machine that is up, without reference counting (the hot paths' way in).
    /// Nil when the machine is down.
    @inlinable @inline(__always)
    public static func withCurrent<R>(_ body: (Machine) throws -> R) rethrows -> R? {
        guard let m = up else { return nil }
        return try m._withUnsafeGuaranteedRef(body)
    }

    public let board: Board
    public let memory: SimulatedMemory
    public var tree: DeviceTree { board.tree }
    public let drivers: DriverCore
    public var boardName: String { board.model }
    public var geometry: PageGeometry { memory.geometry }
    /// Boot has run every initcall: an IOMMU without a driver no longer defers its masters
    /// (driver_deferred_probe_check_state on a kernel without modules).
    public private(set) var initcallsDone = false
    /// Whether an IOMMU driver serves the IOMMU at this node (iommu_ops_from_fwnode). The IOMMU core
    /// installs it; without one, none does.
    public var iommuDriverBound: (UnsafePointer<DeviceNode>) -> Bool = { _ in false }
    /// Probe a master into its IOMMU(s) (of_iommu_xlate + iommu_probe_device): 0, or an errno after
    /// which the master carries on without the IOMMU (-EPROBE_DEFER defers it). Installed by the IOMMU core.
    public var iommuProbe: ((UnsafeMutablePointer<Device>) -> Int32)?
    /// Hooks that run when a machine boots, before its devices are made (the IOMMU core attaches here).
    nonisolated(unsafe) public static var bootHooks: [(Machine) -> Void] = []
    /// Hooks that run after the initcalls (built-in drivers register here, so C drivers bind first).
    nonisolated(unsafe) public static var lateInitcallHooks: [(Machine) -> Void] = []
    /// Hooks that run at shutdown once every driver is unbound, before the devices go.
    nonisolated(unsafe) public static var shutdownHooks: [(Machine) -> Void] = []

    private init(board: Board, memory: SimulatedMemory) {
        self.board = board
        self.memory = memory
        drivers = DriverCore(memory: memory)
        drivers.dmaConfigure = { [unowned self] dev in self.configureDMA(dev) }
    }

    /// Boot: RAM, the board's devices, then the registered initcalls (which bind drivers), then the
    /// deferred probes. Throws `.busy` when a machine is up, `.invalid` for a board that does not fit
    /// the caller's page size, and what memory set-up throws.
    @discardableResult
    public static func boot(board: Board, geometry: PageGeometry) throws(Errno) -> Machine {
        guard current == nil else {
            Kernel.log(.error, "swiommu: swiommu_init: the machine is already up; call swiommu_exit() first")
            throw .busy
        }
        if let shift = board.options.pageShift, shift != geometry.shift {
            Kernel.log(.error, "swiommu: \(board.source): /chosen: swiommu,page-shift: the board runs with "
                       + "\(1 << (shift - 10))K pages, the caller was built with PAGE_SHIFT \(geometry.shift)")
            throw .invalid
        }
        for bank in board.ram where bank.start.rawValue % UInt64(geometry.size) != 0 || bank.size % UInt64(geometry.size) != 0 {
            Kernel.log(.error, "swiommu: \(board.source): memory bank \(bank.start) + \(Kernel.hex(bank.size)) "
                       + "is not aligned to \(geometry.size >> 10)K pages")
            throw .invalid
        }
        Kernel.newBoot()
        FaultInjection.reset()
        let memory: SimulatedMemory
        do {
            memory = try SimulatedMemory(layout: board.ram, geometry: geometry)
        } catch {
            let bytes = board.ram.reduce(UInt64(0)) { $0 &+ $1.size }
            Kernel.log(.error, "swiommu: \(board.source): cannot map \(Kernel.hex(bytes)) bytes of RAM in "
                       + "\(board.ram.count) bank(s) (\(error.negated))")
            throw error
        }
        let machine = Machine(board: board, memory: memory)
        up = Unmanaged.passRetained(machine)
        for hook in bootHooks { hook(machine) }
        Kernel.log(.info, "swiommu: booting \(board.model) (\(board.source)), \(geometry.size >> 10)K pages")
        machine.populate()
        swiommu_glue_run_initcalls()
        for hook in lateInitcallHooks { hook(machine) }
        machine.initcallsDone = true
        machine.drivers.retryDeferredProbes()
        memory.markBootAllocations()
        for problem in FaultInjection.applyEnvironment() { Kernel.log(.error, "swiommu: \(problem)") }
        for pdev in machine.drivers.deferredDevices {
            let reason = DeviceState.of(pdev.device).deferReason
            Kernel.log(.warning, driver: "platform", device: machine.drivers.deviceName(pdev),
                       "deferred probe pending" + (reason.isEmpty ? "" : ": \(reason)"))
        }
        return machine
    }

    /// Tear down: exit calls, drivers, devices; report leaks. Returns the number of leaked allocations.
    @discardableResult
    public func shutdown() -> Int {
        swiommu_glue_run_exitcalls()
        drivers.unregisterAllDrivers()
        for hook in Machine.shutdownHooks { hook(self) }
        drivers.destroyAllDevices()
        let leaks = memory.reportLeaks(print: true)
        // For fail-nth sweeps of an unmodified binary (tools/fail-sweep): did the armed call come?
        for (point, n) in FaultInjection.environmentArmed {
            let what = FaultInjection.injected(point) > 0 ? "fired" : "not reached (the path completed)"
            let line = "swiommu: SWIOMMU_FAIL_NTH \(point.name):\(n): \(what)\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        }
        Machine.up?.release()
        Machine.up = nil
        return leaks
    }

    // MARK: of_platform_default_populate

    /// Make platform devices for the root's children with a compatible, recursing into simple buses and
    /// making PCI-like devices of a host bridge's children. Kernel: of_platform_bus_create (strict).
    private func populate() {
        var child = tree.root.pointee.child
        while let c = child {
            createDevices(c, parent: nil)
            child = c.pointee.sibling
        }
    }

    private static let busCompatibles = ["simple-bus", "simple-mfd", "isa", "arm,amba-bus"]

    private func createDevices(_ node: UnsafeMutablePointer<DeviceNode>, parent: UnsafeMutablePointer<Device>?) {
        let compatibles = DeviceTree.strings(node, "compatible")
        guard !compatibles.isEmpty, DeviceTree.isAvailable(node) else { return }
        guard let pdev = createDevice(node, parent: parent) else { return }
        if DeviceTree.strings(node, "device_type").first == "pci" {
            var child = node.pointee.child
            while let c = child {
                createPCIDevice(c, parent: pdev.device, hostBridge: node)
                child = c.pointee.sibling
            }
            return
        }
        guard compatibles.contains(where: Self.busCompatibles.contains) else { return }
        var child = node.pointee.child
        while let c = child {
            createDevices(c, parent: pdev.device)
            child = c.pointee.sibling
        }
    }

    /// Kernel: of_device_make_bus_id: "fe0a0000.isp", or parent names prepended ("soc:isp") until an
    /// ancestor has a translatable address.
    private func busID(_ node: UnsafePointer<DeviceNode>) -> String {
        var name: String?
        var n = node
        while let parent = n.pointee.parent {
            if let addr = registerWindows(n).first?.start {
                let base = String(addr, radix: 16) + "." + String(cString: n.pointee.name)
                return name.map { base + ":" + $0 } ?? base
            }
            let basename = String(cString: n.pointee.full_name)
            name = name.map { basename + ":" + $0 } ?? basename
            n = UnsafePointer(parent)
        }
        return name ?? String(cString: node.pointee.full_name)
    }

    /// Kernel: of_device_alloc: resources from reg and interrupts, masks as of_platform_device_create_pdata.
    private func createDevice(_ node: UnsafeMutablePointer<DeviceNode>,
                              parent: UnsafeMutablePointer<Device>?) -> UnsafeMutablePointer<PlatformDevice>? {
        let pdev = drivers.allocateDevice(name: busID(node), id: -1)
        attach(pdev, to: node, parent: parent)
        // Since Linux 5.17 only reg becomes static resources; interrupts are resolved on demand
        // (platform_get_irq -> of_irq_get).
        let res: [resource] = registerWindows(node).map {
            resource(start: $0.start, end: $0.start &+ $0.size &- 1, name: node.pointee.full_name,
                     flags: UInt(IORESOURCE_MEM), desc: 0, parent: nil, sibling: nil, child: nil)
        }
        _ = res.withUnsafeBufferPointer { drivers.setResources(pdev, $0.baseAddress, count: $0.count) }
        DeviceState.of(pdev.device).interrupts = interrupts(node)
        return register(pdev)
    }

    /// A PCI-like device: a node below a host bridge, on the PCI bus, named "0000:bb:dd.f", with the
    /// requester ID (bus << 8 | devfn) its reg's high cell gives.
    private func createPCIDevice(_ node: UnsafeMutablePointer<DeviceNode>, parent: UnsafeMutablePointer<Device>,
                                 hostBridge: UnsafeMutablePointer<DeviceNode>) {
        guard DeviceTree.isAvailable(node), let hi = DeviceTree.cells(node, "reg")?.first else { return }
        let rid = (hi >> 8) & 0xffff
        let name = "0000:" + hex2(rid >> 8) + ":" + hex2((rid >> 3) & 0x1f) + "." + String(rid & 7)
        let pdev = drivers.allocateDevice(name: name, id: -1)
        attach(pdev, to: node, parent: parent)
        pdev.pointee.dev.bus = swiommu_glue_pci_bus()
        let state = DeviceState.of(pdev.device)
        state.requesterID = rid
        state.hostBridge = hostBridge
        guard register(pdev) != nil else { return }
        // A bridge (a root port): the devices behind it are PCI-like too, their bus number in their reg.
        if DeviceTree.strings(node, "device_type").first == "pci" {
            var child = node.pointee.child
            while let c = child {
                createPCIDevice(c, parent: pdev.device, hostBridge: hostBridge)
                child = c.pointee.sibling
            }
        }
    }

    private func hex2(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return s.count < 2 ? "0" + s : s
    }

    private func attach(_ pdev: UnsafeMutablePointer<PlatformDevice>, to node: UnsafeMutablePointer<DeviceNode>,
                        parent: UnsafeMutablePointer<Device>?) {
        pdev.pointee.dev.of_node = node
        pdev.pointee.dev.fwnode = swiommu_glue_of_fwnode(node)
        pdev.pointee.dev.parent = parent
        node.pointee.fwnode.dev = pdev.device
    }

    /// The channels the board gives a device, known before it binds (of_dma_configure refreshes them).
    private func recordChannels(_ pdev: UnsafeMutablePointer<PlatformDevice>) {
        let state = DeviceState.of(pdev.device)
        var channels: [DMAChannel]?
        if let rid = state.requesterID, let bridge = state.hostBridge {
            channels = OFIOMMU.mapRequesterID(rid, bridge: bridge, in: tree).map { [$0] }
        } else if let np = pdev.pointee.dev.of_node {
            channels = (try? OFIOMMU.channels(of: np, in: tree, file: board.source)) ?? nil
        }
        if let channels, !channels.isEmpty { state.channels = channels }
    }

    private func register(_ pdev: UnsafeMutablePointer<PlatformDevice>) -> UnsafeMutablePointer<PlatformDevice>? {
        recordChannels(pdev)
        guard drivers.addDevice(pdev) == nil else {
            DeviceState.drop(pdev.device)
            pdev.deallocate()
            return nil
        }
        return pdev
    }

    // MARK: Addresses

    /// The node's reg entries translated to CPU physical addresses through the parents' ranges.
    /// Kernel: of_address_to_resource / of_translate_address.
    public func registerWindows(_ node: UnsafePointer<DeviceNode>) -> [(start: UInt64, size: UInt64)] {
        guard let parent = node.pointee.parent, let reg = DeviceTree.cells(node, "reg") else { return [] }
        let (ac, sc) = DeviceTree.cellCounts(forChildrenOf: parent)
        guard ac > 0, ac + sc > 0 else { return [] }
        var out: [(UInt64, UInt64)] = []
        var i = 0
        while i + ac + sc <= reg.count {
            let addr = Self.number(reg[i..<(i + ac)])
            let size = Self.number(reg[(i + ac)..<(i + ac + sc)])
            if let cpu = translate(addr, from: parent) { out.append((cpu, size)) }
            i += ac + sc
        }
        return out
    }

    /// Walk up the tree through each bus's ranges (empty ranges: identity; none: not translatable).
    func translate(_ address: UInt64, from bus: UnsafePointer<DeviceNode>) -> UInt64? {
        var addr = address
        var node = bus
        while let parent = node.pointee.parent {
            guard let ranges = DeviceTree.cells(node, "ranges") else { return nil }
            if !ranges.isEmpty {
                let (cac, csc) = DeviceTree.cellCounts(forChildrenOf: node)
                let (pac, _) = DeviceTree.cellCounts(forChildrenOf: parent)
                let entry = cac + pac + csc
                var found = false
                var i = 0
                while entry > 0 && i + entry <= ranges.count {
                    let child = Self.number(ranges[i..<(i + cac)])
                    let parentAddr = Self.number(ranges[(i + cac)..<(i + cac + pac)])
                    let size = Self.number(ranges[(i + cac + pac)..<(i + entry)])
                    if addr >= child && addr - child < size {
                        addr = parentAddr + (addr - child)
                        found = true
                        break
                    }
                    i += entry
                }
                if !found { return nil }
            }
            node = UnsafePointer(parent)
        }
        return addr
    }

    private static func number(_ cells: ArraySlice<UInt32>) -> UInt64 {
        cells.reduce(0) { $0 << 32 | UInt64($1) }
    }

    /// Linux interrupt numbers from "interrupts", for a GIC-style parent (#interrupt-cells = 3: SPI n is
    /// hardware interrupt 32 + n, PPI n is 16 + n) or a one-cell parent (the number itself).
    private func interrupts(_ node: UnsafePointer<DeviceNode>) -> [UInt32] {
        guard let cells = DeviceTree.cells(node, "interrupts") else { return [] }
        var n: UnsafePointer<DeviceNode>? = node
        var parentPhandle: UInt32?
        while let cur = n, parentPhandle == nil {
            parentPhandle = DeviceTree.cells(cur, "interrupt-parent")?.first
            n = cur.pointee.parent.map { UnsafePointer($0) }
        }
        let controller = parentPhandle.flatMap { tree.node(phandle: $0) }
        let width = Int(controller.flatMap { DeviceTree.cells($0, "#interrupt-cells")?.first } ?? 3)
        guard width > 0 else { return [] }
        // u32 arithmetic, as gic_irq_domain_translate()'s: a number near 2^32 wraps around.
        return stride(from: 0, to: cells.count - width + 1, by: width).map { i in
            width >= 3 ? (cells[i] == 0 ? 32 : 16) &+ cells[i + 1] : cells[i]
        }
    }
}
