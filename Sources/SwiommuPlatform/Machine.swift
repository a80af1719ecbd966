// The simulated machine: memory, the device tree, the platform devices made from it, and the driver
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

    /// Run `body` with the machine that is up, without reference counting (the hot paths' way in).
    /// Nil when the machine is down.
    @inlinable @inline(__always)
    public static func withCurrent<R>(_ body: (Machine) throws -> R) rethrows -> R? {
        guard let m = up else { return nil }
        return try m._withUnsafeGuaranteedRef(body)
    }

    public let memory: SimulatedMemory
    public let tree: DeviceTree
    public let drivers: DriverCore
    public let boardName: String
    public var geometry: PageGeometry { memory.geometry }

    private init(memory: SimulatedMemory, tree: DeviceTree, boardName: String) {
        self.memory = memory
        self.tree = tree
        self.boardName = boardName
        drivers = DriverCore(memory: memory)
        drivers.dmaConfigure = { dev in Machine.configureDMA(dev) }
    }

    /// Boot: RAM, the board's devices, then the registered initcalls (which bind drivers).
    /// Throws `.busy` when a machine is up, `.notSupported` for board files (not built yet), and what
    /// memory set-up throws.
    @discardableResult
    public static func boot(board: String?, geometry: PageGeometry) throws(Errno) -> Machine {
        guard current == nil else {
            Kernel.log(.error, "swiommu: swiommu_init: the machine is already up; call swiommu_exit() first")
            throw .busy
        }
        if let board {
            Kernel.log(.error, "swiommu: \(board): board files are not supported yet (the board loader is not built); "
                       + "pass NULL for the built-in board")
            throw .notSupported
        }
        Kernel.newBoot()
        FaultInjection.reset()
        let ram = RAMBankLayout.defaultLayout
        let memory = try SimulatedMemory(layout: ram, geometry: geometry)
        let tree = DeviceTree()
        BuiltinBoard.build(into: tree, ram: ram)
        let machine = Machine(memory: memory, tree: tree, boardName: BuiltinBoard.model)
        up = Unmanaged.passRetained(machine)
        Kernel.log(.info, "swiommu: booting \(machine.boardName), \(geometry.size >> 10)K pages")
        machine.populate()
        swiommu_glue_run_initcalls()
        for pdev in machine.drivers.deferredDevices {
            Kernel.log(.warning, driver: "platform", device: machine.drivers.deviceName(pdev), "deferred probe pending")
        }
        return machine
    }

    /// Tear down: exit calls, drivers, devices; report leaks. Returns the number of leaked allocations.
    @discardableResult
    public func shutdown() -> Int {
        swiommu_glue_run_exitcalls()
        drivers.unregisterAllDrivers()
        drivers.destroyAllDevices()
        let leaks = memory.reportLeaks(print: true)
        Machine.up?.release()
        Machine.up = nil
        return leaks
    }

    // MARK: of_platform_default_populate

    /// Make platform devices for the root's children with a compatible, recursing into simple buses.
    /// Kernel: of_platform_bus_create (strict: nodes without compatible are skipped).
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
        let pdev = createDevice(node, parent: parent)
        guard compatibles.contains(where: Self.busCompatibles.contains) else { return }
        var child = node.pointee.child
        while let c = child {
            createDevices(c, parent: pdev.map { $0.device })
            child = c.pointee.sibling
        }
    }

    /// Kernel: of_device_alloc + of_device_make_bus_id ("fe0a0000.isp").
    private func createDevice(_ node: UnsafeMutablePointer<DeviceNode>,
                              parent: UnsafeMutablePointer<Device>?) -> UnsafeMutablePointer<PlatformDevice>? {
        let regs = registerWindows(node)
        let nodeName = String(cString: node.pointee.name)
        let name = regs.first.map { String($0.start, radix: 16) + "." + nodeName } ?? String(cString: node.pointee.full_name)
        let pdev = drivers.allocateDevice(name: name, id: -1)
        let state = DeviceState.of(pdev.device)
        pdev.pointee.dev.of_node = node
        pdev.pointee.dev.fwnode = swiommu_glue_of_fwnode(node)
        pdev.pointee.dev.parent = parent
        swiommu_glue_setup_pdev_dma(pdev, true)
        let irqs = interrupts(node)
        let count = regs.count + irqs.count
        if count > 0 {
            let res = UnsafeMutablePointer<resource>.allocate(capacity: count)
            state.owned.append(UnsafeMutableRawPointer(res))
            for (i, r) in regs.enumerated() {
                res[i] = resource(start: r.start, end: r.start &+ r.size &- 1, name: node.pointee.full_name,
                                  flags: UInt(IORESOURCE_MEM), desc: 0, parent: nil, sibling: nil, child: nil)
            }
            for (i, irq) in irqs.enumerated() {
                res[regs.count + i] = resource(start: UInt64(irq), end: UInt64(irq), name: node.pointee.full_name,
                                               flags: UInt(IORESOURCE_IRQ), desc: 0, parent: nil, sibling: nil, child: nil)
            }
            pdev.pointee.resource = res
            pdev.pointee.num_resources = UInt32(count)
        }
        node.pointee.fwnode.dev = pdev.device
        if drivers.addDevice(pdev) != nil {
            DeviceState.drop(pdev.device)
            pdev.deallocate()
            return nil
        }
        return pdev
    }

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

    /// Walk up the tree through each bus's ranges (empty ranges: identity).
    private func translate(_ address: UInt64, from bus: UnsafePointer<DeviceNode>) -> UInt64? {
        var addr = address
        var node = bus
        while let parent = node.pointee.parent {
            guard let ranges = DeviceTree.cells(node, "ranges") else { return nil }  // no ranges: not translatable
            if !ranges.isEmpty {
                let (cac, _) = DeviceTree.cellCounts(forChildrenOf: node)
                let (pac, psc) = DeviceTree.cellCounts(forChildrenOf: parent)
                let (_, csc) = DeviceTree.cellCounts(forChildrenOf: node)
                let entry = cac + pac + csc
                var found = false
                var i = 0
                while i + entry <= ranges.count {
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
                _ = psc
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
            n = UnsafePointer(cur.pointee.parent)
        }
        let controller = tree.nodes.first { $0.pointee.phandle == parentPhandle && parentPhandle != nil }
        let width = Int(controller.flatMap { DeviceTree.cells($0, "#interrupt-cells")?.first } ?? 3)
        guard width > 0 else { return [] }
        return stride(from: 0, to: cells.count - width + 1, by: width).map { i in
            width >= 3 ? (cells[i] == 0 ? 32 : 16) + cells[i + 1] : cells[i]
        }
    }

    // MARK: of_dma_configure (the coherence half; masks and IOMMU come with the board loader and IOMMU core)

    /// Kernel: of_dma_is_coherent: "dma-coherent" on the node or a DMA parent; "dma-noncoherent" stops.
    public static func isDMACoherent(_ node: UnsafePointer<DeviceNode>?) -> Bool {
        var n = node
        while let cur = n {
            if DeviceTree.property(cur, "dma-coherent") != nil { return true }
            if DeviceTree.property(cur, "dma-noncoherent") != nil { return false }
            n = UnsafePointer(cur.pointee.parent)
        }
        return false  // arm64: dma_default_coherent is false
    }

    static func configureDMA(_ dev: UnsafeMutablePointer<Device>) -> Int32 {
        dev.pointee.dma_coherent = isDMACoherent(dev.pointee.of_node.map { UnsafePointer($0) })
        return 0
    }
}
