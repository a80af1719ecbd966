// What tests, dumps and the CLI ask of the built-in models: IOTLB counters, invalidations, contexts.
import CKernel
import SwiommuBase
import SwiommuPlatform

/// One instance's figures. Kernel equivalent: none (the hardware's performance counters, roughly).
public struct ModelInstanceStatistics: Sendable {
    public var iotlb: IOTLBCounters
    public var capacity: Int
    public var faults: UInt64
    public var contextsUsed: Int
    public var contexts: Int
}

/// A built-in instance as the CLI shows it.
public struct ModelInstanceSummary: Sendable {
    public var device: String
    /// Its device-tree path.
    public var path: String
    public var driver: String
    public var statistics: ModelInstanceStatistics
    /// Per live context: its number, the domain's type and the table base the context walks.
    public var contexts: [(context: Int, domainType: UInt32, tableBase: UInt64)]
}

extension BuiltinIOMMU {
    var statistics: ModelInstanceStatistics {
        lock.withLock {
            ModelInstanceStatistics(iotlb: iotlb.counters, capacity: iotlb.capacity, faults: faults,
                                    contextsUsed: contexts.lazy.filter { $0 != nil }.count, contexts: contexts.count)
        }
    }
}

/// The power state of a channel's IOMMU port.
public enum PortPower: Sendable {
    case powered, poweredDown
    /// No port: the channel bypasses translation or has no IOMMU driver.
    case noPort
    /// A C driver's domain: its mappings are not visible to the core.
    case unknown
}

extension BuiltinModels {
    /// Whether `channel`'s port is up: its domain holds a live mapping (identity ports are always up).
    public static func portPower(of dev: UnsafeMutablePointer<Device>, channel: Int) -> PortPower {
        guard let core = IOMMUCore.current, case .translated(let d, _) = core.route(of: dev, channel: channel) else {
            return .noPort
        }
        if d.pointee.type == IOMMU_DOMAIN_IDENTITY_VALUE { return .powered }
        guard isModelDomain(d) else {
            return d.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE && core.routeDevice(of: dev, channel: channel)
                .flatMap { MasterConfig.of($0) } != nil ? .poweredDown : .unknown
        }
        return ModelDomain.from(d).liveBytes > 0 ? .powered : .poweredDown
    }

    /// The instance serving `channel` of `dev` (or `dev` itself when it is a built-in IOMMU).
    static func instance(serving dev: UnsafeMutablePointer<Device>, channel: Int) -> BuiltinIOMMU? {
        if let own = instances.first(where: { $0.device == dev }) { return own }
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count, let node = state.channels[channel].iommu else { return nil }
        return instances.first { $0.node == node }
    }

    /// The counters of the instance that serves `channel` of `dev`; nil when no built-in model does.
    public static func statistics(of dev: UnsafeMutablePointer<Device>, channel: Int) -> ModelInstanceStatistics? {
        instance(serving: dev, channel: channel)?.statistics
    }

    /// Invalidation commands seen by the built-in instances that serve `dev` (swiommu_iotlb_invalidations).
    public static func invalidations(of dev: UnsafeMutablePointer<Device>) -> UInt64 {
        let state = DeviceState.of(dev)
        var seen: [ObjectIdentifier] = []
        var total: UInt64 = 0
        for ch in state.channels {
            guard let node = ch.iommu, let inst = instances.first(where: { $0.node == node }),
                  !seen.contains(ObjectIdentifier(inst)) else { continue }
            seen.append(ObjectIdentifier(inst))
            total &+= inst.statistics.iotlb.invalidations
        }
        return total
    }

