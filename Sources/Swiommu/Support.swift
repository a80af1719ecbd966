// Shared helpers of the ABI layer: finding the machine, converting errors, allocation sites.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

/// The machine, or nil with a WARN naming the call that came too early.
@inline(__always)
func machine(_ caller: StaticString) -> Machine? {
    if let m = Machine.current { return m }
    notBooted(caller)
    return nil
}

/// Run `body` with the machine without reference counting; `fallback` (and a WARN) when it is down.
@inline(__always)
func withMachine<R>(_ caller: StaticString, _ fallback: R, _ body: (Machine) -> R) -> R {
    if let r = Machine.withCurrent(body) { return r }
    notBooted(caller)
    return fallback
}

@inline(never)
func notBooted(_ caller: StaticString) {
    Kernel.warn("\(caller) called while the machine is down: call swiommu_init() first")
}

/// The call site the caller's alloc_hooks() recorded.
@inline(__always)
var currentSite: AllocationSite? { swiommu_glue_alloc_site().map { UnsafeRawPointer($0) } }

/// `ERR_PTR(-errno)`.
@inline(__always)
func errorPointer<T>(_ e: Errno) -> UnsafeMutablePointer<T>? {
    UnsafeMutablePointer(bitPattern: Int(e.negated))
}

/// Whether a pointer argument is NULL or an ERR_PTR.
@inline(__always)
func isNullOrError(_ p: UnsafeRawPointer?) -> Bool {
    guard let p else { return true }
    return UInt(bitPattern: p) >= UInt(bitPattern: -4095)
}
