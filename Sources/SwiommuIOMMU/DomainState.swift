// What the core keeps for a domain, hung off `struct iommu_domain::swiommu`.
import CKernel
import CSwiommuGlue
import Synchronization
import SwiommuBase

public final class DomainState {
    /// Groups attached to the domain now.
    public internal(set) var attachedGroups = 0
    /// Faults reported on the domain (report_iommu_fault), counted atomically by the faulting threads.
    let faultCount = Atomic<UInt64>(0)
    public var faults: UInt64 { faultCount.load(ordering: .relaxed) }
    /// Groups whose default domain this is (more than one under the per-instance and global policies).
    public internal(set) var defaultUsers = 0
    /// dma-iommu's cookie for a DMA API domain (kernel: domain->iova_cookie): a retained object reference
    /// (Unmanaged.toOpaque) the DMA layer sets; released here when the domain goes.
    public var dmaCookie: UnsafeMutableRawPointer?
    /// The core's counts for a domain whose driver is C, while counting is on (the built-in models count
    /// their own domains always): map_pages and unmap_pages calls that did something, their bytes, and the
    /// core's iotlb_sync and flush_iotlb_all calls. Atomic: maps may run concurrently on one domain.
    let maps = Atomic<UInt64>(0)
    let unmaps = Atomic<UInt64>(0)
    let mappedBytes = Atomic<UInt64>(0)
    let unmappedBytes = Atomic<UInt64>(0)
    let invalidations = Atomic<UInt64>(0)

    /// The state of a domain if it has one (every domain the core allocated, or attached).
    @inline(__always)
    static func existing(_ d: UnsafeMutablePointer<IOMMUDomain>) -> Unmanaged<DomainState>? {
        d.pointee.swiommu.map { Unmanaged<DomainState>.fromOpaque($0) }
    }

    /// The state of a domain, created on first use.
    public static func of(_ d: UnsafeMutablePointer<IOMMUDomain>) -> DomainState {
        if let s = existing(d) { return s.takeUnretainedValue() }
        let s = DomainState()
        d.pointee.swiommu = Unmanaged.passRetained(s).toOpaque()
        return s
    }

    /// Release the state before the driver frees the domain.
    static func drop(_ d: UnsafeMutablePointer<IOMMUDomain>) {
        guard let raw = d.pointee.swiommu else { return }
        if let c = Unmanaged<DomainState>.fromOpaque(raw).takeUnretainedValue().dmaCookie {
            Unmanaged<AnyObject>.fromOpaque(c).release()
        }
        Unmanaged<DomainState>.fromOpaque(raw).release()
        d.pointee.swiommu = nil
    }
}

/// What happened to a domain. Kernel equivalent: none (debugfs-style figures).
public struct DomainCounters: Sendable, Equatable {
    /// map_pages calls that mapped something (a built-in model's batches), and their bytes.
    public var maps: UInt64 = 0
    public var mappedBytes: UInt64 = 0
    /// unmap_pages calls that unmapped something, and their bytes.
    public var unmaps: UInt64 = 0
    public var unmappedBytes: UInt64 = 0
    /// IOTLB invalidations: a built-in model's commands to its instances; for a C driver's domain, the
    /// core's iotlb_sync and flush_iotlb_all calls (a driver's own calls are not seen).
    public var invalidations: UInt64 = 0
    /// Faults reported on the domain (report_iommu_fault).
    public var faults: UInt64 = 0
    /// Groups attached now.
    public var attachedGroups = 0
    /// Whether a built-in model counted (always) rather than the core (while counting is on).
    public var byModel = false

    /// The figures of `d` now.
    public static func of(_ d: UnsafeMutablePointer<IOMMUDomain>) -> DomainCounters {
        var c = DomainCounters()
        if let s = DomainState.existing(d) {
            s._withUnsafeGuaranteedRef { s in
                c.faults = s.faults
                c.attachedGroups = s.attachedGroups
                c.maps = s.maps.load(ordering: .relaxed)
                c.mappedBytes = s.mappedBytes.load(ordering: .relaxed)
                c.unmaps = s.unmaps.load(ordering: .relaxed)
                c.unmappedBytes = s.unmappedBytes.load(ordering: .relaxed)
                c.invalidations = s.invalidations.load(ordering: .relaxed)
            }
        }
        if BuiltinModels.isModelDomain(d) {
            let m = ModelDomain.from(d)
            let mc = m.counters
            c.maps = UInt64(mc.maps)
            c.mappedBytes = mc.mappedBytes
            c.unmaps = UInt64(mc.unmaps)
            c.unmappedBytes = mc.unmappedBytes
            c.invalidations = UInt64(m.invalidations)
            c.byModel = true
        }
        return c
    }
}
