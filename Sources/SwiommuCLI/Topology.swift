// `swiommu topology [BOARD]`: every master with its DMA channels, IOMMU instances and IDs, masks, limits
// and coherence, its IOMMU group and default domain (and those of its further channel routes); every IOMMU
// instance with its model, masters, hardware contexts and IOTLB.
import ArgumentParser
import Glibc
import CKernel
import Swiommu
import SwiommuBase
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

struct Topology: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a board's masters, their DMA channels and IOMMUs, and the IOMMU instances.")

    @Argument(help: "A .dtb or .dts board (default: the built-in default board).")
    var board: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    @Option(help: "Default-domain policy to show: per-group (per-master), per-instance or global.")
    var policy: String?

    @Option(name: .customLong("page-shift"), help: "CPU page shift: 12, 14 or 16.")
    var pageShift: Int = 12

    func run() throws {
        var chosenPolicy: DefaultDomainPolicy?
        if let policy {
            chosenPolicy = policy == "per-master" ? .perGroup : DefaultDomainPolicy(rawValue: policy)
            guard chosenPolicy != nil else {
                throw ValidationError("unknown policy '\(policy)': per-group (per-master), per-instance or global")
            }
        }
        // The policy is a boot setting: the instances set their groups up when they register.
        let pending = IOMMUCore.pending
        defer { IOMMUCore.pending = pending }
        if let chosenPolicy { IOMMUCore.pending.policy = chosenPolicy }
        let quiet = swiommu_log_set_console_level(0)
        defer { _ = swiommu_log_set_console_level(quiet) }
        let ret = board.map { path in path.withCString { abiInitPageShift($0, CUnsignedInt(pageShift)) } }
            ?? abiInitPageShift(nil, CUnsignedInt(pageShift))
        guard ret == 0, let machine = Machine.current else {
            var err = StandardError()
            var message = String(cString: swiommu_log_last())
            if message.hasPrefix("swiommu: ") { message.removeFirst(9) }
            print("swiommu topology: \(message)", to: &err)
            throw ExitCode.failure
        }
        defer { abiExit() }
        let model = TopologyModel(machine: machine, policy: IOMMUCore.current?.settings.policy ?? machine.board.options.policy)
        if json { print(model.json.rendered()) } else { print(model.text) }
    }
}

/// Writes to stderr.
struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        var s = string
        s.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// What the topology command shows, gathered once.
struct TopologyModel {
    struct Channel {
        var index: Int
        var iommu: String?
        var ids: [UInt32]
    }

    struct Master {
        var name: String
        var path: String
        var compatible: String
        var pci: Bool
        var channels: [Channel]
        var link: String
        var dmaMask: UInt64
        var coherentMask: UInt64
        var busLimit: UInt64
        var ranges: [(cpu: UInt64, dma: UInt64, size: UInt64)]
        var coherent: Bool
        var reserved: [ReservedRegion]
        /// A DMA engine's "dma-channels" and "#dma-cells", when it declares them.
        var dmaChannels: UInt32?
        var dmaCells: UInt32?
        /// Its group (route 0), then the groups of its further channel routes.
        var groups: [GroupSummary]
    }

    struct Instance {
        var path: String
        var compatible: String
        var cells: UInt32
        var enabled: Bool
        var masters: [String]
        var walkCoherent: Bool
        /// The built-in model bound to it, if one is.
        var model: ModelInstanceSummary?
    }

    var board: String
    var source: String
    var options: BoardOptions
    var policy: DefaultDomainPolicy
    var masters: [Master] = []
    var instances: [Instance] = []

