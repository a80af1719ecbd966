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
