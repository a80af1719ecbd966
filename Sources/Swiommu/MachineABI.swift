// swiommu_init, swiommu_exit and the other machine-level calls of include/swiommu/machine.h.
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuIOMMU
import SwiommuMemory
import SwiommuPlatform

let swiommuVersion: StaticString = "0.1.0"

@c(swiommu_init)
public func abiInit(_ board: UnsafePointer<CChar>?) -> CInt {
    abiInitPageShift(board, 12)
}

@c(swiommu_init_page_shift)
public func abiInitPageShift(_ board: UnsafePointer<CChar>?, _ pageShift: CUnsignedInt) -> CInt {
    guard let geometry = PageGeometry(shift: Int(pageShift)) else {
        Kernel.log(.error, "swiommu: swiommu_init: unsupported PAGE_SHIFT \(pageShift) (12, 14 or 16)")
        return Errno.invalid.negated
    }
    if Machine.current != nil {
        Kernel.log(.error, "swiommu: swiommu_init: the machine is already up; call swiommu_exit() first")
        return Errno.busy.negated
    }
    IOMMUCore.install()
    DMALayer.install()
    let loaded: Board
    do throws(BoardError) {
        if let board { loaded = try Board.load(path: String(cString: board)) } else { loaded = try Board.defaultBoard() }
    } catch {
        Kernel.log(.error, "swiommu: \(error)")
        return error.errno.negated
    }
    do {
        try Machine.boot(board: loaded, geometry: geometry)
        return 0
    } catch {
        return error.negated
    }
}

@c(swiommu_exit)
public func abiExit() {
    Machine.current?.shutdown()
}

@c(swiommu_is_up)
public func abiIsUp() -> Bool { Machine.current != nil }

@c(swiommu_page_shift)
public func abiPageShift() -> CUnsignedInt {
    Machine.current.map { CUnsignedInt($0.geometry.shift) } ?? 0
}

@c(swiommu_find_device)
public func abiFindDevice(_ name: UnsafePointer<CChar>?) -> UnsafeMutablePointer<device>? {
    guard let name, let m = Machine.current else { return nil }
    return m.drivers.findDevice(String(cString: name))
}

@c(swiommu_version)
public func abiVersion() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(swiommuVersion.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c(swiommu_fail_nth)
public func abiFailNth(_ point: UnsafePointer<CChar>?, _ nth: CUnsignedLong) -> CInt {
    guard let p = faultPoint(point, "swiommu_fail_nth") else { return Errno.invalid.negated }
    FaultInjection.failNth(p, Int(nth))
    return 0
}

/// The point a C name gives, or nil with a message naming the known ones.
private func faultPoint(_ point: UnsafePointer<CChar>?, _ caller: String) -> FaultPoint? {
    if let point, let p = FaultPoint(name: String(cString: point)) { return p }
    let name = point.map { String(cString: $0) } ?? "(null)"
    let known = FaultPoint.allCases.map(\.name).joined(separator: ", ")
    Kernel.log(.error, "swiommu: \(caller): unknown fault-injection point '\(name)' (known: \(known))")
    return nil
}

@c(swiommu_fault_set)
public func abiFaultSet(_ point: UnsafePointer<CChar>?, _ attr: UnsafePointer<swiommu_fault_attr>?) -> CInt {
    guard let p = faultPoint(point, "swiommu_fault_set") else { return Errno.invalid.negated }
    guard let attr else {
        FaultInjection.set(p, nil)
        return 0
    }
    guard attr.pointee.probability <= 100 else {
        Kernel.log(.error, "swiommu: swiommu_fault_set: probability \(attr.pointee.probability) is above 100")
        return Errno.invalid.negated
    }
    var a = FaultAttributes()
    a.probability = Int(attr.pointee.probability)
    a.interval = Int(max(1, attr.pointee.interval))
    a.times = attr.pointee.times
    a.space = Int(attr.pointee.space)
    a.seed = attr.pointee.seed
    a.verbose = attr.pointee.verbose
    FaultInjection.set(p, a)
    return 0
}

@c(swiommu_fault_injected)
public func abiFaultInjected(_ point: UnsafePointer<CChar>?) -> CUnsignedLong {
    guard let point, let p = FaultPoint(name: String(cString: point)) else { return 0 }
    return CUnsignedLong(FaultInjection.injected(p))
}
