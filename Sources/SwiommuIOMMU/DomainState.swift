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

    /// The state of a domain, created on first use.
    public static func of(_ d: UnsafeMutablePointer<IOMMUDomain>) -> DomainState {
        if let raw = d.pointee.swiommu { return Unmanaged<DomainState>.fromOpaque(raw).takeUnretainedValue() }
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
