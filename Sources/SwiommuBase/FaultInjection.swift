// Fault injection: make calls at a point fail, to drive error paths. The kernel's two ways: fail-nth
// (the nth call fails, once) and fault_attr (probability, interval, times, space; lib/fault-inject.c), with a
// seeded random stream so a run can be repeated. Also from the environment, so an unmodified test binary can
// be swept: SWIOMMU_FAIL_NTH="kmalloc:3" and SWIOMMU_FAULT="iommu_map:probability=50,times=2,seed=7".
import Glibc
import CSwiommuGlue

/// A place where an allocation or operation can be made to fail.
public enum FaultPoint: Int, CaseIterable, Sendable {
    case kmalloc, allocPages, vmalloc
    /// alloc_iova and alloc_iova_fast.
    case iova
    /// swiotlb_tbl_map_single's slot search: the pool looks full.
    case swiotlb
    /// iommu_map: the last page-size batch of the range fails with -ENOMEM, after the others are mapped,
    /// so the rollback runs (a one-batch map fails before mapping anything).
    case iommuMap
    /// An IOMMU driver's attach_dev: -ENOSPC, as when a context runs out.
    case attach
    /// A platform driver's probe: -EPROBE_DEFER before the driver's probe runs.
    case probe

    /// The name C code passes to `swiommu_fail_nth` (the glue's table, one source for C and Swift).
    public var name: String { String(cString: swiommu_glue_fault_point_name(Int32(rawValue))) }

    public init?(name: String) {
        guard let p = FaultPoint.allCases.first(where: { $0.name == name }) else { return nil }
        self = p
    }
}

/// A point's fault_attr. Kernel: struct fault_attr.
public struct FaultAttributes: Sendable, Equatable {
    /// Percent of eligible calls that fail; 0 turns the point off.
    public var probability: Int = 0
    /// Only every interval-th call is eligible (1: every call).
    public var interval: Int = 1
    /// Failures left; -1: no limit.
    public var times: Int = -1
    /// Calls that pass first, before any may fail (the kernel counts bytes; here calls).
    public var space: Int = 0
    /// The random stream's seed: the same seed, the same failures.
    public var seed: UInt64 = 1
    /// Log "FAULT_INJECTION: forcing a failure." with the attributes at each failure (the kernel's default).
    public var verbose = true
    public init() {}
}

/// The armed countdowns and attributes live in the C glue, one per point; a disarmed point costs two
/// relaxed loads.
public enum FaultInjection {
    /// Make the `nth` call from now at `point` fail (1: the next one); 0 disarms.
    public static func failNth(_ point: FaultPoint, _ nth: Int) {
        swiommu_glue_fault_arm(Int32(point.rawValue), nth)
    }

    /// Give `point` fault_attr attributes (nil: none).
    public static func set(_ point: FaultPoint, _ attributes: FaultAttributes?) {
        let a = swiommu_glue_fault_attr_of(Int32(point.rawValue))!
        let injected = a.pointee.injected
        var v = swiommu_glue_fault_attr()
        v.verbose = 1
        if let attributes {
            v.probability = max(0, min(100, attributes.probability))
            v.interval = max(1, attributes.interval)
            v.times = attributes.times
            v.space = max(0, attributes.space)
            v.random = attributes.seed == 0 ? 1 : attributes.seed
            v.verbose = attributes.verbose ? 1 : 0
        }
        v.injected = injected
        a.pointee = v
        swiommu_glue_fault_attr_arm(Int32(point.rawValue), (attributes?.probability ?? 0) > 0 ? 1 : 0)
    }

    /// Failures injected at `point` since the machine booted.
    public static func injected(_ point: FaultPoint) -> UInt {
        UInt(swiommu_glue_fault_attr_of(Int32(point.rawValue))!.pointee.injected)
    }

    /// Called by the point on every call: true when this call must fail.
    @inlinable @inline(__always) public static func shouldFail(_ point: FaultPoint) -> Bool {
        swiommu_glue_fault_should_fail(Int32(point.rawValue))
    }

    /// Disarm every point and zero the counts (at boot).
    public static func reset() {
        for p in FaultPoint.allCases {
            failNth(p, 0)
            set(p, nil)
            swiommu_glue_fault_attr_of(Int32(p.rawValue))!.pointee.injected = 0
        }
        environmentArmed = []
    }

    // MARK: The environment

    /// Points SWIOMMU_FAIL_NTH armed at the last boot, with their n.
    nonisolated(unsafe) public private(set) static var environmentArmed: [(FaultPoint, Int)] = []

    /// Arm what SWIOMMU_FAIL_NTH ("point:n[,point:n]") and SWIOMMU_FAULT ("point:key=value,...[;point:...]",
    /// keys probability, interval, times, space, seed, verbose) ask for. Called when boot has finished,
    /// so the calls counted are the test's. Returns the messages for what could not be parsed.
    public static func applyEnvironment() -> [String] {
        var problems: [String] = []
        if let raw = getenv("SWIOMMU_FAIL_NTH") {
            for item in String(cString: raw).split(separator: ",") {
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let p = FaultPoint(name: parts[0]), let n = Int(parts[1]), n > 0 else {
                    problems.append("SWIOMMU_FAIL_NTH: '\(item)' is not point:n with a known point and n >= 1")
                    continue
                }
                failNth(p, n)
                environmentArmed.append((p, n))
            }
        }
        if let raw = getenv("SWIOMMU_FAULT") {
            for item in String(cString: raw).split(separator: ";") {
                let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let p = FaultPoint(name: parts[0]) else {
                    problems.append("SWIOMMU_FAULT: '\(item)' does not start with a known point")
                    continue
                }
                var a = FaultAttributes()
                var ok = true
                for kv in parts[1].split(separator: ",") {
                    let pair = kv.split(separator: "=", maxSplits: 1).map(String.init)
                    guard pair.count == 2, let v = Int64(pair[1]) else { ok = false; break }
                    switch pair[0] {
                    case "probability": a.probability = Int(v)
                    case "interval": a.interval = Int(v)
                    case "times": a.times = Int(v)
                    case "space": a.space = Int(v)
                    case "seed": a.seed = UInt64(bitPattern: v)
                    case "verbose": a.verbose = v != 0
                    default: ok = false
                    }
                }
                guard ok else {
                    problems.append("SWIOMMU_FAULT: '\(item)': expected key=value with probability, interval, times, "
                                    + "space, seed or verbose")
                    continue
                }
                set(p, a)
            }
        }
        return problems
    }
}
