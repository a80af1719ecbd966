// swiommu/trace.h: which events are recorded, and the file. The ring and the callback live in the C glue.
import CKernel
import CSwiommuGlue
import SwiommuBase

@c(swiommu_trace_enable)
public func abiTraceEnable(_ events: UnsafePointer<CChar>?) -> CInt {
    let spec = events.map { String(cString: $0) } ?? ""
    if let bad = Trace.enable(spec) {
        let known = TraceEvent.allCases.map { "\($0.system):\($0.name)" }.joined(separator: ", ")
        Kernel.log(.error, "swiommu: swiommu_trace_enable: no event '\(bad)' (known: \(known))")
        return Errno.invalid.negated
    }
    return 0
}

@c(swiommu_trace_open)
public func abiTraceOpen(_ path: UnsafePointer<CChar>?) -> CInt {
    swiommu_glue_trace_open(path)
}