    /// Every live built-in instance, in probe order.
    public static var summaries: [ModelInstanceSummary] {
        instances.map { inst in
            let live: [(Int, UInt32, UInt64)] = inst.lock.withLock {
                inst.contexts.enumerated().compactMap { i, slot in
                    guard let slot else { return nil }
                    return (i, slot.domain.domain.pointee.type, slot.domain.tables[slot.table].tableBase)
                }
            }
            return ModelInstanceSummary(device: inst.name, path: DeviceTree.path(of: inst.node),
                                        driver: type(of: inst).driverName, statistics: inst.statistics, contexts: live)
        }
    }
}

// MARK: Dumps (debugfs-style text views)

extension BuiltinModels {
    /// A domain: its type, page sizes, aperture, counters, the instances and contexts it is programmed into,
    /// then its table's live entries (built-in models; a C driver's tables are its own).
    public static func dump(domain d: UnsafeMutablePointer<IOMMUDomain>) -> String {
        var out = "domain \(domainTypeName(d.pointee.type)), pages \(pageSizeList(UInt64(d.pointee.pgsize_bitmap))), "
            + "aperture \(Kernel.hex(d.pointee.geometry.aperture_start))-\(Kernel.hex(d.pointee.geometry.aperture_end))\n"
        let c = DomainCounters.of(d)
        out += "counters: \(c.maps) maps (\(c.mappedBytes) bytes), \(c.unmaps) unmaps (\(c.unmappedBytes) bytes), "
            + "\(c.invalidations) invalidations, \(c.faults) faults, \(c.attachedGroups) group(s) attached"
            + (c.byModel || Counting.enabled ? "\n" : " (maps counted only while counting is on)\n")
        guard isModelDomain(d) else {
            out += "tables: the C driver's own (no dump)\n"
            return out
        }
        let m = ModelDomain.from(d)
        for inst in m.instances {
            out += "instance \(inst.name) (\(type(of: inst).driverName)): context \(m.context(on: inst) ?? -1)\n"
        }
        // The tables are read under the domain's lock, as map and unmap write them under it.
        let tables = m.lock.withLock { m.tables.map { ($0.tableBase, $0.dump()) } }
        for (i, (base, text)) in tables.enumerated() {
            out += "table \(i), base \(Kernel.hex(base)):\n" + text
            if !out.hasSuffix("\n") { out += "\n" }
        }
        return out
    }

    /// The IOTLB of the instance that serves `channel` of `dev`: counters, then every live entry. Nil when no
    /// built-in model serves it.
    public static func dumpIOTLB(of dev: UnsafeMutablePointer<Device>, channel: Int) -> String? {
        guard let inst = instance(serving: dev, channel: channel) else { return nil }
        let (counters, capacity, entries) = inst.lock.withLock { (inst.iotlb.counters, inst.iotlb.capacity, inst.iotlb.liveEntries) }
        var out = "iotlb \(inst.name) (\(type(of: inst).driverName)): \(entries.count)/\(capacity) entries, "
            + "\(counters.lookups) lookups, \(counters.hits) hits, \(counters.misses) misses, \(counters.evictions) evictions, "
            + "invalidations: \(counters.invalidateAll) all, \(counters.invalidateContext) context, \(counters.invalidateRange) range\n"
        for e in entries.sorted(by: { ($0.context, $0.iova) < ($1.context, $1.iova) }) {
            let perms = (e.permissions & 1 != 0 ? "r" : "-") + (e.permissions & 2 != 0 ? "w" : "-")
            out += "  ctx \(e.context) iova \(Kernel.hex(e.iova)) -> \(Kernel.hex(e.output)) size \(pageSizeList(1 << UInt64(e.sizeShift))) \(perms)\n"
        }
        return out
    }

    /// "4K|2M|1G".
    public static func pageSizeList(_ bitmap: UInt64) -> String {
        (0..<64).filter { bitmap & (1 << UInt64($0)) != 0 }.map { bit -> String in
            bit >= 30 ? "\(1 << (bit - 30))G" : bit >= 20 ? "\(1 << (bit - 20))M" : "\(1 << (bit - 10))K"
        }.joined(separator: "|")
    }
}