    init(machine: Machine, policy: DefaultDomainPolicy) {
        board = machine.board.model
        source = machine.board.source
        options = machine.board.options
        self.policy = policy
        let tree = machine.tree
        // IOMMU instances: every node with #iommu-cells, in tree order.
        for n in tree.nodes where DeviceTree.property(n, "#iommu-cells") != nil {
            instances.append(Instance(path: DeviceTree.path(of: n),
                                      compatible: DeviceTree.strings(n, "compatible").joined(separator: ", "),
                                      cells: DeviceTree.cells(n, "#iommu-cells")?.first ?? 0,
                                      enabled: DeviceTree.isAvailable(n), masters: [],
                                      walkCoherent: DeviceTree.property(n, "dma-coherent") != nil,
                                      model: BuiltinModels.summaries.first { $0.path == DeviceTree.path(of: n) }))
        }
        let core = IOMMUCore.current
        for pdev in machine.drivers.devices {
            let dev = pdev.device
            guard let np = dev.pointee.of_node, !Self.isInfrastructure(np) else { continue }
            if dev.pointee.driver == nil { _ = machine.configureDMA(dev) }
            let state = DeviceState.of(dev)
            var ranges: [(UInt64, UInt64, UInt64)] = []
            if var r = dev.pointee.dma_range_map {
                while r.pointee.size != 0 {
                    ranges.append((r.pointee.cpu_start, r.pointee.dma_start, r.pointee.size))
                    r += 1
                }
            }
            let name = String(cString: dev_name(dev))
            let channels = state.channels.map {
                Channel(index: $0.index, iommu: $0.iommu.map { DeviceTree.path(of: $0) }, ids: $0.ids)
            }
            for c in channels {
                if let p = c.iommu, let i = instances.firstIndex(where: { $0.path == p }), !instances[i].masters.contains(name) {
                    instances[i].masters.append(name)
                }
            }
            masters.append(Master(name: name, path: DeviceTree.path(of: np),
                                  compatible: DeviceTree.strings(np, "compatible").first ?? "",
                                  pci: state.requesterID != nil, channels: channels,
                                  link: state.iommuLink.description,
                                  dmaMask: dev.pointee.dma_mask?.pointee ?? 0, coherentMask: dev.pointee.coherent_dma_mask,
                                  busLimit: dev.pointee.bus_dma_limit, ranges: ranges, coherent: dev.pointee.dma_coherent,
                                  reserved: state.reservedRegions, dmaChannels: DeviceTree.cells(np, "dma-channels")?.first,
                                  dmaCells: DeviceTree.cells(np, "#dma-cells")?.first,
                                  groups: ([dev] + state.routeDevices).compactMap { core?.summary(ofGroupOf: $0) }))
        }
    }

    /// Buses, interrupt controllers, IOMMUs and host bridges are not bus masters here.
    static func isInfrastructure(_ n: UnsafePointer<DeviceNode>) -> Bool {
        let compat = DeviceTree.strings(n, "compatible")
        return DeviceTree.property(n, "#iommu-cells") != nil || DeviceTree.property(n, "interrupt-controller") != nil
            || compat.contains("simple-bus") || DeviceTree.strings(n, "device_type").first == "pci"
    }

    private func policyLine() -> String {
        let used = instances.filter { !$0.masters.isEmpty && $0.enabled }.count
        switch policy {
        case .perGroup:
            return "per-group (the kernel's): one default domain per IOMMU group; groups come from each IOMMU "
                + "driver's device_group"
        case .perInstance:
            return "per-instance (swiommu extension): \(used) default domain(s), one per IOMMU instance with masters"
        case .global:
            return "global (swiommu extension): 1 default domain shared by every translated master"
        }
    }

    var text: String {
        var out = "board:   \(board) (\(source))\n"
        out += "options: \(options.strict ? "strict" : "lazy") invalidation, "
            + "\(options.passthrough ? "passthrough" : "translated") default domains, "
            + "swiotlb \(options.swiotlbBytes >> 20) MiB\n"
        out += "policy:  \(policyLine())\n"
        out += "\nMASTERS\n"
        for m in masters {
            out += "\(m.name)  \(m.path)  \(m.compatible)\(m.pci ? "  (PCI-like)" : "")\n"
            if let n = m.dmaChannels {
                out += "    DMA engine: dma-channels \(n)" + (m.dmaCells.map { ", #dma-cells \($0)" } ?? "") + "\n"
            }
            for c in m.channels {
                let route = c.iommu.map { "\($0)" + (c.ids.isEmpty ? "" : " ids " + c.ids.map { Kernel.hex($0) }.joined(separator: " ")) }
                    ?? "bypass (no translation)"
                out += "    channel \(c.index): \(route)\n"
            }
            out += "    iommu: \(m.link)\n"
            for (i, g) in m.groups.enumerated() {
                out += "    " + (i == 0 ? "group" : "route \(i) group") + " \(g.id)"
                    + (g.devices.count > 1 ? " (with \(g.devices.filter { $0 != m.name }.joined(separator: ", ")))" : "")
                    + ": default domain " + (g.defaultDomain ?? "none") + (g.sharedDefault ? " (shared)" : "")
                    + (g.currentDomain != g.defaultDomain ? ", now on " + (g.currentDomain ?? "none") : "")
                    + (g.pageSizes != 0 ? ", pages \(BuiltinModels.pageSizeList(g.pageSizes)), aperture \(Kernel.hex(g.aperture.start))-"
                        + Kernel.hex(g.aperture.end) : "") + "\n"
            }
            out += "    dma mask \(Kernel.hex(m.dmaMask)), coherent mask \(Kernel.hex(m.coherentMask)), bus limit "
                + (m.busLimit == 0 ? "none" : Kernel.hex(m.busLimit)) + ", \(m.coherent ? "coherent" : "non-coherent")\n"
            for r in m.ranges {
                out += "    dma-ranges: bus \(Kernel.hex(r.dma)) -> cpu \(Kernel.hex(r.cpu)), \(Kernel.hex(r.size)) bytes\n"
            }
            for r in m.reserved {
                out += "    reserved \(r.type.rawValue) \(Kernel.hex(r.start)) + \(Kernel.hex(r.length)) (\(r.node))\n"
            }
        }
        out += "\nIOMMU INSTANCES\n"
        for i in instances {
            out += "\(i.path)  \(i.compatible)  #iommu-cells \(i.cells)\(i.enabled ? "" : "  DISABLED")"
                + "\(i.walkCoherent ? "  coherent walk" : "")\n"
            out += "    masters: " + (i.masters.isEmpty ? "none" : i.masters.joined(separator: ", ")) + "\n"
            if let m = i.model {
                let s = m.statistics
                out += "    driver: \(m.driver) (built-in model), contexts \(s.contextsUsed)/\(s.contexts), "
                    + "IOTLB \(s.capacity) entries (\(s.iotlb.lookups) lookups, \(s.iotlb.hits) hits, "
                    + "\(s.iotlb.invalidations) invalidations), \(s.faults) faults\n"
                for c in m.contexts {
                    out += "    context \(c.context): \(domainTypeName(c.domainType)) domain, table base \(Kernel.hex(c.tableBase))\n"
                }
            } else if i.enabled {
                out += "    driver: " + (i.masters.isEmpty ? "-" : "none built in (a C driver, or none)") + "\n"
            }
        }
        return out
    }

