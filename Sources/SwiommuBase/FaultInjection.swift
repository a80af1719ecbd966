// Fault injection points: make the nth call at a point fail (the kernel's fail-nth), to drive error paths.
import CSwiommuGlue

/// A place where an allocation or operation can be made to fail.
public enum FaultPoint: Int, CaseIterable, Sendable {
    case kmalloc, allocPages, vmalloc
    /// alloc_iova and alloc_iova_fast (issue 4).
    case iova
    /// swiotlb_tbl_map_single's slot search (issue 7): the pool looks full.
    case swiotlb

    /// The name C code passes to `swiommu_fail_nth`.
    public var name: String {
        switch self {
        case .kmalloc: "kmalloc"
        case .allocPages: "alloc_pages"
        case .vmalloc: "vmalloc"
        case .iova: "iova"
        case .swiotlb: "swiotlb"
        }
    }

    public init?(name: String) {
        guard let p = FaultPoint.allCases.first(where: { $0.name == name }) else { return nil }
        self = p
    }
}

/// The armed countdowns live in the C glue, one per point; a disarmed point costs one relaxed load.
public enum FaultInjection {
    /// Make the `nth` call from now at `point` fail (1: the next one); 0 disarms.
    public static func failNth(_ point: FaultPoint, _ nth: Int) {
        swiommu_glue_fault_arm(Int32(point.rawValue), nth)
    }

    /// Called by the point on every call: true when this call must fail.
    @inline(__always) public static func shouldFail(_ point: FaultPoint) -> Bool {
        swiommu_glue_fault_should_fail(Int32(point.rawValue))
    }

    /// Disarm every point (at boot).
    public static func reset() {
        for p in FaultPoint.allCases { failNth(p, 0) }
    }
}
