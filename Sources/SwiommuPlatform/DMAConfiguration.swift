// What the bus does before a driver probes: of_dma_configure. DMA ranges and masks, coherence, the
// IOMMU references (deferring the probe while an IOMMU has no driver during boot) and reserved
// regions. Kernel: drivers/of/device.c (of_dma_configure_id), drivers/of/address.c (of_dma_get_range),
// drivers/iommu/of_iommu.c (of_iommu_configure), drivers/base/dd.c (driver_deferred_probe_check_state).
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase

/// How a master stands with its IOMMU after of_iommu_configure.
public enum IOMMULink: Equatable, Sendable, CustomStringConvertible {
    /// No "iommus" and no iommu-map entry: DMA goes straight to the bus.
    case none
    /// Waiting for an IOMMU driver during boot (-EPROBE_DEFER).
    case deferred
    /// An IOMMU node is disabled: the master carries on without it.
    case disabled
    /// No IOMMU driver appeared by the end of boot: the master carries on without it.
    case noDriver
    /// An IOMMU driver serves the master.
    case attached

    public var description: String {
        switch self {
        case .none: "none"
        case .deferred: "deferred: waiting for an IOMMU driver"
        case .disabled: "IOMMU disabled: carrying on without it"
        case .noDriver: "no IOMMU driver: carrying on without it"
        case .attached: "attached"
        }
    }
}

extension Machine {
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

