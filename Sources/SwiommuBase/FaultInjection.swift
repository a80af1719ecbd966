// Fault injection points: make the nth call at a point fail (the kernel's fail-nth), to drive error paths.
import CSwiommuGlue

/// A place where an allocation or operation can be made to fail.
public enum FaultPoint: Int, CaseIterable, Sendable {
    case kmalloc, allocPages, vmalloc

    /// The name C code passes to `swiommu_fail_nth`.
    public var name: String {
        switch self {
        case .kmalloc: "kmalloc"
        case .allocPages: "alloc_pages"
        case .vmalloc: "vmalloc"
        }
    }

    public init?(name: String) {
        guard let p = FaultPoint.allCases.first(where: { $0.name == name }) else { return nil }
        self = p
    }
}

/// The armed countdowns, one per point; a disarmed point costs one relaxed load per call.
public enum FaultInjection {
    nonisolated(unsafe) private static let countdowns: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: FaultPoint.allCases.count)
        p.initialize(repeating: 0, count: FaultPoint.allCases.count)
        return p
    }()

    /// Make the `nth` call from now at `point` fail (1: the next one); 0 disarms.
    public static func failNth(_ point: FaultPoint, _ nth: Int) {
        swiommu_glue_atomic_store_long(countdowns + point.rawValue, nth)
    }

    /// Called by the point on every call: true when this call must fail.
    public static func shouldFail(_ point: FaultPoint) -> Bool {
        let c = countdowns + point.rawValue
        guard swiommu_glue_atomic_load_long(c) > 0 else { return false }
        return swiommu_glue_atomic_sub_long(c, 1) == 0
    }

    /// Disarm every point (at boot).
    public static func reset() {
        for p in FaultPoint.allCases { failNth(p, 0) }
    }
}