    var json: JSON {
        .object([
            ("board", .string(board)), ("source", .string(source)),
            ("options", .object([("strict", .bool(options.strict)), ("passthrough", .bool(options.passthrough)),
                                 ("swiotlb_bytes", .integer(Int64(options.swiotlbBytes))),
                                 ("bootargs", .string(options.bootargs))])),
            ("policy", .object([("name", .string(policy.rawValue)), ("summary", .string(policyLine()))])),
            ("masters", .array(masters.map { m in
                .object([
                    ("name", .string(m.name)), ("path", .string(m.path)), ("compatible", .string(m.compatible)),
                    ("pci", .bool(m.pci)),
                    ("channels", .array(m.channels.map { c in
                        .object([("index", .integer(Int64(c.index))), ("iommu", c.iommu.map { .string($0) } ?? .null),
                                 ("ids", .array(c.ids.map { .integer(Int64($0)) }))])
                    })),
                    ("iommu_link", .string(m.link)),
                    ("group", m.groups.first.map { .integer(Int64($0.id)) } ?? .null),
                    ("default_domain", m.groups.first?.defaultDomain.map { .string($0) } ?? .null),
                    ("routes", .array(m.groups.dropFirst().map { g in
                        .object([("group", .integer(Int64(g.id))), ("default_domain", g.defaultDomain.map { .string($0) } ?? .null)])
                    })),
                    ("dma_mask", .integer(Int64(bitPattern: m.dmaMask))),
                    ("coherent_dma_mask", .integer(Int64(bitPattern: m.coherentMask))),
                    ("bus_dma_limit", .integer(Int64(bitPattern: m.busLimit))),
                    ("dma_ranges", .array(m.ranges.map { r in
                        .object([("cpu_start", .integer(Int64(bitPattern: r.cpu))),
                                 ("dma_start", .integer(Int64(bitPattern: r.dma))), ("size", .integer(Int64(bitPattern: r.size)))])
                    })),
                    ("coherent", .bool(m.coherent)),
                    ("dma_channels", m.dmaChannels.map { .integer(Int64($0)) } ?? .null),
                    ("dma_cells", m.dmaCells.map { .integer(Int64($0)) } ?? .null),
                    ("reserved_regions", .array(m.reserved.map { r in
                        .object([("type", .string(r.type.rawValue)), ("start", .integer(Int64(bitPattern: r.start))),
                                 ("length", .integer(Int64(bitPattern: r.length))), ("prot", .integer(Int64(r.prot))),
                                 ("node", .string(r.node))])
                    })),
                ])
            })),
            ("iommus", .array(instances.map { i in
                .object([("path", .string(i.path)), ("compatible", .string(i.compatible)),
                         ("iommu_cells", .integer(Int64(i.cells))), ("enabled", .bool(i.enabled)),
                         ("coherent_walk", .bool(i.walkCoherent)),
                         ("masters", .array(i.masters.map { .string($0) })),
                         ("driver", i.model.map { .string($0.driver) } ?? .null),
                         ("contexts", i.model.map { m in .array(m.contexts.map { c in
                             .object([("context", .integer(Int64(c.context))), ("domain", .string(domainTypeName(c.domainType))),
                                      ("table_base", .integer(Int64(bitPattern: c.tableBase)))])
                         }) } ?? .null),
                         ("iotlb_entries", i.model.map { .integer(Int64($0.statistics.capacity)) } ?? .null)])
            })),
        ])
    }
}