    /// Kernel: of_dma_get_range. The dma-ranges that apply below `bus`: walk up while dma-ranges is
    /// empty (no translation); stop at a bus without it. Nil when there is no translation to apply.
    public func dmaRanges(below bus: UnsafePointer<DeviceNode>) -> [bus_dma_region]? {
        var node: UnsafePointer<DeviceNode>? = bus
        while let n = node {
            guard let ranges = DeviceTree.cells(n, "dma-ranges") else { return nil }
            if !ranges.isEmpty {
                guard let parent = n.pointee.parent else { return nil }
                let (cac, csc) = DeviceTree.cellCounts(forChildrenOf: n)
                let (pac, _) = DeviceTree.cellCounts(forChildrenOf: parent)
                let entry = cac + pac + csc
                var out: [bus_dma_region] = []
                var i = 0
                while entry > 0 && i + entry <= ranges.count {
                    let busAddr = ranges[i..<(i + cac)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
                    let parentAddr = ranges[(i + cac)..<(i + cac + pac)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
                    let size = ranges[(i + cac + pac)..<(i + entry)].reduce(UInt64(0)) { $0 << 32 | UInt64($1) }
                    if let cpu = translate(parentAddr, from: parent) {
                        out.append(bus_dma_region(cpu_start: cpu, dma_start: busAddr, size: size))
                    } else {
                        Kernel.log(.error, "translation of DMA address(\(Kernel.hex(busAddr))) to CPU address failed node(\(DeviceTree.path(of: n)))")
                    }
                    i += entry
                }
                return out.isEmpty ? nil : out
            }
            node = n.pointee.parent.map { UnsafePointer($0) }
        }
        return nil
    }

    /// The node whose DMA configuration applies: the device's own, or a PCI-like device's host bridge.
    func dmaConfigurationNode(_ dev: UnsafeMutablePointer<Device>) -> UnsafeMutablePointer<DeviceNode>? {
        let state = DeviceState.of(dev)
        return state.requesterID != nil ? state.hostBridge : dev.pointee.of_node
    }

    /// Kernel: of_dma_configure_id (force_dma, as platform and PCI buses call it). 0 or -EPROBE_DEFER.
    /// Runs when a driver binds; the topology tool runs it on unbound masters to show its results.
    public func configureDMA(_ dev: UnsafeMutablePointer<Device>) -> Int32 {
        guard let np = dmaConfigurationNode(dev) else { return 0 }
        let state = DeviceState.of(dev)
        let name = String(cString: dev_name(dev))
        var end: UInt64 = 0
        var map: [bus_dma_region]?
        if dev.pointee.dma_range_map == nil {
            let busNode = np == dev.pointee.of_node ? np.pointee.parent.map { UnsafePointer($0) } : UnsafePointer(np)
            if let busNode, let m = dmaRanges(below: busNode) {
                map = m
                end = m.map { $0.dma_start &+ $0.size &- 1 }.max() ?? 0
            }
        }
        if dev.pointee.dma_mask == nil {
            Kernel.log(.warning, driver: "platform", device: name, "DMA mask not set")
            swiommu_glue_point_dma_mask_at_coherent(dev)
        }
        if end == 0 { end = dev.pointee.coherent_dma_mask != 0 ? dev.pointee.coherent_dma_mask : 0xffff_ffff }
        // DMA_BIT_MASK(ilog2(end) + 1)
        let bits = 64 - end.leadingZeroBitCount
        let mask: UInt64 = bits >= 64 ? ~0 : (1 << UInt64(bits)) - 1
        dev.pointee.coherent_dma_mask &= mask
        dev.pointee.dma_mask?.pointee &= mask
        let coherent = Machine.isDMACoherent(np)
        Kernel.log(.debug, driver: "platform", device: name, "device is\(coherent ? " " : " not ")dma coherent")

        // of_iommu_get_resv_regions reads the device tree when the IOMMU driver asks, which it does while the
        // device is probed into its group (the default domain's direct mappings): known before that.
        if let node = dev.pointee.of_node {
            state.reservedRegions = ReservedRegions.regions(for: node, in: tree, coherent: coherent, machine: self)
        }
        let ret = configureIOMMU(dev, np, state: state, name: name)
        swiommu_glue_route_generation_bump()   // the channels and their IOMMU link may have changed
        if ret == Errno.probeDefer.negated { return ret }
        Kernel.log(.debug, driver: "platform", device: name, "device is\(ret == 0 ? " " : " not ")behind an iommu")
        if let map {
            // malloc memory: DeviceState.drop frees it with the device.
            let owned = calloc(map.count + 1, MemoryLayout<bus_dma_region>.stride)!
                .assumingMemoryBound(to: bus_dma_region.self)
            owned.update(from: map, count: map.count)
            if let old = dev.pointee.dma_range_map { free(UnsafeMutableRawPointer(mutating: old)) }
            dev.pointee.dma_range_map = UnsafePointer(owned)
            dev.pointee.bus_dma_limit = end
        }
        dev.pointee.dma_coherent = coherent
        return 0
    }

    /// Kernel: of_iommu_configure with iommu_fwspec_init's deferral. 0 when an IOMMU driver serves the
    /// device, -ENODEV to carry on without one, -EPROBE_DEFER to wait for one.
    private func configureIOMMU(_ dev: UnsafeMutablePointer<Device>, _ np: UnsafeMutablePointer<DeviceNode>,
                                state: DeviceState, name: String) -> Int32 {
        var channels: [DMAChannel]
        if let rid = state.requesterID {
            channels = OFIOMMU.mapRequesterID(rid, bridge: np, in: tree).map { [$0] } ?? []
        } else {
            channels = ((try? OFIOMMU.channels(of: np, in: tree, file: board.source)) ?? nil) ?? []
        }
        if channels.isEmpty { channels = [DMAChannel(index: 0, iommu: nil, ids: [])] }
        state.channels = channels
        let instances = channels.compactMap(\.iommu)
        guard !instances.isEmpty else {
            state.iommuLink = .none
            return Errno.noDevice.negated
        }
        if instances.contains(where: { !DeviceTree.isAvailable($0) }) {
            state.iommuLink = .disabled
            return Errno.noDevice.negated
        }
        if instances.allSatisfy({ iommuDriverBound($0) }) {
            let ret = iommuProbe?(dev) ?? 0
            if ret == Errno.probeDefer.negated { return ret }
            state.iommuLink = ret == 0 ? .attached : .noDriver
            if ret != 0 {
                Kernel.log(.debug, driver: "platform", device: name, "Adding to IOMMU failed: \(ret)")
            }
            return ret == 0 ? 0 : Errno.noDevice.negated
        }
        guard initcallsDone else {
            state.iommuLink = .deferred
            state.deferReason = "wait for supplier \(DeviceTree.path(of: instances.first { !iommuDriverBound($0) }!))"
            return Errno.probeDefer.negated
        }
        Kernel.log(.warning, driver: "platform", device: name, "ignoring dependency for device, assuming no driver")
        state.iommuLink = .noDriver
        return Errno.noDevice.negated
    }
}
